/* source.c - running an open plan with raw system calls. */
#include "config.h"
#include "core/source.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/msg.h"

/* syscall() sets errno, which in a CLONE_VM child is the suspended parent
 * thread's: harmless, since that thread is not running. */
static int raw_open(const char *path, int flags)
{
	long fd = syscall(SYS_openat, AT_FDCWD, path, flags, 0);
	return fd < 0 ? -errno : (int)fd;
}

static int retry_read_only(int err)
{
	return err == -EACCES || err == -EROFS || err == -ETXTBSY || err == -EPERM;
}

int open_plan_run(const struct open_plan *p)
{
	struct statx st;
	/* Refuse devices, FIFOs and sockets before opening: opening a device
	 * can act (rewind a tape, hang up a line). */
	if (syscall(SYS_statx, AT_FDCWD, p->path, 0, STATX_TYPE, &st) < 0)
		return -errno;
	if (!S_ISREG(st.stx_mode))
		return -ENODEV;
	int fd = raw_open(p->path, p->flags);
	if (fd < 0 && p->fallback != -1 && retry_read_only(fd))
		fd = raw_open(p->path, p->fallback);
	return fd;
}

int open_plan_fail(struct msg *msg, int err)
{
	if (err == ENODEV)
		return msg_fail(msg, ENODEV, "source is not a regular file");
	return msg_fail_errno(msg, err);
}
