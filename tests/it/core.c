/* it_core.c - the core through a real mount: the tree, the control-file
 * protocol, data and attribute files, coherence and shutdown. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/harness.h"

TestSuite(core, .init = mnt_up, .fini = mnt_down, .timeout = 60);

static void expect_file(const char *path, const char *want)
{
	size_t len;
	char *got = read_all(path, &len);
	cr_assert(got, "read %s: %s", path, strerror(errno));
	cr_expect_eq(len, strlen(want), "%s: %zu bytes, wanted %zu", path, len, strlen(want));
	cr_expect_str_eq(got, want, "%s", path);
	free(got);
}

/* The SPEC's four stats lines come first; `resident` follows them. */
static void expect_stats(const char *want)
{
	char *got = read_all(mp(&M, "stats"), NULL);
	cr_assert(got);
	cr_expect(strncmp(got, want, strlen(want)) == 0, "stats: %s", got);
	cr_expect(strstr(got, "\nresident "), "stats has resident: %s", got);
	free(got);
}

/* ---- the tree --------------------------------------------------------- */

Test(core, root_lists_its_files)
{
	DIR *d = opendir(M.dir);
	cr_assert(d);
	int seen = 0;
	for (struct dirent *e; (e = readdir(d));) {
		const char *want[] = { "ctl", "pagesize", "allocationgranularity", "stats", "log",
				       "maps" };
		for (int i = 0; i < 6; i++)
			if (strcmp(e->d_name, want[i]) == 0)
				seen |= 1 << i;
	}
	closedir(d);
	cr_expect_eq(seen, 0x3f);
	char page[32];
	snprintf(page, sizeof page, "%ld\n", sysconf(_SC_PAGESIZE));
	expect_file(mp(&M, "pagesize"), page);
	expect_file(mp(&M, "allocationgranularity"), page);
	expect_stats("maps 0\nbytes 0\nmax_maps 100000\nmax_bytes 1099511627776\n");
}

/* ---- the control-file protocol ---------------------------------------- */

Test(core, fresh_ctl_reads_usage_then_results_then_eof)
{
	make_file(sp(&M, "f"), "0123456789", 10);
	int fd = open(mp(&M, "ctl"), O_RDWR);
	cr_assert(fd >= 0);
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof buf);
	cr_assert(n > 0);
	cr_expect(strncmp(buf, "# mmapfs", 8) == 0, "usage first");
	char command[256];
	int len = snprintf(command, sizeof command, "map %s\nmap %s name=second\n",
			   sp(&M, "f"), sp(&M, "f"));
	cr_assert_eq(write(fd, command, (size_t)len), len);
	n = read(fd, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = '\0';
	cr_expect_str_eq(buf, "0\nsecond\n");
	cr_expect_eq(read(fd, buf, sizeof buf), 0, "end of file once read");
	cr_expect_eq(lseek(fd, 0, SEEK_SET), -1);
	cr_expect_eq(errno, ESPIPE);
	close(fd);
}

Test(core, first_write_drops_usage_even_when_refused)
{
	int fd = open(mp(&M, "ctl"), O_RDWR);
	cr_assert_eq(write(fd, "bogus", 5), -1);
	cr_expect_eq(errno, EINVAL);
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = '\0';
	cr_expect_str_eq(buf, "error: unknown command 'bogus' (commands: map, close)\n");
	close(fd);
}

Test(core, commands_before_a_failure_stay_done_and_after_it_do_not_run)
{
	make_file(sp(&M, "f"), "abc", 3);
	char command[512], out[256];
	snprintf(command, sizeof command, "map %s name=a\nclose nosuch\nmap %s name=b",
		 sp(&M, "f"), sp(&M, "f"));
	int fd = open(mp(&M, "ctl"), O_RDWR);
	cr_assert_eq(write(fd, command, strlen(command)), -1);
	cr_expect_eq(errno, ENOENT);
	ssize_t n = read(fd, out, sizeof out - 1);
	out[n > 0 ? n : 0] = '\0';
	cr_expect_str_eq(out, "a\nerror: no mapping named 'nosuch'\n");
	close(fd);
	struct stat st;
	cr_expect_eq(stat(mp(&M, "maps/a"), &st), 0);
	cr_expect_eq(stat(mp(&M, "maps/b"), &st), -1);
}

