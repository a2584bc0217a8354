/* harness.c - the test library: start, wait for, and always stop an mmapfs
 * child process; the mount fixture; commands, files and checks. */
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
#include <time.h>
#include <unistd.h>

#define READY_TIMEOUT_MS 10000
#define EXIT_TIMEOUT_MS 10000

static const char *server_binary(void)
{
	const char *bin = getenv("MMAPFS_BIN");
	return bin ? bin : "src/server/mmapfs";
}

const char *tmp_dir(void)
{
	const char *t = getenv("TMPDIR");
	return t && *t ? t : "/tmp";
}

static void exec_server(const struct mnt *m, int ready_fd, const char *opts)
{
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (m->err_log[0]) {
		int fd = open(m->err_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || dup2(fd, 2) < 0) {
			perror(m->err_log);
			_exit(127);
		}
	}
	char ready[64];
	snprintf(ready, sizeof ready, "ready_fd=%d", ready_fd);
	if (opts)
		execl(server_binary(), "mmapfs", "-f", "-o", ready, "-o", opts, m->dir, (char *)NULL);
	else
		execl(server_binary(), "mmapfs", "-f", "-o", ready, m->dir, (char *)NULL);
	perror("exec mmapfs");
	_exit(127);
}

/* Sanitizer builds run the server through tests/server-stderr.sh, which
 * keeps its stderr in $MMAPFS_SERVER_LOGS/server.PID itself. */
static const char *sanitizer_logs(void)
{
	const char *d = getenv("MMAPFS_SERVER_LOGS");
	return d && *d ? d : NULL;
}

static void start(struct mnt *m, const char *opts, bool keep_stderr)
{
	memset(m, 0, sizeof *m);
	m->pid = -1;
	m->pidfd = -1;
	if (access("/dev/fuse", R_OK | W_OK) != 0) {
		if (getenv("CI") && strcmp(getenv("CI"), "true") == 0)
			cr_assert_fail("/dev/fuse is missing: cannot mount (CI=true, so this fails)");
		cr_skip_test("/dev/fuse is missing: cannot mount");
	}
	snprintf(m->dir, sizeof m->dir, "%s/mnt.XXXXXX", tmp_dir());
	snprintf(m->scratch, sizeof m->scratch, "%s/files.XXXXXX", tmp_dir());
	cr_assert(mkdtemp(m->dir) && mkdtemp(m->scratch), "mkdtemp: %s", strerror(errno));
	if (keep_stderr && !sanitizer_logs())
		snprintf(m->err_log, sizeof m->err_log, "%s.stderr", m->dir);
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
	if (keep_stderr && sanitizer_logs())
		snprintf(m->err_log, sizeof m->err_log, "%s/server.%d", sanitizer_logs(), (int)pid);
	struct pollfd pfd = { .fd = p[0], .events = POLLIN };
	char buf[16] = "";
	int ready = poll(&pfd, 1, READY_TIMEOUT_MS) == 1 && read(p[0], buf, sizeof buf - 1) > 0;
	close(p[0]);
	if (!ready || strncmp(buf, "ready", 5) != 0) {
		mnt_stop(m);
		cr_assert_fail("mmapfs did not become ready on %s", m->dir);
	}
}

void mnt_start(struct mnt *m, const char *opts)
{
	start(m, opts, false);
}

void mnt_start_logged(struct mnt *m, const char *opts)
{
	start(m, opts, true);
}

const char *mnt_stderr(const struct mnt *m)
{
	return m->err_log[0] ? m->err_log : NULL;
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
	if (m->pid < 0 || !m->dir[0])
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
	/* A sanitizer build's log stays for .ci/sanitizers.sh to read. */
	if (m->err_log[0] && !sanitizer_logs())
		unlink(m->err_log);
	m->err_log[0] = '\0';
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
	/* A short write is a failure: the caller asked for all len bytes. */
	int rc = w < 0 ? -errno : (size_t)w != len ? -EIO : 0;
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

long page_size(void)
{
	return sysconf(_SC_PAGESIZE);
}

long long size_of(const char *path)
{
	struct stat st;
	return stat(path, &st) < 0 ? -errno : (long long)st.st_size;
}

int open_errno(const char *path, int flags)
{
	int fd = open(path, flags);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

ssize_t read_once(const char *path, void *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, cap);
	if (n < 0)
		n = -errno;
	close(fd);
	return n;
}

ssize_t write_once(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, buf, len);
	if (n < 0)
		n = -errno;
	close(fd);
	return n;
}

