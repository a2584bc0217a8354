/* it_conf_ctl.c - a mapping's ctl against the methods of mmap.mmap:
 * flush, madvise, move, resize, seek, find, rfind and close, with CPython's
 * range rules, results and messages. */
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

TestSuite(conf_ctl, .init = conf_up, .fini = conf_down, .timeout = 60);

static long long file_size(const char *path)
{
	struct stat st;
	cr_assert_eq(stat(path, &st), 0, "stat %s: %s", path, strerror(errno));
	return (long long)st.st_size;
}

/* ---- flush ----------------------------------------------------------------- */

Test(conf_ctl, flush_whole_and_ranges)
{
	long ps = conf_pagesize();
	const char *f = conf_digits("f", (size_t)ps * 2 + 10);
	const char *n = conf_map("%s", f);
	cr_assert_eq(pwrite_at(mp(&M, "maps/%s/data", n), "FL", 2, 0), 0);
	expect_mcmd(n, 0, "ok", "flush");
	expect_mcmd(n, 0, "ok", "flush 0");
	expect_mcmd(n, 0, "ok", "flush %ld", ps);
	expect_mcmd(n, 0, "ok", "flush %ld 10", ps);
	expect_mcmd(n, 0, "ok", "flush 0 %ld", ps * 2 + 10);
	/* SIZE -1 is "to the end", as the default (3.13's flush(offset, size=-1)) */
	expect_mcmd(n, 0, "ok", "flush %ld -1", ps);
	expect_mcmd(n, 0, "ok", "flush 0 0");
	expect_bytes(f, read_all(mp(&M, "maps/%s/data", n), NULL), (size_t)ps * 2 + 10);
	/* fsync(2) on data is flush */
	int fd = open(mp(&M, "maps/%s/data", n), O_RDWR);
	cr_assert(fd >= 0);
	cr_expect_eq(fsync(fd), 0, "fsync: %s", strerror(errno));
	close(fd);
}

Test(conf_ctl, flush_range_errors)
{
	const char *f = conf_digits("f", 100);
	const char *n = conf_map("%s", f);
	const char *msg = "error: flush values out of range";
	expect_mcmd(n, EINVAL, msg, "flush 0 101");
	expect_mcmd(n, EINVAL, msg, "flush -1");
	expect_mcmd(n, EINVAL, msg, "flush -4096 10");
	expect_mcmd(n, EINVAL, msg, "flush 0 -2");
	expect_mcmd(n, EINVAL, msg, "flush 4096");
	expect_mcmd(n, EINVAL, msg, "flush 50 51");
	expect_mcmd(n, EINVAL, NULL, "flush 0 1 2");
	expect_mcmd(n, EINVAL, "error: invalid number: 'start'", "flush start");
}

/* An OFFSET that is no multiple of PAGESIZE: msync(2) refuses it, OSError. */
Test(conf_ctl, flush_alignment)
{
	const char *f = conf_digits("f", 100);
	const char *n = conf_map("%s", f);
	expect_mcmd(n, EINVAL, "error: Invalid argument", "flush 1");
	expect_mcmd(n, EINVAL, "error: Invalid argument", "flush 10 20");
	n = conf_map("%s access=write", f);
	expect_mcmd(n, EINVAL, "error: Invalid argument", "flush 1 1");
}

/* read and copy mappings return before msync: no alignment error there,
 * but the range is checked first. */
Test(conf_ctl, flush_read_and_copy_do_not_msync)
{
	const char *f = conf_digits("f", 100);
	const char *modes[] = { "read", "copy" };
	for (int i = 0; i < 2; i++) {
		const char *n = conf_map("%s access=%s", f, modes[i]);
		expect_mcmd(n, 0, "ok", "flush");
		expect_mcmd(n, 0, "ok", "flush 1");
		expect_mcmd(n, 0, "ok", "flush 3 7");
		expect_mcmd(n, EINVAL, "error: flush values out of range", "flush 1 100");
		expect_mcmd(n, EINVAL, "error: flush values out of range", "flush -1");
	}
	/* a copy mapping's flush writes nothing to the file */
	const char *c = conf_map("%s access=copy", f);
	cr_assert_eq(pwrite_at(mp(&M, "maps/%s/data", c), "XX", 2, 0), 0);
	expect_mcmd(c, 0, "ok", "flush");
	char head[3] = "";
	cr_assert_eq(read_once(f, head, 2), 2);
	cr_expect_str_eq(head, "01");
}