Test(core, blank_commands_are_refused)
{
	char out[256];
	cr_expect_eq(cmd(&M, "ctl", "\n", out, sizeof out), -EINVAL);
	cr_expect_str_eq(out, "error: empty command");
	cr_expect_eq(cmd(&M, "ctl", "   ", out, sizeof out), -EINVAL);
}

Test(core, over_long_write_is_refused_whole)
{
	make_file(sp(&M, "f"), "abc", 3);
	size_t len = 70000;
	char *big = malloc(len);
	int n = snprintf(big, len, "map %s name=first\n", sp(&M, "f"));
	memset(big + n, ' ', len - (size_t)n);
	int fd = open(mp(&M, "ctl"), O_RDWR);
	cr_expect_eq(write(fd, big, len), -1);
	cr_expect_eq(errno, E2BIG);
	close(fd);
	free(big);
	struct stat st;
	cr_expect_eq(stat(mp(&M, "maps/first"), &st), -1, "nothing in it ran");
}

Test(core, echo_redirect_into_ctl_works)
{
	make_file(sp(&M, "f"), "abc", 3);
	char command[256];
	int n = snprintf(command, sizeof command, "map %s name=viaecho\n", sp(&M, "f"));
	cr_expect_eq(write_all(mp(&M, "ctl"), command, (size_t)n, O_TRUNC), 0);
	expect_file(mp(&M, "maps/viaecho/data"), "abc");
}

/* ---- mapping a file ------------------------------------------------------ */

Test(core, attributes_show_the_mapping)
{
	char page[8192];
	memset(page, 'x', sizeof page);
	make_file(sp(&M, "f"), page, sizeof page);
	long ps = sysconf(_SC_PAGESIZE);
	const char *n = map_ok(&M, "%s offset=%ld length=100 name=attrs", sp(&M, "f"), ps);
	cr_expect_str_eq(n, "attrs");
	expect_file(mp(&M, "maps/attrs/size"), "100\n");
	expect_file(mp(&M, "maps/attrs/pos"), "0\n");
	expect_file(mp(&M, "maps/attrs/access"), "default\n");
	expect_file(mp(&M, "maps/attrs/filesize"), "8192\n");
	char want[64];
	snprintf(want, sizeof want, "%ld\n", ps);
	expect_file(mp(&M, "maps/attrs/offset"), want);
	expect_file(mp(&M, "maps/attrs/flags"), "shared\n");
	expect_file(mp(&M, "maps/attrs/prot"), "read,write\n");
	snprintf(want, sizeof want, "%s\n", sp(&M, "f"));
	expect_file(mp(&M, "maps/attrs/source"), want);
	struct stat st;
	cr_assert_eq(stat(mp(&M, "maps/attrs/data"), &st), 0);
	cr_expect_eq(st.st_size, 100);
	cr_expect_eq(st.st_mode & 0777, 0644);
	expect_stats("maps 1\nbytes 100\nmax_maps 100000\nmax_bytes 1099511627776\n");
}

Test(core, shared_write_reaches_the_backing_file)
{
	make_file(sp(&M, "f"), "hello world", 11);
	const char *n = map_ok(&M, "%s", sp(&M, "f"));
	cr_assert_eq(pwrite_at(mp(&M, "maps/%s/data", n), "WORLD", 5, 6), 0);
	expect_file(sp(&M, "f"), "hello WORLD");
	expect_file(mp(&M, "maps/%s/data", n), "hello WORLD");
}

