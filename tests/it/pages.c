/* it/pages.c - every page state and pagemap flag this machine can produce,
 * through a real mount, on both the PAGEMAP_SCAN path and the
 * /proc/self/pagemap fallback (MMAPFS_NO_PAGEMAP_SCAN=1); smaps covering
 * exactly the mapping; source read afresh; lock, unlock, touch and evict. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/harness.h"

#define TMPFS_MAGIC_NUMBER 0x01021994

static long PAGE;

/* Each test runs twice: on the kernel's PAGEMAP_SCAN and on the fallback. */
static void up_scan(void)
{
	PAGE = sysconf(_SC_PAGESIZE);
	unsetenv("MMAPFS_NO_PAGEMAP_SCAN");
	mnt_start(&M, NULL);
}

static void up_fallback(void)
{
	PAGE = sysconf(_SC_PAGESIZE);
	setenv("MMAPFS_NO_PAGEMAP_SCAN", "1", 1);
	mnt_start(&M, NULL);
	unsetenv("MMAPFS_NO_PAGEMAP_SCAN");
}

static void down(void)
{
	mnt_stop(&M);
}

TestSuite(scan, .init = up_scan, .fini = down, .timeout = 60);
TestSuite(fallback, .init = up_fallback, .fini = down, .timeout = 60);
TestSuite(pages, .init = up_scan, .fini = down, .timeout = 60);

/* ---- helpers ----------------------------------------------------------- */

static char *text_of(const char *name, const char *file)
{
	size_t len;
	char *t = slurp(mp(&M, "maps/%s/%s", name, file), &len);
	cr_assert(t, "read maps/%s/%s: %s", name, file, strerror(errno));
	return t;
}

static void run_ok(const char *name, const char *command)
{
	char out[256];
	int rc = map_cmd(&M, name, command, out, sizeof out);
	cr_assert_eq(rc, 0, "%s: %s (%s)", command, out, strerror(-rc));
}

/* Every line of pagemap is "FIRST LAST FLAGS"; the runs cover pages 0 to
 * pages - 1 in order, and no two neighbours have the same flags. */
static void check_runs(const char *map, long pages)
{
	long next = 0;
	char prev[256] = "";
	for (const char *l = map; *l;) {
		long first, last;
		char flags[256];
		int used = 0;
		cr_assert_eq(sscanf(l, "%ld %ld %255s%n", &first, &last, flags, &used), 3,
			     "bad line in: %s", map);
		cr_assert_eq(first, next, "runs leave a hole or overlap before %ld: %s", first, map);
		cr_assert_geq(last, first, "%s", map);
		cr_assert_str_neq(flags, prev, "two neighbouring runs with flags %s: %s", flags, map);
		snprintf(prev, sizeof prev, "%s", flags);
		next = last + 1;
		l += used;
		cr_assert_eq(*l, '\n', "%s", map);
		l++;
	}
	cr_assert_eq(next, pages, "the runs end at %ld, not %ld: %s", next, pages, map);
}

/* The flags of page i, from pagemap (checked as a whole first). */
static char *flags_at(const char *name, long i, long pages)
{
	char *map = text_of(name, "pagemap");
	check_runs(map, pages);
	char *found = NULL;
	for (const char *l = map; *l && !found; l = strchr(l, '\n') + 1) {
		long first, last;
		char flags[256];
		if (sscanf(l, "%ld %ld %255s", &first, &last, flags) == 3 && first <= i && i <= last)
			found = strdup(flags);
	}
	free(map);
	cr_assert(found);
	return found;
}