/* ---- madvise ----------------------------------------------------------------- */

Test(conf_ctl, madvise_names_any_case_and_numbers)
{
	long ps = conf_pagesize();
	const char *f = conf_digits("f", (size_t)ps * 4);
	const char *n = conf_map("%s", f);
	const char *advice[] = {
		"normal", "NORMAL", "MADV_NORMAL", "madv_random", "Madv_Sequential", "willneed",
		"WillNeed", "MADV_WILLNEED", "dontneed", "MADV_DONTNEED", "0", "1", "2", "3", "4",
		"0x3", "dontdump", "MADV_DODUMP", "cold", "pageout",
	};
	for (size_t i = 0; i < sizeof advice / sizeof advice[0]; i++)
		expect_mcmd(n, 0, "ok", "madvise %s", advice[i]);
	expect_mcmd(n, 0, "ok", "madvise normal 0");
	expect_mcmd(n, 0, "ok", "madvise normal %ld", ps);
	expect_mcmd(n, 0, "ok", "madvise willneed %ld %ld", ps, ps);
	/* a LENGTH past the end is cut at the end */
	expect_mcmd(n, 0, "ok", "madvise normal %ld 1G", ps);
	expect_mcmd(n, 0, "ok", "madvise normal 0 0");
	/* MADV_DONTNEED on a shared file mapping keeps the file's bytes */
	char *before = read_all(f, NULL);
	expect_data(n, before, (size_t)ps * 4);
	free(before);
}

/* MADV_DONTNEED drops private pages: anonymous memory reads zeros again, a
 * copy mapping the file's bytes again (what mmap.madvise does in Python). */
Test(conf_ctl, madvise_dontneed_drops_private_copies)
{
	long ps = conf_pagesize();
	const char *f = conf_digits("f", (size_t)ps);
	const char *c = conf_map("%s access=copy", f);
	cr_assert_eq(pwrite_at(mp(&M, "maps/%s/data", c), "PRIVATE", 7, 0), 0);
	char *buf = read_all(mp(&M, "maps/%s/data", c), NULL);
	cr_expect(memcmp(buf, "PRIVATE", 7) == 0);
	free(buf);
	expect_mcmd(c, 0, "ok", "madvise MADV_DONTNEED");
	char *file = read_all(f, NULL);
	expect_data(c, file, (size_t)ps);
	free(file);

	const char *a = conf_map("anon length=%ld flags=private", ps);
	cr_assert_eq(pwrite_at(mp(&M, "maps/%s/data", a), "anon", 4, 10), 0);
	expect_mcmd(a, 0, "ok", "madvise 4");
	char *zeros = calloc(1, (size_t)ps);
	expect_data(a, zeros, (size_t)ps);
	free(zeros);
}

Test(conf_ctl, madvise_errors)
{
	long ps = conf_pagesize();
	const char *f = conf_digits("f", (size_t)ps * 2);
	const char *n = conf_map("%s", f);
	expect_mcmd(n, EINVAL, "error: madvise start out of bounds", "madvise normal %ld", ps * 2);
	expect_mcmd(n, EINVAL, "error: madvise start out of bounds", "madvise normal -1");
	expect_mcmd(n, EINVAL, "error: madvise start out of bounds", "madvise normal 1G 1");
	expect_mcmd(n, EINVAL, "error: madvise length invalid", "madvise normal 0 -1");
	/* OverflowError in CPython */
	expect_mcmd(n, EINVAL, "error: madvise length too large",
		    "madvise normal %ld 0x7fffffffffffffff", ps);
	/* madvise(2)'s own EINVAL: a misaligned start, an advice it does not know */
	expect_mcmd(n, EINVAL, "error: Invalid argument", "madvise normal 1");
	expect_mcmd(n, EINVAL, "error: Invalid argument", "madvise 999");
	expect_mcmd(n, EINVAL, "error: unknown madvise advice 'bogus'", "madvise bogus");
	expect_mcmd(n, EINVAL, NULL, "madvise MADV_");
	expect_mcmd(n, EINVAL, NULL, "madvise");
	expect_mcmd(n, EINVAL, NULL, "madvise normal 0 1 2");
	expect_mcmd(n, EINVAL, "error: invalid number: 'x'", "madvise normal x");
}

