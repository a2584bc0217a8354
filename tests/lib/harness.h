/* harness.h - mounting mmapfs for integration tests, and shell-like helpers.
 *
 * The server runs as a child process (never a thread of the test: a request
 * it could not answer would hang the test itself), started with -f and a
 * readiness pipe, so the test waits for the mount without polling. The
 * child gets PR_SET_PDEATHSIG, so even a test that crashes past its
 * clean-up takes its server down with it. */
#ifndef MMAPFS_HARNESS_H
#define MMAPFS_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct mnt {
	char dir[4096];		/* the mount point */
	char scratch[4096];	/* a directory for backing files, outside the mount */
	pid_t pid;
	int pidfd;
};

/* Mount a fresh server; opts are extra -o options (or NULL). */
void mnt_start(struct mnt *m, const char *opts);
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

/* Write cmd to a control file (relative to the mount) on a fresh open file,
 * then read back the result lines. Returns 0 or -errno of the write; out
 * gets the first result line without its newline. */
int cmd(const struct mnt *m, const char *ctl, const char *command, char *out, size_t cap);
/* `map ...` on the root ctl that must succeed; returns the new name. */
const char *map_ok(const struct mnt *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Whole-file helpers: NULL / -errno on failure. read_all's result is malloc'd
 * and NUL-terminated. */
char *read_all(const char *path, size_t *len);
int write_all(const char *path, const void *data, size_t len, int oflags);
int pwrite_at(const char *path, const void *data, size_t len, off_t off);
void make_file(const char *path, const void *data, size_t len);
/* One attribute file's value as a number (aborts the test on failure). */
long long attr_num(const struct mnt *m, const char *name, const char *attr);

#endif
