/* unit_util.h - what only the unit tests (no mount) share, on top of the
 * test library (lib/harness.h): temporary files removed by the suite,
 * mappings made in one call, byte sinks, and checks of a (return code,
 * errno, message) triple. Include it first: it pulls in config.h, which
 * turns on the GNU extensions the core's headers expect. */
#ifndef MMAPFS_UNIT_UTIL_H
#define MMAPFS_UNIT_UTIL_H

#include "config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/mapping.h"
#include "core/msg.h"

/* From the test library, libharness.a, which every test links. Its header,
 * lib/harness.h, is for tests through a mount and is not included here, so
 * that its helpers' names (cmd, make_file, ...) stay free for the unit
 * tests' own. */
long page_size(void);
const char *tmp_dir(void);
long long size_of(const char *path);

/* Every error the core returns is a negative errno plus a message: check both. */
#define expect_error(rc, errnum, m, want_text)                                        \
	do {                                                                          \
		long long rc_ = (long long)(rc);                                      \
		cr_expect_eq(rc_, -(long long)(errnum), "returned %lld, wanted -%s (%d)", \
			     rc_, #errnum, (int)(errnum));                            \
		cr_expect_str_eq((m).text, (want_text));                              \
	} while (0)

static inline long page(void)
{
	return page_size();
}

/* Files made by one test, removed by its suite's .fini (each Criterion test
 * runs in a process of its own, so a plain array is enough). */
static char made_files[16][PATH_MAX] __attribute__((unused));
static int n_made_files __attribute__((unused));

static inline void remove_made_files(void)
{
	for (int i = 0; i < n_made_files; i++)
		unlink(made_files[i]);
	n_made_files = 0;
}

/* A new file under $TMPDIR holding n bytes of data; returns its path. (Not
 * harness.h's make_file, which creates a file at a path of its own.) */
static inline const char *make_file(const void *data, size_t n)
{
	cr_assert_lt(n_made_files, 16, "too many files in one test");
	char *path = made_files[n_made_files];
	snprintf(path, PATH_MAX, "%s/unit.XXXXXX", tmp_dir());
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0, "mkstemp %s: %s", path, strerror(errno));
	n_made_files++;
	cr_assert_eq(write(fd, data, n), (ssize_t)n);
	close(fd);
	return path;
}

/* A new file $TMPDIR/NAME (NAME may hold blanks) of n bytes; returns its path. */
static inline const char *make_named_file(const char *name, const void *data, size_t n)
{
	cr_assert_lt(n_made_files, 16, "too many files in one test");
	char *path = made_files[n_made_files];
	snprintf(path, PATH_MAX, "%s/%s", tmp_dir(), name);
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	cr_assert_geq(fd, 0, "create %s: %s", path, strerror(errno));
	n_made_files++;
	cr_assert_eq(write(fd, data, n), (ssize_t)n);
	close(fd);
	return path;
}

/* A file of n bytes where byte i is 'a' + i % 26. */
static inline const char *make_abc_file(size_t n)
{
	char *buf = malloc(n ? n : 1);
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)('a' + i % 26);
	const char *path = make_file(buf, n);
	free(buf);
	return path;
}

static inline int64_t file_size(const char *path)
{
	long long n = size_of(path);
	cr_assert_geq(n, 0, "stat %s: %s", path, strerror((int)-n));
	return n;
}

/* pread n bytes of the file at off into buf; returns the count read. */
static inline ssize_t file_read(const char *path, off_t off, void *buf, size_t n)
{
	int fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0);
	ssize_t got = pread(fd, buf, n, off);
	close(fd);
	return got;
}

/* A budget with no limit, for mappings that do not test max_bytes. */
static struct mapping_budget no_limit __attribute__((unused)) = { .used = 0, .limit = UINT64_MAX };

/* Establish a mapping as r asks, or fail the test with the message. */
static inline struct mapping *must_map(const struct mapping_request *r)
{
	struct mapping *m = mapping_new();
	struct msg msg = { "" };
	cr_assert_not_null(m);
	int rc = mapping_establish(m, r, &no_limit, &msg);
	cr_assert_eq(rc, 0, "mapping_establish: %d %s", rc, msg.text);
	return m;
}

static inline struct mapping *map_path(const char *path)
{
	struct mapping_request r;
	mapping_request_init(&r);
	r.source = path;
	return must_map(&r);
}

static inline struct mapping *map_anon(int64_t length, int flags)
{
	struct mapping_request r;
	mapping_request_init(&r);
	r.length = length;
	r.flags = flags;
	return must_map(&r);
}

/* mm[off:off+n] as a malloc'd, NUL-terminated string (n bytes at most). */
static inline char *slice(struct mapping *m, uint64_t off, size_t n, ssize_t *got)
{
	char *buf = calloc(1, n + 1);
	ssize_t k = mapping_copy_out(m, off, buf, n);
	if (got)
		*got = k;
	return buf;
}

static inline void expect_slice(struct mapping *m, uint64_t off, const char *want)
{
	size_t n = strlen(want);
	ssize_t got;
	char *s = slice(m, off, n, &got);
	cr_expect_eq(got, (ssize_t)n, "copied %zd bytes at %llu, wanted %zu", got,
		     (unsigned long long)off, n);
	cr_expect_str_eq(s, want, "bytes at %llu", (unsigned long long)off);
	free(s);
}

static inline bool all_zero(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* A mapping_sink that appends what it is handed. */
struct collected {
	char *p;
	size_t n;
	int calls;
};

static inline int collect(void *ctx, const char *bytes, size_t n)
{
	struct collected *c = ctx;
	c->calls++;
	char *p = realloc(c->p, c->n + n + 1);
	if (!p)
		return -ENOMEM;
	c->p = p;
	if (n)
		memcpy(c->p + c->n, bytes, n);
	c->n += n;
	c->p[c->n] = '\0';
	return 0;
}

static inline void collected_free(struct collected *c)
{
	free(c->p);
	c->p = NULL;
	c->n = 0;
	c->calls = 0;
}

/* Make root obey file modes for the rest of this test process, so that a
 * 0444 file really is read-only. Returns false where that cannot be done. */
static inline bool obey_file_modes(void)
{
	if (geteuid() != 0)
		return true;
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) < 0)
		return false;
	d[0].effective &= ~(1u << CAP_DAC_OVERRIDE | 1u << CAP_DAC_READ_SEARCH);
	return syscall(SYS_capset, &h, d) == 0;
}

#endif