/* A number goes to madvise(2) as mm.madvise(int) passes it: what the kernel
 * does not know is its EINVAL, "Invalid argument" (OSError). */
Test(conf_ctl, madvise_numbers_go_to_the_kernel)
{
	const char *f = conf_digits("f", 100);
	const char *n = conf_map("%s", f);
	expect_mcmd(n, EINVAL, "error: Invalid argument", "madvise 999");
	expect_mcmd(n, EINVAL, "error: Invalid argument", "madvise 0x7fffffff");
	expect_mcmd(n, EINVAL, "error: Invalid argument", "madvise -1");
	expect_mcmd(n, EINVAL, "error: Invalid argument", "madvise -2 0 100");
}

/* Advice that acts on the machine's hardware pages is refused, by any name. */
Test(conf_ctl, madvise_hardware_advice_is_refused)
{
	const char *f = conf_digits("f", 100);
	const char *n = conf_map("%s", f);
	const char *advice[] = { "hwpoison", "HWPOISON", "MADV_HWPOISON", "madv_hwpoison", "100",
				 "soft_offline", "MADV_SOFT_OFFLINE", "Soft_Offline", "101",
				 "0x64" };
	for (size_t i = 0; i < sizeof advice / sizeof advice[0]; i++)
		expect_mcmd(n, EPERM, NULL, "madvise %s", advice[i]);
	expect_mcmd(n, EPERM, NULL, "madvise hwpoison 0 4096");
	expect_data_str(n, "0123456789012345678901234567890123456789012345678901234567890123456789"
			   "012345678901234567890123456789");
	cr_expect(mnt_alive(&M));
}

/* ---- move ---------------------------------------------------------------------- */

Test(conf_ctl, move_is_memmove)
{
	const char *f = conf_digits("f", 10);
	const char *n = conf_map("%s", f);
	expect_mcmd(n, 0, "ok", "move 0 5 3");
	expect_data_str(n, "5673456789");
	expect_mcmd(n, 0, "ok", "move 2 0 5"); /* overlapping, forwards */
	expect_data_str(n, "5656734789");
	expect_mcmd(n, 0, "ok", "move 0 1 9"); /* overlapping, backwards */
	expect_data_str(n, "6567347899");
	expect_mcmd(n, 0, "ok", "move 0 0 10");
	expect_mcmd(n, 0, "ok", "move 10 0 0");
	expect_mcmd(n, 0, "ok", "move 0 10 0");
	expect_mcmd(n, 0, "ok", "move 9 9 1");
	expect_data_str(n, "6567347899");
	expect_bytes_str(f, "6567347899");
	expect_pos(n, 0);
}

Test(conf_ctl, move_range_rules)
{
	const char *f = conf_digits("f", 10);
	const char *n = conf_map("%s", f);
	const char *msg = "error: source, destination, or count out of range";
	expect_mcmd(n, EINVAL, msg, "move -1 0 1");
	expect_mcmd(n, EINVAL, msg, "move 0 -1 1");
	expect_mcmd(n, EINVAL, msg, "move 0 0 -1");
	expect_mcmd(n, EINVAL, msg, "move 0 0 11");
	expect_mcmd(n, EINVAL, msg, "move 5 0 6");
	expect_mcmd(n, EINVAL, msg, "move 0 5 6");
	expect_mcmd(n, EINVAL, msg, "move 11 0 0");
	expect_mcmd(n, EINVAL, msg, "move 0 11 0");
	expect_mcmd(n, EINVAL, msg, "move 0x7fffffffffffffff 0 1");
	expect_mcmd(n, EINVAL, NULL, "move 0 1");
	expect_mcmd(n, EINVAL, NULL, "move 0 1 2 3");
	expect_mcmd(n, EINVAL, "error: invalid number: 'a'", "move a 1 2");
	expect_data_str(n, "0123456789");
}

Test(conf_ctl, move_on_read_and_copy_mappings)
{
	const char *f = conf_digits("f", 10);
	const char *r = conf_map("%s access=read", f);
	const char *ro = "error: mmap can't modify a readonly memory map.";
	expect_mcmd(r, EACCES, ro, "move 0 1 1");
	/* the TypeError comes before the range check */
	expect_mcmd(r, EACCES, ro, "move 0 0 100");
	const char *p = conf_map("%s prot=read", f);
	expect_mcmd(p, EACCES, ro, "move 0 1 1");
	const char *c = conf_map("%s access=copy", f);
	expect_mcmd(c, 0, "ok", "move 0 8 2");
	expect_data_str(c, "8923456789");
	expect_bytes_str(f, "0123456789");
}

