/* it_conf_map.c - the constructor: `map SOURCE [length=] [offset=] [access=]
 * [flags=] [prot=] [trackfd=]` against mmap.mmap(fileno, length, flags,
 * prot, access, offset, trackfd=) on Linux, its rules and its messages. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/harness.h"

TestSuite(conf_map, .init = conf_up, .fini = conf_down, .timeout = 60);

static long long file_size(const char *path)
{
	struct stat st;
	cr_assert_eq(stat(path, &st), 0, "stat %s: %s", path, strerror(errno));
	return (long long)st.st_size;
}

static mode_t data_mode(const char *name)
{
	struct stat st;
	cr_assert_eq(stat(mp(&M, "maps/%s/data", name), &st), 0);
	return st.st_mode & 07777;
}

/* ---- length and offset --------------------------------------------------- */

/* mmap.mmap(fd, 0): the whole file. */
Test(conf_map, length_zero_maps_the_whole_file)
{
	const char *f = conf_digits("f", 10);
	const char *n = conf_map("%s length=0", f);
	expect_attr(n, "size", "10");
	expect_data_str(n, "0123456789");
	const char *d = conf_map("%s", f);
	expect_attr(d, "size", "10");
	expect_attr(d, "pos", "0");
	expect_attr(d, "offset", "0");
}

/* mmap.mmap(fd, 0, offset=PAGESIZE): from offset to the end of the file. */
Test(conf_map, length_zero_with_offset_maps_the_rest)
{
	long ps = conf_pagesize();
	const char *f = conf_digits("f", (size_t)ps * 2 + 5);
	const char *n = conf_map("%s offset=%ld", f, ps);
	char want[64];
	snprintf(want, sizeof want, "%ld", ps + 5);
	expect_attr(n, "size", want);
	snprintf(want, sizeof want, "%ld", ps);
	expect_attr(n, "offset", want);
	/* byte i of the file is digit i % 10 */
	char tail[64];
	for (long i = 0; i < (long)sizeof tail; i++)
		tail[i] = (char)('0' + (ps + i) % 10);
	char got[64];
	int fd = open(mp(&M, "maps/%s/data", n), O_RDONLY);
	cr_assert(fd >= 0);
	cr_expect_eq(pread(fd, got, sizeof got, 0), (ssize_t)sizeof got);
	cr_expect(memcmp(got, tail, sizeof got) == 0, "data starts at the file's offset");
	close(fd);
	/* position 0 is relative to the offset */
	expect_attr(n, "pos", "0");
	/* filesize is the whole file's size, as mm.size() */
	snprintf(want, sizeof want, "%ld", ps * 2 + 5);
	expect_attr(n, "filesize", want);
}

/* Numbers take 0x and K/M/G/T. */
Test(conf_map, numbers_take_hex_and_suffixes)
{
	long ps = conf_pagesize();
	const char *f = conf_digits("f", (size_t)ps * 2);
	const char *n = conf_map("%s length=0x10", f);
	expect_attr(n, "size", "16");
	if (ps == 4096) {
		n = conf_map("%s length=4K offset=4K", f);
		expect_attr(n, "size", "4096");
		expect_attr(n, "offset", "4096");
	}
	expect_map_fails(EINVAL, "invalid number: '12Q'", "%s length=12Q", f);
	expect_map_fails(EINVAL, "invalid number: 'x'", "%s offset=x", f);
}

/* offset must be a multiple of ALLOCATIONGRANULARITY: mmap(2) says EINVAL,
 * which Python raises as OSError(EINVAL). */
Test(conf_map, offset_must_be_a_multiple_of_allocationgranularity)
{
	long long gran = 0;
	char *text = read_all(mp(&M, "allocationgranularity"), NULL);
	cr_assert(text);
	gran = atoll(text);
	free(text);
	cr_assert_gt(gran, 1);
	const char *f = conf_digits("f", (size_t)gran * 3);
	expect_map_fails(EINVAL, "Invalid argument", "%s offset=%lld", f, gran / 2);
	expect_map_fails(EINVAL, "Invalid argument", "%s offset=1 length=1", f);
	expect_map_fails(EINVAL, "Invalid argument", "%s offset=%lld length=10", f, gran + 1);
	const char *n = conf_map("%s offset=%lld length=10", f, gran * 2);
	expect_attr(n, "size", "10");
	char want[11];
	for (int i = 0; i < 10; i++)
		want[i] = (char)('0' + (gran * 2 + i) % 10);
	expect_data(n, want, 10);
}