Test(core, copy_write_stays_in_the_mapping)
{
	make_file(sp(&M, "f"), "hello world", 11);
	const char *n = map_ok(&M, "%s access=copy", sp(&M, "f"));
	cr_assert_eq(pwrite_at(mp(&M, "maps/%s/data", n), "HELLO", 5, 0), 0);
	expect_file(mp(&M, "maps/%s/data", n), "HELLO world");
	expect_file(sp(&M, "f"), "hello world");
	expect_file(mp(&M, "maps/%s/flags", n), "private\n");
}

Test(core, read_mapping_refuses_writes_and_keeps_the_file)
{
	make_file(sp(&M, "f"), "hello world", 11);
	const char *n = map_ok(&M, "%s access=read", sp(&M, "f"));
	cr_expect_eq(write_all(mp(&M, "maps/%s/data", n), "X", 1, 0), -EACCES);
	cr_expect_eq(write_all(mp(&M, "maps/%s/data", n), "X", 1, O_TRUNC), -EACCES);
	cr_expect_eq(truncate(mp(&M, "maps/%s/data", n), 0), -1);
	cr_expect_eq(errno, EPERM);
	struct stat st;
	cr_assert_eq(stat(mp(&M, "maps/%s/data", n), &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0444);
	expect_file(sp(&M, "f"), "hello world");
	expect_file(mp(&M, "maps/%s/data", n), "hello world");
	expect_file(mp(&M, "maps/%s/prot", n), "read\n");
}

Test(core, two_mappings_of_one_file_see_each_others_writes)
{
	make_file(sp(&M, "f"), "aaaaaaaa", 8);
	const char *a = map_ok(&M, "%s name=one", sp(&M, "f"));
	const char *b = map_ok(&M, "%s name=two", sp(&M, "f"));
	cr_assert_eq(pwrite_at(mp(&M, "maps/%s/data", a), "BB", 2, 1), 0);
	expect_file(mp(&M, "maps/%s/data", b), "aBBaaaaa");
	cr_assert_eq(pwrite_at(mp(&M, "maps/%s/data", b), "C", 1, 7), 0);
	expect_file(mp(&M, "maps/%s/data", a), "aBBaaaaC");
}

Test(core, a_change_to_the_backing_file_shows_at_once)
{
	make_file(sp(&M, "f"), "before..", 8);
	const char *n = map_ok(&M, "%s", sp(&M, "f"));
	expect_file(mp(&M, "maps/%s/data", n), "before..");
	cr_assert_eq(pwrite_at(sp(&M, "f"), "AFTER", 5, 0), 0);
	expect_file(mp(&M, "maps/%s/data", n), "AFTERe..");
	/* The same open file, read again, sees it too. */
	int fd = open(mp(&M, "maps/%s/data", n), O_RDONLY);
	char buf[9] = "";
	cr_assert_eq(pread(fd, buf, 8, 0), 8);
	cr_assert_eq(pwrite_at(sp(&M, "f"), "again", 5, 0), 0);
	cr_assert_eq(pread(fd, buf, 8, 0), 8);
	cr_expect_str_eq(buf, "againe..");
	close(fd);
}

Test(core, refused_commands_change_nothing)
{
	make_file(sp(&M, "f"), "0123456789", 10);
	const char *n = map_ok(&M, "%s name=keep", sp(&M, "f"));
	cr_assert_str_eq(n, "keep");
	struct {
		const char *command;
		int err;
		const char *message;
	} cases[] = {
		{ "map %s length=11", EINVAL, "mmap length is greater than file size" },
		{ "map %s offset=4096", EINVAL, "mmap offset is greater than file size" },
		{ "map %s length=-1", EINVAL, "memory mapped length must be positive" },
		{ "map %s offset=-4096", EINVAL, "memory mapped offset must be positive" },
		{ "map %s access=read flags=private", EINVAL,
		  "mmap can't specify both access and flags, prot." },
		{ "map %s offset=1 length=1", EINVAL, "Invalid argument" },
		{ "map %s name=keep", EEXIST, "a mapping named 'keep' exists already" },
		{ "map %s name=.hidden", EINVAL, NULL },
		{ "map %s colour=blue", EINVAL, NULL },
		{ "map %s length=1Q", EINVAL, "invalid number: '1Q'" },
	};
	char before[4096], command[512], out[512];
	char *b = read_all(mp(&M, "stats"), NULL);
	snprintf(before, sizeof before, "%.*s", (int)(strstr(b, "resident") - b), b);
	free(b);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		/* Each case is a format with one %s, the file. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		snprintf(command, sizeof command, cases[i].command, sp(&M, "f"));
#pragma GCC diagnostic pop
		cr_expect_eq(cmd(&M, "ctl", command, out, sizeof out), -cases[i].err, "%s", command);
		if (cases[i].message) {
			char want[512];
			snprintf(want, sizeof want, "error: %s", cases[i].message);
			cr_expect_str_eq(out, want, "%s", command);
		}
	}
	expect_stats(before);
	expect_file(mp(&M, "maps/keep/data"), "0123456789");
	expect_file(mp(&M, "maps/keep/size"), "10\n");
}

Test(core, sources_that_cannot_be_mapped)
{
	char out[512];
	cr_expect_eq(cmd(&M, "ctl", "map relative/path", out, sizeof out), -EINVAL);
	cr_expect_eq(cmd(&M, "ctl", "map /no/such/file", out, sizeof out), -ENOENT);
	cr_expect_str_eq(out, "error: No such file or directory");
	cr_expect_eq(cmd(&M, "ctl", "map /tmp", out, sizeof out), -ENODEV);
	char command[16384];
	snprintf(command, sizeof command, "map %s", mp(&M, "stats"));
	cr_expect_eq(cmd(&M, "ctl", command, out, sizeof out), -EDEADLK);
	snprintf(command, sizeof command, "map /tmp/..//%s/./maps/../stats", M.dir + 1);
	cr_expect_eq(cmd(&M, "ctl", command, out, sizeof out), -EDEADLK, "%s", command);
	make_file(sp(&M, "empty"), "", 0);
	snprintf(command, sizeof command, "map %s", sp(&M, "empty"));
	cr_expect_eq(cmd(&M, "ctl", command, out, sizeof out), -EINVAL);
	cr_expect_str_eq(out, "error: cannot mmap an empty file");
	cr_expect_eq(cmd(&M, "ctl", "map anon", out, sizeof out), -EINVAL);
	cr_expect(mnt_alive(&M));
}

/* ---- resizing and seeking --------------------------------------------- */

Test(core, writing_size_resizes_mapping_and_file)
{
	make_file(sp(&M, "f"), "0123456789", 10);
	const char *n = map_ok(&M, "%s", sp(&M, "f"));
	cr_assert_eq(write_all(mp(&M, "maps/%s/size", n), "4\n", 2, O_TRUNC), 0);
	expect_file(mp(&M, "maps/%s/data", n), "0123");
	expect_file(sp(&M, "f"), "0123");
	cr_assert_eq(write_all(mp(&M, "maps/%s/size", n), "6", 1, O_TRUNC), 0);
	size_t len;
	char *d = read_all(mp(&M, "maps/%s/data", n), &len);
	cr_expect_eq(len, 6);
	cr_expect(memcmp(d, "0123\0\0", 6) == 0, "grown bytes are the file's zeros");
	free(d);
	cr_expect_eq(write_all(mp(&M, "maps/%s/size", n), "-1", 2, O_TRUNC), -EINVAL);
	cr_expect_eq(write_all(mp(&M, "maps/%s/size", n), "lots", 4, O_TRUNC), -EINVAL);
	expect_file(mp(&M, "maps/%s/size", n), "6\n");
}

Test(core, truncate_and_o_trunc_resize_data)
{
	make_file(sp(&M, "f"), "0123456789", 10);
	const char *n = map_ok(&M, "%s", sp(&M, "f"));
	cr_assert_eq(truncate(mp(&M, "maps/%s/data", n), 3), 0);
	expect_file(mp(&M, "maps/%s/data", n), "012");
	/* echo hi > data: O_TRUNC to length 0, then a write past the end grows it. */
	cr_assert_eq(write_all(mp(&M, "maps/%s/data", n), "hi\n", 3, O_TRUNC), 0);
	expect_file(mp(&M, "maps/%s/data", n), "hi\n");
	expect_file(sp(&M, "f"), "hi\n");
	expect_file(mp(&M, "maps/%s/size", n), "3\n");
	cr_assert_eq(truncate(mp(&M, "maps/%s/data", n), 0), 0);
	expect_file(mp(&M, "maps/%s/size", n), "0\n");
	expect_file(mp(&M, "maps/%s/data", n), "");
	cr_assert_eq(pwrite_at(mp(&M, "maps/%s/data", n), "xy", 2, 2), 0);
	size_t len;
	char *d = read_all(sp(&M, "f"), &len);
	cr_expect_eq(len, 4);
	cr_expect(memcmp(d, "\0\0xy", 4) == 0);
	free(d);
}

Test(core, mappings_that_cannot_grow_refuse_alike)
{
	make_file(sp(&M, "f"), "0123456789", 10);
	const char *c = map_ok(&M, "%s access=copy name=cp", sp(&M, "f"));
	char out[256];
	cr_expect_eq(cmd(&M, "maps/cp/ctl", "resize 20", out, sizeof out), -EPERM);
	cr_expect_str_eq(out, "error: mmap can't resize a readonly or copy-on-write memory map.");
	cr_expect_eq(write_all(mp(&M, "maps/%s/size", c), "20", 2, O_TRUNC), -EPERM);
	cr_expect_eq(truncate(mp(&M, "maps/%s/data", c), 2), -1);
	cr_expect_eq(errno, EPERM);
	cr_expect_eq(write_all(mp(&M, "maps/%s/data", c), "x", 1, O_TRUNC), -EPERM);
	cr_expect_eq(pwrite_at(mp(&M, "maps/%s/data", c), "xyz", 3, 9), -EFBIG);
	expect_file(mp(&M, "maps/%s/data", c), "0123456789");
	map_ok(&M, "%s trackfd=no name=untracked", sp(&M, "f"));
	cr_expect_eq(cmd(&M, "maps/untracked/ctl", "resize 20", out, sizeof out), -EINVAL);
	cr_expect_str_eq(out, "error: mmap can't resize with trackfd=False.");
	cr_expect_eq(pwrite_at(mp(&M, "maps/untracked/data"), "xyz", 3, 9), -EFBIG);
	cr_expect_eq(read_all(mp(&M, "maps/untracked/filesize"), NULL), NULL);
	cr_expect_eq(errno, EBADF);
	expect_file(sp(&M, "f"), "0123456789");
}

Test(core, pos_seeks_and_refuses_out_of_range)
{
	make_file(sp(&M, "f"), "0123456789", 10);
	const char *n = map_ok(&M, "%s", sp(&M, "f"));
	cr_assert_eq(write_all(mp(&M, "maps/%s/pos", n), "4\n", 2, O_TRUNC), 0);
	expect_file(mp(&M, "maps/%s/pos", n), "4\n");
	cr_assert_eq(write_all(mp(&M, "maps/%s/pos", n), "-1 end", 6, O_TRUNC), 0);
	expect_file(mp(&M, "maps/%s/pos", n), "9\n");
	cr_expect_eq(write_all(mp(&M, "maps/%s/pos", n), "11", 2, O_TRUNC), -EINVAL);
	cr_expect_eq(write_all(mp(&M, "maps/%s/pos", n), "-1", 2, O_TRUNC), -EINVAL);
	expect_file(mp(&M, "maps/%s/pos", n), "9\n");
	char out[128];
	cr_expect_eq(cmd(&M, mp(&M, "maps/%s/ctl", n) + strlen(M.dir) + 1, "seek 2 cur", out,
			 sizeof out), -EINVAL);
	cr_expect_str_eq(out, "error: seek out of range");
	cr_expect_eq(cmd(&M, mp(&M, "maps/%s/ctl", n) + strlen(M.dir) + 1, "seek 1 set", out,
			 sizeof out), 0);
	cr_expect_str_eq(out, "ok");
	expect_file(mp(&M, "maps/%s/pos", n), "1\n");
}

Test(core, stream_and_line_read_at_pos)
{
	make_file(sp(&M, "f"), "first\nsecond\nthird", 18);
	const char *n = map_ok(&M, "%s", sp(&M, "f"));
	int fd = open(mp(&M, "maps/%s/line", n), O_RDONLY);
	char buf[64];
	ssize_t r = read(fd, buf, sizeof buf);
	cr_expect_eq(r, 6);
	cr_expect(memcmp(buf, "first\n", 6) == 0);
	close(fd);
	fd = open(mp(&M, "maps/%s/stream", n), O_RDWR);
	cr_expect_eq(read(fd, buf, 3), 3);
	cr_expect(memcmp(buf, "sec", 3) == 0);
	cr_expect_eq(write(fd, "OND", 3), 3);
	cr_expect_eq(write(fd, "0123456789", 10), -1, "past the end");
	cr_expect_eq(errno, EFBIG);
	close(fd);
	expect_file(sp(&M, "f"), "first\nsecOND\nthird");
	expect_file(mp(&M, "maps/%s/pos", n), "12\n");
}

/* ---- closing ------------------------------------------------------------ */

Test(core, close_flushes_and_forgets_the_name)
{
	make_file(sp(&M, "f"), "abc", 3);
	map_ok(&M, "%s name=gone", sp(&M, "f"));
	int fd = open(mp(&M, "maps/gone/data"), O_RDWR);
	cr_assert(fd >= 0);
	char out[128];
	cr_expect_eq(cmd(&M, "ctl", "close gone", out, sizeof out), 0);
	cr_expect_str_eq(out, "ok");
	struct stat st;
	cr_expect_eq(stat(mp(&M, "maps/gone"), &st), -1);
	char buf[4];
	cr_expect_eq(pread(fd, buf, 3, 0), -1);
	cr_expect_eq(errno, ENXIO, "a still-open file of a closed mapping");
	cr_expect_eq(pwrite(fd, "x", 1, 0), -1);
	cr_expect_eq(errno, ENXIO);
	close(fd);
	cr_expect_eq(cmd(&M, "ctl", "close gone", out, sizeof out), -ENOENT);
	cr_expect_eq(cmd(&M, "ctl", "close ../x", out, sizeof out), -EINVAL);
	/* The name is free again, and the new mapping is a new directory. */
	map_ok(&M, "%s name=gone", sp(&M, "f"));
	expect_file(mp(&M, "maps/gone/data"), "abc");
}

Test(core, rmdir_closes)
{
	make_file(sp(&M, "f"), "abc", 3);
	const char *n = map_ok(&M, "%s", sp(&M, "f"));
	cr_assert_eq(rmdir(mp(&M, "maps/%s", n)), 0);
	struct stat st;
	cr_expect_eq(stat(mp(&M, "maps/%s", n), &st), -1);
	cr_expect_eq(rmdir(mp(&M, "maps/%s", n)), -1);
	cr_expect_eq(errno, ENOENT);
	expect_stats("maps 0\nbytes 0\nmax_maps 100000\nmax_bytes 1099511627776\n");
}

Test(core, mapping_ctl_returns_its_own_close)
{
	make_file(sp(&M, "f"), "abc", 3);
	map_ok(&M, "%s name=self", sp(&M, "f"));
	int fd = open(mp(&M, "maps/self/ctl"), O_RDWR);
	cr_assert_eq(write(fd, "flush\nclose\n", 12), 12);
	char buf[64];
	ssize_t n = read(fd, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = '\0';
	cr_expect_str_eq(buf, "ok\nok\n");
	cr_expect_eq(write(fd, "flush", 5), -1);
	cr_expect_eq(errno, ENXIO);
	close(fd);
}

Test(core, names_are_the_smallest_free_numbers)
{
	make_file(sp(&M, "f"), "abc", 3);
	cr_expect_str_eq(map_ok(&M, "%s", sp(&M, "f")), "0");
	cr_expect_str_eq(map_ok(&M, "%s", sp(&M, "f")), "1");
	cr_expect_str_eq(map_ok(&M, "%s name=2", sp(&M, "f")), "2");
	cr_expect_str_eq(map_ok(&M, "%s", sp(&M, "f")), "3");
	cr_assert_eq(cmd(&M, "ctl", "close 1", NULL, 0), 0);
	cr_expect_str_eq(map_ok(&M, "%s", sp(&M, "f")), "1");
}

/* ---- anonymous memory ------------------------------------------------- */

Test(core, shared_anonymous_memory_grows)
{
	const char *n = map_ok(&M, "anon length=4096");
	expect_file(mp(&M, "maps/%s/source", n), "anonymous\n");
	expect_file(mp(&M, "maps/%s/filesize", n), "4096\n");
	char block[8192];
	memset(block, 'z', sizeof block);
	cr_assert_eq(pwrite_at(mp(&M, "maps/%s/data", n), block, sizeof block, 0), 0);
	expect_file(mp(&M, "maps/%s/size", n), "8192\n");
	size_t len;
	char *d = read_all(mp(&M, "maps/%s/data", n), &len);
	cr_expect_eq(len, sizeof block);
	cr_expect(memcmp(d, block, len) == 0);
	free(d);
}

Test(core, private_anonymous_memory_grows_with_zeros)
{
	const char *n = map_ok(&M, "anon length=16 flags=private");
	cr_assert_eq(pwrite_at(mp(&M, "maps/%s/data", n), "ab", 2, 0), 0);
	cr_assert_eq(write_all(mp(&M, "maps/%s/size", n), "32", 2, O_TRUNC), 0);
	size_t len;
	char *d = read_all(mp(&M, "maps/%s/data", n), &len);
	cr_expect_eq(len, 32);
	cr_expect(d[0] == 'a' && d[1] == 'b' && d[31] == 0);
	free(d);
}

/* ---- the log and shutdown ---------------------------------------------- */

Test(core, log_records_commands_with_pid_and_result)
{
	char out[64];
	cmd(&M, "ctl", "close nosuch", out, sizeof out);
	char *log = read_all(mp(&M, "log"), NULL);
	char want[128];
	snprintf(want, sizeof want,
		 "pid %d uid %u ctl: close nosuch => error: no mapping named 'nosuch'\n",
		 (int)getpid(), getuid());
	cr_expect(strstr(log, want), "log: %s", log);
	free(log);
}

Test(core, sigterm_flushes_and_exits_zero)
{
	make_file(sp(&M, "f"), "........", 8);
	const char *n = map_ok(&M, "%s", sp(&M, "f"));
	cr_assert_eq(pwrite_at(mp(&M, "maps/%s/data", n), "saved", 5, 0), 0);
	cr_expect_eq(mnt_kill(&M, SIGTERM), 0, "clean exit");
	expect_file(sp(&M, "f"), "saved...");
	struct stat st;
	cr_expect_eq(stat(mp(&M, "ctl"), &st), -1, "unmounted");
}

Test(core, append_lands_at_the_current_end)
{
	make_file(sp(&M, "f"), "0123456789", 10);
	const char *n = map_ok(&M, "%s", sp(&M, "f"));
	free(read_all(mp(&M, "maps/%s/data", n), NULL)); /* the kernel learns size 10 */
	cr_assert_eq(write_all(mp(&M, "maps/%s/size", n), "12", 2, O_TRUNC), 0);
	cr_assert_eq(write_all(mp(&M, "maps/%s/data", n), "ab", 2, O_APPEND), 0);
	size_t len;
	char *d = read_all(sp(&M, "f"), &len);
	cr_expect_eq(len, 14);
	cr_expect(memcmp(d, "0123456789\0\0ab", 14) == 0);
	free(d);
}
