/* deadlock.c - refusing sources on FUSE file systems without touching them.
 *
 * The walk holds an O_PATH descriptor of the directory reached so far,
 * which is never on a FUSE file system, and looks up one name in it at a
 * time with O_PATH|O_NOFOLLOW: the lookup runs in that (non-FUSE)
 * directory's file system, and stepping onto a mount point lands on the
 * mounted root without asking its file system anything. Each descriptor's
 * mount comes from statx with AT_STATX_DONT_SYNC and no fields requested,
 * which FUSE answers from the inode in memory, and its type from
 * mountinfo. */
#define _GNU_SOURCE
#include "core/deadlock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "core/mountinfo.h"

#ifndef FUSE_SUPER_MAGIC
#define FUSE_SUPER_MAGIC 0x65735546
#endif

/* As the kernel's limit on symlinks followed in one path. */
#define MAX_LINKS 40

static int refuse(struct msg *msg, dev_t dev, dev_t own_dev)
{
	if (own_dev && dev == own_dev)
		return msg_fail(msg, EDEADLK, "cannot map a file inside this mount (it would deadlock)");
	return msg_fail(msg, EDEADLK, "cannot map a file on a FUSE file system (the server "
		    "could deadlock waiting for that file system's server)");
}

/* Where fd is, without a request to its file system. */
struct place {
	int mount;
	dev_t dev;
	mode_t type;
};

static int fd_place(int fd, struct place *p)
{
	struct statx stx;
	/* No fields asked for: FUSE then answers even a process it does not
	 * serve (no EACCES), with the device only. */
	if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_STATX_DONT_SYNC, 0, &stx) < 0)
		return -errno;
	if (!(stx.stx_mask & STATX_MNT_ID))
		return -ENOSYS;
	p->mount = (int)stx.stx_mnt_id;
	p->dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
	/* Not known: take it for a file, the kind that needs the answer. */
	p->type = (stx.stx_mask & STATX_TYPE) ? stx.stx_mode & S_IFMT : S_IFREG;
	return 0;
}

/* The device of the kernel's internal tmpfs, which holds every memfd and
 * shared anonymous memory: a mount no mountinfo lists, yet not FUSE. Asked
 * afresh each time (rarely needed), so that nothing is shared with a
 * process forked to open as the caller. 0 if unknown. */
static dev_t shmem_dev(void)
{
	int fd = memfd_create("mmapfs-probe", MFD_CLOEXEC);
	struct stat st;
	dev_t dev = fd >= 0 && fstat(fd, &st) == 0 ? st.st_dev : 0;
	if (fd >= 0)
		close(fd);
	return dev;
}

/* What kind of mount p is on, reading mountinfo once more if it names a
 * mount newer than the reading. */
static enum mount_kind place_kind(const struct place *p, struct mount_ids *ids)
{
	enum mount_kind kind = mount_ids_kind(ids, p->mount);
	if (kind == MOUNT_UNKNOWN) {
		mount_ids_free(ids);
		if (mount_ids_read(ids) < 0)
			return MOUNT_UNKNOWN;
		kind = mount_ids_kind(ids, p->mount);
	}
	if (kind == MOUNT_UNKNOWN)
		kind = mount_ids_kind_of_dev(ids, p->dev);
	if (kind == MOUNT_UNKNOWN) {
		dev_t shm = shmem_dev();
		if (shm && p->dev == shm)
			kind = MOUNT_OTHER;
	}
	return kind;
}

/* 0 if fd is on a file system known not to be FUSE. */
static int check_mount(int fd, struct mount_ids *ids, dev_t own_dev, struct msg *msg)
{
	struct place p;
	int rc = fd_place(fd, &p);
	if (rc == -ENOSYS)
		return msg_fail(msg, EDEADLK, "cannot tell whether the source is on a FUSE file "
			    "system (the kernel does not report mount ids)");
	if (rc < 0)
		return msg_fail_errno(msg, -rc);
	switch (place_kind(&p, ids)) {
	case MOUNT_OTHER:
		return 0;
	case MOUNT_FUSE:
		return refuse(msg, p.dev, own_dev);
	default:
		/* Pipes and sockets live on mounts of the kernel's own. */
		if (p.type != S_IFREG && p.type != S_IFDIR && p.type != S_IFLNK)
			return msg_fail(msg, ENODEV, "source is not a regular file");
		/* A file system seen only through a magic link: its type cannot
		 * be learned without asking it (fstatfs), which may hang. */
		return msg_fail(msg, EDEADLK, "cannot map a file on a mount outside this mount "
			    "namespace (it may be a FUSE file system)");
	}
}

