/* opener.c - the child that opens a source as the caller. */
#define _GNU_SOURCE
#include "config.h"
#include "server/opener.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "control/command.h"
#include "core/deadlock.h"
#include "core/msg.h"

/* ---- paths that mean the caller -------------------------------------- */

/* Each prefix, and what it becomes: a directory of the caller's process,
 * of its thread, or one of its descriptors (fd >= 0). */
static const struct {
	const char *prefix;
	const char *dir;	/* after /proc/TGID */
	bool thread;		/* then /task/TID */
} CALLER_PATHS[] = {
	{ "/proc/self", "", false },
	{ "/proc/thread-self", "", true },
	{ "/dev/fd", "/fd", false },
	{ "/dev/stdin", "/fd/0", false },
	{ "/dev/stdout", "/fd/1", false },
	{ "/dev/stderr", "/fd/2", false },
};

bool opener_caller_path(const char *path, pid_t tgid, pid_t tid, char *out, size_t cap)
{
	for (size_t i = 0; tgid > 0 && i < sizeof CALLER_PATHS / sizeof *CALLER_PATHS; i++) {
		size_t n = strlen(CALLER_PATHS[i].prefix);
		if (strncmp(path, CALLER_PATHS[i].prefix, n) != 0 || (path[n] && path[n] != '/'))
			continue;
		int len = CALLER_PATHS[i].thread
			? snprintf(out, cap, "/proc/%d/task/%d%s", (int)tgid, (int)tid, path + n)
			: snprintf(out, cap, "/proc/%d%s%s", (int)tgid, CALLER_PATHS[i].dir, path + n);
		return len >= 0 && (size_t)len < cap;
	}
	return (size_t)snprintf(out, cap, "%s", path) < cap;
}

/* ---- the child ------------------------------------------------------- */

/* What the child reads and writes: it shares this process's memory, and
 * its parent thread is suspended until it exits (CLONE_VFORK). */
struct child_job {
	const struct caller *who;
	const struct open_plan *plan;
	int sock;
	bool set_ids;		/* change groups, gid, uid (else they are the caller's) */
	uid_t keep_uid;		/* real and saved uid: the server's */
	int err;		/* out: errno of the step that failed, 0 */
	const char *step;	/* out: which step */
};

static int fail_step(struct child_job *j, const char *step)
{
	j->err = errno;
	j->step = step;
	return 0;
}

/* Only the caller's effective capabilities that this process has too. */
static long keep_caller_caps(uint64_t caps)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		uint32_t want = (uint32_t)(caps >> (32 * i)) & d[i].permitted;
		d[i].effective = d[i].permitted = want;
		d[i].inheritable = 0;
	}
	return syscall(SYS_capset, &h, d);
}

static long send_fd(int sock, int fd)
{
	char byte = 0;
	struct iovec iov = { &byte, 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof u);
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = sizeof u.buf };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof fd);
	return syscall(SYS_sendmsg, sock, &mh, MSG_NOSIGNAL);
}

/* Raw system calls only: no malloc, no locks, no cancellation points, and
 * no glibc set*id wrappers (they would signal the server's threads). All
 * signals are blocked (the parent blocked them before clone). */
static int child_main(void *arg)
{
	struct child_job *j = arg;
	const struct caller *w = j->who;
	/* No descriptor of the server stays, so /proc/self/fd is empty. */
	if ((j->sock > 0 && syscall(SYS_close_range, 0, j->sock - 1, 0) < 0) ||
	    syscall(SYS_close_range, j->sock + 1, ~0U, 0) < 0)
		return fail_step(j, "close_range");
	if (syscall(SYS_chdir, "/") < 0)
		return fail_step(j, "chdir");
	if (j->set_ids) {
		if (syscall(SYS_setgroups, (size_t)w->ngroups, w->groups) < 0)
			return fail_step(j, "setgroups");
		if (syscall(SYS_setresgid, w->gid, w->gid, w->gid) < 0)
			return fail_step(j, "setresgid");
		if (syscall(SYS_setresuid, j->keep_uid, w->uid, j->keep_uid) < 0)
			return fail_step(j, "setresuid");
	}
	if (keep_caller_caps(w->cap_eff) < 0)
		return fail_step(j, "capset");
	int fd = open_plan_run(j->plan);
	if (fd < 0) {
		j->err = -fd;
		j->step = NULL;	/* the open itself: its errno is the answer */
		return 0;
	}
	if (send_fd(j->sock, fd) < 0)
		return fail_step(j, "sendmsg");
	return 0;
}

