/* harness.c - start, wait for, and always stop an mmapfs child process. */
#define _GNU_SOURCE
#include "lib/harness.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define READY_TIMEOUT_MS 10000
#define EXIT_TIMEOUT_MS 10000

static const char *server_binary(void)
{
	const char *bin = getenv("MMAPFS_BIN");
	return bin ? bin : "src/server/mmapfs";
}

static const char *tmp_root(void)
{
	const char *t = getenv("TMPDIR");
	return t && *t ? t : "/tmp";
}

static void exec_server(const struct mnt *m, int ready_fd, const char *opts)
{
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	char ready[64];
	snprintf(ready, sizeof ready, "ready_fd=%d", ready_fd);
	if (opts)
		execl(server_binary(), "mmapfs", "-f", "-o", ready, "-o", opts, m->dir, (char *)NULL);
	else
		execl(server_binary(), "mmapfs", "-f", "-o", ready, m->dir, (char *)NULL);
	perror("exec mmapfs");
	_exit(127);
}

void mnt_start(struct mnt *m, const char *opts)
{
	memset(m, 0, sizeof *m);
	m->pid = -1;
	m->pidfd = -1;
	if (access("/dev/fuse", R_OK | W_OK) != 0) {
		if (getenv("CI") && strcmp(getenv("CI"), "true") == 0)
			cr_assert_fail("/dev/fuse is missing: cannot mount (CI=true, so this fails)");
		cr_skip_test("/dev/fuse is missing: cannot mount");
	}
	snprintf(m->dir, sizeof m->dir, "%s/mnt.XXXXXX", tmp_root());
	snprintf(m->scratch, sizeof m->scratch, "%s/files.XXXXXX", tmp_root());
	cr_assert(mkdtemp(m->dir) && mkdtemp(m->scratch), "mkdtemp: %s", strerror(errno));
	int p[2];
	cr_assert(pipe2(p, O_CLOEXEC) == 0);
	pid_t pid = fork();
	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		int fd = dup(p[1]); /* without O_CLOEXEC, so the server inherits it */
		exec_server(m, fd, opts);
	}
	close(p[1]);
	m->pid = pid;
	m->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct pollfd pfd = { .fd = p[0], .events = POLLIN };
	char buf[16] = "";
	int ready = poll(&pfd, 1, READY_TIMEOUT_MS) == 1 && read(p[0], buf, sizeof buf - 1) > 0;
	close(p[0]);
	if (!ready || strncmp(buf, "ready", 5) != 0) {
		mnt_stop(m);
		cr_assert_fail("mmapfs did not become ready on %s", m->dir);
	}
}

static bool wait_exit(struct mnt *m, int timeout_ms, int *status)
{
	struct pollfd pfd = { .fd = m->pidfd, .events = POLLIN };
	if (m->pidfd >= 0 && poll(&pfd, 1, timeout_ms) != 1)
		return false;
	return waitpid(m->pid, status, 0) == m->pid;
}

