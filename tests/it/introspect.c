/* it_introspect.c - pages, smaps, stats and the kernel's names for
 * anonymous mappings, through a real mount. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/harness.h"

#define PAGE page_size()

TestSuite(introspect, .init = mnt_up, .fini = mnt_down, .timeout = 60);

static char *pages_of(const char *name)
{
	char *p = read_all(mp(&M, "maps/%s/pages", name), NULL);
	cr_assert(p, "read pages: %s", strerror(errno));
	return p;
}

/* A file of n pages, each filled with its own letter. */
static void paged_file(const char *path, int n)
{
	char *buf = malloc((size_t)(n * PAGE));
	for (int i = 0; i < n; i++)
		memset(buf + i * PAGE, 'a' + i, (size_t)PAGE);
	make_file(path, buf, (size_t)(n * PAGE));
	free(buf);
}

static void drop_file_cache(const char *path)
{
	int fd = open(path, O_RDONLY);
	cr_assert(fd >= 0);
	fdatasync(fd);
	cr_assert_eq(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
	close(fd);
}

Test(introspect, one_character_per_page_and_a_newline)
{
	paged_file(sp(&M, "f"), 3);
	const char *n = map_ok(&M, "%s length=%ld", sp(&M, "f"), 2 * PAGE + 1);
	char *p = pages_of(n);
	cr_expect_eq(strlen(p), 4, "3 pages (the last one partial) and a newline: '%s'", p);
	cr_expect_eq(p[3], '\n');
	free(p);
}

Test(introspect, cached_pages_not_yet_mapped_show_R_then_M_once_read)
{
	paged_file(sp(&M, "f"), 4);
	const char *n = map_ok(&M, "%s", sp(&M, "f"));
	char *p = pages_of(n);
	cr_expect_str_eq(p, "RRRR\n", "the file was just written: in the page cache");
	free(p);
	/* Reading through data touches the pages of the server's mapping. */
	free(read_all(mp(&M, "maps/%s/data", n), NULL));
	p = pages_of(n);
	cr_expect_str_eq(p, "MMMM\n");
	free(p);
}

Test(introspect, pages_not_in_memory_show_dot)
{
	paged_file(sp(&M, "f"), 4);
	drop_file_cache(sp(&M, "f"));
	const char *n = map_ok(&M, "%s", sp(&M, "f"));
	char *p = pages_of(n);
	cr_expect_str_eq(p, "....\n");
	free(p);
	char one;
	int fd = open(mp(&M, "maps/%s/data", n), O_RDONLY);
	cr_assert_eq(pread(fd, &one, 1, 2 * PAGE), 1);
	close(fd);
	p = pages_of(n);
	/* Readahead and fault-around may bring and map neighbours too. */
	cr_expect_eq(p[2], 'M', "the page read is mapped: %s", p);
	free(p);
}

Test(introspect, a_write_to_a_copy_mapping_shows_C_and_dontneed_gives_it_back)
{
	paged_file(sp(&M, "f"), 4);
	const char *n = map_ok(&M, "%s access=copy name=cow", sp(&M, "f"));
	cr_assert_eq(pwrite_at(mp(&M, "maps/cow/data"), "X", 1, PAGE + 7), 0);
	char *p = pages_of(n);
	cr_expect_eq(p[1], 'C', "page 1 was copied: %s", p);
	cr_expect_neq(p[0], 'C', "%s", p);
	cr_expect_neq(p[2], 'C', "%s", p);
	free(p);
	char out[128];
	cr_assert_eq(cmd(&M, "maps/cow/ctl", "madvise dontneed", out, sizeof out), 0, "%s", out);
	p = pages_of(n);
	cr_expect_str_eq(p, "RRRR\n", "the copy is dropped; the file's pages remain cached");
	free(p);
	size_t len;
	char *d = read_all(mp(&M, "maps/cow/data"), &len);
	cr_expect_eq(d[PAGE + 7], 'b', "after dontneed a private page is the file's again");
	free(d);
}

Test(introspect, shared_writes_stay_M)
{
	paged_file(sp(&M, "f"), 2);
	const char *n = map_ok(&M, "%s", sp(&M, "f"));
	cr_assert_eq(pwrite_at(mp(&M, "maps/%s/data", n), "X", 1, 0), 0);
	char *p = pages_of(n);
	cr_expect_eq(p[0], 'M', "%s", p);
	free(p);
}

Test(introspect, anonymous_pages)
{
	const char *n = map_ok(&M, "anon length=%ld flags=private", 3 * PAGE);
	char *p = pages_of(n);
	cr_expect_str_eq(p, "...\n", "untouched anonymous memory");
	free(p);
	cr_assert_eq(pwrite_at(mp(&M, "maps/%s/data", n), "x", 1, PAGE), 0);
	p = pages_of(n);
	cr_expect_str_eq(p, ".C.\n", "a private anonymous page once written");
	free(p);
	const char *s = map_ok(&M, "anon length=%ld", 2 * PAGE);
	cr_assert_eq(pwrite_at(mp(&M, "maps/%s/data", s), "x", 1, 0), 0);
	p = pages_of(s);
	cr_expect_str_eq(p, "M.\n", "shared anonymous memory is shared with its memfd");
	free(p);
}

static long rss_kb(const char *name)
{
	char *s = read_all(mp(&M, "maps/%s/smaps", name), NULL);
	cr_assert(s);
	const char *at = strstr(s, "\nRss:");
	cr_assert(at, "%s", s);
	long kb = strtol(at + 5, NULL, 10);
	free(s);
	return kb;
}

Test(introspect, smaps_shows_the_mapping_and_changes_after_writes)
{
	/* A shared anonymous mapping is a memfd of its own: one exact record. */
	map_ok(&M, "anon length=%ld name=sm", 8 * PAGE);
	char *s = read_all(mp(&M, "maps/sm/smaps"), NULL);
	cr_assert(s);
	cr_expect(strstr(s, "/memfd:mmapfs:sm"), "%s", s);
	cr_expect(strstr(s, "Size:                 32 kB") || PAGE != 4096, "%s", s);
	free(s);
	cr_expect_eq(rss_kb("sm"), 0, "untouched");
	char block[8192];
	memset(block, 1, sizeof block);
	cr_assert_eq(pwrite_at(mp(&M, "maps/sm/data"), block, sizeof block, 0), 0);
	cr_expect_eq(rss_kb("sm"), 8, "after writing 8 KiB");
}

Test(introspect, smaps_of_private_anonymous_memory_counts_its_writes)
{
	/* The kernel may merge this VMA with adjacent anonymous memory (this
	 * kernel refuses VMA names, which would keep them apart), so the record
	 * can be larger than the mapping, and its neighbours' pages may change
	 * too (a sanitizer's own memory, say): the writes add at least 8 kB. */
	map_ok(&M, "anon length=%ld flags=private name=pv", 8 * PAGE);
	long before = rss_kb("pv");
	char block[8192];
	memset(block, 1, sizeof block);
	cr_assert_eq(pwrite_at(mp(&M, "maps/pv/data"), block, sizeof block, 0), 0);
	cr_expect_geq(rss_kb("pv") - before, 8);
}

Test(introspect, anonymous_mappings_carry_their_name_in_the_kernel)
{
	map_ok(&M, "anon length=%ld name=shared-one", PAGE);
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/maps", (int)M.pid);
	char *maps = read_all(path, NULL);
	cr_assert(maps);
	cr_expect(strstr(maps, "/memfd:mmapfs:shared-one"), "%s", maps);
	free(maps);
}

Test(introspect, stats_counts_maps_bytes_and_resident)
{
	paged_file(sp(&M, "f"), 4);
	const char *n = map_ok(&M, "%s", sp(&M, "f"));
	free(read_all(mp(&M, "maps/%s/data", n), NULL));
	char *s = read_all(mp(&M, "stats"), NULL);
	char want[256];
	snprintf(want, sizeof want, "maps 1\nbytes %ld\nmax_maps 100000\nmax_bytes 1099511627776\n"
		 "resident %ld\n", 4 * PAGE, 4 * PAGE);
	cr_expect_str_eq(s, want);
	free(s);
}