static bool has_flag(const char *flags, const char *flag)
{
	size_t n = strlen(flag);
	for (const char *p = flags; (p = strstr(p, flag)); p += n)
		if ((p == flags || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

static void expect_flags(const char *name, long i, long pages, const char *want_all,
			 const char *want_none)
{
	char *f = flags_at(name, i, pages);
	char words[256];
	snprintf(words, sizeof words, "%s", want_all);
	for (char *w = strtok(words, ","); w; w = strtok(NULL, ","))
		cr_expect(has_flag(f, w), "page %ld: flags '%s' lack %s", i, f, w);
	snprintf(words, sizeof words, "%s", want_none ? want_none : "");
	for (char *w = strtok(words, ","); w; w = strtok(NULL, ","))
		cr_expect(!has_flag(f, w), "page %ld: flags '%s' have %s", i, f, w);
	free(f);
}

static void expect_pages(const char *name, const char *want)
{
	char *p = text_of(name, "pages");
	cr_expect_str_eq(p, want, "maps/%s/pages: %s, not %s", name, p, want);
	free(p);
}

/* A file of n pages (each its own letter) on disk and written back, so
 * its pages are clean. */
static void clean_file(const char *path, int n)
{
	char *buf = malloc((size_t)(n * PAGE));
	for (int i = 0; i < n; i++)
		memset(buf + i * PAGE, 'a' + i, (size_t)PAGE);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	cr_assert(fd >= 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, buf, (size_t)(n * PAGE)), n * PAGE);
	cr_assert_eq(fdatasync(fd), 0);
	close(fd);
	free(buf);
}

/* A directory on a file system that writes back (not tmpfs), or NULL. */
static const char *writeback_dir(void)
{
	static const char *const dirs[] = { "/var/tmp", "/tmp", NULL };
	struct statfs s;
	if (statfs(M.scratch, &s) == 0 && s.f_type != TMPFS_MAGIC_NUMBER)
		return M.scratch;
	for (int i = 0; dirs[i]; i++)
		if (statfs(dirs[i], &s) == 0 && s.f_type != TMPFS_MAGIC_NUMBER)
			return dirs[i];
	return NULL;
}

static void touch_byte(const char *name, long off)
{
	char c;
	cr_assert_eq(pread_timed(mp(&M, "maps/%s/data", name), &c, 1, off), 1);
}

static void write_byte(const char *name, long off)
{
	cr_assert_eq(pwrite_timed(mp(&M, "maps/%s/data", name), "x", 1, off), 1);
}

/* ---- the states, on both paths ------------------------------------------- */

static char page_of(const char *name, long i);

static void zero_page(void)
{
	map_ok(&M, "anon length=%ld flags=private name=z", 4 * PAGE);
	touch_byte("z", 0);
	touch_byte("z", 2 * PAGE);
	write_byte("z", 3 * PAGE);
	expect_pages("z", "Z.ZC\n");
	expect_flags("z", 0, 4, "present,zero", "anon,copy,file,shared");
	expect_flags("z", 1, 4, "none", NULL);
	expect_flags("z", 3, 4, "present,anon,copy", "zero,file,shared");
}

Test(scan, a_read_of_private_anonymous_memory_is_the_zero_page) { zero_page(); }
Test(fallback, a_read_of_private_anonymous_memory_is_the_zero_page) { zero_page(); }

static void guard_page(void)
{
	map_ok(&M, "anon length=%ld flags=private name=g", 4 * PAGE);
	write_byte("g", 0);
	char out[256];
	int rc = map_cmd(&M, "g", "madvise guard_install 4096 8192", out, sizeof out);
	if (rc == -EINVAL)
		cr_skip_test("this kernel has no MADV_GUARD_INSTALL: %s", out);
	cr_assert_eq(rc, 0, "%s", out);
	expect_pages("g", "CGG.\n");
	expect_flags("g", 1, 4, "guard", "swapped,present,anon");
	cr_expect_eq(pread_timed(mp(&M, "maps/g/data"), out, 1, PAGE), -EIO);
	run_ok("g", "madvise guard_remove 4096 8192");
	expect_pages("g", "C...\n");
}

Test(scan, a_guard_page_is_G_not_swapped) { guard_page(); }
Test(fallback, a_guard_page_is_G_not_swapped) { guard_page(); }

static void dirty_then_flushed(void)
{
	const char *dir = writeback_dir();
	if (!dir)
		cr_skip_test("no file system here writes back (all tmpfs): D cannot show");
	char path[4200];
	snprintf(path, sizeof path, "%s/dirty.%d", dir, (int)getpid());
	clean_file(path, 3);
	map_ok(&M, "%s name=d", path);
	touch_byte("d", 0);
	touch_byte("d", PAGE);
	touch_byte("d", 2 * PAGE);
	expect_pages("d", "MMM\n");
	write_byte("d", PAGE);
	/* Dirt is kept per folio: pages that share one with page 1 (a large
	 * folio of the file's page cache) are dirty with it. */
	cr_expect_eq(page_of("d", 1), 'D');
	expect_flags("d", 1, 3, "present,file,shared,dirty", "copy,anon");
	run_ok("d", "flush");
	expect_pages("d", "MMM\n");
	expect_flags("d", 1, 3, "present,file,shared", "dirty");
	unlink(path);
}

Test(scan, a_shared_write_is_D_until_flush_then_M) { dirty_then_flushed(); }
Test(fallback, a_shared_write_is_D_until_flush_then_M) { dirty_then_flushed(); }

static void memfd_is_never_dirty(void)
{
	map_ok(&M, "anon length=%ld name=s", 2 * PAGE);
	write_byte("s", 0);
	expect_pages("s", "M.\n");
	expect_flags("s", 0, 2, "present,file,shared", "dirty,anon,copy");
}

Test(scan, shared_anonymous_memory_shows_M_not_D) { memfd_is_never_dirty(); }
Test(fallback, shared_anonymous_memory_shows_M_not_D) { memfd_is_never_dirty(); }

static void copy_of_a_file(void)
{
	clean_file(sp(&M, "f"), 3);
	map_ok(&M, "%s access=copy name=cow", sp(&M, "f"));
	touch_byte("cow", 0);
	write_byte("cow", PAGE);
	char *p = text_of("cow", "pages");
	cr_expect_eq(p[0], 'M', "a page only read is the file's own: %s", p);
	cr_expect_eq(p[1], 'C', "%s", p);
	free(p);
	expect_flags("cow", 1, 3, "present,anon,copy", "file,shared,dirty");
	expect_flags("cow", 0, 3, "present,file,shared", "copy,dirty");
}

Test(scan, a_written_page_of_a_copy_mapping_is_C) { copy_of_a_file(); }
Test(fallback, a_written_page_of_a_copy_mapping_is_C) { copy_of_a_file(); }

static char page_of(const char *name, long i)
{
	char *p = text_of(name, "pages");
	char c = (size_t)i < strlen(p) ? p[i] : '?';
	free(p);
	return c;
}

static void evicted(void)
{
	clean_file(sp(&M, "e"), 4);
	map_ok(&M, "%s name=e", sp(&M, "e"));
	run_ok("e", "touch");
	expect_pages("e", "MMMM\n");
	run_ok("e", "evict");
	expect_pages("e", "....\n");
	expect_flags("e", 1, 4, "none", NULL);
	/* Pages cached but not mapped here (R) leave the page cache too. */
	char buf[4096];
	int fd = open(sp(&M, "e"), O_RDONLY);
	cr_assert(fd >= 0);
	cr_assert_eq(pread(fd, buf, sizeof buf, 3 * 4096), 4096);
	close(fd);
	cr_expect_eq(page_of("e", 3), 'R', "read by another: in the page cache");
	run_ok("e", "evict 12288");
	cr_expect_eq(page_of("e", 3), '.');
	/* The kernel reads ahead and maps neighbours (and may hold several
	 * pages in one folio): only the page touched is sure to be mapped. */
	run_ok("e", "touch 8192 1");
	cr_expect_eq(page_of("e", 2), 'M');
	run_ok("e", "evict 8192 4096");
	cr_expect_eq(page_of("e", 2), '.');
}

Test(scan, evict_leaves_pages_not_in_memory_and_touch_brings_them_back) { evicted(); }
Test(fallback, evict_leaves_pages_not_in_memory_and_touch_brings_them_back) { evicted(); }

static void locked(void)
{
	map_ok(&M, "anon length=%ld flags=private name=l", 4 * PAGE);
	run_ok("l", "lock 4096 4096");
	expect_flags("l", 1, 4, "locked,present,anon,copy", NULL);
	expect_flags("l", 0, 4, "none", NULL);
	expect_flags("l", 2, 4, "none", NULL);
	char *s = text_of("l", "smaps");
	cr_expect(strstr(s, " lo"), "a locked VMA: %s", s);
	free(s);
	run_ok("l", "unlock");
	char *map = text_of("l", "pagemap");
	check_runs(map, 4);
	cr_expect(!strstr(map, "locked"), "%s", map);
	free(map);
}

Test(scan, lock_shows_locked_and_unlock_takes_it_away) { locked(); }
Test(fallback, lock_shows_locked_and_unlock_takes_it_away) { locked(); }

static bool thp_available(void)
{
	char *t = slurp("/sys/kernel/mm/transparent_hugepage/enabled", NULL);
	bool ok = t && !strstr(t, "[never]");
	free(t);
	return ok;
}

static void huge(void)
{
	if (!thp_available())
		cr_skip_test("transparent huge pages are off on this machine");
	long len = 4L << 20;
	map_ok(&M, "anon length=%ld flags=private name=h", len);
	run_ok("h", "madvise hugepage");
	run_ok("h", "touch");
	char *map = text_of("h", "pagemap");
	check_runs(map, len / PAGE);
	char *zero = slurp("/sys/kernel/mm/transparent_hugepage/use_zero_page", NULL);
	/* Read, a 2 MiB-aligned mapping maps the huge zero page (where the
	 * kernel uses one). */
	if (zero && zero[0] == '1')
		cr_expect(strncmp(map, "0 1023 present,zero,huge\n", 25) == 0 ||
			  strncmp(map, "0 511 present,zero,huge\n", 24) == 0, "%s", map);
	free(zero);
	free(map);
	write_byte("h", 0);
	/* Whether the kernel gave a huge page, from its own count. */
	char *s = text_of("h", "smaps");
	const char *ahp = strstr(s, "\nAnonHugePages:");
	long kb = ahp ? strtol(ahp + 15, NULL, 10) : 0;
	free(s);
	if (kb == 0)
		cr_skip_test("the kernel gave no huge page (memory fragmented?)");
	map = text_of("h", "pagemap");
	check_runs(map, len / PAGE);
	cr_expect(strncmp(map, "0 511 present,anon,copy,huge\n", 29) == 0, "written: a huge copy: %s",
		  map);
	free(map);
}

Test(scan, touched_memory_advised_hugepage_is_huge) { huge(); }
Test(fallback, touched_memory_advised_hugepage_is_huge) { huge(); }

/* The same scenario on both paths gives the same pagemap. */
static void scenario(const struct mnt *m, char **pages, char **pagemap)
{
	char out[256];
	cr_assert_str_eq(map_ok(m, "anon length=%ld flags=private name=x", 64 * PAGE), "x");
	cr_assert_eq(pread_timed(mp(m, "maps/x/data"), out, 1, 3 * PAGE), 1);
	for (long i = 10; i < 20; i++)
		cr_assert_eq(pwrite_timed(mp(m, "maps/x/data"), "y", 1, i * PAGE), 1);
	cr_assert_eq(map_cmd(m, "x", "madvise guard_install 0x20000 8192", out, sizeof out), 0);
	cr_assert_eq(map_cmd(m, "x", "lock 0x30000 0x2000", out, sizeof out), 0, "%s", out);
	*pages = slurp(mp(m, "maps/x/pages"), NULL);
	*pagemap = slurp(mp(m, "maps/x/pagemap"), NULL);
	cr_assert(*pages && *pagemap);
}

Test(pages, scan_and_fallback_agree)
{
	struct mnt F;
	setenv("MMAPFS_NO_PAGEMAP_SCAN", "1", 1);
	mnt_start(&F, NULL);
	unsetenv("MMAPFS_NO_PAGEMAP_SCAN");
	char *p1, *m1, *p2, *m2;
	scenario(&M, &p1, &m1);
	scenario(&F, &p2, &m2);
	cr_expect_str_eq(p1, p2);
	cr_expect_str_eq(m1, m2);
	check_runs(m1, 64);
	char want[66];
	memset(want, '.', 64);
	want[3] = 'Z';
	memset(want + 10, 'C', 10);
	memset(want + 32, 'G', 2);
	memset(want + 48, 'C', 2); /* lock faults in writable private pages */
	strcpy(want + 64, "\n");
	cr_expect_str_eq(p1, want);
	mnt_stop(&F);
	free(p1);
	free(m1);
	free(p2);
	free(m2);
}

/* ---- cost, smaps, source --------------------------------------------------- */

static long long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

Test(pages, pagemap_of_a_sparse_64G_mapping_takes_well_under_a_second)
{
	map_ok(&M, "anon length=64G flags=private,noreserve name=big");
	write_byte("big", 0);
	write_byte("big", 32LL << 30);
	write_byte("big", (64LL << 30) - 1);
	static char buf[1 << 16];
	long long t0 = now_ms();
	ssize_t n = read_timed(mp(&M, "maps/big/pagemap"), buf, sizeof buf - 1);
	long long took = now_ms() - t0;
	cr_assert_gt(n, 0, "%s", strerror((int)-n));
	buf[n] = '\0';
	cr_expect_lt(took, 500, "pagemap took %lld ms", took);
	long pages = (64L << 30) / PAGE;
	check_runs(buf, pages);
	char want[256];
	snprintf(want, sizeof want, "0 0 present,anon,copy\n1 %ld none\n%ld %ld present,anon,copy\n",
		 pages / 2 - 1, pages / 2, pages / 2);
	cr_expect(strncmp(buf, want, strlen(want)) == 0, "%s", buf);
}

/* The smaps records' ranges: contiguous, from the first start to the last
 * end; returns their total size in bytes. */
static long long smaps_span(const char *s, unsigned long *lo, unsigned long *hi)
{
	long long total = 0;
	*lo = *hi = 0;
	for (const char *l = s; *l; l = strchr(l, '\n') + 1) {
		unsigned long a, b;
		char dash;
		if (sscanf(l, "%lx%c%lx ", &a, &dash, &b) == 3 && dash == '-') {
			if (*hi)
				cr_expect_eq(a, *hi, "records are contiguous: %s", s);
			else
				*lo = a;
			*hi = b;
			total += (long long)(b - a);
		}
		if (!strchr(l, '\n'))
			break;
	}
	return total;
}

static void expect_exact_smaps(const char *name, long long len)
{
	char *s = text_of(name, "smaps");
	unsigned long lo, hi;
	long long span = (len + PAGE - 1) / PAGE * PAGE;
	cr_expect_eq(smaps_span(s, &lo, &hi), span, "maps/%s/smaps covers %lx-%lx, not %lld bytes",
		     name, lo, hi, span);
	free(s);
}

/* In the server's /proc/PID/maps, the lines just before and after the
 * mapping's own are the gap pages (the memfd mmapfs-gap). */
static void expect_between_gaps(const char *name)
{
	char *s = text_of(name, "smaps"), path[64];
	unsigned long lo, hi;
	smaps_span(s, &lo, &hi);
	free(s);
	snprintf(path, sizeof path, "/proc/%d/maps", (int)M.pid);
	char *maps = slurp(path, NULL);
	cr_assert(maps);
	bool before = false, after = false;
	for (char *l = strtok(maps, "\n"); l; l = strtok(NULL, "\n")) {
		unsigned long a, b;
		if (sscanf(l, "%lx-%lx", &a, &b) != 2)
			continue;
		if (b == lo)
			before = strstr(l, "mmapfs-gap") != NULL;
		if (a == hi)
			after = strstr(l, "mmapfs-gap") != NULL;
	}
	free(maps);
	cr_expect(before && after, "maps/%s (%lx-%lx) lies between gap pages", name, lo, hi);
}

Test(pages, smaps_covers_exactly_the_mapping)
{
	map_ok(&M, "anon length=100G flags=private,noreserve name=huge");
	expect_exact_smaps("huge", 100LL << 30);
	/* Neighbours with the same flags, and a file mapped at adjacent
	 * offsets, would merge without the gaps. */
	for (int i = 0; i < 4; i++)
		map_ok(&M, "anon length=%ld flags=private name=p%d", 3 * PAGE, i);
	map_ok(&M, "anon length=%ld flags=private prot=none name=none", 2 * PAGE);
	/* As the reservation the gaps are cut from: only the gaps' memfd
	 * keeps them apart. */
	map_ok(&M, "anon length=%ld flags=private,noreserve prot=none name=nr", 2 * PAGE);
	clean_file(sp(&M, "f"), 4);
	map_ok(&M, "%s length=%ld name=f0", sp(&M, "f"), 2 * PAGE);
	map_ok(&M, "%s offset=%ld name=f1", sp(&M, "f"), 2 * PAGE);
	for (int i = 0; i < 4; i++) {
		char n[8];
		snprintf(n, sizeof n, "p%d", i);
		expect_exact_smaps(n, 3 * PAGE);
	}
	expect_exact_smaps("none", 2 * PAGE);
	expect_exact_smaps("nr", 2 * PAGE);
	expect_between_gaps("nr");
	expect_exact_smaps("f0", 2 * PAGE);
	expect_exact_smaps("f1", 2 * PAGE);
	/* The gaps are nobody's: not in pages, nor pagemap. */
	expect_pages("p1", "...\n");
	char *map = text_of("p1", "pagemap");
	cr_expect_str_eq(map, "0 2 none\n");
	free(map);
}

Test(pages, smaps_stays_exact_across_resizes)
{
	map_ok(&M, "anon length=%ld flags=private name=r", 3 * PAGE);
	map_ok(&M, "anon length=%ld flags=private name=n", 3 * PAGE);
	write_byte("r", 0);
	expect_between_gaps("r");
	run_ok("r", "resize 5000000");
	expect_exact_smaps("r", 5000000);
	expect_between_gaps("r");
	expect_exact_smaps("n", 3 * PAGE);
	run_ok("r", "resize 100");
	expect_exact_smaps("r", 100);
	expect_between_gaps("r");
	run_ok("r", "resize 0");
	char *s = text_of("r", "smaps");
	cr_expect_str_eq(s, "");
	free(s);
	run_ok("r", "resize 8192");
	expect_exact_smaps("r", 8192);
	expect_between_gaps("r");
	char one;
	cr_assert_eq(pread_timed(mp(&M, "maps/r/data"), &one, 1, 0), 1);
	cr_expect_eq(one, 0, "a mapping grown from 0 is zeros");
}

/* Bytes of the server's VMAs of the gaps' memfd. */
static long gap_bytes(void)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/maps", (int)M.pid);
	char *maps = slurp(path, NULL);
	cr_assert(maps);
	long sum = 0;
	for (char *l = strtok(maps, "\n"); l; l = strtok(NULL, "\n")) {
		unsigned long a, b;
		if (strstr(l, "mmapfs-gap") && sscanf(l, "%lx-%lx", &a, &b) == 2)
			sum += (long)(b - a);
	}
	free(maps);
	return sum;
}

Test(pages, closing_releases_the_gaps)
{
	map_ok(&M, "anon length=%ld flags=private name=c", PAGE);
	/* The memfd's two pages, mapped once as the template, and a gap page
	 * on each side of the mapping. */
	cr_expect_eq(gap_bytes(), 4 * PAGE);
	map_ok(&M, "anon length=%ld flags=private name=d", 3 * PAGE);
	cr_expect_eq(gap_bytes(), 6 * PAGE);
	char out[128];
	cr_assert_eq(root_cmd(&M, "close c", out, sizeof out), 0, "%s", out);
	cr_expect_eq(gap_bytes(), 4 * PAGE, "close releases the gaps");
	cr_assert_eq(map_cmd(&M, "d", "resize 0", out, sizeof out), 0, "%s", out);
	cr_expect_eq(gap_bytes(), 2 * PAGE, "so does a resize to 0");
	cr_assert_eq(map_cmd(&M, "d", "resize 100000", out, sizeof out), 0, "%s", out);
	cr_expect_eq(gap_bytes(), 4 * PAGE, "and growing from 0 takes new ones");
	cr_assert_eq(map_cmd(&M, "d", "resize 10", out, sizeof out), 0, "%s", out);
	cr_expect_eq(gap_bytes(), 4 * PAGE, "a move between new gaps releases the old ones");
}

static void expect_source(const char *name, const char *want)
{
	char got[4200];
	cr_assert_eq(attr_text(&M, name, "source", got, sizeof got), 0);
	cr_expect_str_eq(got, want);
}

Test(pages, source_follows_rename_and_unlink)
{
	char a[4200], b[4200], deleted[4300];
	snprintf(a, sizeof a, "%s", sp(&M, "before"));
	snprintf(b, sizeof b, "%s", sp(&M, "after"));
	snprintf(deleted, sizeof deleted, "%s (deleted)", b);
	const char *modes[] = { "yes", "no" };
	for (int i = 0; i < 2; i++) {
		clean_file(a, 2);
		char name[8];
		snprintf(name, sizeof name, "s%d", i);
		map_ok(&M, "%s trackfd=%s name=%s", a, modes[i], name);
		expect_source(name, a);
		cr_assert_eq(rename(a, b), 0);
		expect_source(name, b);
		cr_assert_eq(unlink(b), 0);
		expect_source(name, deleted);
	}
	map_ok(&M, "anon length=1 name=an");
	expect_source("an", "anonymous");
}

/* ---- the commands' ranges and the memory-lock limit ------------------------ */

Test(pages, range_errors_are_madvise_s)
{
	map_ok(&M, "anon length=%ld flags=private name=q", 2 * PAGE);
	const char *verbs[] = { "lock", "unlock", "touch", "evict" };
	for (int i = 0; i < 4; i++) {
		char c[128], out[256], want[128];
		struct { const char *args, *msg; } bad[] = {
			{ "-1", "start out of bounds" }, { "8192", "start out of bounds" },
			{ "0 -1", "length invalid" }, { "1 0x7fffffffffffffff", "length too large" },
		};
		for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
			snprintf(c, sizeof c, "%s %s", verbs[i], bad[k].args);
			cr_expect_eq(map_cmd(&M, "q", c, out, sizeof out), -EINVAL, "%s", c);
			snprintf(want, sizeof want, "error: %s %s", verbs[i], bad[k].msg);
			cr_expect_str_eq(out, want, "%s", c);
		}
		snprintf(c, sizeof c, "%s 0 1 2", verbs[i]);
		cr_expect_eq(map_cmd(&M, "q", c, out, sizeof out), -EINVAL);
		snprintf(want, sizeof want, "error: usage: %s [START [LENGTH]]", verbs[i]);
		cr_expect_str_eq(out, want);
		snprintf(c, sizeof c, "%s zero", verbs[i]);
		cr_expect_eq(map_cmd(&M, "q", c, out, sizeof out), -EINVAL, "%s: %s", c, out);
		/* A length past the end stops at the end, as madvise's does. */
		snprintf(c, sizeof c, "%s 4096 1G", verbs[i]);
		cr_expect_eq(map_cmd(&M, "q", c, out, sizeof out), 0, "%s: %s", c, out);
	}
	/* lock faults in a writable private page: a copy. */
	expect_pages("q", ".C\n");
}

