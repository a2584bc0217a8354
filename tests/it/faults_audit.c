/* it_faults_audit.c - what the outside audit of issue 9 found, as classes,
 * through a real mount:
 *   - a resize after anything that split the mapping's VMAs (madvise advice
 *     on part of it, guard pages, a populated private mapping partly
 *     written) keeps every byte of the mapping and of its file, up and down;
 *   - a read (data, stream, line) that runs into a vanished page is short,
 *     then EIO at that page, and the server's stderr stays quiet;
 *   - a slow write-back (close of a large dirty file mapping) does not stall
 *     `stats`, lookups or `map`;
 *   - madvise advice that changes the bytes never tears a concurrent read;
 *   - write-back really happens: a page written through `data` is dirty in
 *     the kernel (/proc/kpageflags) before `flush` and clean after.
 *
 * Every operation through the mount is time-limited (lib/harness.h), so
 * a regression fails instead of hanging. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "lib/harness.h"

static long PAGE;

/* The server's stderr is kept in a file, to see what it prints. */
static void up(void)
{
	PAGE = sysconf(_SC_PAGESIZE);
	mnt_start_logged(&M, NULL);
}

static void down(void)
{
	mnt_down();
}

TestSuite(audit, .init = up, .fini = down, .timeout = 120);

/* ---- helpers ------------------------------------------------------------ */

static void pattern(char *buf, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)('A' + (i / 7 + seed) % 26);
}

static void expect_no_server_noise(void)
{
	size_t n = 0;
	const char *log = mnt_stderr(&M);
	cr_assert_not_null(log, "the server's stderr is kept");
	char *err = read_all(log, &n);
	cr_expect(!err || !strstr(err, "writing device"), "the server printed to stderr: %s", err);
	free(err);
}

