/* opener.h - opening a `map` source with exactly the caller's rights.
 *
 * Under allow_other the plan (core/source.h) runs in a short-lived child
 * made with clone(CLONE_VM | CLONE_VFORK): it closes every descriptor but
 * its socket, takes the caller's groups, gid and uid (effective; the real
 * and saved uid stay the server's, so the caller can neither signal nor
 * ptrace a process that shares the server's memory), keeps only the
 * caller's own effective capabilities, opens, and passes the descriptor
 * back over a socketpair (SCM_RIGHTS). Its /proc/self is the child: a
 * process with no descriptor of the server. Paths that name the caller's
 * own descriptors lexically (/proc/self, /proc/thread-self, /dev/fd,
 * /dev/stdin...) are turned into /proc/PID paths of the caller first, in
 * every mode. Without allow_other the caller is the server's own user, and
 * the plan runs in this thread. */
#ifndef MMAPFS_OPENER_H
#define MMAPFS_OPENER_H

#include <stdbool.h>
#include <sys/types.h>

#include "core/source.h"
#include "server/creds.h"

struct caller_opener {
	struct source_opener base;	/* base.ctx points here */
	struct caller *who;
	bool as_child;			/* run the plan in a child that becomes who */
};

void opener_init(struct caller_opener *o, struct caller *who, bool as_child);

/* The path with a leading /proc/self, /proc/thread-self, /dev/fd, /dev/stdin,
 * /dev/stdout or /dev/stderr made the caller's (tgid, tid); a copy of path
 * when nothing matches or the caller is unknown. false: it does not fit. */
bool opener_caller_path(const char *path, pid_t tgid, pid_t tid, char *out, size_t cap);


/* What a control-file write needs to act as its caller: who they are, how
 * `map` opens for them, their memlock right. */
struct command_env;
struct fuse_req;
struct acting_caller {
	struct caller who;
	struct caller_opener opener;
	struct memlock_source memlock;
	char refusal[256];	/* why `map` is refused, if it is */
};

/* Learn the caller of req and point env's opener, memlock and map_refusal
 * at it. Their groups are learned at once for the root ctl under
 * allow_other (when they cannot be, `map` is refused); the rest is read
 * from /proc only when an open or a lock needs it. Call acting_end() when
 * the write is done. */
void acting_begin(struct acting_caller *a, struct fuse_req *req, bool allow_other,
		  bool root_ctl, struct command_env *env);
void acting_end(struct acting_caller *a);

#endif