/* length=0 with the offset at or past the end of the file. */
Test(conf_map, offset_at_or_past_the_end)
{
	long ps = conf_pagesize();
	const char *f = conf_digits("f", (size_t)ps);
	const char *small = conf_digits("small", 10);
	expect_map_fails(EINVAL, "mmap offset is greater than file size", "%s offset=%ld", f, ps);
	expect_map_fails(EINVAL, "mmap offset is greater than file size", "%s offset=%ld",
			 small, ps);
	expect_map_fails(EINVAL, "mmap offset is greater than file size",
			 "%s offset=%ld length=0", f, ps * 4);
	/* with a length, CPython's message is about the length */
	expect_map_fails(EINVAL, "mmap length is greater than file size",
			 "%s offset=%ld length=1", f, ps);
	expect_map_fails(EINVAL, "mmap length is greater than file size",
			 "%s offset=%ld length=1", small, ps * 2);
	/* the size check comes before mmap(2)'s alignment check */
	expect_map_fails(EINVAL, "mmap length is greater than file size", "%s offset=1 length=10",
			 small);
}

Test(conf_map, length_past_the_end)
{
	const char *f = conf_digits("f", 10);
	expect_map_fails(EINVAL, "mmap length is greater than file size", "%s length=11", f);
	expect_map_fails(EINVAL, "mmap length is greater than file size", "%s length=1G", f);
	const char *n = conf_map("%s length=10", f);
	expect_attr(n, "size", "10");
	n = conf_map("%s length=3", f);
	expect_data_str(n, "012");
	cr_expect_eq(file_size(f), 10, "a shorter mapping leaves the file alone");
}

/* OverflowError in CPython: EINVAL here; the length is checked first. */
Test(conf_map, negative_length_and_offset)
{
	const char *f = conf_digits("f", 10);
	expect_map_fails(EINVAL, "memory mapped length must be positive", "%s length=-1", f);
	expect_map_fails(EINVAL, "memory mapped offset must be positive", "%s offset=-4096", f);
	expect_map_fails(EINVAL, "memory mapped length must be positive",
			 "%s length=-1 offset=-4096", f);
	expect_map_fails(EINVAL, "memory mapped length must be positive", "anon length=-5");
	/* before the access rule too */
	expect_map_fails(EINVAL, "memory mapped offset must be positive",
			 "%s offset=-1 access=read flags=private", f);
}

/* ---- access ----------------------------------------------------------------- */

Test(conf_map, access_read)
{
	const char *f = conf_digits("f", 10);
	const char *n = conf_map("%s access=read", f);
	expect_attr(n, "access", "read");
	expect_attr(n, "prot", "read");
	expect_attr(n, "flags", "shared");
	cr_expect_eq(data_mode(n), 0444);
	expect_data_str(n, "0123456789");
	cr_expect_eq(write_once(mp(&M, "maps/%s/data", n), "x", 1), -EACCES);
	cr_expect_eq(write_once(mp(&M, "maps/%s/stream", n), "x", 1), -EACCES);
	expect_mcmd(n, EACCES, "error: mmap can't modify a readonly memory map.", "move 0 1 1");
	expect_bytes_str(f, "0123456789");
}

Test(conf_map, access_write)
{
	const char *f = conf_digits("f", 10);
	const char *n = conf_map("%s access=write", f);
	expect_attr(n, "access", "write");
	expect_attr(n, "prot", "read,write");
	expect_attr(n, "flags", "shared");
	cr_expect_eq(data_mode(n), 0644);
	cr_assert_eq(pwrite_at(mp(&M, "maps/%s/data", n), "AB", 2, 3), 0);
	expect_bytes_str(f, "012AB56789");
	expect_mcmd(n, 0, "ok", "resize 12");
	cr_expect_eq(file_size(f), 12, "access=write resizes like the default");
}

Test(conf_map, access_copy)
{
	const char *f = conf_digits("f", 10);
	const char *n = conf_map("%s access=copy", f);
	expect_attr(n, "access", "copy");
	expect_attr(n, "prot", "read,write");
	expect_attr(n, "flags", "private");
	cr_expect_eq(data_mode(n), 0644);
	cr_assert_eq(pwrite_at(mp(&M, "maps/%s/data", n), "AB", 2, 3), 0);
	expect_data_str(n, "012AB56789");
	expect_bytes_str(f, "0123456789");
	expect_mcmd(n, 0, "ok", "flush");
	expect_bytes_str(f, "0123456789");
}