Test(pages, touch_of_a_guard_page_is_EIO_and_of_an_unreadable_mapping_EACCES)
{
	map_ok(&M, "anon length=%ld flags=private name=t", 2 * PAGE);
	char out[256];
	if (map_cmd(&M, "t", "madvise guard_install 4096", out, sizeof out) == 0) {
		cr_expect_eq(map_cmd(&M, "t", "touch", out, sizeof out), -EIO, "%s", out);
		cr_expect(mnt_alive(&M));
	}
	map_ok(&M, "anon length=%ld flags=private prot=none name=u", PAGE);
	cr_expect_eq(map_cmd(&M, "u", "touch", out, sizeof out), -EACCES, "%s", out);
}

/* Lock as a process without CAP_IPC_LOCK under a given RLIMIT_MEMLOCK: the
 * result of the write, as the child's exit status (errno). */
struct limited_lock {
	const char *ctl;
	const char *command;
	rlim_t limit;
};

static int lock_without_cap(void *p, int out_fd)
{
	(void)out_fd;
	struct limited_lock *l = p;
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) < 0)
		return 200;
	d[CAP_IPC_LOCK / 32].effective &= ~(1u << (CAP_IPC_LOCK % 32));
	struct rlimit rl = { l->limit, l->limit };
	if (syscall(SYS_capset, &h, d) < 0 || setrlimit(RLIMIT_MEMLOCK, &rl) < 0)
		return 201;
	char out[256];
	int rc = ctl_raw(l->ctl, l->command, strlen(l->command), out, sizeof out);
	return -rc;
}