static int mcmd(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int mcmd(const char *name, const char *fmt, ...)
{
	char command[256], out[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(command, sizeof command, fmt, ap);
	va_end(ap);
	return map_cmd(&M, name, command, out, sizeof out);
}

/* ---- resize after a split ---------------------------------------------- */

struct kind {
	const char *what;
	const char *map_opts;	/* after the source */
	bool anonymous, shared;
};

static const struct kind KINDS[] = {
	{ "shared file", "", false, true },
	{ "private file", "flags=private", false, false },
	{ "private populated file", "flags=private,populate", false, false },
	{ "shared anonymous", "", true, true },
	{ "private anonymous", "flags=private", true, false },
};

/* Ways to split a mapping's VMAs: advice on part of it. guard_install does
 * not split a VMA but marks pages, which a fresh mapping must carry too. */
static const char *const SPLITS[] = { "random", "sequential", "dontfork", "dontdump",
				      "hugepage", "mergeable", "guard_install" };

/* What the mapping and its file must hold: kept beside the mount. */
struct model {
	char *map, *file;
	size_t map_len, file_len;
};

static void model_resize(struct model *w, const struct kind *k, size_t n)
{
	w->map = realloc(w->map, n ? n : 1);
	if (n > w->map_len) {
		/* Grown bytes: the file's bytes there (zeros where it grew). */
		for (size_t i = w->map_len; i < n; i++)
			w->map[i] = !k->anonymous && i < w->file_len ? w->file[i] : 0;
	}
	w->map_len = n;
	if (!k->anonymous) {
		w->file = realloc(w->file, n ? n : 1);
		if (n > w->file_len)
			memset(w->file + w->file_len, 0, n - w->file_len);
		w->file_len = n;
	}
}

static void expect_model(const char *name, const char *src, const struct model *w,
			 long guard_page, const char *when)
{
	size_t n = 0;
	char *data = malloc(w->map_len + 1);
	for (size_t off = 0; off < w->map_len; off += (size_t)PAGE) {
		size_t len = w->map_len - off < (size_t)PAGE ? w->map_len - off : (size_t)PAGE;
		ssize_t got = pread_timed(mp(&M, "maps/%s/data", name), data + off, len, (off_t)off);
		if ((long)(off / (size_t)PAGE) == guard_page) {
			cr_expect_eq(got, -EIO, "%s: the guard page stays a guard page", when);
			memcpy(data + off, w->map + off, len);
			continue;
		}
		cr_expect_eq(got, (ssize_t)len, "%s: read page %zu: %s", when, off / (size_t)PAGE,
			     got < 0 ? strerror((int)-got) : "short");
	}
	cr_expect_eq(attr_num(&M, name, "size"), (long long)w->map_len, "%s: size", when);
	for (size_t i = 0; i < w->map_len; i++) {
		if (data[i] != w->map[i]) {
			cr_expect_fail("%s: mapping byte %zu is %d, wanted %d", when, i, data[i],
				       w->map[i]);
			break;
		}
	}
	free(data);
	if (!src)
		return;
	char *file = slurp(src, &n);
	cr_expect_eq(n, w->file_len, "%s: the file's size", when);
	if (file && n == w->file_len)
		cr_expect(memcmp(file, w->file, n) == 0, "%s: the file's bytes are intact", when);
	free(file);
}

static void resize_after_split(const struct kind *k, const char *split, bool also_split)
{
	size_t n = 4 * (size_t)PAGE;
	struct model w = { malloc(n), NULL, n, 0 };
	const char *src = NULL;
	char srcbuf[4200];
	if (!k->anonymous) {
		w.file = malloc(n);
		w.file_len = n;
		pattern(w.file, n, 3);
		snprintf(srcbuf, sizeof srcbuf, "%s", sp(&M, "f-%d", rand()));
		src = srcbuf;
		make_file(src, w.file, n);
		memcpy(w.map, w.file, n);
	} else {
		memset(w.map, 0, n);
	}
	const char *name = k->anonymous
				   ? map_ok(&M, "anon length=%zu %s", n, k->map_opts)
				   : map_ok(&M, "%s %s", src, k->map_opts);
	char nm[80];
	snprintf(nm, sizeof nm, "%s", name);
	/* A write into page 1: the file's bytes when shared, a private copy else. */
	cr_assert_eq(pwrite_timed(mp(&M, "maps/%s/data", nm), "WRITTEN", 7, PAGE + 5), 7);
	memcpy(w.map + PAGE + 5, "WRITTEN", 7);
	if (k->shared && !k->anonymous)
		memcpy(w.file + PAGE + 5, "WRITTEN", 7);
	bool guard = strcmp(split, "guard_install") == 0;
	long guard_page = guard ? 3 : -1;
	/* Guard pages alone leave one VMA (mremap keeps them); with advice that
	 * splits as well, the fresh mapping must carry them over. */
	int rc = guard ? mcmd(nm, "madvise %s %ld %ld", split, 3 * PAGE, PAGE)
		       : mcmd(nm, "madvise %s 0 %ld", split, PAGE);
	if (rc == 0 && strcmp(split, "guard_install") == 0 && also_split)
		rc = mcmd(nm, "madvise random 0 %ld", PAGE);
	if (rc < 0) {
		/* This kernel lacks the feature (no THP, no KSM): nothing split. */
		cr_log_info("%s: madvise %s refused (%s), not split", k->what, split, strerror(-rc));
		goto out;
	}
	char when[160];
	static const size_t steps[] = { 6, 2, 5, 4 };
	for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
		size_t to = steps[i] * (size_t)PAGE;
		rc = mcmd(nm, "resize %zu", to);
		snprintf(when, sizeof when, "%s, %s%s, resize %zu pages", k->what, split,
			 also_split ? " and random" : "", steps[i]);
		cr_expect_eq(rc, 0, "%s: %s", when, strerror(-rc));
		if (rc < 0)
			break;
		model_resize(&w, k, to);
		/* A guard page past the end is gone with the pages there. */
		if (guard_page >= 0 && (size_t)guard_page >= steps[i])
			guard_page = -1;
		expect_model(nm, src, &w, guard_page, when);
	}
out:
	free(w.map);
	free(w.file);
	char close_cmd[100];
	snprintf(close_cmd, sizeof close_cmd, "close %s", nm);
	char out[256];
	cr_expect_eq(root_cmd(&M, close_cmd, out, sizeof out), 0, "close: %s", out);
}

Test(audit, resize_after_any_split_keeps_every_byte)
{
	for (size_t k = 0; k < sizeof KINDS / sizeof *KINDS; k++)
		for (size_t s = 0; s < sizeof SPLITS / sizeof *SPLITS; s++)
			for (int both = 0; both < 2; both++)
				if (!both || strcmp(SPLITS[s], "guard_install") == 0)
					resize_after_split(&KINDS[k], SPLITS[s], both);
	cr_expect(server_answers(&M));
}

/* The reproduction of the audit: the file is 1 MiB, the mapping 2 pages. */
Test(audit, resize_of_a_split_mapping_of_a_longer_file)
{
	size_t n = 1 << 20;
	char *buf = malloc(n);
	pattern(buf, n, 1);
	const char *src = sp(&M, "f1");
	make_file(src, buf, n);
	char srcp[4200];
	snprintf(srcp, sizeof srcp, "%s", src);
	map_ok(&M, "%s length=%ld name=p", srcp, 2 * PAGE);
	cr_assert_eq(mcmd("p", "madvise random 0 %ld", PAGE), 0);
	cr_expect_eq(mcmd("p", "resize %ld", 3 * PAGE), 0, "the resize succeeds");
	size_t got = 0;
	char *file = slurp(srcp, &got);
	/* As in CPython, the file's size becomes offset + new length. */
	cr_expect_eq(got, 3 * (size_t)PAGE);
	cr_expect(file && memcmp(file, buf, got) == 0, "the file's bytes are intact");
	free(file);
	char *data = slurp(mp(&M, "maps/p/data"), &got);
	cr_expect_eq(got, 3 * (size_t)PAGE);
	cr_expect(data && memcmp(data, buf, got) == 0, "the mapping shows them");
	free(data);
	free(buf);
}

/* ---- short reads at a vanished page ------------------------------------ */

struct reader {
	const char *path;
	size_t chunk;
	ssize_t counts[8];
	int n;
};

/* Read the file to its end or first error, as cat does; report each count. */
static int read_like_cat(void *p, int out)
{
	struct reader *r = p;
	int fd = open(r->path, O_RDONLY);
	if (fd < 0)
		return 1;
	char *buf = malloc(r->chunk);
	ssize_t counts[8];
	int n = 0;
	while (n < 8) {
		ssize_t k = read(fd, buf, r->chunk);
		counts[n++] = k < 0 ? -errno : k;
		if (k <= 0)
			break;
	}
	(void)!write(out, counts, (size_t)n * sizeof *counts);
	free(buf);
	close(fd);
	return 0;
}

static void expect_reads(const char *path, size_t chunk, const ssize_t *want, int n,
			 const char *what)
{
	struct reader r = { path, chunk, { 0 }, 0 };
	size_t got = 0;
	int st = run_limited(OP_TIMEOUT_MS, read_like_cat, &r, r.counts, sizeof r.counts, &got);
	cr_assert_eq(st, 0, "%s: reader: %d", what, st);
	int k = (int)(got / sizeof(ssize_t));
	cr_expect_eq(k, n, "%s: %d reads, wanted %d", what, k, n);
	for (int i = 0; i < n && i < k; i++)
		cr_expect_eq(r.counts[i], want[i], "%s: read %d gave %zd, wanted %zd", what, i,
			     r.counts[i], want[i]);
}

static void set_pos(const char *name, long pos)
{
	char v[32];
	int n = snprintf(v, sizeof v, "%ld\n", pos);
	cr_assert_eq(write_raw(mp(&M, "maps/%s/pos", name), v, (size_t)n, O_TRUNC), 0);
}

Test(audit, reads_running_into_a_vanished_page_are_short_then_eio)
{
	size_t n = 4 * (size_t)PAGE;
	char *buf = malloc(n);
	memset(buf, 'x', n); /* no newline: a line is all of it */
	const char *src = sp(&M, "v");
	char srcp[4200];
	snprintf(srcp, sizeof srcp, "%s", src);
	make_file(srcp, buf, n);
	map_ok(&M, "%s name=v", srcp);
	/* Pages 2 and 3 vanish; page 1 stays (its tail reads as zeros). */
	cr_assert_eq(truncate(srcp, PAGE + 100), 0);
	ssize_t two = 2 * PAGE;
	/* One read of it all, as cat's first read(): short, then EIO. */
	expect_reads(mp(&M, "maps/v/data"), n, (ssize_t[]){ two, -EIO }, 2, "data");
	expect_reads(mp(&M, "maps/v/data"), (size_t)PAGE, (ssize_t[]){ PAGE, PAGE, -EIO }, 3,
		     "data by pages");
	set_pos("v", 10);
	expect_reads(mp(&M, "maps/v/stream"), n, (ssize_t[]){ two - 10, -EIO }, 2, "stream");
	cr_expect_eq(attr_num(&M, "v", "pos"), two, "stream: pos stops at the vanished page");
	set_pos("v", 20);
	expect_reads(mp(&M, "maps/v/line"), n, (ssize_t[]){ two - 20, -EIO }, 2, "line");
	cr_expect_eq(attr_num(&M, "v", "pos"), two, "line: pos stops at the vanished page");
	/* Through a shell, as the issue has it: cat prints the good pages. */
	char command[8600];
	snprintf(command, sizeof command, "timeout 10 cat '%s' > '%s' 2>/dev/null",
		 mp(&M, "maps/v/data"), sp(&M, "cat.out"));
	int st = system(command);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 1, "cat fails at the vanished page");
	cr_expect_eq(size_of(sp(&M, "cat.out")), two, "and printed the pages before it");
	/* A write running into it is short too (SPEC, Faults). */
	cr_expect_eq(pwrite_timed(mp(&M, "maps/v/data"), buf, n, PAGE), PAGE, "short write");
	cr_expect_eq(pwrite_timed(mp(&M, "maps/v/data"), buf, 10, two), -EIO, "then EIO");
	cr_expect(server_answers(&M));
	expect_no_server_noise();
	free(buf);
}

