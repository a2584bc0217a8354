/* deadlock.h - the deadlock rule: mmapfs never maps a file on a FUSE file
 * system (EDEADLK), and never touches one on the way to finding out.
 *
 * Why: the bytes of a file on a FUSE file system come from that file
 * system's server. A FUSE server that opens such a file, or faults on its
 * pages while it copies a reply, waits for that server; if the server is
 * this one (a path into this mount, a symlink into it, a /proc/PID/fd link,
 * or a cycle of two mounts each mapping the other's files), the request
 * that would answer needs a worker that is busy waiting, and the mount
 * hangs. With -s there is only that one worker, so even the lookups of an
 * open() into this mount would hang. No rule about "this mount" alone can
 * be complete (any other FUSE server may be waiting on this one), so the
 * rule is about every FUSE file system.
 *
 * Both checks can run wherever the open happens (in the server, or in a
 * process acting as the caller), with the caller's rights. */
#ifndef MMAPFS_DEADLOCK_H
#define MMAPFS_DEADLOCK_H

#include <sys/types.h>

#include "core/msg.h"

/* Before opening: resolve path one component at a time, as the kernel
 * would (symlinks, "..", /proc magic links), refusing as soon as a
 * component is on a FUSE file system (or on a mount outside this mount
 * namespace, which cannot be told apart) without sending that file system
 * any request: a FUSE mount point is recognised from the mount it leads
 * to, never looked into. own_dev (0: none) picks the message for this
 * mount. Returns 0, -EDEADLK, or the -errno the walk met (ENOENT, EACCES,
 * ELOOP...), each with a message. */
int deadlock_check_path(const char *path, dev_t own_dev, struct msg *msg);

/* After opening: refuse (EDEADLK) a descriptor on a FUSE file system, in
 * case the path changed between the check and the open. */
int deadlock_check_fd(int fd, dev_t own_dev, struct msg *msg);

#endif
