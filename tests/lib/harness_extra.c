/* harness_extra.c - time-limited, assertion-free helpers for the
 * reliability tests. */
#define _GNU_SOURCE
#include "lib/harness_extra.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int run_limited(int timeout_ms, int (*fn)(void *ctx, int out_fd), void *ctx, void *out,
		size_t cap, size_t *got)
{
	int p[2];
	if (got)
		*got = 0;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		return -e;
	}
	if (pid == 0) {
		close(p[0]);
		int rc = fn(ctx, p[1]);
		_exit(rc & 0xff);
	}
	close(p[1]);
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	size_t have = 0;
	bool pipe_open = true, exited = false;
	long long deadline = now_ms() + timeout_ms;
	/* Drain the pipe while waiting, so a chatty child never blocks on it. */
	while (!exited) {
		long long left = deadline - now_ms();
		if (left <= 0)
			break;
		struct pollfd pf[2] = { { .fd = pidfd, .events = POLLIN },
					{ .fd = pipe_open ? p[0] : -1, .events = POLLIN } };
		int n = poll(pf, 2, (int)left);
		if (n < 0 && errno != EINTR)
			break;
		if (n <= 0)
			continue;
		if (pf[1].revents) {
			char buf[4096];
			ssize_t r = read(p[0], buf, sizeof buf);
			if (r <= 0) {
				pipe_open = false;
			} else if (out && have < cap) {
				size_t k = (size_t)r < cap - have ? (size_t)r : cap - have;
				memcpy((char *)out + have, buf, k);
				have += k;
			}
		}
		if (pf[0].revents)
			exited = true;
	}
	int status = 0;
	if (!exited) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		close(pidfd);
		close(p[0]);
		return -ETIMEDOUT;
	}
	waitpid(pid, &status, 0);
	close(pidfd);
	/* What the child wrote just before it exited. */
	for (ssize_t r; pipe_open && out && have < cap &&
			(r = read(p[0], (char *)out + have, cap - have)) > 0;)
		have += (size_t)r;
	close(p[0]);
	if (got)
		*got = have;
	if (!WIFEXITED(status))
		return -ECHILD;
	return WEXITSTATUS(status);
}

int ctl_raw(const char *path, const void *buf, size_t len, char *out, size_t cap)
{
	if (out && cap)
		out[0] = '\0';
	int fd = open(path, O_RDWR);
	if (fd < 0)
		return -errno;
	ssize_t w = write(fd, buf, len);
	int rc = w < 0 ? -errno : 0;
	size_t have = 0;
	if (out && cap) {
		for (ssize_t r; have + 1 < cap && (r = read(fd, out + have, cap - 1 - have)) > 0;)
			have += (size_t)r;
		out[have] = '\0';
	}
	close(fd);
	return rc;
}

struct ctl_job {
	const char *path;
	const void *buf;
	size_t len;
	size_t cap;
};

static int ctl_child(void *p, int fd)
{
	struct ctl_job *j = p;
	char *text = malloc(j->cap ? j->cap : 1);
	int rc = ctl_raw(j->path, j->buf, j->len, text, j->cap ? j->cap : 1);
	ssize_t w = write(fd, text, strlen(text));
	(void)w;
	free(text);
	return -rc;
}

int ctl_timed(const char *path, const void *buf, size_t len, char *out, size_t cap,
	      int timeout_ms)
{
	struct ctl_job j = { path, buf, len, cap };
	size_t got = 0;
	char *tmp = malloc(cap + 1);
	int rc = run_limited(timeout_ms, ctl_child, &j, tmp, cap, &got);
	if (out && cap) {
		if (got >= cap)
			got = cap - 1;
		memcpy(out, tmp, got);
		out[got] = '\0';
	}
	free(tmp);
	return rc == -ETIMEDOUT || rc == -ECHILD ? rc : -rc;
}

static void chomp(char *out, size_t cap)
{
	size_t n = out && cap ? strlen(out) : 0;
	if (n > 0 && out[n - 1] == '\n')
		out[n - 1] = '\0';
}

