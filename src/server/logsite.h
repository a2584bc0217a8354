/* logsite.h - what the FUSE layer writes to `log`, and how it serves it.
 *
 * Every command run is logged with its sender (pid and uid, from the
 * request) and the time. So are the changes made through files rather than
 * commands, each as the command it stands for: writing `size` (resize N),
 * `pos` (seek ...), truncating `data` (resize N) or opening it with O_TRUNC
 * (resize 0), a write that grows `data` (resize N, the new length), and
 * rmdir maps/NAME (close NAME). */
#ifndef MMAPFS_LOGSITE_H
#define MMAPFS_LOGSITE_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <stdbool.h>
#include <sys/types.h>

#include "control/cmdlog.h"
#include "core/mapping.h"
#include "core/msg.h"
#include "server/server.h"
#include "view/tree.h"

/* One log line for a command the request's sender ran through file: its
 * result value, or "error: " and the message. */
void log_request(struct server *s, fuse_req_t req, const char *file, const char *cmd,
		 size_t len, int rc, const char *value, const struct msg *msg);

/* Writes of `size` and `pos`: run as `resize TEXT` and `seek TEXT`, logged. */
int logged_attr_write(struct server *s, fuse_req_t req, struct mapping *m, enum kind k,
		      const char *buf, size_t size);
/* truncate, ftruncate or O_TRUNC of `data`: resize, logged. */
int logged_truncate(struct server *s, fuse_req_t req, struct mapping *m, int64_t size);
/* A write of `data` (at off, or at the end for O_APPEND), logged as
 * `resize N` when it changed the length. Returns the count or -errno. */
ssize_t logged_data_write(struct server *s, fuse_req_t req, struct mapping *m,
			  const char *buf, size_t size, off_t off, bool append);

/* Opening `log`: the lines its opener may see (with allow_other, only
 * their own unless they are root or the server's user), one snapshot. */
int log_open(struct server *s, fuse_req_t req, struct cmdlog_snap **out);
/* Reply to a read of an open `log` from its snapshot. */
void log_read(fuse_req_t req, const struct cmdlog_snap *snap, size_t size, off_t off);

#endif
