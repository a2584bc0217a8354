/* harness.h - the one test library (libharness.a): mounting mmapfs, the
 * mount fixture, running commands on control files, file helpers, and the
 * checks the conformance tests share.
 *
 * The server runs as a child process (never a thread of the test: a request
 * it could not answer would hang the test itself), started with -f and a
 * readiness pipe, so the test waits for the mount without polling. The
 * child gets PR_SET_PDEATHSIG, so even a test that crashes past its
 * clean-up takes its server down with it.
 *
 * Helpers named expect_* and the ones that say so assert (Criterion): call
 * them from the test process only. The rest never assert, so they are safe
 * in forked workers. The *_timed helpers, and ctl_run with a time limit,
 * run the operation in a child process: a server that never answers makes
 * the call return -ETIMEDOUT instead of hanging the test (the child, stuck
 * in the kernel on the FUSE request, is killed with SIGKILL, which a FUSE
 * wait always honours). */
#ifndef MMAPFS_HARNESS_H
#define MMAPFS_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* ---- a mount ------------------------------------------------------------ */

struct mnt {
	char dir[4096];		/* the mount point */
	char scratch[4096];	/* a directory for backing files, outside the mount */
	char err_log[4200];	/* the server's stderr, if mnt_start_logged kept it */
	pid_t pid;
	int pidfd;
};

/* Mount a fresh server; opts are extra -o options (or NULL). */
void mnt_start(struct mnt *m, const char *opts);
/* The same, with the server's stderr kept in a file (mnt_stderr names it)
 * instead of the test's: for -o debug and its trace. */
void mnt_start_logged(struct mnt *m, const char *opts);
/* The file that holds the server's stderr, or NULL if it is the test's. */
const char *mnt_stderr(const struct mnt *m);
/* Unmount, wait for the server; returns its exit status, or -1 if it had to
 * be killed or died of a signal. Safe to call twice. */
int mnt_stop(struct mnt *m);
/* Send sig and wait for the server to exit; returns its exit status, or -1
 * if it died of a signal or had to be killed. mnt_stop still cleans up. */
int mnt_kill(struct mnt *m, int sig);
/* Whether the server process is still running. */
bool mnt_alive(const struct mnt *m);