Test(conf_map, access_default)
{
	const char *f = conf_digits("f", 10);
	const char *n = conf_map("%s access=default", f);
	expect_attr(n, "access", "default");
	expect_attr(n, "prot", "read,write");
	expect_attr(n, "flags", "shared");
	cr_assert_eq(pwrite_at(mp(&M, "maps/%s/data", n), "Z", 1, 9), 0);
	expect_bytes_str(f, "012345678Z");
	expect_map_fails(EINVAL, "mmap invalid access parameter.", "%s access=readwrite", f);
	expect_map_fails(EINVAL, "mmap invalid access parameter.", "%s access=READ", f);
}

/* ACCESS_DEFAULT takes its access from prot, as new_mmap_object does. */
Test(conf_map, default_access_follows_prot)
{
	const char *f = conf_digits("f", 10);
	struct {
		const char *prot, *access, *shown;
	} cases[] = {
		{ "read", "read", "read" },
		{ "write", "write", "write" },
		{ "read,write", "default", "read,write" },
		{ "write,read", "default", "read,write" },
		{ "none", "read", "none" },
		{ "read,exec", "read", "read,exec" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *n = conf_map("%s prot=%s", f, cases[i].prot);
		expect_attr(n, "access", cases[i].access);
		expect_attr(n, "prot", cases[i].shown);
		expect_attr(n, "flags", "shared");
	}
}

Test(conf_map, default_access_with_private_flags)
{
	const char *f = conf_digits("f", 10);
	const char *n = conf_map("%s flags=private", f);
	expect_attr(n, "access", "default");
	expect_attr(n, "flags", "private");
	expect_attr(n, "prot", "read,write");
	cr_assert_eq(pwrite_at(mp(&M, "maps/%s/data", n), "P", 1, 0), 0);
	expect_data_str(n, "P123456789");
	expect_bytes_str(f, "0123456789");
	/* ACCESS_DEFAULT may resize, private or not (is_resizeable) */
	expect_mcmd(n, 0, "ok", "resize 5");
	expect_attr(n, "size", "5");
	cr_expect_eq(file_size(f), 5);
	/* prot=read with private flags: access read */
	n = conf_map("%s flags=private prot=read", f);
	expect_attr(n, "access", "read");
	expect_attr(n, "flags", "private");
	cr_expect_eq(write_once(mp(&M, "maps/%s/data", n), "x", 1), -EACCES);
}

/* access other than default with flags or prot other than their defaults. */
Test(conf_map, access_with_flags_or_prot_is_refused)
{
	const char *f = conf_digits("f", 10);
	const char *msg = "mmap can't specify both access and flags, prot.";
	expect_map_fails(EINVAL, msg, "%s access=read flags=private", f);
	expect_map_fails(EINVAL, msg, "%s access=write prot=read", f);
	expect_map_fails(EINVAL, msg, "%s access=copy prot=read", f);
	expect_map_fails(EINVAL, msg, "%s access=copy flags=private", f);
	expect_map_fails(EINVAL, msg, "%s access=read flags=shared,populate", f);
	expect_map_fails(EINVAL, msg, "%s access=write prot=none", f);
	expect_map_fails(EINVAL, msg, "anon length=10 access=read prot=read");
	expect_stats_head("maps 0\nbytes 0\nmax_maps 100000\nmax_bytes 1099511627776\n");
}

/* ... but the defaults themselves, spelt out, are no conflict. */
Test(conf_map, access_with_default_flags_and_prot_is_accepted)
{
	const char *f = conf_digits("f", 10);
	const char *n = conf_map("%s access=copy flags=shared", f);
	expect_attr(n, "access", "copy");
	expect_attr(n, "flags", "private");
	n = conf_map("%s access=read prot=read,write", f);
	expect_attr(n, "access", "read");
	expect_attr(n, "prot", "read");
	n = conf_map("%s access=default flags=private prot=read", f);
	expect_attr(n, "access", "read");
	expect_attr(n, "flags", "private");
}

/* ---- flags and prot --------------------------------------------------------- */

Test(conf_map, extra_map_flags)
{
	const char *f = conf_digits("f", 10);
	const char *n = conf_map("%s flags=shared,populate", f);
	expect_attr(n, "flags", "shared,populate");
	expect_attr(n, "access", "default");
	expect_data_str(n, "0123456789");
	n = conf_map("%s flags=private,noreserve", f);
	expect_attr(n, "flags", "private,noreserve");
	cr_assert_eq(pwrite_at(mp(&M, "maps/%s/data", n), "N", 1, 0), 0);
	expect_data_str(n, "N123456789");
	expect_bytes_str(f, "0123456789");
	n = conf_map("%s flags=shared,populate,noreserve", f);
	expect_attr(n, "flags", "shared,populate,noreserve");
	n = conf_map("anon length=100 flags=private,populate");
	expect_attr(n, "flags", "private,populate");
	/* Without MAP_SHARED or MAP_PRIVATE, mmap(2) refuses: OSError(EINVAL). */
	expect_map_fails(EINVAL, "Invalid argument", "%s flags=populate", f);
	expect_map_fails(EINVAL, NULL, "%s flags=bogus", f);
	expect_map_fails(EINVAL, NULL, "%s flags=shared,", f);
}

Test(conf_map, prot_none)
{
	const char *f = conf_digits("f", 10);
	const char *n = conf_map("%s prot=none", f);
	expect_attr(n, "prot", "none");
	expect_attr(n, "access", "read");
	expect_attr(n, "size", "10");
	char buf[16];
	cr_expect_eq(read_once(mp(&M, "maps/%s/data", n), buf, sizeof buf), -EACCES);
	cr_expect_eq(read_once(mp(&M, "maps/%s/stream", n), buf, sizeof buf), -EACCES);
	cr_expect_eq(open_errno(mp(&M, "maps/%s/data", n), O_WRONLY), -EACCES);
	expect_mcmd(n, 0, "ok", "seek 4");
	expect_pos(n, 4);
	expect_map_fails(EINVAL, NULL, "%s prot=none,read", f);
	expect_map_fails(EINVAL, NULL, "%s prot=bogus", f);
}

Test(conf_map, prot_write_only)
{
	const char *f = conf_digits("f", 10);
	const char *n = conf_map("%s prot=write", f);
	expect_attr(n, "prot", "write");
	expect_attr(n, "access", "write");
	cr_assert_eq(pwrite_at(mp(&M, "maps/%s/data", n), "WO", 2, 8), 0);
	expect_bytes_str(f, "01234567WO");
	char buf[16];
	cr_expect_eq(read_once(mp(&M, "maps/%s/data", n), buf, sizeof buf), -EACCES);
}

/* ---- trackfd ------------------------------------------------------------------- */

Test(conf_map, trackfd_no)
{
	const char *f = conf_digits("f", 10);
	const char *n = conf_map("%s trackfd=no", f);
	expect_attr(n, "size", "10");
	expect_data_str(n, "0123456789");
	char buf[32];
	cr_expect_eq(read_once(mp(&M, "maps/%s/filesize", n), buf, sizeof buf), -EBADF);
	expect_mcmd(n, EINVAL, "error: mmap can't resize with trackfd=False.", "resize 20");
	expect_mcmd(n, EINVAL, "error: mmap can't resize with trackfd=False.", "resize 5");
	cr_expect_eq(write_all(mp(&M, "maps/%s/size", n), "5", 1, O_TRUNC), -EINVAL);
	/* still a shared mapping of the file: writes reach it */
	cr_assert_eq(pwrite_at(mp(&M, "maps/%s/data", n), "T", 1, 0), 0);
	expect_bytes_str(f, "T123456789");
	/* the trackfd check comes first, even for read access */
	const char *r = conf_map("%s trackfd=no access=read", f);
	expect_mcmd(r, EINVAL, "error: mmap can't resize with trackfd=False.", "resize 20");
	const char *a = conf_map("anon length=10 trackfd=no");
	cr_expect_eq(read_once(mp(&M, "maps/%s/filesize", a), buf, sizeof buf), -EBADF);
	expect_mcmd(a, EINVAL, "error: mmap can't resize with trackfd=False.", "resize 20");
	const char *y = conf_map("%s trackfd=yes", f);
	expect_attr(y, "filesize", "10");
	expect_map_fails(EINVAL, NULL, "%s trackfd=maybe", f);
}

/* ---- anonymous memory ------------------------------------------------------------ */

Test(conf_map, anonymous)
{
	const char *n = conf_map("anon length=100");
	expect_attr(n, "size", "100");
	expect_attr(n, "source", "anonymous");
	expect_attr(n, "flags", "shared");
	expect_attr(n, "access", "default");
	expect_attr(n, "filesize", "100");
	char zeros[100] = { 0 };
	expect_data(n, zeros, sizeof zeros);
	cr_assert_eq(pwrite_at(mp(&M, "maps/%s/data", n), "hi", 2, 50), 0);
	zeros[50] = 'h';
	zeros[51] = 'i';
	expect_data(n, zeros, sizeof zeros);

	const char *p = conf_map("anon length=10 flags=private");
	expect_attr(p, "flags", "private");
	const char *c = conf_map("anon length=10 access=copy");
	expect_attr(c, "flags", "private");
	expect_attr(c, "access", "copy");
	const char *r = conf_map("anon length=10 access=read");
	expect_attr(r, "prot", "read");
	cr_expect_eq(write_once(mp(&M, "maps/%s/data", r), "x", 1), -EACCES);
	expect_mcmd(r, EPERM, "error: mmap can't resize a readonly or copy-on-write memory map.",
		    "resize 20");
}

/* mmap.mmap(-1, 0) and a misaligned offset: mmap(2) says EINVAL. */
Test(conf_map, anonymous_needs_a_length)
{
	expect_map_fails(EINVAL, "Invalid argument", "anon");
	expect_map_fails(EINVAL, "Invalid argument", "anon length=0");
	expect_map_fails(EINVAL, "Invalid argument", "anon length=10 offset=1");
	expect_map_fails(EINVAL, "memory mapped offset must be positive",
			 "anon length=10 offset=-4096");
}

/* ---- empty files, and files the caller may only read -------------------------- */

Test(conf_map, empty_files)
{
	const char *f = conf_file("empty", "", 0);
	expect_map_fails(EINVAL, "cannot mmap an empty file", "%s", f);
	expect_map_fails(EINVAL, "cannot mmap an empty file", "%s length=0", f);
	expect_map_fails(EINVAL, "cannot mmap an empty file", "%s offset=4096", f);
	expect_map_fails(EINVAL, "mmap length is greater than file size", "%s length=1", f);
	expect_map_fails(EINVAL, "cannot mmap an empty file", "%s access=read", f);
	cr_expect_eq(file_size(f), 0, "a refused map leaves the file alone");
}

TestSuite(conf_perm, .timeout = 60);

/* A root test process would open any file; drop the capabilities that
 * override file permissions from the bounding set of this test's process,
 * so that the server it starts is an ordinary owner of its files. */
static bool drop_dac_override(void)
{
	return prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, 0, 0, 0) == 0 &&
	       prctl(PR_CAPBSET_DROP, CAP_DAC_READ_SEARCH, 0, 0, 0) == 0 &&
	       prctl(PR_CAPBSET_DROP, CAP_FOWNER, 0, 0, 0) == 0;
}

