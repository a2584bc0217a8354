/* it_faults.c - the "Faults" and "Errors" sections of the SPEC through a real
 * mount: vanished and guarded pages give EIO while everything else keeps
 * working, data survives SIGKILL, every way of stopping the server flushes
 * and exits 0, files of a closed mapping give ENXIO, and the sources that
 * cannot be mapped (EDEADLK, ENODEV) or do not fit (ENOSPC) are refused
 * without hanging.
 *
 * Every operation that goes through the mount runs time-limited in a child
 * process (harness_extra.h), so a server that stops answering fails the
 * test with ETIMEDOUT instead of hanging the run. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/harness.h"

#define PAGE page_size()

TestSuite(faults, .init = mnt_up, .fini = mnt_down, .timeout = 90);

/* ---- helpers ------------------------------------------------------------ */

/* A file of three pages: 'a'*PAGE, 'b'*PAGE, 'c'*PAGE. */
static void make_abc(const char *path)
{
	size_t n = 3 * (size_t)PAGE;
	char *buf = malloc(n);
	memset(buf, 'a', (size_t)PAGE);
	memset(buf + PAGE, 'b', (size_t)PAGE);
	memset(buf + 2 * PAGE, 'c', (size_t)PAGE);
	make_file(path, buf, n);
	free(buf);
}

static bool all_bytes(const char *buf, size_t n, char c)
{
	for (size_t i = 0; i < n; i++)
		if (buf[i] != c)
			return false;
	return true;
}

/* pread of a whole page of data, which must succeed and hold only c. */
static void expect_page(const char *name, long page, char c)
{
	char *buf = malloc((size_t)PAGE);
	ssize_t n = pread_timed(mp(&M, "maps/%s/data", name), buf, (size_t)PAGE, page * PAGE);
	cr_expect_eq(n, PAGE, "maps/%s/data page %ld: %s", name, page,
		     n < 0 ? strerror((int)-n) : "short read");
	if (n == PAGE)
		cr_expect(all_bytes(buf, (size_t)PAGE, c), "maps/%s/data page %ld holds '%c'", name,
			  page, c);
	free(buf);
}

static void expect_errno(ssize_t got, int want, const char *what)
{
	cr_expect_eq(got, -want, "%s: got %s, wanted %s", what,
		     got < 0 ? strerror((int)-got) : "success", strerror(want));
}

static void set_pos(const char *name, long long pos)
{
	char v[32];
	int n = snprintf(v, sizeof v, "%lld\n", pos);
	cr_assert_eq(write_raw(mp(&M, "maps/%s/pos", name), v, (size_t)n, O_TRUNC), 0,
		     "seek %s to %lld", name, pos);
}

static long long get_num(const char *name, const char *attr)
{
	char v[64];
	int rc = attr_text(&M, name, attr, v, sizeof v);
	cr_assert_eq(rc, 0, "read maps/%s/%s: %s", name, attr, strerror(-rc));
	return strtoll(v, NULL, 10);
}

static void expect_server_fine(void)
{
	cr_expect(server_answers(&M), "the server is alive and answers");
}

/* Everything that touches page 1 of a three-page mapping must give EIO
 * (the page vanished, or is a guard page), while page 0 works, and page 2
 * too when tail_ok (a truncated file loses every page after the first). */