static int limited(const char *command, rlim_t limit)
{
	struct limited_lock l = { mp(&M, "maps/k/ctl"), command, limit };
	return run_limited(OP_TIMEOUT_MS, lock_without_cap, &l, NULL, 0, NULL);
}

Test(pages, lock_is_bounded_by_the_caller_s_RLIMIT_MEMLOCK)
{
	map_ok(&M, "anon length=%ld flags=private name=k", 8 * PAGE);
	cr_expect_eq(limited("lock", 0), EPERM, "no locking at all with a limit of 0");
	cr_expect_eq(limited("lock", 4 * PAGE), ENOMEM, "8 pages above a 4-page limit");
	cr_expect_eq(limited("lock 0 16384", 4 * PAGE), 0);
	cr_expect_eq(limited("lock 0 16384", 4 * PAGE), 0, "the same pages again cost nothing");
	cr_expect_eq(limited("lock 16384 4096", 4 * PAGE), ENOMEM, "a fifth page is too many");
	cr_expect_eq(limited("unlock 0 4096", 4 * PAGE), 0);
	cr_expect_eq(limited("lock 16384 4096", 4 * PAGE), 0, "after unlocking one page");
	/* Root, with CAP_IPC_LOCK, may lock it all. */
	run_ok("k", "lock");
}