Test(audit, reads_running_into_a_guard_page_are_short_then_eio)
{
	map_ok(&M, "anon length=%ld flags=private name=g", 3 * PAGE);
	cr_assert_eq(mcmd("g", "madvise guard_install %ld %ld", PAGE, PAGE), 0);
	expect_reads(mp(&M, "maps/g/data"), 3 * (size_t)PAGE, (ssize_t[]){ PAGE, -EIO }, 2,
		     "data before a guard page");
	expect_no_server_noise();
}

/* ---- a slow write-back stalls nothing else ---------------------------- */

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int close_big(void *p, int out)
{
	(void)out;
	char res[256];
	const char *ctl = p;
	return ctl_raw(ctl, "close", 5, res, sizeof res) == 0 ? 0 : 1;
}

struct op {
	const char *path;
	int kind; /* 0: read stats, 1: stat a data file, 2: map anon */
};

static int run_op(void *p, int out)
{
	(void)out;
	struct op *o = p;
	char buf[512];
	struct stat st;
	switch (o->kind) {
	case 0:
		return read_timed(o->path, buf, sizeof buf) > 0 ? 0 : 1;
	case 1:
		return stat(o->path, &st) == 0 ? 0 : 1;
	default:
		return ctl_raw(o->path, "map anon length=4096", 20, buf, sizeof buf) == 0 ? 0 : 1;
	}
}