static void expect_page1_faults(const char *name, bool tail_ok)
{
	char buf[64], out[256];
	char *page = malloc(2 * (size_t)PAGE);
	char data[4200]; /* mp()'s paths last only 16 calls */
	snprintf(data, sizeof data, "%s", mp(&M, "maps/%s/data", name));

	memset(page, 'a', 2 * (size_t)PAGE); /* what a partial write leaves in page 0 */
	/* data: reads and writes of the page, and of a range across it. */
	expect_errno(pread_timed(data, page, (size_t)PAGE, PAGE), EIO, "read data page 1");
	expect_errno(pread_timed(data, page, 2 * (size_t)PAGE, 0), EIO, "read data pages 0-1");
	expect_errno(pread_timed(data, buf, 10, PAGE + 100), EIO, "read 10 bytes in page 1");
	expect_errno(pwrite_timed(data, "X", 1, PAGE + 100), EIO, "write data page 1");
	expect_errno(pwrite_timed(data, page, 2 * (size_t)PAGE, 0), EIO, "write data pages 0-1");

	/* stream: pos stays where it was. */
	set_pos(name, PAGE);
	expect_errno(read_timed(mp(&M, "maps/%s/stream", name), buf, 10), EIO, "read stream");
	cr_expect_eq(get_num(name, "pos"), PAGE, "a failed stream read leaves pos");
	expect_errno(pwrite_timed(mp(&M, "maps/%s/stream", name), "XY", 2, 0), EIO,
		     "write stream");
	cr_expect_eq(get_num(name, "pos"), PAGE, "a failed stream write leaves pos");

	/* line: from page 1, and from page 0 with no newline before page 1. */
	expect_errno(read_timed(mp(&M, "maps/%s/line", name), buf, sizeof buf), EIO,
		     "read line at page 1");
	set_pos(name, PAGE - 10);
	expect_errno(read_timed(mp(&M, "maps/%s/line", name), page, (size_t)PAGE), EIO,
		     "read line running into page 1");
	cr_expect_eq(get_num(name, "pos"), PAGE - 10, "a failed line read leaves pos");
	set_pos(name, 0);

	/* find and rfind that must scan page 1; ones that need not still work. */
	expect_errno(map_cmd(&M, name, "find zzz 0", out, sizeof out), EIO, "find across page 1");
	cr_expect(strncmp(out, "error: ", 7) == 0, "find's result line: %s", out);
	expect_errno(map_cmd(&M, name, "rfind a", out, sizeof out), EIO, "rfind across page 1");
	char command[128];
	snprintf(command, sizeof command, "find a 0 %ld", PAGE);
	cr_expect_eq(map_cmd(&M, name, command, out, sizeof out), 0, "find within page 0");
	cr_expect_str_eq(out, "0");
	if (tail_ok) {
		snprintf(command, sizeof command, "rfind c %ld", 2 * PAGE);
		cr_expect_eq(map_cmd(&M, name, command, out, sizeof out), 0, "rfind within page 2");
		snprintf(command, sizeof command, "%ld", 3 * PAGE - 1);
		cr_expect_str_eq(out, command);
	}

	/* move from and to page 1; between pages 0 and 2 it works. */
	snprintf(command, sizeof command, "move 0 %ld 10", PAGE);
	expect_errno(map_cmd(&M, name, command, out, sizeof out), EIO, "move from page 1");
	snprintf(command, sizeof command, "move %ld 0 10", PAGE + 10);
	expect_errno(map_cmd(&M, name, command, out, sizeof out), EIO, "move to page 1");
	snprintf(command, sizeof command, "move 0 %ld 10", 20L);
	cr_expect_eq(map_cmd(&M, name, command, out, sizeof out), 0, "move within page 0");
	if (tail_ok) {
		snprintf(command, sizeof command, "move %ld 0 10", 2 * PAGE);
		cr_expect_eq(map_cmd(&M, name, command, out, sizeof out), 0,
			     "move page 0 -> page 2");
		snprintf(command, sizeof command, "move %ld %ld 10", 2 * PAGE, 2 * PAGE + 10);
		cr_expect_eq(map_cmd(&M, name, command, out, sizeof out), 0,
			     "move within page 2");
	} else {
		snprintf(command, sizeof command, "move %ld 0 10", 2 * PAGE);
		expect_errno(map_cmd(&M, name, command, out, sizeof out), EIO, "move to page 2");
	}

	/* The pages around it, the attributes and the server are fine. */
	expect_page(name, 0, 'a');
	ssize_t w = pwrite_timed(data, "A", 1, 0);
	cr_expect_eq(w, 1, "write page 0: %s", w < 0 ? strerror((int)-w) : "short");
	w = pwrite_timed(data, "a", 1, 0);
	cr_expect_eq(w, 1, "write page 0 back: %s", w < 0 ? strerror((int)-w) : "short");
	cr_expect_eq(get_num(name, "size"), 3 * PAGE);
	expect_server_fine();
	free(page);
}

/* Another mapping keeps working while one faults. */
static void expect_other_mapping_works(const char *other)
{
	cr_expect_eq(pwrite_timed(mp(&M, "maps/%s/data", other), "fine", 4, 0), 4);
	char buf[8] = "";
	cr_expect_eq(pread_timed(mp(&M, "maps/%s/data", other), buf, 4, 0), 4);
	cr_expect(memcmp(buf, "fine", 4) == 0);
}

/* ---- (a) vanished pages ------------------------------------------------ */