static int receive_fd(int sock)
{
	char byte;
	struct iovec iov = { &byte, 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = sizeof u.buf };
	if (recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) != 1)
		return -EIO;
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(sizeof(int)))
		return -EIO;
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof fd);
	return fd;
}

#define CHILD_STACK (64 * 1024)

/* Run the plan in a child that has become the caller. The child's stack is
 * part of this frame: this thread does not run until the child is gone. */
static int open_in_child(const struct caller *who, const struct open_plan *plan,
			 struct msg *msg)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0)
		return msg_fail(msg, errno, "cannot open as uid %u: socketpair: %s",
			    (unsigned)who->uid, strerror(errno));
	struct child_job job = {
		.who = who, .plan = plan, .sock = sv[1],
		.set_ids = getuid() == 0 || who->uid != getuid() || who->gid != getgid(),
		.keep_uid = getuid(),
	};
	char stack[CHILD_STACK] __attribute__((aligned(64)));
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	/* No exit signal: reaped below with __WALL, never seen by SIGCHLD. */
	pid_t pid = clone(child_main, stack + CHILD_STACK, CLONE_VM | CLONE_VFORK, &job);
	int clone_err = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(sv[1]);
	int fd = -1;
	if (pid > 0) {
		fd = job.err ? -job.err : receive_fd(sv[0]);
		int st;
		while (waitpid(pid, &st, __WALL) < 0 && errno == EINTR)
			;
	}
	close(sv[0]);
	if (pid < 0)
		return msg_fail(msg, clone_err, "cannot open as uid %u: cannot start a process "
			    "(clone): %s", (unsigned)who->uid, strerror(clone_err));
	if (job.err && job.step)
		return msg_fail(msg, job.err, "the server cannot act as uid "
			    "%u to open the source (%s: %s; is it running as root?)",
			    (unsigned)who->uid, job.step, strerror(job.err));
	if (fd < 0)
		return open_plan_fail(msg, -fd);
	return fd;
}

static int caller_open(void *ctx, const struct open_plan *plan, struct msg *msg)
{
	struct caller_opener *o = ctx;
	caller_ensure(o->who);
	char path[PATH_MAX + 64];
	if (!opener_caller_path(plan->path, o->who->tgid, o->who->tid, path, sizeof path))
		return msg_fail_errno(msg, ENAMETOOLONG);
	/* The deadlock rule on the path that is opened: /proc/self is the
	 * caller's here, not the server's. */
	int rc = deadlock_check_path(path, plan->own_dev, msg);
	if (rc < 0)
		return rc;
	struct open_plan mine = *plan;
	mine.path = path;
	if (!o->as_child) {
		int fd = open_plan_run(&mine);
		return fd < 0 ? open_plan_fail(msg, -fd) : fd;
	}
	return open_in_child(o->who, &mine, msg);
}

void opener_init(struct caller_opener *o, struct caller *who, bool as_child)
{
	o->base.open = caller_open;
	o->base.ctx = o;
	o->who = who;
	o->as_child = as_child;
}

static const struct memlock_rights *caller_memlock(void *ctx)
{
	struct caller *who = ctx;
	caller_ensure(who);
	return &who->memlock;
}

void acting_begin(struct acting_caller *a, struct fuse_req *req, bool allow_other,
		  bool root_ctl, struct command_env *env)
{
	caller_learn(req, &a->who);
	opener_init(&a->opener, &a->who, allow_other);
	env->opener = &a->opener.base;
	a->memlock.rights = caller_memlock;
	a->memlock.ctx = &a->who;
	env->memlock = &a->memlock;
	struct msg m;
	if (allow_other && root_ctl && caller_learn_groups(req, &a->who, &m) < 0) {
		snprintf(a->refusal, sizeof a->refusal, "%s", m.text);
		env->map_refusal = -EPERM;
		env->map_refusal_text = a->refusal;
	}
}

void acting_end(struct acting_caller *a)
{
	caller_forget(&a->who);
}