/* One limit for both ways of locking: pages the `lock` command locked count
 * against a later `map ... flags=locked`, and the other way round. */
Test(pages, lock_and_flags_locked_share_one_limit)
{
	map_ok(&M, "anon length=%ld flags=private name=k", 8 * PAGE);
	cr_expect_eq(limited("lock 0 16384", 4 * PAGE), 0, "4 pages, all of the limit");
	struct limited_lock l = { mp(&M, "ctl"), NULL, 4 * PAGE };
	char map[128];
	snprintf(map, sizeof map, "map anon length=%ld flags=private,locked name=lk", PAGE);
	l.command = map;
	cr_expect_eq(run_limited(OP_TIMEOUT_MS, lock_without_cap, &l, NULL, 0, NULL), ENOMEM,
		     "a locked map past what lock took");
	cr_expect_eq(limited("unlock", 4 * PAGE), 0);
	cr_expect_eq(run_limited(OP_TIMEOUT_MS, lock_without_cap, &l, NULL, 0, NULL), 0,
		     "room again once unlocked");
	cr_expect_eq(limited("lock 0 16384", 4 * PAGE), ENOMEM,
		     "the locked map's page counts against lock too");
}

/* The server's locked memory, from its VmLck, in pages. */
static long server_locked_pages(void)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", (int)M.pid);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	long kb = -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
			break;
	fclose(f);
	cr_assert_geq(kb, 0, "no VmLck in %s", path);
	return kb * 1024 / PAGE;
}