char *sh_out(int *status, size_t *len, const char *fmt, ...)
{
	char line[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	fflush(NULL);
	FILE *p = popen(line, "r");
	cr_assert(p, "popen '%s': %s", line, strerror(errno));
	size_t cap = 4096, n = 0;
	char *out = malloc(cap + 1);
	for (size_t r; (r = fread(out + n, 1, cap - n, p)) > 0;) {
		n += r;
		if (n == cap)
			out = realloc(out, (cap *= 2) + 1);
	}
	out[n] = '\0';
	int st = pclose(p);
	if (status)
		*status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	if (len)
		*len = n;
	return out;
}

/* ---- the mount fixture ---------------------------------------------------- */

/* Not mounted (pid -1) until mnt_start: a suite that skips before mounting
 * leaves nothing for mnt_down to stop. */
struct mnt M = { .pid = -1, .pidfd = -1 };

void mnt_up(void)
{
	mnt_start(&M, NULL);
}

void mnt_down(void)
{
	/* pid 0: reaped by mnt_kill; -1: stopped already, or never started. */
	if (M.pid <= 0) {
		mnt_stop(&M);
		return;
	}
	bool alive = mnt_alive(&M);
	int rc = mnt_stop(&M);
	cr_expect(alive, "the server died during the test");
	cr_expect_eq(rc, 0, "the server did not exit cleanly (status %d)", rc);
}

/* ---- time limits ---------------------------------------------------------- */

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

struct io_job {
	const char *path;
	void *buf;
	size_t n;
	off_t off;
	enum { IO_PREAD, IO_PWRITE, IO_READ } kind;
};

/* The child reports the count (or -errno) first, then the bytes read. */
static int io_child(void *p, int fd)
{
	struct io_job *j = p;
	int ofd = open(j->path, j->kind == IO_PWRITE ? O_WRONLY : O_RDONLY);
	long long res;
	if (ofd < 0) {
		res = -errno;
	} else {
		ssize_t r = j->kind == IO_PREAD	   ? pread(ofd, j->buf, j->n, j->off)
			    : j->kind == IO_PWRITE ? pwrite(ofd, j->buf, j->n, j->off)
						   : read(ofd, j->buf, j->n);
		res = r < 0 ? -errno : r;
		close(ofd);
	}
	if (write(fd, &res, sizeof res) != sizeof res)
		return 1;
	if (j->kind != IO_PWRITE && res > 0) {
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
	size_t cap = sizeof(long long) + (j->kind == IO_PWRITE ? 0 : j->n), got = 0;
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
		if (res > 0 && j->kind != IO_PWRITE)
			memcpy(j->buf, out + sizeof v, (size_t)res);
	}
	free(out);
	return res;
}

ssize_t pread_timed(const char *path, void *buf, size_t n, off_t off)
{
	struct io_job j = { path, buf, n, off, IO_PREAD };
	return io_timed(&j);
}

ssize_t pwrite_timed(const char *path, const void *buf, size_t n, off_t off)
{
	struct io_job j = { path, (void *)buf, n, off, IO_PWRITE };
	return io_timed(&j);
}

ssize_t read_timed(const char *path, void *buf, size_t n)
{
	struct io_job j = { path, buf, n, 0, IO_READ };
	return io_timed(&j);
}

bool server_answers(const struct mnt *m)
{
	char buf[512];
	return mnt_alive(m) && read_timed(mp(m, "stats"), buf, sizeof buf) > 0;
}

/* ---- commands on control files ----------------------------------------- */

/* ctl_run in this process. */
static int ctl_here(const char *path, const void *buf, size_t len, char *out, size_t cap)
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

/* The child sends the result text and exits with the errno of the write. */
static int ctl_child(void *p, int fd)
{
	struct ctl_job *j = p;
	char *text = malloc(j->cap);
	int rc = ctl_here(j->path, j->buf, j->len, text, j->cap);
	ssize_t w = write(fd, text, strlen(text));
	(void)w;
	free(text);
	return -rc;
}

int ctl_run(const char *path, const void *buf, size_t len, char *out, size_t cap,
	    int timeout_ms)
{
	if (timeout_ms <= 0)
		return ctl_here(path, buf, len, out, cap);
	size_t keep = out && cap ? cap : 1;
	struct ctl_job j = { path, buf, len, keep };
	size_t got = 0;
	char *tmp = malloc(keep);
	int rc = run_limited(timeout_ms, ctl_child, &j, tmp, keep - 1, &got);
	if (out && cap) {
		memcpy(out, tmp, got);
		out[got] = '\0';
	}
	free(tmp);
	return rc == -ETIMEDOUT || rc == -ECHILD ? rc : -rc;
}

int ctl_raw(const char *path, const void *buf, size_t len, char *out, size_t cap)
{
	return ctl_run(path, buf, len, out, cap, 0);
}

int ctl_timed(const char *path, const void *buf, size_t len, char *out, size_t cap,
	      int timeout_ms)
{
	return ctl_run(path, buf, len, out, cap, timeout_ms);
}

/* Cut out's text at its first newline (first_line) or drop a final one. */
static void trim(char *out, size_t cap, bool first_line)
{
	if (!out || !cap)
		return;
	char *nl = first_line ? strchr(out, '\n') : NULL;
	size_t n = strlen(out);
	if (nl)
		*nl = '\0';
	else if (n > 0 && out[n - 1] == '\n')
		out[n - 1] = '\0';
}

int cmd(const struct mnt *m, const char *ctl, const char *command, char *out, size_t cap)
{
	char text[4096];
	int rc = ctl_run(mp(m, "%s", ctl), command, strlen(command), text, sizeof text, 0);
	trim(text, sizeof text, true);
	if (out && cap)
		snprintf(out, cap, "%s", text);
	return rc;
}

int root_cmd(const struct mnt *m, const char *command, char *out, size_t cap)
{
	int rc = ctl_run(mp(m, "ctl"), command, strlen(command), out, cap, OP_TIMEOUT_MS);
	trim(out, cap, false);
	return rc;
}

int map_cmd(const struct mnt *m, const char *name, const char *command, char *out, size_t cap)
{
	int rc = ctl_run(mp(m, "maps/%s/ctl", name), command, strlen(command), out, cap,
			 OP_TIMEOUT_MS);
	trim(out, cap, false);
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


static void vexpect_ctl(const char *ctl, int err, const char *line, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

static void vexpect_ctl(const char *ctl, int err, const char *line, const char *fmt, va_list ap)
{
	char command[8192], out[4096];
	vsnprintf(command, sizeof command, fmt, ap);
	int rc = cmd(&M, ctl, command, out, sizeof out);
	cr_expect_eq(rc, -err, "%s: '%s' returned %s, wanted %s (result line '%s')", ctl, command,
		     rc ? strerror(-rc) : "success", err ? strerror(err) : "success", out);
	if (line)
		cr_expect_str_eq(out, line, "%s: '%s' result line", ctl, command);
	else if (err)
		cr_expect(strncmp(out, "error: ", 7) == 0, "%s: '%s' result line '%s'", ctl,
			  command, out);
}

void expect_ctl(const char *ctl, int err, const char *line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vexpect_ctl(ctl, err, line, fmt, ap);
	va_end(ap);
}

void expect_mcmd(const char *name, int err, const char *line, const char *fmt, ...)
{
	char ctl[256];
	snprintf(ctl, sizeof ctl, "maps/%s/ctl", name);
	va_list ap;
	va_start(ap, fmt);
	vexpect_ctl(ctl, err, line, fmt, ap);
	va_end(ap);
}

void expect_map_fails(int err, const char *message, const char *fmt, ...)
{
	char command[8192], want[4096];
	int n = snprintf(command, sizeof command, "map ");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(command + n, sizeof command - (size_t)n, fmt, ap);
	va_end(ap);
	if (message)
		snprintf(want, sizeof want, "error: %s", message);
	expect_ctl("ctl", err, message ? want : NULL, "%s", command);
}

void expect_bytes(const char *path, const void *want, size_t len)
{
	size_t got_len = 0;
	char *got = read_all(path, &got_len);
	cr_assert(got, "read %s: %s", path, strerror(errno));
	cr_expect_eq(got_len, len, "%s: %zu bytes, wanted %zu", path, got_len, len);
	if (got_len == len)
		cr_expect(memcmp(got, want, len) == 0, "%s: bytes differ: '%.*s', wanted '%.*s'",
			  path, (int)got_len, got, (int)len, (const char *)want);
	free(got);
}

void expect_data(const char *name, const void *want, size_t len)
{
	expect_bytes(mp(&M, "maps/%s/data", name), want, len);
}

void expect_attr(const char *name, const char *attr, const char *want)
{
	size_t len = 0;
	char *got = read_all(mp(&M, "maps/%s/%s", name, attr), &len);
	cr_assert(got, "read maps/%s/%s: %s", name, attr, strerror(errno));
	char w[4096];
	snprintf(w, sizeof w, "%s\n", want);
	cr_expect_str_eq(got, w, "maps/%s/%s", name, attr);
	free(got);
}

void expect_pos(const char *name, long long want)
{
	char w[64];
	snprintf(w, sizeof w, "%lld", want);
	expect_attr(name, "pos", w);
}

/* ---- files and checks on M ------------------------------------------------ */

const char *conf_file(const char *name, const void *data, size_t len)
{
	/* Not mp()/sp()'s ring: a test keeps its files' paths all along. */
	static char paths[32][4200];
	static unsigned next;
	char *path = paths[next++ % 32];
	snprintf(path, sizeof paths[0], "%s/%s", M.scratch, name);
	make_file(path, data, len);
	return path;
}

const char *conf_digits(const char *name, size_t n)
{
	char *buf = malloc(n ? n : 1);
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)('0' + i % 10);
	const char *path = conf_file(name, buf, n);
	free(buf);
	return path;
}

void expect_stats_head(const char *want)
{
	char *got = read_all(mp(&M, "stats"), NULL);
	cr_assert(got, "read stats: %s", strerror(errno));
	cr_expect(strncmp(got, want, strlen(want)) == 0, "stats:\n%s\nwanted first:\n%s", got, want);
	free(got);
}