/* issue 9.10: stats held the table lock while waiting for the mapping a
 * close held during its msync; a queued map then blocked every lookup. */
Test(audit, a_slow_write_back_does_not_stall_stats_lookups_or_map, .timeout = 240)
{
	struct statfs fs;
	cr_assert_eq(statfs(M.scratch, &fs), 0);
	if (fs.f_type == 0x01021994 /* tmpfs */)
		cr_skip_test("the scratch directory is on tmpfs: no write-back to wait for");
	size_t n = (size_t)1 << 30;
	const char *src = sp(&M, "big");
	char srcp[4200];
	snprintf(srcp, sizeof srcp, "%s", src);
	int fd = open(srcp, O_RDWR | O_CREAT, 0600);
	cr_assert(fd >= 0 && ftruncate(fd, (off_t)n) == 0);
	close(fd);
	map_ok(&M, "%s name=big", srcp);
	map_ok(&M, "anon length=4096 name=other");
	/* Dirty every page through data, 1 MiB at a time. */
	char *chunk = malloc(1 << 20);
	memset(chunk, 'd', 1 << 20);
	fd = open(mp(&M, "maps/big/data"), O_WRONLY);
	cr_assert_geq(fd, 0);
	for (size_t off = 0; off < n; off += 1 << 20)
		cr_assert_eq(pwrite(fd, chunk, 1 << 20, (off_t)off), 1 << 20);
	close(fd);
	free(chunk);

	char ctl[4200], stats[4200], other[4200];
	snprintf(ctl, sizeof ctl, "%s", mp(&M, "ctl"));
	snprintf(stats, sizeof stats, "%s", mp(&M, "stats"));
	snprintf(other, sizeof other, "%s", mp(&M, "maps/other/data"));
	/* The close goes through the mapping's own ctl: the kernel serialises
	 * writes to one ctl file (issue 9.9, not this test's subject). */
	char big_ctl[4200];
	snprintf(big_ctl, sizeof big_ctl, "%s", mp(&M, "maps/big/ctl"));
	pid_t closer = fork();
	cr_assert_geq(closer, 0);
	if (closer == 0)
		_exit(close_big(big_ctl, -1));
	long long started = now_ms();
	usleep(100 * 1000); /* into the msync */
	int status;
	bool done_early = waitpid(closer, &status, WNOHANG) == closer;
	cr_assert(!done_early, "the close of 1 GiB of dirty pages took under 100 ms: "
		  "nothing to measure against");
	/* stats, a lookup and a map at once, each bounded. */
	struct op ops[] = { { stats, 0 }, { ctl, 2 }, { other, 1 }, { stats, 0 } };
	long long took[4];
	for (int i = 0; i < 4; i++) {
		long long t0 = now_ms();
		int st = run_limited(60000, run_op, &ops[i], NULL, 0, NULL);
		took[i] = now_ms() - t0;
		cr_expect_eq(st, 0, "operation %d failed (%d)", i, st);
	}
	bool still_closing = waitpid(closer, &status, WNOHANG) == 0;
	long long answered = now_ms() - started;
	waitpid(closer, &status, 0);
	long long closed = now_ms() - started;
	cr_log_info("stats/map/lookup took %lld %lld %lld %lld ms; answered at %lld ms, "
		    "close done at %lld ms", took[0], took[1], took[2], took[3], answered, closed);
	cr_expect(still_closing, "stats, map and lookups waited for the close's write-back "
		  "(answered at %lld ms, close done at %lld ms)", answered, closed);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the close succeeded");
	unlink(srcp);
}

