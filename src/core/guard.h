/* guard.h - touching mapped memory without dying of it.
 *
 * A page of a mapping can vanish under us (its file was truncated) or be
 * made inaccessible (madvise guard pages); touching it raises SIGBUS or
 * SIGSEGV. Every access the server makes to mapped memory runs through
 * guard_call() (or a copy built on it), which turns such a fault into
 * -EIO for that one call. Only a fault the kernel raised on an address of
 * the guarded range [base, base+len) is caught: any other fault, even one
 * inside a guarded call, is a bug of the server and kills it with the
 * signal, as it would without the guard. */
#ifndef MMAPFS_GUARD_H
#define MMAPFS_GUARD_H

#include <stddef.h>

/* Install the fault handlers; call once before serving requests. */
int guard_init(void);

/* Run fn(ctx); return 0, or -EIO if it faulted on [base, base+len). */
int guard_call(const void *base, size_t len, void (*fn)(void *ctx), void *ctx);

/* Copies between mapped memory and the server's own: only the mapped side
 * is guarded. guard_memmove has both sides in mapped memory. */
int guard_read(void *dst, const void *mapped, size_t n);
int guard_write(void *mapped, const void *src, size_t n);
int guard_memmove(void *dst, const void *src, size_t n);

/* How many of the n bytes at p can be read now: n, or the bytes before the
 * first page that faults (touching one byte of each page, in order). */
size_t guard_probe(const void *p, size_t n);

#endif