/* The class of the audit's finding: growing a mapping whose end is locked
 * makes the kernel lock what the growth adds (mremap extends the locked
 * VMA), so every way to grow is charged too: `resize`, the size file and
 * a write past the end. */
Test(pages, growing_a_locked_end_keeps_to_the_limit)
{
	map_ok(&M, "anon length=%ld name=k", 4 * PAGE);
	long before = server_locked_pages();
	cr_expect_eq(limited("lock", 8 * PAGE), 0);
	char resize[64];
	snprintf(resize, sizeof resize, "resize %ld", 64 * PAGE);
	cr_expect_eq(limited(resize, 8 * PAGE), ENOMEM, "60 pages more than an 8-page limit");
	char size[32];
	snprintf(size, sizeof size, "%ld\n", 64 * PAGE);
	struct limited_lock l = { mp(&M, "maps/k/size"), size, 8 * PAGE };
	cr_expect_eq(run_limited(OP_TIMEOUT_MS, lock_without_cap, &l, NULL, 0, NULL), ENOMEM,
		     "through the size file");
	size_t n = (size_t)(9 * PAGE);
	char *bytes = malloc(n + 1);
	memset(bytes, 'x', n);
	bytes[n] = '\0';
	l = (struct limited_lock){ mp(&M, "maps/k/data"), bytes, 8 * PAGE };
	cr_expect_eq(run_limited(OP_TIMEOUT_MS, lock_without_cap, &l, NULL, 0, NULL), ENOMEM,
		     "through a write past the end");
	free(bytes);
	cr_expect_eq(attr_num(&M, "k", "size"), 4 * PAGE, "nothing grew");
	cr_expect_eq(server_locked_pages() - before, 4);
	snprintf(resize, sizeof resize, "resize %ld", 8 * PAGE);
	cr_expect_eq(limited(resize, 8 * PAGE), 0, "up to the limit");
	cr_expect_eq(server_locked_pages() - before, 8, "the new pages are locked");
	cr_expect_eq(limited("lock", 8 * PAGE), 0, "all of it is locked already");
	run_ok("k", "unlock");
	cr_expect_eq(server_locked_pages() - before, 0);
}

/* ---- resident ------------------------------------------------------------- */

Test(pages, resident_counts_no_zero_pages)
{
	map_ok(&M, "anon length=%ld flags=private name=rz", 8 * PAGE);
	run_ok("rz", "touch");
	expect_pages("rz", "ZZZZZZZZ\n");
	write_byte("rz", 0);
	char *s = slurp(mp(&M, "stats"), NULL);
	char want[64];
	snprintf(want, sizeof want, "\nresident %ld\n", PAGE);
	cr_expect(strstr(s, want), "one page holds memory: %s", s);
	free(s);
}