/* ---- destructive advice runs alone ------------------------------------- */

struct tear_ctx {
	const char *path;
	size_t n;
	int rounds;
};

/* Each read of the whole mapping must be all 'A' or all zeros. */
static int read_untorn(void *p, int out)
{
	(void)out;
	struct tear_ctx *c = p;
	char *buf = malloc(c->n);
	int fd = open(c->path, O_RDONLY);
	if (fd < 0)
		return 2;
	for (int r = 0; r < c->rounds; r++) {
		ssize_t k = pread(fd, buf, c->n, 0);
		if (k != (ssize_t)c->n)
			return 3;
		size_t a = 0;
		for (size_t i = 0; i < c->n; i++)
			a += buf[i] == 'A';
		if (a != 0 && a != c->n)
			return 1;
	}
	close(fd);
	free(buf);
	return 0;
}

static int advise_loop(void *p, int out)
{
	(void)out;
	struct tear_ctx *c = p;
	char *buf = malloc(c->n);
	memset(buf, 'A', c->n);
	char ctl[4200], res[256];
	snprintf(ctl, sizeof ctl, "%s", c->path);
	char *slash = strrchr(ctl, '/');
	strcpy(slash + 1, "ctl");
	int fd = open(c->path, O_WRONLY);
	for (int r = 0; r < c->rounds; r++) {
		if (pwrite(fd, buf, c->n, 0) != (ssize_t)c->n)
			return 2;
		if (ctl_raw(ctl, "madvise dontneed", 16, res, sizeof res) != 0)
			return 3;
	}
	close(fd);
	free(buf);
	return 0;
}

struct both {
	struct tear_ctx r, w;
};

static int reader_and_advisor(void *p, int out)
{
	struct both *b = p;
	pid_t w = fork();
	if (w == 0)
		_exit(advise_loop(&b->w, out));
	int rc = read_untorn(&b->r, out);
	int st = 0;
	waitpid(w, &st, 0);
	return rc ? rc : WIFEXITED(st) ? WEXITSTATUS(st) * 10 : 99;
}

Test(audit, dontneed_never_tears_a_concurrent_read)
{
	/* Small enough for one FUSE request each way: the kernel splits larger
	 * reads and writes, and a mix across requests is no tear. */
	size_t n = 16 * (size_t)PAGE;
	map_ok(&M, "anon length=%zu flags=private name=t", n);
	char path[4200];
	snprintf(path, sizeof path, "%s", mp(&M, "maps/t/data"));
	struct both b = { { path, n, 20000 }, { path, n, 5000 } };
	int st = run_limited(60000, reader_and_advisor, &b, NULL, 0, NULL);
	cr_expect_eq(st, 0, "a read saw a mix of old bytes and zeros (or failed: %d)", st);
}

