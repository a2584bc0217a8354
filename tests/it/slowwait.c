/* slowwait.c - an LD_PRELOAD shim for tests/it/signals: it sleeps right
 * before each wait the session loop makes, SLOWWAIT_SEM_MS before
 * sem_wait and SLOWWAIT_IO_MS before a read or poll of /dev/fuse, which
 * is where libfuse 3.14 has checked its exit flag and is about to wait. A
 * signal that lands in that sleep is one that libfuse's loops lose; a
 * server that ends its loop whenever the signal comes still exits. Not
 * part of the server. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

int sem_wait(sem_t *s);
ssize_t read(int fd, void *buf, size_t n);
int poll(struct pollfd *fds, nfds_t n, int timeout);

/* The whole time, even if a signal interrupts the sleep. */
static void pause_a_little(const char *var)
{
	const char *v = getenv(var);
	long ms = v ? atol(v) : 0;
	if (ms <= 0)
		return;
	int saved = errno;
	struct timespec t = { ms / 1000, (ms % 1000) * 1000 * 1000 };
	while (nanosleep(&t, &t) < 0 && errno == EINTR)
		;
	errno = saved;
}

static bool is_fuse_device(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(10, 229);
}

int sem_wait(sem_t *s)
{
	static int (*real)(sem_t *);
	if (!real)
		real = (int (*)(sem_t *))dlsym(RTLD_NEXT, "sem_wait");
	pause_a_little("SLOWWAIT_SEM_MS");
	return real(s);
}

ssize_t read(int fd, void *buf, size_t n)
{
	static ssize_t (*real)(int, void *, size_t);
	if (!real)
		real = (ssize_t(*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
	if (is_fuse_device(fd))
		pause_a_little("SLOWWAIT_IO_MS");
	return real(fd, buf, n);
}

int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	static int (*real)(struct pollfd *, nfds_t, int);
	if (!real)
		real = (int (*)(struct pollfd *, nfds_t, int))dlsym(RTLD_NEXT, "poll");
	for (nfds_t i = 0; i < n; i++)
		if (fds[i].fd >= 0 && is_fuse_device(fds[i].fd) && timeout != 0) {
			pause_a_little("SLOWWAIT_IO_MS");
			break;
		}
	return real(fds, n, timeout);
}