/* ---- mmapctl: the page map, JSON, watch, the new commands -------------------- */

struct client {
	char *argv[16];
	const char *mount;
};

static int exec_mmapctl(void *p, int out_fd)
{
	struct client *c = p;
	const char *bin = getenv("MMAPCTL_BIN");
	setenv("MMAPFS_MOUNT", c->mount, 1);
	if (dup2(out_fd, 1) < 0)
		return 126;
	int null = open("/dev/null", O_RDWR);
	if (null >= 0)
		dup2(null, 0);
	execv(bin && *bin ? bin : "src/mmapctl/mmapctl", c->argv);
	return 127;
}

/* mmapctl ARGS... (NULL-terminated) with a time limit; its stdout in out. */
static int mmapctl_run(char *out, size_t cap, int timeout_ms, const char *first, ...)
{
	struct client c = { { (char *)"mmapctl" }, M.dir };
	va_list ap;
	va_start(ap, first);
	size_t n = 1;
	for (const char *a = first; a && n < 15; a = va_arg(ap, const char *))
		c.argv[n++] = (char *)a;
	va_end(ap);
	size_t got = 0;
	int rc = run_limited(timeout_ms, exec_mmapctl, &c, out, cap - 1, &got);
	out[got] = '\0';
	return rc;
}

TestSuite(client, .init = up_scan, .fini = down, .timeout = 60);

Test(client, pages_draws_the_new_states_and_counts_them)
{
	static char out[1 << 16];
	map_ok(&M, "anon length=%ld flags=private name=a", 6 * PAGE);
	touch_byte("a", 0);
	write_byte("a", PAGE);
	run_ok("a", "madvise guard_install 8192 4096");
	cr_assert_eq(mmapctl_run(out, sizeof out, OP_TIMEOUT_MS, "pages", "a", NULL), 0, "%s", out);
	cr_expect(strstr(out, "\n0 ZCG...\n"), "%s", out);
	cr_expect(strstr(out, "  G  guard page (madvise guard_install)                 1   16.7%\n"),
		  "%s", out);
	cr_expect(strstr(out, "  Z  the kernel's zero page (read, never written)       1   16.7%\n"),
		  "%s", out);
	cr_expect(strstr(out, "  D  mapped here, shared, dirty (not yet written back)  0    0.0%\n"),
		  "%s", out);
	cr_expect_null(strchr(out, '\033'), "no colour when piped");
	cr_assert_eq(mmapctl_run(out, sizeof out, OP_TIMEOUT_MS, "pages", "--color=always", "a",
				 NULL), 0);
	cr_expect(strstr(out, "\033[0;97;45mG"), "guard pages have a colour: %s", out);
	/* ls: only the copy holds memory (not the zero page, not the guard). */
	cr_assert_eq(mmapctl_run(out, sizeof out, OP_TIMEOUT_MS, "ls", "-n", "-o", "RES%", NULL), 0);
	cr_expect(strstr(out, "17%\n"), "1 of 6 pages: %s", out);
}

Test(client, pages_json_has_the_counts_and_the_runs)
{
	static char out[1 << 16];
	map_ok(&M, "anon length=%ld flags=private name=j", 4 * PAGE);
	touch_byte("j", 0);
	write_byte("j", 2 * PAGE);
	cr_assert_eq(mmapctl_run(out, sizeof out, OP_TIMEOUT_MS, "pages", "--json", "j", NULL), 0);
	char want[1024];
	snprintf(want, sizeof want,
		 "{\"name\":\"j\",\"pagesize\":%ld,\"pages\":4,\"counts\":{\"G\":0,\"S\":0,\".\":2,"
		 "\"Z\":1,\"C\":1,\"D\":0,\"M\":0,\"R\":0},\"resident\":1,\"runs\":["
		 "{\"first\":0,\"last\":0,\"flags\":[\"present\",\"zero\"]},"
		 "{\"first\":1,\"last\":1,\"flags\":[]},"
		 "{\"first\":2,\"last\":2,\"flags\":[\"present\",\"anon\",\"copy\"]},"
		 "{\"first\":3,\"last\":3,\"flags\":[]}]}\n", PAGE);
	cr_expect_str_eq(out, want);
	/* The same, parsed by a JSON parser. */
	char path[4200];
	snprintf(path, sizeof path, "%s/j.json", M.scratch);
	make_file(path, out, strlen(out));
	char py[8400];
	snprintf(py, sizeof py, "python3 -c 'import json,sys; d=json.load(open(\"%s\")); "
		 "sys.exit(0 if d[\"counts\"][\"Z\"]==1 and d[\"runs\"][2][\"flags\"][2]==\"copy\" "
		 "else 1)'", path);
	cr_expect_eq(system(py), 0, "python's json reads it: %s", out);
}

/* --watch piped prints a frame when the map changes, and only then. */
static int count_frames(const char *out, const char *header)
{
	int n = 0;
	for (const char *p = out; (p = strstr(p, header)); p++)
		n++;
	return n;
}

Test(client, pages_watch_piped_prints_a_frame_only_on_change)
{
	static char out[1 << 16];
	map_ok(&M, "anon length=%ld flags=private name=w", 4 * PAGE);
	int p[2];
	cr_assert_eq(pipe(p), 0);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		struct client c = { { (char *)"mmapctl", (char *)"pages", (char *)"--watch",
				      (char *)"0.05", (char *)"w", NULL }, M.dir };
		close(p[0]);
		_exit(exec_mmapctl(&c, p[1]));
	}
	close(p[1]);
	usleep(400 * 1000); /* several intervals: one frame */
	write_byte("w", 0);
	usleep(400 * 1000);
	touch_byte("w", 3 * PAGE);
	usleep(400 * 1000);
	char ctl_out[64];
	cr_assert_eq(root_cmd(&M, "close w", ctl_out, sizeof ctl_out), 0);
	/* Closing ends the watch (status 0), within a few intervals. */
	int st = -1;
	for (int i = 0; i < 100 && waitpid(pid, &st, WNOHANG) == 0; i++)
		usleep(50 * 1000);
	if (waitpid(pid, &st, WNOHANG) == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		cr_assert_fail("the watch did not end when its mapping was closed");
	}
	ssize_t n = read(p[0], out, sizeof out - 1);
	close(p[0]);
	out[n > 0 ? n : 0] = '\0';
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
	cr_expect_eq(count_frames(out, "maps/w: 4 pages"), 3, "three states, three frames: %s", out);
	cr_expect(strstr(out, "\n0 ....\n") && strstr(out, "\n0 C...\n") && strstr(out, "\n0 C..Z\n"),
		  "%s", out);
}

