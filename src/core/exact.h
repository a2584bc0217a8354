/* exact.h - whether a mapping's bytes are exactly the bytes of the file
 * behind its descriptor: a shared mapping of a whole file from offset 0, or
 * shared anonymous memory (its memfd always has the mapping's length). Only
 * then can that file stand in for the mapping (FUSE passthrough): every
 * byte of one is the same byte of the other, and so is the length. */
#ifndef MMAPFS_EXACT_H
#define MMAPFS_EXACT_H

#include "core/mapping.h"

/* Called with the descriptor while the mapping's lock is held (shared), so
 * that a concurrent close cannot close it underneath. */
typedef int (*exact_file_user)(void *ctx, int fd);

/* If m's bytes are exactly its file's, return use(ctx, fd); otherwise fail
 * with -EOPNOTSUPP and say why (-ENXIO if m is closed). */
int mapping_with_exact_file(struct mapping *m, exact_file_user use, void *ctx, struct msg *msg);

#endif