/* ---- resize -------------------------------------------------------------------- */

Test(conf_ctl, resize_grows_and_shrinks_mapping_and_file)
{
	const char *f = conf_digits("f", 10);
	const char *n = conf_map("%s", f);
	expect_mcmd(n, 0, "ok", "resize 15");
	expect_attr(n, "size", "15");
	expect_attr(n, "filesize", "15");
	expect_data(n, "0123456789\0\0\0\0\0", 15);
	expect_bytes(f, "0123456789\0\0\0\0\0", 15);
	expect_mcmd(n, 0, "ok", "resize 4");
	expect_data_str(n, "0123");
	expect_bytes_str(f, "0123");
	expect_mcmd(n, 0, "ok", "resize 4");
	expect_attr(n, "size", "4");
	expect_mcmd(n, EINVAL, "error: new size out of range", "resize -1");
	expect_mcmd(n, EINVAL, "error: invalid number: 'big'", "resize big");
	expect_mcmd(n, EINVAL, NULL, "resize");
	expect_mcmd(n, EINVAL, NULL, "resize 1 2");
	expect_attr(n, "size", "4");
	cr_expect_eq(file_size(f), 4);
}

/* The file's size becomes offset + new length, as mm.resize does. */
Test(conf_ctl, resize_with_an_offset)
{
	long ps = conf_pagesize();
	const char *f = conf_digits("f", (size_t)ps + 10);
	const char *n = conf_map("%s offset=%ld", f, ps);
	expect_attr(n, "size", "10");
	expect_mcmd(n, 0, "ok", "resize 20");
	cr_expect_eq(file_size(f), ps + 20);
	expect_attr(n, "size", "20");
	char want[20];
	for (int i = 0; i < 10; i++)
		want[i] = (char)('0' + (ps + i) % 10);
	memset(want + 10, 0, 10);
	expect_data(n, want, 20);
	expect_mcmd(n, 0, "ok", "resize 3");
	cr_expect_eq(file_size(f), ps + 3);
	/* a file grown by someone else shows its bytes when the mapping grows */
	cr_assert_eq(pwrite_at(f, "abc", 3, ps + 3), 0);
	expect_mcmd(n, 0, "ok", "resize 6");
	want[3] = 'a';
	want[4] = 'b';
	want[5] = 'c';
	expect_data(n, want, 6);
}

Test(conf_ctl, resize_refused)
{
	const char *f = conf_digits("f", 10);
	const char *type = "error: mmap can't resize a readonly or copy-on-write memory map.";
	const char *r = conf_map("%s access=read", f);
	expect_mcmd(r, EPERM, type, "resize 20");
	expect_mcmd(r, EPERM, type, "resize 5");
	/* the TypeError comes before the range check */
	expect_mcmd(r, EPERM, type, "resize -1");
	const char *c = conf_map("%s access=copy", f);
	expect_mcmd(c, EPERM, type, "resize 20");
	const char *p = conf_map("%s prot=read", f);
	expect_mcmd(p, EPERM, type, "resize 20");
	expect_attr(r, "size", "10");
	expect_attr(c, "size", "10");
	cr_expect_eq(file_size(f), 10);
}

Test(conf_ctl, resize_anonymous)
{
	const char *n = conf_map("anon length=10");
	cr_assert_eq(pwrite_at(mp(&M, "maps/%s/data", n), "anonymous!", 10, 0), 0);
	/* CPython cannot grow a shared anonymous mapping on Linux; mmapfs can */
	expect_mcmd(n, 0, "ok", "resize 12");
	expect_data(n, "anonymous!\0\0", 12);
	expect_attr(n, "filesize", "12");
	expect_mcmd(n, 0, "ok", "resize 4");
	expect_data_str(n, "anon");
	const char *p = conf_map("anon length=10 flags=private");
	cr_assert_eq(pwrite_at(mp(&M, "maps/%s/data", p), "private", 7, 0), 0);
	expect_mcmd(p, 0, "ok", "resize 9");
	expect_data(p, "private\0\0", 9);
	expect_mcmd(p, 0, "ok", "resize 3");
	expect_data_str(p, "pri");
}

/* ---- seek ---------------------------------------------------------------------- */

