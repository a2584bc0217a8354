/* harness_extra.h - helpers for the reliability tests (faults, stress, bad
 * input) on top of harness.h.
 *
 * Unlike harness.h's helpers these never call Criterion's assertions, so
 * they are safe in forked worker processes, and the *_timed variants run
 * the operation in a child process with a time limit: a server that never
 * answers a request makes the call return -ETIMEDOUT instead of hanging
 * the test (the child, stuck in the kernel on the FUSE request, is killed
 * with SIGKILL, which a FUSE wait always honours). */
#ifndef MMAPFS_HARNESS_EXTRA_H
#define MMAPFS_HARNESS_EXTRA_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/harness.h"

/* Default limit for one timed operation. */
#define OP_TIMEOUT_MS 10000

/* Run fn(ctx, out_fd) in a child process; whatever it writes to out_fd (at
 * most cap bytes are kept) comes back in out, its length in *got. Returns
 * the child's exit status (0..255), -ETIMEDOUT if it was still running
 * after timeout_ms (it is then killed), or -ECHILD if it died of a signal. */
int run_limited(int timeout_ms, int (*fn)(void *ctx, int out_fd), void *ctx, void *out,
		size_t cap, size_t *got);

/* Write len raw bytes (NULs included) as one write() to the control file
 * at path, on a fresh open file, then read back every result line into out
 * (NUL-terminated). Returns 0 or -errno of the write (or of the open). */
int ctl_raw(const char *path, const void *buf, size_t len, char *out, size_t cap);
/* ctl_raw in a child process, bounded by timeout_ms. */
int ctl_timed(const char *path, const void *buf, size_t len, char *out, size_t cap,
	      int timeout_ms);
/* Shorthands: a NUL-terminated command to MOUNT/ctl or MOUNT/maps/NAME/ctl,
 * bounded by OP_TIMEOUT_MS; out gets the result text without its final
 * newline (so a single result is exactly one line with no '\n'). */
int root_cmd(const struct mnt *m, const char *command, char *out, size_t cap);
int map_cmd(const struct mnt *m, const char *name, const char *command, char *out, size_t cap);

/* Open path with oflags (O_WRONLY|O_TRUNC for an attribute file) and
 * write len bytes in one write(). Returns 0 or -errno of open or write. */
int write_raw(const char *path, const void *buf, size_t len, int oflags);

/* pread/pwrite on a fresh open file, bounded by OP_TIMEOUT_MS: the count,
 * or -errno (-ETIMEDOUT when the server did not answer). */
ssize_t pread_timed(const char *path, void *buf, size_t n, off_t off);
ssize_t pwrite_timed(const char *path, const void *buf, size_t n, off_t off);
/* read(2) of up to n bytes from a fresh open file (stream, line, attribute
 * files), bounded by OP_TIMEOUT_MS. */
ssize_t read_timed(const char *path, void *buf, size_t n);

/* Whether the server process runs and answers (reads `stats` in time). */
bool server_answers(const struct mnt *m);

/* The bytes of a whole file (malloc'd, NUL-terminated) or NULL; no asserts. */
char *slurp(const char *path, size_t *len);
/* A file's size, or -errno. */
long long size_of(const char *path);
/* A mapping attribute file's text without its newline, into out; returns
 * 0 or -errno of the open/read. */
int attr_text(const struct mnt *m, const char *name, const char *attr, char *out, size_t cap);

#endif