static int run_fusermount(const char *flags, const char *dir)
{
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 2);
		execlp("fusermount3", "fusermount3", flags, dir, (char *)NULL);
		_exit(127);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int exit_code(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int mnt_kill(struct mnt *m, int sig)
{
	if (m->pid <= 0)
		return -1;
	int status = 0;
	kill(m->pid, sig);
	bool exited = wait_exit(m, EXIT_TIMEOUT_MS, &status);
	if (!exited) {
		kill(m->pid, SIGKILL);
		wait_exit(m, -1, &status);
	}
	if (m->pidfd >= 0)
		close(m->pidfd);
	m->pid = 0; /* reaped; mnt_stop still cleans up */
	m->pidfd = -1;
	return exited ? exit_code(status) : -1;
}

int mnt_stop(struct mnt *m)
{
	if (m->pid < 0)
		return -1;
	int status = 0, rc = -1;
	if (m->pid == 0) {
		run_fusermount("-uz", m->dir);
	} else {
		run_fusermount("-u", m->dir);
		if (!wait_exit(m, EXIT_TIMEOUT_MS, &status)) {
			kill(m->pid, SIGKILL);
			wait_exit(m, -1, &status);
			run_fusermount("-uz", m->dir);
		} else {
			rc = exit_code(status);
		}
	}
	if (m->pidfd >= 0)
		close(m->pidfd);
	m->pid = -1;
	m->pidfd = -1;
	rmdir(m->dir);
	char cmdline[4200];
	snprintf(cmdline, sizeof cmdline, "rm -rf '%s'", m->scratch);
	if (system(cmdline) != 0)
		cr_log_warn("could not remove %s", m->scratch);
	return rc;
}

bool mnt_alive(const struct mnt *m)
{
	return m->pid > 0 && waitpid(m->pid, NULL, WNOHANG) == 0;
}

__attribute__((format(printf, 2, 0)))
static const char *ring_path(const char *base, const char *fmt, va_list ap)
{
	static char ring[16][4200];
	static unsigned next;
	char *out = ring[next++ % 16];
	int n = snprintf(out, sizeof ring[0], "%s/", base);
	vsnprintf(out + n, sizeof ring[0] - (size_t)n, fmt, ap);
	return out;
}

const char *mp(const struct mnt *m, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	const char *p = ring_path(m->dir, fmt, ap);
	va_end(ap);
	return p;
}

const char *sp(const struct mnt *m, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	const char *p = ring_path(m->scratch, fmt, ap);
	va_end(ap);
	return p;
}

int cmd(const struct mnt *m, const char *ctl, const char *command, char *out, size_t cap)
{
	int fd = open(mp(m, "%s", ctl), O_RDWR);
	cr_assert(fd >= 0, "open %s: %s", ctl, strerror(errno));
	ssize_t w = write(fd, command, strlen(command));
	int rc = w < 0 ? -errno : 0;
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	char *nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	if (out)
		snprintf(out, cap, "%s", buf);
	return rc;
}

const char *map_ok(const struct mnt *m, const char *fmt, ...)
{
	static char names[8][80];
	static unsigned next;
	char command[4200];
	va_list ap;
	va_start(ap, fmt);
	int n = snprintf(command, sizeof command, "map ");
	vsnprintf(command + n, sizeof command - (size_t)n, fmt, ap);
	va_end(ap);
	char *name = names[next++ % 8];
	int rc = cmd(m, "ctl", command, name, sizeof names[0]);
	cr_assert_eq(rc, 0, "'%s' failed: %s (%s)", command, strerror(-rc), name);
	return name;
}

char *read_all(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);
	for (;;) {
		if (n == cap)
			buf = realloc(buf, (cap *= 2) + 1);
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0) {
			int e = errno;
			free(buf);
			close(fd);
			errno = e;
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

int write_all(const char *path, const void *data, size_t len, int oflags)
{
	int fd = open(path, O_WRONLY | oflags, 0644);
	if (fd < 0)
		return -errno;
	ssize_t w = write(fd, data, len);
	int rc = w < 0 ? -errno : (size_t)w == len ? 0 : -EIO;
	close(fd);
	return rc;
}

int pwrite_at(const char *path, const void *data, size_t len, off_t off)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	ssize_t w = pwrite(fd, data, len, off);
	int rc = w < 0 ? -errno : 0;
	close(fd);
	return rc;
}

void make_file(const char *path, const void *data, size_t len)
{
	cr_assert_eq(write_all(path, data, len, O_CREAT | O_TRUNC), 0, "create %s", path);
}

long long attr_num(const struct mnt *m, const char *name, const char *attr)
{
	char *text = read_all(mp(m, "maps/%s/%s", name, attr), NULL);
	cr_assert(text, "read maps/%s/%s: %s", name, attr, strerror(errno));
	long long v = strtoll(text, NULL, 10);
	free(text);
	return v;
}