Test(conf_ctl, seek_whence_by_number_and_name)
{
	const char *f = conf_digits("f", 10);
	const char *n = conf_map("%s", f);
	struct {
		const char *command;
		long long pos;
	} steps[] = {
		{ "seek 3", 3 },	{ "seek 2 1", 5 },	{ "seek 2 cur", 7 },
		{ "seek -1 2", 9 },	{ "seek -10 end", 0 },	{ "seek 10", 10 },
		{ "seek 4 0", 4 },	{ "seek 6 set", 6 },	{ "seek -6 cur", 0 },
		{ "seek 0 end", 10 },	{ "seek 0x2", 2 },	{ "seek 0 cur", 2 },
	};
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		expect_mcmd(n, 0, "ok", "%s", steps[i].command);
		expect_pos(n, steps[i].pos);
	}
}

Test(conf_ctl, seek_out_of_range_leaves_pos)
{
	const char *f = conf_digits("f", 10);
	const char *n = conf_map("%s", f);
	expect_mcmd(n, 0, "ok", "seek 5");
	const char *range = "error: seek out of range";
	expect_mcmd(n, EINVAL, range, "seek 11");
	expect_mcmd(n, EINVAL, range, "seek -1");
	expect_mcmd(n, EINVAL, range, "seek 6 cur");
	expect_mcmd(n, EINVAL, range, "seek -6 1");
	expect_mcmd(n, EINVAL, range, "seek 1 end");
	expect_mcmd(n, EINVAL, range, "seek -11 2");
	expect_mcmd(n, EINVAL, range, "seek 0x7fffffffffffffff cur");
	expect_mcmd(n, EINVAL, "error: unknown seek type", "seek 1 3");
	expect_mcmd(n, EINVAL, "error: unknown seek type", "seek 1 -1");
	expect_mcmd(n, EINVAL, "error: unknown seek type", "seek 1 bogus");
	expect_mcmd(n, EINVAL, "error: unknown seek type", "seek 1 SET");
	expect_mcmd(n, EINVAL, NULL, "seek");
	expect_mcmd(n, EINVAL, NULL, "seek 1 2 3");
	expect_mcmd(n, EINVAL, "error: invalid number: 'here'", "seek here");
	expect_pos(n, 5);
}

/* Numbers that do not fit a Py_ssize_t: OverflowError, CPython's words. */
Test(conf_ctl, numbers_too_large_for_ssize_t)
{
	const char *f = conf_digits("f", 10);
	const char *n = conf_map("%s", f);
	const char *big = "error: Python int too large to convert to C ssize_t";
	expect_mcmd(n, EINVAL, big, "seek 0x8000000000000000");
	expect_mcmd(n, EINVAL, big, "seek 99999999999999999999");
	expect_mcmd(n, EINVAL, big, "resize 0x10000000000000000");
	expect_mcmd(n, EINVAL, big, "find a 0 99999999999999999999");
	expect_mcmd(n, EINVAL, big, "move 0 0 0x8000000000000000");
	expect_mcmd(n, EINVAL, big, "seek 16777216T");
	expect_ctl("ctl", EINVAL, big, "map %s length=0x8000000000000000", f);
	expect_pos(n, 0);
	expect_attr(n, "size", "10");
}

/* Writing pos is seek. */
Test(conf_ctl, writing_pos_seeks)
{
	const char *f = conf_digits("f", 10);
	const char *n = conf_map("%s", f);
	const char *pos = mp(&M, "maps/%s/pos", n);
	cr_expect_eq(write_all(pos, "7\n", 2, O_TRUNC), 0);
	expect_pos(n, 7);
	cr_expect_eq(write_all(pos, "-2 cur", 6, O_TRUNC), 0);
	expect_pos(n, 5);
	cr_expect_eq(write_all(pos, "-3 2\n", 5, O_TRUNC), 0);
	expect_pos(n, 7);
	cr_expect_eq(write_all(pos, "1 set", 5, O_TRUNC), 0);
	expect_pos(n, 1);
	cr_expect_eq(write_all(pos, "20", 2, O_TRUNC), -EINVAL);
	cr_expect_eq(write_all(pos, "1 9", 3, O_TRUNC), -EINVAL);
	cr_expect_eq(write_all(pos, "", 0, O_TRUNC), 0, "an empty write writes nothing");
	expect_pos(n, 1);
	int st;
	free(sh_out(&st, NULL, "echo '3 cur' > '%s'", pos));
	cr_expect_eq(st, 0);
	expect_pos(n, 4);
}

