/* it_conf.h - helpers shared by the conformance tests (it_conf_*.c): each
 * one drives mmapfs through the mounted files and checks the bytes, the
 * position, the errno and the result line against what CPython's
 * mmap.mmap does for the same call. */
#ifndef MMAPFS_IT_CONF_H
#define MMAPFS_IT_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/harness.h"

/* The mount of the running test (each Criterion test is its own process). */
extern struct mnt M;

/* Suite fixtures: mount a fresh server / unmount it and check it exited 0. */
void conf_up(void);
void conf_down(void);

long conf_pagesize(void);

/* A backing file in the scratch dir with these bytes; returns its path
 * (valid for the next 31 calls). */
const char *conf_file(const char *name, const void *data, size_t len);
/* A backing file of n bytes where byte i is "0123456789"[i % 10]. */
const char *conf_digits(const char *name, size_t n);

/* `map SOURCE ARGS...` that must succeed; returns the new name. */
#define conf_map(...) map_ok(&M, __VA_ARGS__)

/* Run one command on a control file (path relative to the mount) and check
 * its errno (0: success) and its result line (NULL: not checked). The
 * failure message names the command, so a failing case is easy to find. */
void expect_ctl(const char *ctl, int err, const char *line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The same on maps/NAME/ctl. */
void expect_mcmd(const char *name, int err, const char *line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* `map ...` on the root ctl that must fail with err and "error: MESSAGE"
 * (message NULL: only the errno and the "error: " prefix are checked). */
void expect_map_fails(int err, const char *message, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* maps/NAME/ATTR holds exactly want and a newline. */
void expect_attr(const char *name, const char *attr, const char *want);
/* pos and size as numbers. */
void expect_pos(const char *name, long long want);
/* A file (any path) holds exactly these bytes. */
void expect_bytes(const char *path, const void *want, size_t len);
/* maps/NAME/data holds exactly these bytes. */
void expect_data(const char *name, const void *want, size_t len);
/* The mapping and the backing file are unchanged: data and size as given. */
#define expect_data_str(name, s) expect_data((name), (s), sizeof(s) - 1)
#define expect_bytes_str(path, s) expect_bytes((path), (s), sizeof(s) - 1)

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
 * status in *status (-1 if it did not exit normally). */
char *sh_out(int *status, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The four stats lines the SPEC names, in order, at the top of `stats`. */
void expect_stats_head(const char *want);

#endif
