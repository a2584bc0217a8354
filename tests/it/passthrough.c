/* passthrough.c - `mmapfs -o passthrough` through a real mount (issue 13):
 * data of a mapping that is exactly its file is served by the kernel from
 * that file, so a client's mmap(MAP_SHARED) of it shares the mapping's
 * pages; every other mapping is served as without the option; and a mount
 * where passthrough cannot be had still serves everything.
 *
 * Needs Linux 6.9+ and a root test run; without them every test skips with
 * the reason the server gives in `stats`. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "lib/harness.h"

#define LEN (16 * 4096)



/* Linux 6.9+ and root: then passthrough must be on, unless the kernel was
 * built without it (a failure, not a skip, so a regression cannot hide). */
static bool passthrough_expected(void)
{
	struct utsname u;
	int major = 0, minor = 0;
	if (uname(&u) < 0 || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return false;
	return geteuid() == 0 && (major > 6 || (major == 6 && minor >= 9));
}

static void skip_unless_on(void)
{
	char *stats = slurp(mp(&M, "stats"), NULL);
	cr_assert(stats, "read stats");
	const char *line = strstr(stats, "passthrough ");
	cr_assert(line, "stats has no passthrough line: %s", stats);
	if (strncmp(line, "passthrough on\n", 15) != 0) {
		/* A kernel built without it says so, and only that skips. */
		cr_assert(!passthrough_expected() || strstr(line, "does not offer"),
			  "root on Linux 6.9+, yet %.*s",
			  (int)strcspn(line, "\n"), line);
		char why[300];
		snprintf(why, sizeof why, "%.*s", (int)strcspn(line, "\n"), line);
		free(stats);
		cr_skip_test("%s", why);
	}
	free(stats);
}

static void up(void)
{
	mnt_start(&M, "passthrough");
	skip_unless_on();
}

static void down(void)
{
	mnt_stop(&M);
}

TestSuite(passthrough, .init = up, .fini = down, .timeout = 60);

/* A file of LEN bytes, 'a' + page index on each page. */
static const char *paged_file(const char *name)
{
	static char bytes[LEN];
	for (int i = 0; i < LEN; i++)
		bytes[i] = (char)('a' + i / 4096);
	const char *path = sp(&M, "%s", name);
	make_file(path, bytes, LEN);
	return path;
}

static char *map_data(const char *name, int oflags, size_t len, int *fd_out)
{
	int fd = open(mp(&M, "maps/%s/data", name), oflags);
	cr_assert(fd >= 0, "open data: %s", strerror(errno));
	int prot = PROT_READ | ((oflags & O_ACCMODE) == O_RDWR ? PROT_WRITE : 0);
	char *p = mmap(NULL, len, prot, MAP_SHARED, fd, 0);
	cr_assert(p != MAP_FAILED, "mmap(MAP_SHARED) of data: %s", strerror(errno));
	*fd_out = fd;
	return p;
}

static long long find_in(const char *name, const char *needle)
{
	char command[128], out[64];
	snprintf(command, sizeof command, "find %s 0", needle);
	cr_assert_eq(map_cmd(&M, name, command, out, sizeof out), 0, "%s", out);
	return atoll(out);
}

/* Writes through the client's mmap, data and `move` all meet in the same
 * pages, which are the backing object's. */
static void expect_shared_pages(const char *name, const char *backing)
{
	int fd;
	char *p = map_data(name, O_RDWR, LEN, &fd);
	memcpy(p + 5000, "HELLO", 5);
	cr_expect_eq(find_in(name, "HELLO"), 5000, "find sees the client's mmap write");
	if (backing) {
		char got[6] = "";
		int bfd = open(backing, O_RDONLY);
		cr_assert(bfd >= 0);
		cr_expect_eq(pread(bfd, got, 5, 5000), 5);
		close(bfd);
		cr_expect_str_eq(got, "HELLO", "the backing file has the client's mmap write");
	}
	cr_expect_eq(pwrite_timed(mp(&M, "maps/%s/data", name), "WORLD", 5, 9000), 5);
	cr_expect(memcmp(p + 9000, "WORLD", 5) == 0, "the client's mmap sees a write to data");
	char out[64];
	cr_expect_eq(map_cmd(&M, name, "move 20000 5000 5", out, sizeof out), 0, "%s", out);
	cr_expect(memcmp(p + 20000, "HELLO", 5) == 0, "the client's mmap sees move");
	munmap(p, LEN);
	close(fd);
}

Test(passthrough, stats_says_on)
{
	char *stats = slurp(mp(&M, "stats"), NULL);
	cr_expect(strstr(stats, "\npassthrough on\n"), "%s", stats);
	free(stats);
}

Test(passthrough, shared_file_mapping_shares_its_pages)
{
	const char *f = paged_file("f");
	map_ok(&M, "%s name=f", f);
	expect_shared_pages("f", f);
}

Test(passthrough, shared_anonymous_memory_shares_its_pages)
{
	map_ok(&M, "anon length=%d name=a", LEN);
	expect_shared_pages("a", NULL);
}

/* An offset means nothing to anonymous memory: still its memfd's bytes. */
Test(passthrough, shared_anonymous_memory_with_an_offset_shares_its_pages)
{
	map_ok(&M, "anon length=%d offset=4096 name=a", LEN);
	expect_shared_pages("a", NULL);
}

Test(passthrough, python_mmap_of_data_shares_the_mapping)
{
	const char *f = paged_file("f");
	map_ok(&M, "%s name=f", f);
	char script[8600];
	snprintf(script, sizeof script,
		 "python3 -c \"import mmap,os; fd=os.open('%s',os.O_RDWR); m=mmap.mmap(fd,0); "
		 "assert len(m)==%d; m[1:4]=b'XYZ'\"", mp(&M, "maps/f/data"), LEN);
	cr_assert_eq(system(script), 0, "mmap.mmap(fd, 0) of data");
	cr_expect_eq(find_in("f", "XYZ"), 1);
}

/* A file truncated under the mapping: its passed-through data ends where
 * the file ends (a short read, then 0), where without the option the
 * vanished pages fail with EIO. Whether data is passed through is decided
 * when it is opened (the mapping was exactly the file then); while one open
 * file holds it, every new open is passed through too. */
Test(passthrough, read_past_a_truncated_end_is_short)
{
	const char *f = paged_file("f");
	map_ok(&M, "%s name=f", f);
	int fd = open(mp(&M, "maps/f/data"), O_RDONLY);
	cr_assert(fd >= 0);
	cr_assert_eq(truncate(f, 4096), 0);
	char buf[3 * 4096];
	cr_expect_eq(pread(fd, buf, sizeof buf, 0), 4096);
	cr_expect_eq(pread(fd, buf, sizeof buf, 4096), 0, "past the file's end: 0 bytes, not EIO");
	cr_expect_eq(pread_timed(mp(&M, "maps/f/data"), buf, sizeof buf, 4096), 0,
		     "a second open, while the first holds the file");
	close(fd);
}

Test(passthrough, data_open_at_close_keeps_reaching_the_file)
{
	const char *f = paged_file("f");
	map_ok(&M, "%s name=f", f);
	int fd = open(mp(&M, "maps/f/data"), O_RDONLY);
	cr_assert(fd >= 0);
	char out[64];
	cr_assert_eq(root_cmd(&M, "close f", out, sizeof out), 0, "%s", out);
	cr_assert_eq(pwrite_at(f, "after", 5, 100), 0);
	char got[6] = "";
	cr_expect_eq(pread(fd, got, 5, 100), 5, "%s", strerror(errno));
	cr_expect_str_eq(got, "after");
	close(fd);
}

static void expect_sizes(const char *name, const char *backing, long long want)
{
	cr_expect_eq(attr_num(&M, name, "size"), want, "size");
	cr_expect_eq(size_of(mp(&M, "maps/%s/data", name)), want, "st_size of data");
	if (backing)
		cr_expect_eq(size_of(backing), want, "the backing file's size");
}

/* Size changes through data resize the mapping and the file together, with
 * a data open for reading (passed through) and one for writing (whose
 * writes reach the server) held open all along. */
static void check_size_changes(const char *name, const char *backing)
{
	const char *data = mp(&M, "maps/%s/data", name);
	int rd = open(data, O_RDONLY);
	int wr = open(data, O_RDWR);
	cr_assert(rd >= 0 && wr >= 0);
	cr_expect_eq(pwrite(wr, "tail", 4, LEN + 100), 4, "write past the end: %s", strerror(errno));
	expect_sizes(name, backing, LEN + 104);
	char got[5] = "";
	cr_expect_eq(pread(rd, got, 4, LEN + 100), 4, "the reader sees the grown end");
	cr_expect_str_eq(got, "tail");
	cr_expect_eq(ftruncate(wr, 8192), 0);
	expect_sizes(name, backing, 8192);
	char buf[4096];
	cr_expect_eq(pread(rd, buf, sizeof buf, 8192), 0, "nothing past the new end");
	int t = open(data, O_WRONLY | O_TRUNC);
	cr_expect(t >= 0);
	expect_sizes(name, backing, 0);
	cr_expect_eq(write(t, "hi", 2), 2);
	expect_sizes(name, backing, 2);
	close(t);
	char out[64];
	cr_expect_eq(map_cmd(&M, name, "resize 12288", out, sizeof out), 0, "%s", out);
	expect_sizes(name, backing, 12288);
	cr_expect_eq(pread(rd, buf, sizeof buf, 8192), 4096, "the reader follows a resize");
	close(rd);
	close(wr);
}

Test(passthrough, size_changes_keep_file_and_mapping_together)
{
	const char *f = paged_file("f");
	map_ok(&M, "%s name=f", f);
	check_size_changes("f", f);
}

Test(passthrough, size_changes_of_shared_anonymous_memory)
{
	map_ok(&M, "anon length=%d name=a", LEN);
	check_size_changes("a", NULL);
}

/* ---- which mappings are passed through ----------------------------------- */

static void expect_xattr(const char *name, const char *want)
{
	char value[400];
	ssize_t n = getxattr(mp(&M, "maps/%s/data", name), "user.mmapfs.passthrough", value,
			     sizeof value - 1);
	cr_assert(n >= 0, "getxattr of %s/data: %s", name, strerror(errno));
	value[n] = '\0';
	cr_expect(strncmp(value, want, strlen(want)) == 0, "%s: '%s', wanted '%s...'", name, value,
		  want);
}

Test(passthrough, an_extended_attribute_says_which_are_passed_through)
{
	const char *f = paged_file("f");
	map_ok(&M, "%s name=whole", f);
	map_ok(&M, "anon length=8192 name=anon");
	map_ok(&M, "%s length=8192 name=short", f);
	map_ok(&M, "%s flags=private name=priv", f);
	map_ok(&M, "%s offset=4096 name=off", f);
	map_ok(&M, "%s trackfd=no name=notrack", f);
	expect_xattr("whole", "yes");
	expect_xattr("anon", "yes");
	expect_xattr("short", "no: length 8192, the file has 65536 bytes");
	expect_xattr("priv", "no: a private mapping");
	expect_xattr("off", "no: offset 4096");
	expect_xattr("notrack", "no: no descriptor kept");
	char list[128];
	cr_expect_eq(listxattr(mp(&M, "maps/whole/data"), list, sizeof list),
		     (ssize_t)sizeof "user.mmapfs.passthrough");
	cr_expect(getxattr(mp(&M, "maps/whole/size"), "user.mmapfs.passthrough", list,
			   sizeof list) < 0 && errno == ENODATA);
}

/* mmapctl shows the same in its PASSTHROUGH column (ls and info, -o). */
Test(passthrough, mmapctl_info_says_it)
{
	const char *bin = getenv("MMAPCTL_BIN");
	if (!bin)
		cr_skip_test("MMAPCTL_BIN is not set (make check sets it)");
	const char *f = paged_file("f");
	map_ok(&M, "%s name=whole", f);
	map_ok(&M, "%s length=8192 name=short", f);
	char command[9000];
	snprintf(command, sizeof command,
		 "'%s' -m '%s' info -o PASSTHROUGH whole | grep -Eqx 'passthrough +yes' && "
		 "'%s' -m '%s' ls -J -o NAME,PASSTHROUGH | grep -Fq "
		 "'\"passthrough\": \"no: length 8192, the file has 65536 bytes\"'",
		 bin, M.dir, bin, M.dir);
	cr_expect_eq(system(command), 0, "mmapctl's PASSTHROUGH column");
}

/* ---- every other mapping is served as without the option ---------------- */

/* Not passed through: a shared mmap of data is refused as on any direct_io
 * file, and reads show the mapping's bytes, not the file's. */
static void expect_served(const char *name, const char *first4, size_t len)
{
	int fd = open(mp(&M, "maps/%s/data", name), O_RDONLY);
	cr_assert(fd >= 0);
	void *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	cr_expect(p == MAP_FAILED && errno == ENODEV, "%s: shared mmap of data: %s", name,
		  p == MAP_FAILED ? strerror(errno) : "allowed");
	if (p != MAP_FAILED)
		munmap(p, 4096);
	char buf[LEN + 4096];
	cr_expect_eq(pread(fd, buf, sizeof buf, 0), (ssize_t)len, "%s: read to the end", name);
	cr_expect(memcmp(buf, first4, 4) == 0, "%s: first bytes", name);
	cr_expect_eq(pread(fd, buf, 4096, (off_t)len), 0, "%s: nothing past len", name);
	close(fd);
}

Test(passthrough, private_copy_offset_and_short_mappings_are_served)
{
	const char *f = paged_file("f");
	map_ok(&M, "%s flags=private name=priv", f);
	map_ok(&M, "%s access=copy name=copy", f);
	map_ok(&M, "%s offset=4096 name=off", f);
	map_ok(&M, "%s length=8192 name=short", f);
	map_ok(&M, "anon length=8192 flags=private name=panon");
	map_ok(&M, "%s trackfd=no name=notrack", f);
	expect_served("priv", "aaaa", LEN);
	expect_served("copy", "aaaa", LEN);
	expect_served("off", "bbbb", LEN - 4096);
	expect_served("short", "aaaa", 8192);
	expect_served("panon", "\0\0\0\0", 8192);
	expect_served("notrack", "aaaa", LEN);
	/* A private mapping's writes stay in it. */
	cr_expect_eq(pwrite_timed(mp(&M, "maps/priv/data"), "PRIV", 4, 0), 4);
	char got[5] = "";
	cr_expect_eq(pread_timed(f, got, 4, 0), 4);
	cr_expect_str_eq(got, "aaaa");
}

/* The truncated file again, under a mapping that is short of it: served by
 * the server, so the vanished page fails with EIO as without the option. */
Test(passthrough, short_mapping_keeps_eio_on_vanished_pages)
{
	const char *f = paged_file("f");
	map_ok(&M, "%s length=%d name=short", f, LEN - 4096);
	cr_assert_eq(truncate(f, 4096), 0);
	char buf[4096];
	cr_expect_eq(pread_timed(mp(&M, "maps/short/data"), buf, sizeof buf, 8192), -EIO);
}

/* ---- a mount where passthrough cannot be had ------------------------------ */

static void up_refused(void)
{
	/* The server does not ask for passthrough at INIT, so the kernel
	 * refuses FUSE_DEV_IOC_BACKING_OPEN as it would a non-root server. */
	setenv("MMAPFS_PASSTHROUGH_WITHHOLD", "1", 1);
	mnt_start(&M, "passthrough");
	unsetenv("MMAPFS_PASSTHROUGH_WITHHOLD");
}

TestSuite(passthrough_refused, .init = up_refused, .fini = down, .timeout = 60);

Test(passthrough_refused, stats_says_off_and_why)
{
	char *stats = slurp(mp(&M, "stats"), NULL);
	cr_assert(stats);
	cr_expect(strstr(stats, "\npassthrough off: FUSE_DEV_IOC_BACKING_OPEN: "), "%s", stats);
	free(stats);
}

Test(passthrough_refused, everything_is_still_served)
{
	const char *f = paged_file("f");
	map_ok(&M, "%s name=f", f);
	map_ok(&M, "anon length=8192 name=a");
	expect_served("f", "aaaa", LEN);
	expect_served("a", "\0\0\0\0", 8192);
	char value[400] = "";
	cr_expect(getxattr(mp(&M, "maps/f/data"), "user.mmapfs.passthrough", value,
			   sizeof value - 1) > 0);
	cr_expect(strncmp(value, "no: passthrough off: FUSE_DEV_IOC_BACKING_OPEN", 46) == 0, "%s",
		  value);
	cr_expect_eq(pwrite_timed(mp(&M, "maps/f/data"), "new", 3, LEN), 3);
	expect_sizes("f", f, LEN + 3);
	cr_expect_eq(find_in("f", "new"), LEN);
}

/* Without the option nothing is passed through, and stats is as it was. */
static void up_plain(void)
{
	mnt_start(&M, NULL);
}

TestSuite(passthrough_not_asked, .init = up_plain, .fini = down, .timeout = 60);

Test(passthrough_not_asked, stats_says_off)
{
	char *stats = slurp(mp(&M, "stats"), NULL);
	cr_expect(!strstr(stats, "passthrough"), "%s", stats);
	free(stats);
	const char *f = paged_file("f");
	map_ok(&M, "%s name=f", f);
	expect_served("f", "aaaa", LEN);
}