/* ---- find and rfind ------------------------------------------------------------- */

/* "abcabcabc": START defaults to pos (not 0), END to the length; negative
 * values count from the end and both are clamped as slice indices. */
Test(conf_ctl, find_and_rfind_start_end)
{
	const char *f = conf_file("f", "abcabcabc", 9);
	const char *n = conf_map("%s", f);
	struct {
		const char *command, *result;
	} cases[] = {
		{ "find abc", "0" },	     { "rfind abc", "6" },	    { "find abc 1", "3" },
		{ "find abc 0", "0" },	     { "find abc 4 8", "-1" },	    { "find abc 3 6", "3" },
		{ "find abc 3 5", "-1" },    { "find abc -3", "6" },	    { "find abc -100", "0" },
		{ "find abc 0 -1", "0" },    { "find abc 1 -1", "3" },	    { "find abc 4 -1", "-1" },
		{ "find abc 100", "-1" },    { "find abc 0 100", "0" },	    { "find abc 0 -100", "-1" },
		{ "rfind abc 0", "6" },	     { "rfind abc 0 8", "3" },	    { "rfind abc -4", "6" },
		{ "rfind abc 7", "-1" },     { "rfind abc 0 -7", "-1" },    { "rfind abc 0 3", "0" },
		{ "rfind abc -9 -3", "3" },  { "find c", "2" },		    { "rfind a", "6" },
		{ "find x", "-1" },	     { "rfind x", "-1" },	    { "find abcabcabcd", "-1" },
		{ "find abcabcabc", "0" },   { "find bca 0x1", "1" },	    { "rfind cab 0 1K", "5" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		expect_mcmd(n, 0, cases[i].result, "%s", cases[i].command);
	expect_pos(n, 0);
	/* the default START is the current position */
	expect_mcmd(n, 0, "ok", "seek 1");
	expect_mcmd(n, 0, "3", "find abc");
	expect_mcmd(n, 0, "6", "rfind abc");
	expect_mcmd(n, 0, "ok", "seek 7");
	expect_mcmd(n, 0, "-1", "find abc");
	expect_mcmd(n, 0, "-1", "rfind abc");
	expect_mcmd(n, 0, "0", "find abc 0");
	expect_mcmd(n, 0, "ok", "seek 0 end");
	expect_mcmd(n, 0, "-1", "find a");
	expect_pos(n, 9);
}

/* An empty needle: find gives START, rfind gives END (3.13's
 * _PyBytes_Find/ReverseFind), after clamping; END < START gives -1. */
Test(conf_ctl, find_empty_needle)
{
	const char *f = conf_file("f", "abcabcabc", 9);
	const char *n = conf_map("%s", f);
	struct {
		const char *command, *result;
	} cases[] = {
		{ "find \"\"", "0" },	   { "rfind \"\"", "9" },     { "find '' 4", "4" },
		{ "rfind '' 4", "9" },	   { "rfind \"\" 2 5", "5" }, { "find \"\" 2 5", "2" },
		{ "find \"\" 20", "9" },   { "rfind \"\" 0 20", "9" }, { "find \"\" -2", "7" },
		{ "rfind \"\" 0 -2", "7" }, { "find \"\" -20", "0" },  { "find \"\" 5 5", "5" },
		{ "rfind \"\" 5 5", "5" }, { "find \"\" 5 2", "-1" }, { "rfind \"\" 5 2", "-1" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		expect_mcmd(n, 0, cases[i].result, "%s", cases[i].command);
	expect_mcmd(n, 0, "ok", "seek 3");
	expect_mcmd(n, 0, "3", "find \"\"");
	expect_mcmd(n, 0, "9", "rfind \"\"");
}

Test(conf_ctl, find_binary_and_quoted_needles)
{
	const char bytes[] = "hello big world\0\xff\x01\n\tend \"q\" 'a'\\";
	const char *f = conf_file("f", bytes, sizeof bytes - 1);
	const char *n = conf_map("%s", f);
	struct {
		const char *command, *result;
	} cases[] = {
		{ "find \"big world\"", "6" },	{ "find 'big world'", "6" },
		{ "find \"o b\"", "4" },	{ "rfind o", "11" },
		{ "find \"\\x00\\xff\"", "15" }, { "find \"\\xFF\\x01\"", "16" },
		{ "find \"\\0\"", "15" },	{ "find \"\\n\\t\"", "18" },
		{ "find \"\\\"q\\\"\"", "24" },	{ "find '\"q\"'", "24" },
		{ "find \"'a'\"", "28" },	{ "find \"\\\\\"", "31" },
		{ "find \"\\x00\\x00\"", "-1" }, { "find big\" \"world", "6" },
		{ "rfind \"\\x01\\n\"", "17" },	{ "find \"\\t\" 0 19", "-1" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		expect_mcmd(n, 0, cases[i].result, "%s", cases[i].command);
	expect_mcmd(n, EINVAL, NULL, "find \"unterminated");
	expect_mcmd(n, EINVAL, NULL, "find 'unterminated");
	expect_mcmd(n, EINVAL, NULL, "find \"\\xZZ\"");
	expect_mcmd(n, EINVAL, NULL, "find \"\\q\"");
}

Test(conf_ctl, find_argument_errors)
{
	const char *f = conf_file("f", "abc", 3);
	const char *n = conf_map("%s", f);
	expect_mcmd(n, EINVAL, NULL, "find");
	expect_mcmd(n, EINVAL, NULL, "rfind");
	expect_mcmd(n, EINVAL, NULL, "find a 0 1 2");
	expect_mcmd(n, EINVAL, "error: invalid number: 'x'", "find a x");
	expect_mcmd(n, EINVAL, "error: invalid number: 'y'", "rfind a 0 y");
	expect_pos(n, 0);
}

/* ---- close ---------------------------------------------------------------------- */

Test(conf_ctl, close_through_the_mapping_ctl)
{
	const char *f = conf_digits("f", 10);
	const char *n = conf_map("%s name=closing", f);
	int data = open(mp(&M, "maps/%s/data", n), O_RDWR);
	int stream = open(mp(&M, "maps/%s/stream", n), O_RDWR);
	int pos = open(mp(&M, "maps/%s/pos", n), O_RDWR);
	int ctl = open(mp(&M, "maps/%s/ctl", n), O_RDWR);
	cr_assert(data >= 0 && stream >= 0 && pos >= 0 && ctl >= 0);
	cr_assert_eq(pwrite(data, "CL", 2, 0), 2);
	expect_ctl("maps/closing/ctl", 0, "ok", "close");
	struct stat st;
	cr_expect_eq(stat(mp(&M, "maps/closing"), &st), -1);
	cr_expect_eq(errno, ENOENT);
	expect_bytes_str(f, "CL23456789");
	char buf[4];
	cr_expect_eq(pread(data, buf, 1, 0), -1);
	cr_expect_eq(errno, ENXIO);
	cr_expect_eq(read(stream, buf, 1), -1);
	cr_expect_eq(errno, ENXIO);
	cr_expect_eq(write(stream, "x", 1), -1);
	cr_expect_eq(errno, ENXIO);
	/* attribute files too: tell() and seek() on a closed mmap */
	cr_expect_eq(pread(pos, buf, sizeof buf, 0), -1);
	cr_expect_eq(errno, ENXIO);
	cr_expect_eq(write(pos, "1", 1), -1);
	cr_expect_eq(errno, ENXIO);
	/* and the ctl that was open: ValueError("mmap closed or invalid") */
	cr_expect_eq(write(ctl, "find 1", 6), -1);
	cr_expect_eq(errno, ENXIO);
	char line[128];
	ssize_t got = read(ctl, line, sizeof line - 1);
	line[got > 0 ? got : 0] = '\0';
	cr_expect_str_eq(line, "error: mmap closed or invalid\n");
	close(data);
	close(stream);
	close(pos);
	close(ctl);
	expect_ctl("ctl", ENOENT, "error: no mapping named 'closing'", "close closing");
	expect_stats_head("maps 0\nbytes 0\nmax_maps 100000\nmax_bytes 1099511627776\n");
}

Test(conf_ctl, close_takes_no_arguments)
{
	const char *f = conf_digits("f", 10);
	const char *n = conf_map("%s", f);
	expect_mcmd(n, EINVAL, NULL, "close now");
	expect_attr(n, "size", "10");
	expect_mcmd(n, EINVAL, NULL, "frobnicate");
	expect_mcmd(n, EINVAL, "error: empty command", "\n");
}