Test(faults, truncated_backing_file_gives_eio_and_the_rest_works)
{
	make_abc(sp(&M, "f"));
	map_ok(&M, "%s name=t", sp(&M, "f"));
	char command[256];
	snprintf(command, sizeof command, "%s length=%ld name=first", sp(&M, "f"), PAGE);
	map_ok(&M, "%s", command);
	map_ok(&M, "anon length=%ld name=other", PAGE);

	/* Pages 1 and 2 vanish under the mapping. */
	cr_assert_eq(truncate(sp(&M, "f"), PAGE), 0);
	cr_expect_eq(get_num("t", "filesize"), PAGE);
	char buf[64];
	expect_errno(pread_timed(mp(&M, "maps/t/data"), buf, 10, 2 * PAGE + 5), EIO,
		     "read data page 2");
	expect_page1_faults("t", false);
	expect_other_mapping_works("other");
	expect_page("first", 0, 'a');

	/* The file grows back: the pages are the file's (zeros) again. */
	cr_assert_eq(truncate(sp(&M, "f"), 3 * PAGE), 0);
	expect_page("t", 1, '\0');
	cr_expect_eq(pwrite_timed(mp(&M, "maps/t/data"), "back", 4, PAGE), 4);
	char out[128];
	cr_expect_eq(root_cmd(&M, "close t", out, sizeof out), 0, "close: %s", out);
	size_t len;
	char *file = slurp(sp(&M, "f"), &len);
	cr_assert(file && len == 3 * (size_t)PAGE);
	cr_expect(memcmp(file + PAGE, "back", 4) == 0, "written after the file grew back");
	free(file);
	expect_server_fine();
}

Test(faults, truncated_file_of_a_private_mapping_gives_eio)
{
	make_abc(sp(&M, "f"));
	map_ok(&M, "%s access=copy name=cp", sp(&M, "f"));
	cr_assert_eq(truncate(sp(&M, "f"), PAGE), 0);
	char buf[16];
	expect_errno(pread_timed(mp(&M, "maps/cp/data"), buf, 10, PAGE), EIO, "read copy page 1");
	expect_errno(pwrite_timed(mp(&M, "maps/cp/data"), "X", 1, PAGE), EIO,
		     "write copy page 1");
	expect_page("cp", 0, 'a');
	expect_server_fine();
}

/* ---- (a) guard pages ---------------------------------------------------- */

static void install_guard(const char *name)
{
	char command[128], out[256];
	snprintf(command, sizeof command, "madvise guard_install %ld %ld", PAGE, PAGE);
	int rc = map_cmd(&M, name, command, out, sizeof out);
	cr_assert_eq(rc, 0, "%s: %s (%s)", command, strerror(-rc), out);
}

static void remove_guard(const char *name)
{
	char command[128], out[256];
	snprintf(command, sizeof command, "madvise MADV_GUARD_REMOVE %ld %ld", PAGE, PAGE);
	int rc = map_cmd(&M, name, command, out, sizeof out);
	cr_assert_eq(rc, 0, "%s: %s (%s)", command, strerror(-rc), out);
}

Test(faults, guard_pages_of_a_file_give_eio_until_removed)
{
	make_abc(sp(&M, "f"));
	map_ok(&M, "%s name=g", sp(&M, "f"));
	map_ok(&M, "anon length=%ld name=other", PAGE);
	install_guard("g");
	expect_page1_faults("g", true);
	expect_other_mapping_works("other");
	remove_guard("g");
	/* The page cache kept the page: it comes back as it was. */
	expect_page("g", 1, 'b');
	cr_expect_eq(pwrite_timed(mp(&M, "maps/g/data"), "guarded", 7, PAGE), 7);
	size_t len;
	char *file = slurp(sp(&M, "f"), &len);
	cr_assert(file && len == 3 * (size_t)PAGE);
	cr_expect(memcmp(file + PAGE, "guarded", 7) == 0);
	free(file);
}

static void fill_abc(const char *name)
{
	char *buf = malloc(3 * (size_t)PAGE);
	memset(buf, 'a', (size_t)PAGE);
	memset(buf + PAGE, 'b', (size_t)PAGE);
	memset(buf + 2 * PAGE, 'c', (size_t)PAGE);
	cr_assert_eq(pwrite_timed(mp(&M, "maps/%s/data", name), buf, 3 * (size_t)PAGE, 0),
		     3 * PAGE);
	free(buf);
}