/* ---- write-back, as the kernel sees it -------------------------------- */

/* Whether the page cache page of path at off is dirty (KPF_DIRTY, bit 4 of
 * /proc/kpageflags), looked up through a mapping of our own: the page
 * cache page is the same one the server's mapping holds. -1 if unknown. */
static int file_page_dirty(const char *path, off_t off)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	char *view = mmap(NULL, (size_t)PAGE, PROT_READ, MAP_SHARED, fd, off);
	close(fd);
	if (view == MAP_FAILED)
		return -1;
	(void)*(volatile char *)view; /* map it here, to learn its frame */
	uint64_t e = 0, flags = 0;
	int pm = open("/proc/self/pagemap", O_RDONLY);
	bool ok = pm >= 0 &&
		  pread(pm, &e, 8, (off_t)((uintptr_t)view / (uintptr_t)PAGE * 8)) == 8;
	if (pm >= 0)
		close(pm);
	munmap(view, (size_t)PAGE);
	uint64_t pfn = e & ((1ull << 55) - 1);
	if (!ok || !(e >> 63) || pfn == 0)
		return -1;
	int kf = open("/proc/kpageflags", O_RDONLY);
	ok = kf >= 0 && pread(kf, &flags, 8, (off_t)(pfn * 8)) == 8;
	if (kf >= 0)
		close(kf);
	return ok ? (int)((flags >> 4) & 1) : -1;
}

static void need_write_back(void)
{
	if (geteuid() != 0)
		cr_skip_test("page frame numbers need root");
	struct statfs fs;
	cr_assert_eq(statfs(M.scratch, &fs), 0);
	if (fs.f_type == 0x01021994 /* tmpfs */)
		cr_skip_test("the scratch directory is on tmpfs: its pages are never written back");
}

/* A file of 4 pages, mapped as NAME, with page 1 written through data. */
static const char *dirty_mapping(const char *name)
{
	static char src[4200];
	char *buf = calloc(1, 4 * (size_t)PAGE);
	snprintf(src, sizeof src, "%s", sp(&M, "wb-%s", name));
	make_file(src, buf, 4 * (size_t)PAGE);
	free(buf);
	/* Written out before it is mapped, so only the server's write dirties it. */
	int fd = open(src, O_RDONLY);
	cr_assert(fd >= 0 && fsync(fd) == 0);
	close(fd);
	map_ok(&M, "%s name=%s", src, name);
	cr_assert_eq(pwrite_timed(mp(&M, "maps/%s/data", name), "dirty", 5, PAGE), 5);
	cr_expect_eq(file_page_dirty(src, PAGE), 1, "%s: the written page is dirty", name);
	return src;
}

/* issue 14.1: write-back happened, not just "the bytes are visible". */
Test(audit, flush_close_and_rmdir_write_a_dirty_page_back)
{
	need_write_back();
	const char *src = dirty_mapping("f");
	cr_expect_eq(mcmd("f", "flush"), 0);
	cr_expect_eq(file_page_dirty(src, PAGE), 0, "clean after flush");
	cr_assert_eq(pwrite_timed(mp(&M, "maps/f/data"), "again", 5, PAGE), 5);
	cr_expect_eq(file_page_dirty(src, PAGE), 1, "dirty again");
	int fd = open(mp(&M, "maps/f/data"), O_RDWR);
	cr_assert_geq(fd, 0);
	cr_expect_eq(fsync(fd), 0);
	close(fd);
	cr_expect_eq(file_page_dirty(src, PAGE), 0, "clean after fsync of data");

	src = dirty_mapping("c");
	char out[128];
	cr_expect_eq(root_cmd(&M, "close c", out, sizeof out), 0);
	cr_expect_eq(file_page_dirty(src, PAGE), 0, "clean after close");

	src = dirty_mapping("r");
	cr_expect_eq(rmdir(mp(&M, "maps/r")), 0);
	cr_expect_eq(file_page_dirty(src, PAGE), 0, "clean after rmdir");
}

Test(audit, shutdown_writes_a_dirty_page_back)
{
	need_write_back();
	char src[4200];
	snprintf(src, sizeof src, "%s", dirty_mapping("s"));
	cr_expect_eq(mnt_kill(&M, SIGTERM), 0, "SIGTERM: exit 0");
	cr_expect_eq(file_page_dirty(src, PAGE), 0, "clean after shutdown");
}