Test(client, lock_unlock_touch_evict)
{
	static char out[4096];
	clean_file(sp(&M, "f"), 4);
	map_ok(&M, "%s name=f", sp(&M, "f"));
	cr_expect_eq(mmapctl_run(out, sizeof out, OP_TIMEOUT_MS, "touch", "f", NULL), 0);
	expect_pages("f", "MMMM\n");
	cr_expect_eq(mmapctl_run(out, sizeof out, OP_TIMEOUT_MS, "evict", "f", NULL), 0);
	expect_pages("f", "....\n");
	cr_expect_eq(mmapctl_run(out, sizeof out, OP_TIMEOUT_MS, "lock", "f", "4096", "4096", NULL),
		     0);
	expect_flags("f", 1, 4, "locked,present", NULL);
	cr_expect_eq(mmapctl_run(out, sizeof out, OP_TIMEOUT_MS, "unlock", "f", NULL), 0);
	expect_flags("f", 1, 4, "present", "locked");
	cr_expect_eq(mmapctl_run(out, sizeof out, OP_TIMEOUT_MS, "touch", "f", "-1", NULL), 1,
		     "a refused range is status 1");
	cr_expect_str_eq(out, "", "nothing on stdout");
}

/* On a terminal (a pseudo-terminal here): redrawn in place, the changed
 * cells marked, and q ends it. */
static ssize_t read_for(int fd, char *buf, size_t cap, int ms)
{
	size_t have = 0;
	for (int waited = 0; waited < ms && have < cap; waited += 20) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, 20) > 0) {
			ssize_t n = read(fd, buf + have, cap - have);
			if (n <= 0)
				break;
			have += (size_t)n;
		}
	}
	return (ssize_t)have;
}

Test(client, pages_watch_on_a_terminal_redraws_marks_changes_and_quits_on_q)
{
	static char out[1 << 18];
	map_ok(&M, "anon length=%ld flags=private name=t", 4 * PAGE);
	int master = posix_openpt(O_RDWR | O_NOCTTY);
	cr_assert(master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0);
	const char *slave = ptsname(master);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int s = setsid() < 0 ? -1 : open(slave, O_RDWR);
		if (s < 0 || ioctl(s, TIOCSCTTY, 0) < 0)
			_exit(126);
		/* Criterion's workers ignore some signals; a watch on a terminal
		 * meets its defaults. */
		signal(SIGTTIN, SIG_DFL);
		signal(SIGTTOU, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		dup2(s, 0);
		dup2(s, 1);
		dup2(s, 2);
		setenv("MMAPFS_MOUNT", M.dir, 1);
		setenv("TERM", "xterm", 1);
		unsetenv("NO_COLOR");
		const char *bin = getenv("MMAPCTL_BIN");
		execl(bin && *bin ? bin : "src/mmapctl/mmapctl", "mmapctl", "pages", "--watch", "0.1",
		      "t", (char *)NULL);
		_exit(127);
	}
	ssize_t n = read_for(master, out, sizeof out - 1, 600);
	write_byte("t", 2 * PAGE);
	n += read_for(master, out + n, sizeof out - 1 - (size_t)n, 600);
	cr_assert_eq(write(master, "q", 1), 1);
	/* Up to 5 s by the clock (a read of a master whose slave is closed
	 * returns at once, so no count of reads makes a time). */
	int st = -1;
	pid_t done = 0;
	for (long long end = now_ms() + 5000; done == 0 && now_ms() < end;) {
		done = waitpid(pid, &st, WNOHANG);
		ssize_t got = done ? 0 : read_for(master, out + n, sizeof out - 1 - (size_t)n, 20);
		n += got;
		if (done == 0 && got == 0)
			usleep(20 * 1000);
	}
	if (done == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		out[n] = '\0';
		cr_assert_fail("q did not end the watch; it wrote %zd bytes: %s", n,
			       out + (n > 600 ? n - 600 : 0));
	}
	close(master);
	out[n] = '\0';
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
	cr_expect(strstr(out, "\033[H"), "redrawn in place (cursor home)");
	cr_expect(strstr(out, "q to quit"), "%s", out);
	/* The copy's cell, bold and underlined in the frame after the write. */
	cr_expect(strstr(out, "\033[0;30;43;1;4mC"), "the changed cell is marked: %s", out);
	cr_expect(strstr(out, "\033[?25h"), "the cursor is shown again at the end");
}

Test(pages, touch_of_pages_whose_file_was_truncated_is_EIO)
{
	clean_file(sp(&M, "t"), 4);
	map_ok(&M, "%s name=t", sp(&M, "t"));
	cr_assert_eq(truncate(sp(&M, "t"), PAGE), 0);
	char out[256];
	cr_expect_eq(map_cmd(&M, "t", "touch", out, sizeof out), -EIO, "%s", out);
	cr_expect_eq(map_cmd(&M, "t", "touch 0 4096", out, sizeof out), 0, "%s", out);
	cr_expect(server_answers(&M));
}