Test(faults, guard_pages_of_shared_anonymous_memory_give_eio_until_removed)
{
	map_ok(&M, "anon length=%ld name=ga", 3 * PAGE);
	map_ok(&M, "anon length=%ld name=other", PAGE);
	fill_abc("ga");
	install_guard("ga");
	expect_page1_faults("ga", true);
	expect_other_mapping_works("other");
	remove_guard("ga");
	expect_page("ga", 1, 'b');
}

Test(faults, guard_pages_of_private_anonymous_memory_give_eio_until_removed)
{
	map_ok(&M, "anon length=%ld flags=private name=gp", 3 * PAGE);
	map_ok(&M, "anon length=%ld name=other", PAGE);
	fill_abc("gp");
	install_guard("gp");
	expect_page1_faults("gp", true);
	expect_other_mapping_works("other");
	remove_guard("gp");
	/* Installing a guard discards a private page: it comes back as zeros. */
	expect_page("gp", 1, '\0');
	cr_expect_eq(pwrite_timed(mp(&M, "maps/gp/data"), "x", 1, PAGE), 1);
}

/* ---- (b) SIGKILL ---------------------------------------------------------- */

Test(faults, data_written_before_sigkill_is_in_the_file)
{
	size_t n = 4 * (size_t)PAGE;
	char *buf = malloc(n);
	memset(buf, '.', n);
	make_file(sp(&M, "f"), buf, n);
	map_ok(&M, "%s name=k", sp(&M, "f"));
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)('A' + i % 26);
	cr_assert_eq(pwrite_timed(mp(&M, "maps/k/data"), buf, n, 0), (ssize_t)n);
	set_pos("k", 3);
	cr_assert_eq(pwrite_timed(mp(&M, "maps/k/stream"), "stream", 6, 0), 6);
	memcpy(buf + 3, "stream", 6);
	/* Grown through data: the new bytes are in the file too. */
	cr_assert_eq(pwrite_timed(mp(&M, "maps/k/data"), "tail", 4, (off_t)n), 4);
	cr_expect_eq(mnt_kill(&M, SIGKILL), -1, "died of SIGKILL");
	size_t len;
	char *file = slurp(sp(&M, "f"), &len);
	cr_assert(file, "read the backing file");
	cr_expect_eq(len, n + 4);
	cr_expect(len >= n && memcmp(file, buf, n) == 0, "the bytes written through the mapping");
	cr_expect(len == n + 4 && memcmp(file + n, "tail", 4) == 0);
	free(file);
	free(buf);
}

/* ---- (c) clean shutdown ------------------------------------------------ */

/* Write through a shared mapping, a grown one and a copy, stop the server
 * by stop(), and check the exit status, the files and the unmount. */
static void write_then_stop(int sig)
{
	make_file(sp(&M, "f"), "................", 16);
	make_file(sp(&M, "g"), "xx", 2);
	make_file(sp(&M, "c"), "copy", 4);
	map_ok(&M, "%s name=s", sp(&M, "f"));
	map_ok(&M, "%s name=grown", sp(&M, "g"));
	map_ok(&M, "%s access=copy name=c", sp(&M, "c"));
	map_ok(&M, "anon length=4096 name=a");
	cr_assert_eq(pwrite_timed(mp(&M, "maps/s/data"), "saved", 5, 0), 5);
	set_pos("s", 10);
	cr_assert_eq(pwrite_timed(mp(&M, "maps/s/stream"), "tail", 4, 0), 4);
	cr_assert_eq(pwrite_timed(mp(&M, "maps/grown/data"), "more", 4, 2), 4);
	cr_assert_eq(pwrite_timed(mp(&M, "maps/c/data"), "COPY", 4, 0), 4);
	cr_assert_eq(pwrite_timed(mp(&M, "maps/a/data"), "anon", 4, 0), 4);
	int rc;
	if (sig) {
		rc = mnt_kill(&M, sig);
	} else {
		const char *argv[] = { "fusermount3", "-u", M.dir, NULL };
		pid_t pid = fork();
		if (pid == 0) {
			execvp(argv[0], (char **)argv);
			_exit(127);
		}
		int st;
		waitpid(pid, &st, 0);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "fusermount3 -u");
		/* The server sees the unmount and exits by itself. */
		rc = mnt_kill(&M, 0);
	}
	cr_expect_eq(rc, 0, "clean exit with status 0 (got %d)", rc);
	size_t len;
	char *f = slurp(sp(&M, "f"), &len);
	cr_expect(f && len == 16 && memcmp(f, "saved.....tail..", 16) == 0, "f: %s", f);
	free(f);
	f = slurp(sp(&M, "g"), &len);
	cr_expect(f && len == 6 && memcmp(f, "xxmore", 6) == 0, "g: %s", f);
	free(f);
	f = slurp(sp(&M, "c"), &len);
	cr_expect(f && len == 4 && memcmp(f, "copy", 4) == 0, "a copy mapping keeps the file");
	free(f);
	struct stat st;
	cr_expect_eq(stat(mp(&M, "ctl"), &st), -1, "unmounted");
}