/* A path below the mount (or the scratch dir); valid until 16 more calls. */
const char *mp(const struct mnt *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *sp(const struct mnt *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- the mount fixture ---------------------------------------------------- */

/* The mount of the running test (each Criterion test is its own process). */
extern struct mnt M;
/* Suite fixtures: .init = mnt_up mounts a fresh server on M with no
 * options; .fini = mnt_down unmounts it and expects that the server was
 * alive and exited 0, unless the test already stopped or killed it
 * (mnt_stop, mnt_kill), or skipped before mounting. A suite that needs
 * options or files calls mnt_start(&M, ...) from its own .init. */
void mnt_up(void);
void mnt_down(void);
/* The conformance suites' names for the same fixture. */
#define conf_up mnt_up
#define conf_down mnt_down

/* ---- commands on control files ----------------------------------------- */

/* Default limit for one timed operation. */
#define OP_TIMEOUT_MS 10000

/* The one primitive: write len raw bytes (NULs included) as one write() to
 * the control file at path, on a fresh open file, then read back every
 * result line into out (NUL-terminated, at most cap - 1 bytes; out may be
 * NULL). With timeout_ms > 0 this runs in a child process, killed after
 * that long (-ETIMEDOUT; -ECHILD if it died). Returns 0, or -errno of the
 * open or of the write. Never asserts. */
int ctl_run(const char *path, const void *buf, size_t len, char *out, size_t cap,
	    int timeout_ms);

/* Shorthands over ctl_run. */
/* ctl_run without a time limit. */
int ctl_raw(const char *path, const void *buf, size_t len, char *out, size_t cap);
/* ctl_run with one. */
int ctl_timed(const char *path, const void *buf, size_t len, char *out, size_t cap,
	      int timeout_ms);
/* A NUL-terminated command to the control file ctl (relative to the mount),
 * no time limit; out gets the first result line without its newline. */
int cmd(const struct mnt *m, const char *ctl, const char *command, char *out, size_t cap);
/* A command to MOUNT/ctl or MOUNT/maps/NAME/ctl, bounded by OP_TIMEOUT_MS;
 * out gets the result text without its final newline (so a single result
 * is exactly one line with no '\n'). */
int root_cmd(const struct mnt *m, const char *command, char *out, size_t cap);
int map_cmd(const struct mnt *m, const char *name, const char *command, char *out, size_t cap);
/* `map ...` on the root ctl that must succeed (asserts); returns the new
 * name (valid for 8 more calls). */
const char *map_ok(const struct mnt *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define conf_map(...) map_ok(&M, __VA_ARGS__)

/* Run one command on a control file of M (path relative to the mount) and
 * check its errno (0: success) and its result line (NULL: not checked;
 * for a failure, then only the "error: " prefix). The failure message names
 * the command, so a failing case is easy to find. */
void expect_ctl(const char *ctl, int err, const char *line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The same on maps/NAME/ctl. */
void expect_mcmd(const char *name, int err, const char *line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* `map ...` on the root ctl that must fail with err and "error: MESSAGE"
 * (message NULL: only the errno and the "error: " prefix are checked). */
void expect_map_fails(int err, const char *message, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- time limits ---------------------------------------------------------- */

/* Run fn(ctx, out_fd) in a child process; whatever it writes to out_fd (at
 * most cap bytes are kept) comes back in out, its length in *got. Returns
 * the child's exit status (0..255), -ETIMEDOUT if it was still running
 * after timeout_ms (it is then killed), or -ECHILD if it died of a signal. */
int run_limited(int timeout_ms, int (*fn)(void *ctx, int out_fd), void *ctx, void *out,
		size_t cap, size_t *got);

/* pread/pwrite on a fresh open file, bounded by OP_TIMEOUT_MS: the count,
 * or -errno (-ETIMEDOUT when the server did not answer). */
ssize_t pread_timed(const char *path, void *buf, size_t n, off_t off);
ssize_t pwrite_timed(const char *path, const void *buf, size_t n, off_t off);
/* read(2) of up to n bytes from a fresh open file (stream, line, attribute
 * files), bounded by OP_TIMEOUT_MS. */
ssize_t read_timed(const char *path, void *buf, size_t n);

/* Whether the server process runs and answers (reads `stats` in time). */
bool server_answers(const struct mnt *m);

/* ---- files ----------------------------------------------------------------- */

/* sysconf(_SC_PAGESIZE). */
long page_size(void);
#define conf_pagesize page_size
/* $TMPDIR, or /tmp. */
const char *tmp_dir(void);

/* A whole file (malloc'd, NUL-terminated; length in *len) or NULL with
 * errno set. */
char *read_all(const char *path, size_t *len);
#define slurp read_all
/* Open path O_WRONLY|oflags (mode 0644 if created), write len bytes in one
 * write(): 0, -errno of open or write, or -EIO if short. */
int write_all(const char *path, const void *data, size_t len, int oflags);
#define write_raw write_all
/* pwrite of all len bytes at off: 0, or -errno (-EIO for a short write). */
int pwrite_at(const char *path, const void *data, size_t len, off_t off);
/* Create path with these bytes (asserts). */
void make_file(const char *path, const void *data, size_t len);
/* A file's size, or -errno. */
long long size_of(const char *path);
/* Open path with flags: 0 or -errno (the file is closed again). */
int open_errno(const char *path, int flags);
/* Open path read-only and read up to cap bytes once: the count or -errno of
 * the open or of the read. */
ssize_t read_once(const char *path, void *buf, size_t cap);
/* Open path write-only (no O_TRUNC) and write len bytes once: the count or
 * -errno of the open or of the write. */
ssize_t write_once(const char *path, const void *buf, size_t len);
/* Run a shell command line (formatted) with sh -c; returns its standard
 * output (malloc'd, NUL-terminated, length in *len if len) and its exit
 * status in *status (-1 if it did not exit normally). Asserts on popen. */
char *sh_out(int *status, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A backing file in M's scratch dir with these bytes (asserts); returns its
 * path (valid for the next 31 calls). */
const char *conf_file(const char *name, const void *data, size_t len);
/* A backing file of n bytes where byte i is "0123456789"[i % 10]. */
const char *conf_digits(const char *name, size_t n);

/* ---- attribute files ------------------------------------------------------- */

/* One attribute file's value as a number (asserts). */
long long attr_num(const struct mnt *m, const char *name, const char *attr);
/* A mapping attribute file's text without its newline, into out, bounded
 * by OP_TIMEOUT_MS; returns 0 or -errno of the open/read. */
int attr_text(const struct mnt *m, const char *name, const char *attr, char *out, size_t cap);

/* Checks on M. maps/NAME/ATTR holds exactly want and a newline. */
void expect_attr(const char *name, const char *attr, const char *want);
/* pos as a number. */
void expect_pos(const char *name, long long want);
/* A file (any path) holds exactly these bytes. */
void expect_bytes(const char *path, const void *want, size_t len);
/* maps/NAME/data holds exactly these bytes. */
void expect_data(const char *name, const void *want, size_t len);
#define expect_data_str(name, s) expect_data((name), (s), sizeof(s) - 1)
#define expect_bytes_str(path, s) expect_bytes((path), (s), sizeof(s) - 1)
/* The four stats lines the SPEC names, in order, at the top of `stats`. */
void expect_stats_head(const char *want);

#endif
