/* guard.h - touching mapped memory without dying of it.
 *
 * A page of a mapping can vanish under us (its file was truncated) or be
 * made inaccessible (madvise guard pages); touching it raises SIGBUS or
 * SIGSEGV. Every access the server makes to mapped memory runs through
 * guarded_call(), which turns such a fault into -EIO for that one call. */
#ifndef MMAPFS_GUARD_H
#define MMAPFS_GUARD_H

#include <stddef.h>

/* Install the fault handlers; call once before serving requests. */
int guard_init(void);

/* Run fn(ctx); return 0, or -EIO if it faulted on memory. */
int guarded_call(void (*fn)(void *ctx), void *ctx);

int guarded_memcpy(void *dst, const void *src, size_t n);
int guarded_memmove(void *dst, const void *src, size_t n);

#endif