Test(conf_perm, a_file_the_caller_may_only_read)
{
	if (geteuid() == 0 && !drop_dac_override())
		cr_skip_test("cannot drop CAP_DAC_OVERRIDE: %s", strerror(errno));
	conf_up();
	const char *f = conf_digits("ro", 10);
	cr_assert_eq(chmod(f, 0444), 0);
	const char *n = conf_map("%s access=read", f);
	expect_data_str(n, "0123456789");
	expect_attr(n, "access", "read");
	const char *c = conf_map("%s access=copy", f);
	cr_assert_eq(pwrite_at(mp(&M, "maps/%s/data", c), "C", 1, 0), 0);
	expect_data_str(c, "C123456789");
	const char *p = conf_map("%s prot=read", f);
	expect_attr(p, "access", "read");
	expect_map_fails(EACCES, "Permission denied", "%s access=write", f);
	expect_map_fails(EACCES, "Permission denied", "%s", f);
	expect_map_fails(EACCES, "Permission denied", "%s access=default", f);
	expect_map_fails(EACCES, "Permission denied", "%s prot=write", f);
	expect_bytes_str(f, "0123456789");
	expect_stats_head("maps 3\nbytes 30\nmax_maps 100000\nmax_bytes 1099511627776\n");
	conf_down();
}