Test(faults, sigint_flushes_and_exits_zero)
{
	write_then_stop(SIGINT);
}

Test(faults, sigterm_flushes_and_exits_zero)
{
	write_then_stop(SIGTERM);
}

Test(faults, sighup_flushes_and_exits_zero)
{
	write_then_stop(SIGHUP);
}

Test(faults, fusermount_unmount_flushes_and_exits_zero)
{
	write_then_stop(0);
}

/* ---- (d) a closed mapping's open files ------------------------------ */

Test(faults, open_files_of_a_closed_mapping_give_enxio)
{
	make_file(sp(&M, "f"), "line one\nline two\n", 18);
	map_ok(&M, "%s name=x", sp(&M, "f"));
	static const char *const readable[] = { "data", "stream", "line", "size", "pos",
						"access", "filesize", "offset", "flags", "prot",
						"source" };
	enum { NR = sizeof readable / sizeof readable[0] };
	int fds[NR];
	for (int i = 0; i < NR; i++) {
		int writable = i < 2 || i == 3 || i == 4;
		fds[i] = open(mp(&M, "maps/x/%s", readable[i]), writable ? O_RDWR : O_RDONLY);
		cr_assert(fds[i] >= 0, "open %s: %s", readable[i], strerror(errno));
	}
	int ctl = open(mp(&M, "maps/x/ctl"), O_RDWR);
	cr_assert(ctl >= 0);
	char buf[256];
	/* Drop the usage text, then close through the root ctl. */
	cr_assert_eq(write(ctl, "seek 1", 6), 6);
	while (read(ctl, buf, sizeof buf) > 0)
		;
	char out[256];
	cr_assert_eq(root_cmd(&M, "close x", out, sizeof out), 0, "close: %s", out);
	/* The name is free again: the new mapping must not be touched. */
	map_ok(&M, "%s name=x", sp(&M, "f"));

	for (int i = 0; i < NR; i++) {
		errno = 0;
		cr_expect_eq(pread(fds[i], buf, sizeof buf, 0), -1, "read %s", readable[i]);
		cr_expect_eq(errno, ENXIO, "read %s: %s", readable[i], strerror(errno));
	}
	static const struct {
		int i;
		const char *text;
	} writes[] = { { 0, "X" }, { 1, "X" }, { 3, "4" }, { 4, "1" } };
	for (size_t k = 0; k < sizeof writes / sizeof writes[0]; k++) {
		errno = 0;
		cr_expect_eq(pwrite(fds[writes[k].i], writes[k].text, 1, 0), -1, "write %s",
			     readable[writes[k].i]);
		cr_expect_eq(errno, ENXIO, "write %s: %s", readable[writes[k].i], strerror(errno));
	}
	errno = 0;
	cr_expect_eq(fsync(fds[0]), -1, "fsync data");
	cr_expect_eq(errno, ENXIO, "fsync data: %s", strerror(errno));
	static const char *const commands[] = { "flush", "seek 0", "find l", "resize 4",
						"madvise normal", "move 0 1 1", "close" };
	for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++) {
		errno = 0;
		cr_expect_eq(write(ctl, commands[k], strlen(commands[k])), -1, "%s", commands[k]);
		cr_expect_eq(errno, ENXIO, "%s: %s", commands[k], strerror(errno));
		ssize_t n = read(ctl, buf, sizeof buf - 1);
		buf[n > 0 ? n : 0] = '\0';
		cr_expect_str_eq(buf, "error: mmap closed or invalid\n", "%s", commands[k]);
	}
	for (int i = 0; i < NR; i++)
		close(fds[i]);
	close(ctl);

	/* The new mapping of that name, and the file, are untouched. */
	size_t len;
	char *d = slurp(mp(&M, "maps/x/data"), &len);
	cr_expect(d && len == 18 && memcmp(d, "line one\nline two\n", 18) == 0, "new x: %s", d);
	free(d);
	cr_expect_eq(get_num("x", "pos"), 0);
	d = slurp(sp(&M, "f"), &len);
	cr_expect(d && len == 18 && memcmp(d, "line one\nline two\n", 18) == 0, "file: %s", d);
	free(d);
	expect_server_fine();
}

