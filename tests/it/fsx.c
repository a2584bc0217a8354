/* it_fsx.c - a mapping's data file against a plain model, as fsx does
 * (issue 9, "Tests").
 *
 * For each kind of mapping that can be resized
 *   file_shared   a shared mapping of a file in the mount's scratch dir,
 *   anon_shared   shared anonymous memory (map anon length=N),
 *   anon_private  private anonymous memory (map anon ... flags=private),
 * a seeded random sequence of operations runs on maps/NAME/data and on a
 * malloc'd copy of what it must hold (the model), as the SPEC's "Files and
 * operations" says:
 *   pread     at any offset and length, also past the end (short, or 0);
 *   pwrite    inside, across the end and far past it (up to 4x the size +
 *             64 KiB): the mapping grows, the gap reads as zeros;
 *   append    write() on a file opened with O_APPEND: at the server's end;
 *   ftruncate up (zeros), down, to the same size and to 0;
 *   O_TRUNC   a reopen with O_TRUNC: the length becomes 0.
 * After every operation the size is checked (fstat of data and the `size`
 * file; for a file mapping also the backing file's size: resizing sets it
 * to offset + length); after every growth, the bytes from the old end's
 * page on (where a stale tail would show: a shrink to inside a page then a
 * growth within it); every CHECK_EVERY operations and at the end, the whole
 * of data (and `filesize`, and the backing file, which shared writes
 * reach) against the model. Truncates often land inside the last page, so
 * partial pages are shrunk and grown again many times per run.
 *
 * Each test runs at most FSX_OPS operations and stops early after
 * FSX_BUDGET_S seconds, so it stays quick on a loaded machine (about 1-3 s
 * each when idle). The seed is printed (cr_log_info, seen with --verbose)
 * and begins every failure message as "seed S op N: ...", which also names
 * the operation, its offsets, the first differing byte and the operations
 * before it. MMAPFS_FSX_SEED=S replays a run (the sequence depends on the
 * seed only; each kind mixes its own number into S, so one seed replays
 * all three). Writes stay under the server's max_write (1 MiB): the kernel
 * would split a larger one. The mapping stays under MAX_LEN. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/harness.h"

TestSuite(fsx, .init = mnt_up, .fini = mnt_down, .timeout = 120);

#define FSX_OPS 3000
#define FSX_BUDGET_S 10
#define CHECK_EVERY 50
#define MAX_LEN (2u << 20)	  /* the mapping never grows past this */
#define MAX_WRITE ((1u << 20) - 1) /* under the server's max_write */
#define MAX_READ (256u << 10)
#define HISTORY 8		  /* operations named in a failure message */

enum kind { FILE_SHARED, ANON_SHARED, ANON_PRIVATE };
static const char *const KIND_NAME[] = { "file_shared", "anon_shared", "anon_private" };

struct fsx {
	enum kind kind;
	uint64_t seed, rng;
	long op;		/* number of the operation running, from 1 */
	const char *name;	/* the mapping */
	const char *backing;	/* its file (FILE_SHARED), or NULL */
	int fd;			/* data, O_RDWR */
	int afd;		/* data, O_WRONLY | O_APPEND */
	unsigned char *model;	/* what data must hold: MAX_LEN bytes, len used */
	size_t len;
	unsigned char *buf;	/* reads and writes: MAX_LEN bytes */
	char desc[160];		/* the operation running */
	char history[HISTORY][160];
	long counts[6];
};

enum op { OP_READ, OP_WRITE, OP_APPEND, OP_TRUNCATE, OP_OTRUNC, OP_NONE };

/* ---- randomness: splitmix64, so a seed replays everywhere ---------------- */

static uint64_t next(struct fsx *t)
{
	uint64_t z = (t->rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n]. */
static size_t upto(struct fsx *t, size_t n)
{
	return (size_t)(next(t) % ((uint64_t)n + 1));
}

static void fill_random(struct fsx *t, unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i += 8) {
		uint64_t v = next(t);
		memcpy(p + i, &v, n - i < 8 ? n - i : 8);
	}
}

/* A length: mostly small, sometimes up to max. */
static size_t some_length(struct fsx *t, size_t max)
{
	size_t r = upto(t, 99);
	size_t n = r < 60 ? upto(t, 4096) : r < 90 ? upto(t, 64 << 10) : upto(t, max);
	return n < max ? n : max;
}

/* ---- failures --------------------------------------------------------------- */

