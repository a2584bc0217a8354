/* creds.h - what the server learns of the process behind a request: its
 * uid, gid and supplementary groups (as FUSE reports them), its process
 * and thread ids, its effective capabilities and its RLIMIT_MEMLOCK. The
 * opener (opener.h) opens a `map` source with exactly these rights; the
 * memlock rule (core/memlock.h) judges flags=locked with them.
 *
 * A thread that has a request in the server cannot finish exiting until the
 * server replies (FUSE waits for the answer uninterruptibly once the server
 * has read the request), so its pid names the caller for the whole request
 * and cannot be reused meanwhile. */
#ifndef MMAPFS_CREDS_H
#define MMAPFS_CREDS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/memlock.h"
#include "core/msg.h"

#define CREDS_INLINE_GROUPS 256

struct caller {
	uid_t uid;		/* the caller's fsuid and fsgid */
	gid_t gid;
	int ngroups;
	gid_t *groups;		/* inline_groups, or malloc'd for a long list */
	pid_t tid;		/* FUSE's pid: the calling thread; 0 if unknown */
	/* Read from /proc by caller_ensure(), on first need. */
	bool ensured;
	pid_t tgid;		/* its process; 0 if unknown */
	uint64_t cap_eff;	/* the thread's effective capabilities; 0 if unknown */
	struct memlock_rights memlock;
	gid_t inline_groups[CREDS_INLINE_GROUPS];	/* last: caller_learn clears the rest */
};

struct fuse_req;
/* Learn what the request says (uid, gid, pid); cheap. */
void caller_learn(struct fuse_req *req, struct caller *c);
/* Read the process id, capabilities and memlock limit from /proc, once
 * (never fails: what cannot be read stays unknown, which gives the caller
 * the least). */
void caller_ensure(struct caller *c);
/* The caller's supplementary groups, however many: 0, or -errno with a
 * message when they cannot be learned (the caller must then be refused:
 * running with no groups could grant what a group denies). */
int caller_learn_groups(struct fuse_req *req, struct caller *c, struct msg *msg);
void caller_forget(struct caller *c);

#endif