Test(faults, ftruncate_of_an_open_data_file_of_a_closed_mapping_is_enxio)
{
	make_file(sp(&M, "f"), "0123456789", 10);
	map_ok(&M, "%s name=x", sp(&M, "f"));
	int fd = open(mp(&M, "maps/x/data"), O_RDWR);
	cr_assert(fd >= 0);
	char out[256];
	cr_assert_eq(root_cmd(&M, "close x", out, sizeof out), 0, "close: %s", out);
	errno = 0;
	cr_expect_eq(ftruncate(fd, 2), -1, "ftruncate data");
	cr_expect_eq(errno, ENXIO, "ftruncate of the data file (a resize of the closed "
		     "mapping): %s", strerror(errno));
	close(fd);
	cr_expect_eq(size_of(sp(&M, "f")), 10, "the file is untouched");
}

/* ---- (e) sources that cannot be mapped ----------------------------------- */

static void expect_map_refused(const char *source, int err, const char *why)
{
	char command[4300], out[512];
	snprintf(command, sizeof command, "map %s", source);
	int rc = root_cmd(&M, command, out, sizeof out);
	cr_expect_eq(rc, -err, "map %s (%s): got %s, wanted %s (%s)", source, why,
		     rc == -ETIMEDOUT ? "a hang (no answer in time)" : strerror(-rc),
		     strerror(err), out);
	cr_expect(strncmp(out, "error: ", 7) == 0 && !strchr(out, '\n'),
		  "one error line for %s: '%s'", why, out);
}

static void expect_table_empty(void)
{
	char *stats = slurp(mp(&M, "stats"), NULL);
	cr_expect(stats && strncmp(stats, "maps 0\nbytes 0\n", 15) == 0, "stats: %s", stats);
	free(stats);
}

Test(faults, files_inside_the_mount_are_edeadlk)
{
	make_file(sp(&M, "f"), "abc", 3);
	map_ok(&M, "%s name=in", sp(&M, "f"));
	expect_map_refused(mp(&M, "stats"), EDEADLK, "a root file");
	expect_map_refused(mp(&M, "maps/in/data"), EDEADLK, "a mapping's data");
	expect_map_refused(mp(&M, "maps/in/ctl"), EDEADLK, "a mapping's ctl");
	/* Not lexically inside: the server must notice by the device. */
	char path[4200];
	snprintf(path, sizeof path, "/%s", mp(&M, "maps/in/data"));
	expect_map_refused(path, EDEADLK, "a path with a doubled slash");
	char *dot = strdup(M.dir);
	snprintf(path, sizeof path, "%s/../%s/maps/in/data", M.dir, strrchr(dot, '/') + 1);
	free(dot);
	expect_map_refused(path, EDEADLK, "a path through ..");
	cr_assert_eq(symlink(mp(&M, "maps/in/data"), sp(&M, "link")), 0);
	expect_map_refused(sp(&M, "link"), EDEADLK, "a symlink outside pointing inside");
	cr_assert_eq(symlink(M.dir, sp(&M, "dirlink")), 0);
	expect_map_refused(sp(&M, "dirlink/maps/in/data"), EDEADLK,
			   "a path through a symlink to the mount");
	int fd = open(mp(&M, "maps/in/data"), O_RDWR);
	cr_assert(fd >= 0);
	snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)getpid(), fd);
	expect_map_refused(path, EDEADLK, "/proc/PID/fd of an open file inside");
	close(fd);
	fd = open(mp(&M, "ctl"), O_RDWR);
	snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)getpid(), fd);
	expect_map_refused(path, EDEADLK, "/proc/PID/fd of the open root ctl");
	close(fd);
	/* Nothing was added; the mapping inside is untouched. */
	char *stats = slurp(mp(&M, "stats"), NULL);
	cr_expect(stats && strncmp(stats, "maps 1\nbytes 3\n", 15) == 0, "stats: %s", stats);
	free(stats);
	size_t len;
	char *d = slurp(mp(&M, "maps/in/data"), &len);
	cr_expect(d && len == 3 && memcmp(d, "abc", 3) == 0);
	free(d);
	expect_server_fine();
}