static void fail(struct fsx *t, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void fail(struct fsx *t, const char *fmt, ...)
{
	char what[512], past[HISTORY * 170] = "";
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	for (long i = t->op - HISTORY; i < t->op; i++) {
		if (i < 1)
			continue;
		size_t at = strlen(past);
		snprintf(past + at, sizeof past - at, "\n  op %ld: %s", i, t->history[i % HISTORY]);
	}
	/* Files left open would keep the unmount from succeeding. */
	if (t->fd >= 0)
		close(t->fd);
	if (t->afd >= 0)
		close(t->afd);
	t->fd = t->afd = -1;
	cr_assert_fail("seed %" PRIu64 " op %ld: %s (%s, mapping %s): %s\n"
		       "  replay: MMAPFS_FSX_SEED=%" PRIu64 "; the operations before:%s",
		       t->seed, t->op, t->desc, KIND_NAME[t->kind], t->name, what, t->seed,
		       past[0] ? past : " none");
	abort(); /* cr_assert_fail does not return */
}

/* got against the model's [off, off+n): the first differing byte. */
static void expect_same(struct fsx *t, const char *what, const unsigned char *got, size_t off,
			size_t n)
{
	if (memcmp(got, t->model + off, n) == 0)
		return;
	size_t i = 0;
	while (got[i] == t->model[off + i])
		i++;
	fail(t, "%s: first differing byte at offset %zu: 0x%02x, the model has 0x%02x", what,
	     off + i, got[i], t->model[off + i]);
}

/* ---- the model -------------------------------------------------------------- */

/* The model at length n: a gap or a grown end reads as zeros. */
static void model_resize(struct fsx *t, size_t n)
{
	if (n > t->len)
		memset(t->model + t->len, 0, n - t->len);
	t->len = n;
}

static void model_write(struct fsx *t, size_t off, const unsigned char *p, size_t n)
{
	if (n == 0)
		return;
	if (off + n > t->len)
		model_resize(t, off + n);
	memcpy(t->model + off, p, n);
}

/* ---- checks ------------------------------------------------------------------ */

static void check_sizes(struct fsx *t)
{
	struct stat st;
	if (fstat(t->fd, &st) < 0)
		fail(t, "fstat data: %s", strerror(errno));
	if ((uint64_t)st.st_size != t->len)
		fail(t, "fstat data: size %lld, the model has %zu", (long long)st.st_size, t->len);
	long long size = attr_num(&M, t->name, "size");
	if (size != (long long)t->len)
		fail(t, "maps/%s/size says %lld, the model has %zu", t->name, size, t->len);
	if (t->backing) {
		long long fsize = size_of(t->backing);
		if (fsize != (long long)t->len)
			fail(t, "the backing file's size is %lld, the model has %zu (offset 0 + length)",
			     fsize, t->len);
	}
}

/* After a growth from old bytes: the bytes around the old end and what the
 * growth added (up to 64 KiB of it), where a stale tail would show. */
static void check_grown(struct fsx *t, size_t old)
{
	size_t page = (size_t)page_size();
	size_t from = old / page * page, to = t->len - from < (64u << 10) ? t->len : from + (64u << 10);
	ssize_t got = pread(t->fd, t->buf, to - from, (off_t)from);
	if (got < 0)
		fail(t, "checking the grown end [%zu, %zu): %s", from, to, strerror(errno));
	if ((size_t)got != to - from)
		fail(t, "checking the grown end [%zu, %zu): read %zd bytes", from, to, got);
	expect_same(t, "the grown end", t->buf, from, to - from);
}

/* The whole of data (through the test's open file and through a fresh one,
 * read to its end), the backing file and filesize. */
static void check_contents(struct fsx *t)
{
	size_t got = 0;
	while (got < t->len) {
		size_t n = t->len - got < (1u << 20) ? t->len - got : (1u << 20);
		ssize_t r = pread(t->fd, t->buf + got, n, (off_t)got);
		if (r < 0)
			fail(t, "checking data: pread at %zu: %s", got, strerror(errno));
		if (r == 0)
			fail(t, "checking data: end of file at %zu, the model has %zu bytes", got, t->len);
		got += (size_t)r;
	}
	expect_same(t, "data", t->buf, 0, t->len);
	unsigned char extra;
	ssize_t r = pread(t->fd, &extra, 1, (off_t)t->len);
	if (r != 0)
		fail(t, "checking data: pread at the end (%zu) gave %zd, not 0", t->len, r);

	size_t n;
	char *whole = read_all(mp(&M, "maps/%s/data", t->name), &n);
	if (!whole)
		fail(t, "reading data afresh: %s", strerror(errno));
	if (n != t->len) {
		free(whole);
		fail(t, "data read afresh to its end has %zu bytes, the model %zu", n, t->len);
	}
	memcpy(t->buf, whole, n);
	free(whole);
	expect_same(t, "data read afresh", t->buf, 0, n);

	long long fs = attr_num(&M, t->name, "filesize");
	if (fs != (long long)t->len)
		fail(t, "maps/%s/filesize says %lld, the model has %zu", t->name, fs, t->len);

	if (t->backing) {
		char *file = read_all(t->backing, &n);
		if (!file)
			fail(t, "reading the backing file: %s", strerror(errno));
		if (n != t->len) {
			free(file);
			fail(t, "the backing file has %zu bytes, the model %zu", n, t->len);
		}
		memcpy(t->buf, file, n);
		free(file);
		expect_same(t, "the backing file", t->buf, 0, n);
	}
}

/* ---- operations --------------------------------------------------------------- */

static void op_read(struct fsx *t)
{
	size_t r = upto(t, 99);
	size_t off = r < 70 ? upto(t, t->len) : r < 90 ? t->len + upto(t, 64 << 10)
						      : upto(t, 4 * t->len + (64 << 10));
	size_t n = some_length(t, MAX_READ);
	snprintf(t->desc, sizeof t->desc, "pread off=%zu len=%zu (size %zu)", off, n, t->len);
	size_t want = off >= t->len ? 0 : t->len - off < n ? t->len - off : n;
	ssize_t got = pread(t->fd, t->buf, n, (off_t)off);
	if (got < 0)
		fail(t, "%s", strerror(errno));
	if ((size_t)got != want)
		fail(t, "read %zd bytes, the model has %zu there", got, want);
	expect_same(t, "bytes read", t->buf, off, want);
}

static void op_write(struct fsx *t)
{
	size_t r = upto(t, 99);
	size_t n = some_length(t, MAX_WRITE);
	size_t lo = t->len > (4u << 10) ? t->len - (4u << 10) : 0;
	size_t off = r < 50 ? upto(t, t->len)			     /* inside or at the end */
		     : r < 88 ? lo + upto(t, 12u << 10)		     /* across or just past the end */
			      : upto(t, 4 * t->len + (64 << 10)); /* far past it */
	if (off + n > MAX_LEN)
		off = MAX_LEN - n;
	fill_random(t, t->buf, n);
	snprintf(t->desc, sizeof t->desc, "pwrite off=%zu len=%zu end=%zu (size %zu)", off, n,
		 off + n, t->len);
	ssize_t got = pwrite(t->fd, t->buf, n, (off_t)off);
	if (got < 0)
		fail(t, "%s", strerror(errno));
	if ((size_t)got != n)
		fail(t, "wrote %zd bytes of %zu", got, n);
	model_write(t, off, t->buf, n);
}

static void op_append(struct fsx *t)
{
	size_t n = some_length(t, MAX_WRITE);
	if (t->len + n > MAX_LEN)
		n = MAX_LEN - t->len;
	fill_random(t, t->buf, n);
	snprintf(t->desc, sizeof t->desc, "write O_APPEND len=%zu at the end %zu", n, t->len);
	ssize_t got = write(t->afd, t->buf, n);
	if (got < 0)
		fail(t, "%s", strerror(errno));
	if ((size_t)got != n)
		fail(t, "wrote %zd bytes of %zu", got, n);
	model_write(t, t->len, t->buf, n);
}

static void op_truncate(struct fsx *t)
{
	size_t r = upto(t, 99), n;
	size_t lo = t->len > (8u << 10) ? t->len - (8u << 10) : 0;
	if (r < 10)
		n = 0;
	else if (r < 15)
		n = t->len;
	else if (r < 35)
		n = upto(t, t->len);
	else if (r < 55)
		n = lo + upto(t, 16u << 10); /* a little up or down */
	else if (r < 80) /* within the last page: partial pages */
		n = t->len / (size_t)page_size() * (size_t)page_size() + upto(t, (size_t)page_size());
	else
		n = t->len + upto(t, t->len + (64 << 10));
	if (n > MAX_LEN)
		n = MAX_LEN;
	snprintf(t->desc, sizeof t->desc, "ftruncate %zu (size %zu)", n, t->len);
	if (ftruncate(t->fd, (off_t)n) < 0)
		fail(t, "%s", strerror(errno));
	model_resize(t, n);
}

static void op_otrunc(struct fsx *t)
{
	snprintf(t->desc, sizeof t->desc, "reopen O_RDWR|O_TRUNC (size %zu)", t->len);
	close(t->fd);
	t->fd = open(mp(&M, "maps/%s/data", t->name), O_RDWR | O_TRUNC);
	if (t->fd < 0)
		fail(t, "%s", strerror(errno));
	model_resize(t, 0);
}

static enum op pick(struct fsx *t)
{
	size_t r = upto(t, 99);
	/* Shrink more often once the mapping is large. */
	if (t->len > MAX_LEN / 2 && r < 10)
		return OP_TRUNCATE;
	return r < 30 ? OP_READ : r < 65 ? OP_WRITE : r < 80 ? OP_APPEND : r < 96 ? OP_TRUNCATE
										  : OP_OTRUNC;
}

/* ---- one run ---------------------------------------------------------------- */

static uint64_t the_seed(void)
{
	const char *env = getenv("MMAPFS_FSX_SEED");
	if (env && *env) {
		char *end;
		errno = 0;
		unsigned long long s = strtoull(env, &end, 0);
		cr_assert(errno == 0 && *end == '\0', "MMAPFS_FSX_SEED=%s is not a number", env);
		return s;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^ ((uint64_t)getpid() << 40);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void run(enum kind kind)
{
	static struct fsx t; /* one per test process */
	t.kind = kind;
	t.fd = t.afd = -1;
	t.seed = the_seed();
	t.rng = t.seed ^ (0x5bd1e995u * (uint64_t)(kind + 1));
	cr_log_info("fsx %s: seed %" PRIu64 " (replay: MMAPFS_FSX_SEED=%" PRIu64 ")", KIND_NAME[kind],
		    t.seed, t.seed);
	t.model = malloc(MAX_LEN);
	t.buf = malloc(MAX_LEN);
	cr_assert(t.model && t.buf, "malloc");

	/* The start: a file of random bytes, or zeroed anonymous memory. */
	size_t start = 1 + upto(&t, 64 << 10);
	snprintf(t.desc, sizeof t.desc, "map, length %zu", start);
	if (kind == FILE_SHARED) {
		fill_random(&t, t.model, start);
		t.backing = sp(&M, "fsx-file");
		make_file(t.backing, t.model, start);
		t.backing = strdup(t.backing);
		t.name = map_ok(&M, "%s", t.backing);
	} else {
		memset(t.model, 0, start);
		t.name = map_ok(&M, "anon length=%zu%s", start,
				kind == ANON_PRIVATE ? " flags=private" : "");
	}
	t.name = strdup(t.name);
	t.len = start;
	t.fd = open(mp(&M, "maps/%s/data", t.name), O_RDWR);
	t.afd = open(mp(&M, "maps/%s/data", t.name), O_WRONLY | O_APPEND);
	if (t.fd < 0 || t.afd < 0)
		fail(&t, "open data: %s", strerror(errno));
	check_sizes(&t);
	check_contents(&t);

	double deadline = now_s() + FSX_BUDGET_S;
	while (t.op < FSX_OPS && now_s() < deadline) {
		t.op++;
		size_t old = t.len;
		enum op o = pick(&t);
		switch (o) {
		case OP_READ:
			op_read(&t);
			break;
		case OP_WRITE:
			op_write(&t);
			break;
		case OP_APPEND:
			op_append(&t);
			break;
		case OP_TRUNCATE:
			op_truncate(&t);
			break;
		default:
			op_otrunc(&t);
			break;
		}
		t.counts[o]++;
		check_sizes(&t);
		if (t.len > old)
			check_grown(&t, old);
		if (t.op % CHECK_EVERY == 0)
			check_contents(&t);
		memcpy(t.history[t.op % HISTORY], t.desc, sizeof t.desc);
	}
	snprintf(t.desc, sizeof t.desc, "the final check (size %zu)", t.len);
	check_contents(&t);
	cr_log_info("fsx %s: seed %" PRIu64 ": %ld operations (%ld pread, %ld pwrite, %ld append, "
		    "%ld ftruncate, %ld O_TRUNC), final size %zu",
		    KIND_NAME[kind], t.seed, t.op, t.counts[OP_READ], t.counts[OP_WRITE],
		    t.counts[OP_APPEND], t.counts[OP_TRUNCATE], t.counts[OP_OTRUNC], t.len);
	close(t.fd);
	close(t.afd);
	free(t.model);
	free(t.buf);
	free((char *)t.name);
	free((char *)t.backing);
}

Test(fsx, file_shared)
{
	run(FILE_SHARED);
}

Test(fsx, anon_shared)
{
	run(ANON_SHARED);
}

Test(fsx, anon_private)
{
	run(ANON_PRIVATE);
}
