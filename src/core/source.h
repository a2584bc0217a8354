/* source.h - how `map` opens its source file: the open as a plan (the path
 * and the open(2) flags to try), so that the server can run it in-process
 * or in a child process that has become the caller (server/opener.c).
 *
 * open_plan_run() makes raw system calls only (no malloc, no locks, no
 * errno-dependent library state, no cancellation points): it is safe in a
 * child created with clone(CLONE_VM) from a multi-threaded process. */
#ifndef MMAPFS_SOURCE_H
#define MMAPFS_SOURCE_H

struct open_plan {
	const char *path;
	int flags;		/* open(2) flags of the first try */
	int fallback;		/* flags of a second try after EACCES, EROFS, ETXTBSY
				 * or EPERM; -1: none */
};

/* stat(path) (a file that is not regular is -ENODEV, never opened), then
 * open it as the plan says. Returns the descriptor or -errno. */
int open_plan_run(const struct open_plan *p);

struct msg;
/* The message for a plan's failure (ENODEV: not a regular file). */
int open_plan_fail(struct msg *msg, int err);

/* Who opens a source: open() runs the plan, as the server itself or as the
 * caller, and returns a descriptor of this process, or -errno with msg set. */
struct source_opener {
	int (*open)(void *ctx, const struct open_plan *p, struct msg *msg);
	void *ctx;
};

#endif