Test(faults, sources_that_are_not_regular_files_are_enodev)
{
	expect_map_refused(M.scratch, ENODEV, "a directory");
	expect_map_refused("/dev/null", ENODEV, "/dev/null");
	expect_map_refused("/dev/zero", ENODEV, "/dev/zero");
	cr_assert_eq(mkfifo(sp(&M, "fifo"), 0600), 0);
	expect_map_refused(sp(&M, "fifo"), ENODEV, "a FIFO with no writer");
	cr_assert_eq(symlink(sp(&M, "fifo"), sp(&M, "fifolink")), 0);
	expect_map_refused(sp(&M, "fifolink"), ENODEV, "a symlink to a FIFO");
	int p[2];
	cr_assert_eq(pipe(p), 0);
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)getpid(), p[0]);
	expect_map_refused(path, ENODEV, "/proc/PID/fd of a pipe");
	close(p[0]);
	close(p[1]);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)getpid(), s);
	expect_map_refused(path, ENODEV, "/proc/PID/fd of a socket");
	close(s);
	expect_table_empty();
	expect_server_fine();
}

/* ---- (e) limits ---------------------------------------------------------- */

Test(limits, max_maps_and_max_bytes_are_enospc, .fini = mnt_down, .timeout = 60)
{
	mnt_start(&M, "max_maps=3,max_bytes=64K");
	char out[256], command[4300];
	make_file(sp(&M, "f"), "0123456789", 10);
	map_ok(&M, "anon length=60K name=big");
	snprintf(command, sizeof command, "map %s name=small", sp(&M, "f"));
	cr_assert_eq(root_cmd(&M, command, out, sizeof out), 0, "%s", out);
	/* 60K + 10 mapped: 4K more does not fit, 4086 does. */
	int rc = root_cmd(&M, "map anon length=4K", out, sizeof out);
	cr_expect_eq(rc, -ENOSPC, "max_bytes: %s (%s)", strerror(-rc), out);
	cr_expect(strncmp(out, "error: ", 7) == 0, "%s", out);
	cr_expect_eq(root_cmd(&M, "map anon length=4086 name=last", out, sizeof out), 0, "%s", out);
	/* Full in bytes: no growth, by any way of resizing. */
	cr_expect_eq(map_cmd(&M, "small", "resize 11", out, sizeof out), -ENOSPC, "resize: %s",
		     out);
	cr_expect_eq(write_raw(mp(&M, "maps/small/size"), "11", 2, O_TRUNC), -ENOSPC);
	expect_errno(pwrite_timed(mp(&M, "maps/small/data"), "x", 1, 10), ENOSPC,
		     "write past the end");
	cr_expect_eq(truncate(mp(&M, "maps/small/data"), 20), -1);
	cr_expect_eq(errno, ENOSPC, "truncate: %s", strerror(errno));
	cr_expect_eq(get_num("small", "size"), 10);
	cr_expect_eq(size_of(sp(&M, "f")), 10, "the file did not grow");
	/* Full in count: a fourth mapping is refused, whatever its size. */
	rc = root_cmd(&M, "map anon length=0 name=none", out, sizeof out);
	cr_expect(rc == -ENOSPC || rc == -EINVAL, "%s", out);
	cr_expect_eq(map_cmd(&M, "last", "resize 4000", out, sizeof out), 0, "shrink: %s", out);
	rc = root_cmd(&M, "map anon length=16", out, sizeof out);
	cr_expect_eq(rc, -ENOSPC, "max_maps: %s (%s)", strerror(-rc), out);
	char *stats = slurp(mp(&M, "stats"), NULL);
	const char *want = "maps 3\nbytes 65450\nmax_maps 3\nmax_bytes 65536\n";
	cr_expect(stats && strncmp(stats, want, strlen(want)) == 0, "stats: %s", stats);
	free(stats);
	/* Room again after a close. */
	cr_assert_eq(root_cmd(&M, "close big", out, sizeof out), 0);
	cr_expect_eq(root_cmd(&M, "map anon length=16 name=again", out, sizeof out), 0, "%s", out);
	cr_expect_eq(map_cmd(&M, "small", "resize 20", out, sizeof out), 0, "%s", out);
	cr_expect(server_answers(&M));
	cr_expect_eq(mnt_stop(&M), 0, "clean exit");
}