static bool on_procfs(int fd)
{
	struct statfs sf;
	return fstatfs(fd, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC;
}

struct walk {
	int dir;		/* O_PATH, never on FUSE; -1 when the walk failed */
	char rest[PATH_MAX];	/* what is left to resolve */
	int links;
	struct mount_ids ids;
	dev_t own_dev;
	struct msg *msg;
};

static int walk_start_at_root(struct walk *w)
{
	if (w->dir >= 0)
		close(w->dir);
	/* openat, not open: the fuzzer sandboxes open() (tests/fuzz). */
	w->dir = openat(AT_FDCWD, "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (w->dir < 0)
		return msg_fail_errno(w->msg, errno);
	return check_mount(w->dir, &w->ids, w->own_dev, w->msg);
}

/* Replace what is left with text + "/" + what is left. */
static int splice_rest(struct walk *w, const char *text, size_t n, const char *after)
{
	size_t tail = strlen(after);
	if (n + 1 + tail + 1 > sizeof w->rest)
		return msg_fail_errno(w->msg, ENAMETOOLONG);
	memmove(w->rest + n + 1, after, tail + 1);
	memcpy(w->rest, text, n);
	w->rest[n] = '/';
	return 0;
}

/* An ordinary symlink (fd, O_PATH|O_NOFOLLOW): go on with its text. */
static int follow_text(struct walk *w, int fd, const char *after)
{
	char text[PATH_MAX];
	ssize_t n = readlinkat(fd, "", text, sizeof text);
	if (n < 0)
		return msg_fail_errno(w->msg, errno);
	if ((size_t)n == sizeof text)
		return msg_fail_errno(w->msg, ENAMETOOLONG);
	int rc = splice_rest(w, text, (size_t)n, after);
	if (rc == 0 && text[0] == '/')
		rc = walk_start_at_root(w);
	return rc;
}

/* Open name in w->dir (O_PATH), check its mount, and stat the descriptor
 * itself: 0, or -errno with *fd -1 if the open failed, else *fd open. */
static int open_checked(struct walk *w, const char *name, int flags, int *fd, struct stat *st)
{
	*fd = openat(w->dir, name, flags);
	if (*fd < 0)
		return msg_fail_errno(w->msg, errno);
	int rc = check_mount(*fd, &w->ids, w->own_dev, w->msg);
	if (rc == 0 && fstatat(*fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		rc = msg_fail_errno(w->msg, errno);
	return rc;
}

/* A /proc symlink: a magic link (/proc/PID/fd/N, cwd, root, exe...) names
 * a file, not a path, so its text cannot be walked; let the kernel jump to
 * it (a jump looks nothing up) and check where it landed. */
static int follow_magic(struct walk *w, const char *name)
{
	struct stat st;
	int fd;
	int rc = open_checked(w, name, O_PATH | O_CLOEXEC, &fd, &st);
	if (fd < 0)
		return rc;
	/* A descriptor of a symlink itself (O_PATH|O_NOFOLLOW): opening
	 * through it fails as well. */
	if (rc == 0 && S_ISLNK(st.st_mode))
		rc = msg_fail_errno(w->msg, ELOOP);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	close(w->dir);
	w->dir = fd;
	return 0;
}

/* Look up one name in w->dir; after is what follows it in the path. */
static int walk_step(struct walk *w, const char *name, const char *after)
{
	struct stat st;
	int fd;
	int rc = open_checked(w, name, O_PATH | O_NOFOLLOW | O_CLOEXEC, &fd, &st);
	if (fd < 0)
		return rc;
	if (rc == 0 && S_ISLNK(st.st_mode)) {
		if (++w->links > MAX_LINKS)
			rc = msg_fail_errno(w->msg, ELOOP);
		else if (on_procfs(fd))
			rc = follow_magic(w, name);
		else
			rc = follow_text(w, fd, after);
		close(fd);
		return rc;
	}
	if (rc < 0) {
		close(fd);
		return rc;
	}
	close(w->dir);
	w->dir = fd;
	return 0;
}

static int walk_path(struct walk *w)
{
	int rc = walk_start_at_root(w);
	while (rc == 0) {
		char *p = w->rest;
		while (*p == '/')
			p++;
		if (!*p)
			break;
		char *end = strchrnul(p, '/');
		char name[NAME_MAX + 1];
		size_t len = (size_t)(end - p);
		if (len > NAME_MAX)
			return msg_fail_errno(w->msg, ENAMETOOLONG);
		memcpy(name, p, len);
		name[len] = '\0';
		/* Drop the name from what is left before the step, which may
		 * splice a symlink's text in front of the rest. */
		memmove(w->rest, end, strlen(end) + 1);
		if (strcmp(name, ".") != 0)
			rc = walk_step(w, name, w->rest);
	}
	return rc;
}

int deadlock_check_path(const char *path, dev_t own_dev, struct msg *msg)
{
	if (path[0] != '/')
		return msg_fail(msg, EINVAL, "source must be an absolute path or 'anon'");
	if (strlen(path) >= PATH_MAX)
		return msg_fail_errno(msg, ENAMETOOLONG);
	struct walk w = { .dir = -1, .own_dev = own_dev, .msg = msg };
	strcpy(w.rest, path);
	int rc = mount_ids_read(&w.ids);
	if (rc < 0)
		return msg_fail(msg, -rc, "cannot read /proc/self/mountinfo: %s", strerror(-rc));
	rc = walk_path(&w);
	if (w.dir >= 0)
		close(w.dir);
	mount_ids_free(&w.ids);
	return rc;
}

int deadlock_check_fd(int fd, dev_t own_dev, struct msg *msg)
{
	struct mount_ids ids;
	int rc = mount_ids_read(&ids);
	if (rc < 0)
		return msg_fail(msg, -rc, "cannot read /proc/self/mountinfo: %s", strerror(-rc));
	rc = check_mount(fd, &ids, own_dev, msg);
	mount_ids_free(&ids);
	/* Known not to be FUSE, so this asks no FUSE server; it checks the
	 * file system's own word against mountinfo's type names. */
	struct statfs sf;
	if (rc == 0 && fstatfs(fd, &sf) == 0 && sf.f_type == FUSE_SUPER_MAGIC) {
		struct place p = { .dev = 0 };
		(void)fd_place(fd, &p);
		rc = refuse(msg, p.dev, own_dev);
	}
	return rc;
}