int root_cmd(const struct mnt *m, const char *command, char *out, size_t cap)
{
	int rc = ctl_timed(mp(m, "ctl"), command, strlen(command), out, cap, OP_TIMEOUT_MS);
	chomp(out, cap);
	return rc;
}

int map_cmd(const struct mnt *m, const char *name, const char *command, char *out, size_t cap)
{
	int rc = ctl_timed(mp(m, "maps/%s/ctl", name), command, strlen(command), out, cap,
			   OP_TIMEOUT_MS);
	chomp(out, cap);
	return rc;
}

int write_raw(const char *path, const void *buf, size_t len, int oflags)
{
	int fd = open(path, O_WRONLY | oflags);
	if (fd < 0)
		return -errno;
	ssize_t w = write(fd, buf, len);
	int rc = w < 0 ? -errno : (size_t)w == len ? 0 : -EIO;
	close(fd);
	return rc;
}

struct io_job {
	const char *path;
	void *buf;
	size_t n;
	off_t off;
	int kind; /* 0 pread, 1 pwrite, 2 read */
};

/* The child reports the count (or -errno) first, then the bytes read. */
static int io_child(void *p, int fd)
{
	struct io_job *j = p;
	int ofd = open(j->path, j->kind == 1 ? O_WRONLY : O_RDONLY);
	long long res;
	if (ofd < 0) {
		res = -errno;
	} else {
		ssize_t r = j->kind == 0   ? pread(ofd, j->buf, j->n, j->off)
			    : j->kind == 1 ? pwrite(ofd, j->buf, j->n, j->off)
					   : read(ofd, j->buf, j->n);
		res = r < 0 ? -errno : r;
		close(ofd);
	}
	if (write(fd, &res, sizeof res) != sizeof res)
		return 1;
	if (j->kind != 1 && res > 0) {
		for (size_t done = 0; done < (size_t)res;) {
			ssize_t w = write(fd, (char *)j->buf + done, (size_t)res - done);
			if (w <= 0)
				return 1;
			done += (size_t)w;
		}
	}
	return 0;
}

static ssize_t io_timed(struct io_job *j)
{
	size_t cap = sizeof(long long) + (j->kind == 1 ? 0 : j->n), got = 0;
	char *out = malloc(cap);
	int rc = run_limited(OP_TIMEOUT_MS, io_child, j, out, cap, &got);
	ssize_t res;
	if (rc < 0) {
		res = rc;
	} else if (rc != 0 || got < sizeof(long long)) {
		res = -EPROTO;
	} else {
		long long v;
		memcpy(&v, out, sizeof v);
		res = (ssize_t)v;
		if (res > 0 && j->kind != 1)
			memcpy(j->buf, out + sizeof v, (size_t)res);
	}
	free(out);
	return res;
}

ssize_t pread_timed(const char *path, void *buf, size_t n, off_t off)
{
	struct io_job j = { path, buf, n, off, 0 };
	return io_timed(&j);
}

ssize_t pwrite_timed(const char *path, const void *buf, size_t n, off_t off)
{
	struct io_job j = { path, (void *)buf, n, off, 1 };
	return io_timed(&j);
}

ssize_t read_timed(const char *path, void *buf, size_t n)
{
	struct io_job j = { path, buf, n, 0, 2 };
	return io_timed(&j);
}

bool server_answers(const struct mnt *m)
{
	char buf[512];
	return mnt_alive(m) && read_timed(mp(m, "stats"), buf, sizeof buf) > 0;
}

char *slurp(const char *path, size_t *len)
{
	return read_all(path, len);
}

long long size_of(const char *path)
{
	struct stat st;
	return stat(path, &st) < 0 ? -errno : (long long)st.st_size;
}

int attr_text(const struct mnt *m, const char *name, const char *attr, char *out, size_t cap)
{
	ssize_t n = read_timed(mp(m, "maps/%s/%s", name, attr), out, cap - 1);
	if (n < 0) {
		out[0] = '\0';
		return (int)n;
	}
	out[n] = '\0';
	if (n > 0 && out[n - 1] == '\n')
		out[n - 1] = '\0';
	return 0;
}