/* ---- (e) growth on a full file system ------------------------------------ */

/* A 1 MiB tmpfs in the scratch directory, unmounted by the fini. */
static char small_fs[4200];

static void small_fs_down(void)
{
	if (small_fs[0]) {
		/* Stop the server first: the tmpfs is busy while its mappings
		 * exist. mnt_stop, below, removes the scratch directory, which
		 * must not hold the tmpfs then. */
		mnt_kill(&M, SIGTERM);
		if (umount2(small_fs, 0) < 0)
			umount2(small_fs, MNT_DETACH);
		small_fs[0] = '\0';
	}
	mnt_stop(&M);
}

Test(faults_fullfs, growth_past_a_full_file_system_is_enospc_not_sigbus, .init = mnt_up,
     .fini = small_fs_down, .timeout = 60)
{
	snprintf(small_fs, sizeof small_fs, "%s", sp(&M, "small"));
	cr_assert_eq(mkdir(small_fs, 0700), 0);
	if (mount("tmpfs", small_fs, "tmpfs", 0, "size=1M") < 0) {
		int e = errno;
		small_fs[0] = '\0';
		if (e == EPERM)
			cr_skip_test("cannot mount a tmpfs here (not root?)");
		cr_assert_fail("mount tmpfs: %s", strerror(e));
	}
	char path[4300], out[256];
	snprintf(path, sizeof path, "%s/f", small_fs);
	make_file(path, "0123456789", 10);
	map_ok(&M, "%s name=full", path);

	/* Growth that fits: the blocks are there, so writing them never faults. */
	size_t fits = 768 * 1024;
	char *buf = malloc(2 * 1024 * 1024);
	memset(buf, 'g', 2 * 1024 * 1024);
	cr_assert_eq(pwrite_timed(mp(&M, "maps/full/data"), "x", 1, (off_t)fits - 1), 1);
	cr_expect_eq(size_of(path), (long long)fits);
	cr_assert_eq(pwrite_timed(mp(&M, "maps/full/data"), buf, fits, 0), (ssize_t)fits,
		     "writing every grown byte");

	/* Growth past 1 MiB: ENOSPC now, nothing changed. */
	ssize_t r = pwrite_timed(mp(&M, "maps/full/data"), buf, 8, 2 * 1024 * 1024 - 8);
	expect_errno(r, ENOSPC, "a write growing the mapping past the file system");
	cr_expect_eq(map_cmd(&M, "full", "resize 2M", out, sizeof out), -ENOSPC, "resize: %s",
		     out);
	cr_expect_eq(write_raw(mp(&M, "maps/full/size"), "1536K", 5, O_TRUNC), -ENOSPC);
	cr_expect_eq(get_num("full", "size"), (long long)fits);
	cr_expect_eq(size_of(path), (long long)fits, "the file is as it was");

	/* Fill what is left of the file system from outside, then grow a little:
	 * still ENOSPC (the blocks are reserved when the mapping grows), and
	 * the server is alive, not killed by SIGBUS. */
	char filler[4300];
	snprintf(filler, sizeof filler, "%s/filler", small_fs);
	int fd = open(filler, O_WRONLY | O_CREAT, 0600);
	cr_assert(fd >= 0);
	while (write(fd, buf, 64 * 1024) > 0)
		;
	close(fd);
	r = pwrite_timed(mp(&M, "maps/full/data"), buf, 64 * 1024, (off_t)fits);
	expect_errno(r, ENOSPC, "a write growing the mapping on a full file system");
	cr_expect(server_answers(&M), "no SIGBUS: the server lives");
	/* The mapping still works within its length, and shrinking works. */
	cr_expect_eq(pwrite_timed(mp(&M, "maps/full/data"), "ok", 2, 0), 2);
	cr_expect_eq(map_cmd(&M, "full", "resize 4096", out, sizeof out), 0, "%s", out);
	cr_expect_eq(size_of(path), 4096);
	unlink(filler);
	cr_expect_eq(map_cmd(&M, "full", "resize 64K", out, sizeof out), 0, "%s", out);
	cr_expect_eq(pwrite_timed(mp(&M, "maps/full/data"), "end", 3, 64 * 1024 - 3), 3);
	free(buf);
	cr_expect(server_answers(&M));
}
