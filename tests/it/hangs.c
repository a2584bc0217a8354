/* it_hangs.c - the deadlock rule through real mounts: no source on a FUSE
 * file system is ever mapped (EDEADLK), whatever path leads there (this
 * mount at a path mountinfo must escape, a symlink, "..", a /proc magic
 * link, a second mount, a cycle of two mounts), with -s too, and finding
 * out never sends that file system a request: a stopped server's mount is
 * refused at once.
 *
 * Every command runs time-limited in a child process (root_cmd), and the
 * suite has a watchdog (.timeout), so a regression fails instead of
 * hanging the run. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
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
#include "core/deadlock.h"

static struct mnt A, B;

static void down(void)
{
	if (B.pid > 0)
		kill(B.pid, SIGCONT);
	if (B.dir[0])
		mnt_stop(&B);
	if (A.dir[0])
		mnt_stop(&A);
}

TestSuite(hangs, .fini = down, .timeout = 90);

static const char INSIDE[] = "error: cannot map a file inside this mount (it would deadlock)";
static const char ON_FUSE[] = "error: cannot map a file on a FUSE file system";

/* `map 'SOURCE'` on m must fail with EDEADLK, in time, with a message that
 * starts with want. */
static void expect_deadlock(const struct mnt *m, const char *source, const char *want,
			    const char *why)
{
	char command[4400], out[512] = "";
	snprintf(command, sizeof command, "map '%s' flags=private", source);
	int rc = root_cmd(m, command, out, sizeof out);
	cr_expect_eq(rc, -EDEADLK, "map %s (%s): got %s (%s)", source, why,
		     rc == -ETIMEDOUT ? "a hang" : strerror(-rc), out);
	cr_expect(strncmp(out, want, strlen(want)) == 0, "%s: '%s', wanted '%s...'", why, out,
		  want);
}

/* n readers at once of path, each time-limited: all must read len bytes. */
static void expect_parallel_reads(const char *path, int n, ssize_t len)
{
	pid_t pids[64];
	cr_assert(n <= 64);
	for (int i = 0; i < n; i++) {
		pids[i] = fork();
		cr_assert(pids[i] >= 0);
		if (pids[i] == 0) {
			char buf[4096];
			ssize_t got = pread_timed(path, buf, sizeof buf, 0);
			_exit(got == len ? 0 : got == -ETIMEDOUT ? 2 : 1);
		}
	}
	int hung = 0, wrong = 0;
	for (int i = 0; i < n; i++) {
		int st;
		waitpid(pids[i], &st, 0);
		hung += WIFEXITED(st) && WEXITSTATUS(st) == 2;
		wrong += !WIFEXITED(st) || WEXITSTATUS(st) == 1;
	}
	cr_expect_eq(hung, 0, "%d of %d parallel reads of %s hung", hung, n, path);
	cr_expect_eq(wrong, 0, "%d of %d parallel reads of %s were wrong", wrong, n, path);
}

static const char *proc_fd(int fd)
{
	static char path[64];
	snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)getpid(), fd);
	return path;
}

/* The mount's own files, every way the audit and its class name. */
static void expect_own_files_refused(const struct mnt *m)
{
	make_file(sp(m, "f"), "hello", 5);
	map_ok(m, "'%s' name=x", sp(m, "f"));
	cr_assert_eq(symlink(mp(m, "maps/x/data"), sp(m, "link")), 0);
	expect_deadlock(m, sp(m, "link"), INSIDE, "a symlink to data");
	cr_assert_eq(symlink(m->dir, sp(m, "dirlink")), 0);
	expect_deadlock(m, sp(m, "dirlink/maps/x/data"), INSIDE, "through a symlink to the mount");
	expect_deadlock(m, sp(m, "dirlink"), INSIDE, "a symlink to the mount point");
	cr_assert_eq(symlink("d/../dirlink/maps/x/data", sp(m, "rel")), 0);
	cr_assert_eq(mkdir(sp(m, "d"), 0700), 0);
	cr_assert_eq(mkdir(sp(m, "d/e"), 0700), 0);
	cr_assert_eq(symlink("../../rel", sp(m, "d/e/up")), 0);
	expect_deadlock(m, sp(m, "d/e/up"), INSIDE, "relative symlinks through ..");
	expect_deadlock(m, sp(m, "d/../dirlink/maps/../maps/x/data"), INSIDE, "a path with ..");
	int fd = open(mp(m, "maps/x/data"), O_RDONLY);
	cr_assert(fd >= 0);
	expect_deadlock(m, proc_fd(fd), INSIDE, "/proc/PID/fd of an open data file");
	close(fd);
	fd = open(mp(m, "maps/x"), O_RDONLY | O_DIRECTORY);
	cr_assert(fd >= 0);
	char path[128];
	snprintf(path, sizeof path, "%s/data", proc_fd(fd));
	expect_deadlock(m, path, INSIDE, "a file below /proc/PID/fd of an open directory");
	close(fd);
	fd = open(sp(m, "dirlink"), O_RDONLY | O_DIRECTORY);
	cr_assert(fd >= 0);
	snprintf(path, sizeof path, "/proc/%d/task/%d/fd/%d/stats", (int)getpid(), (int)gettid(),
		 fd);
	expect_deadlock(m, path, INSIDE, "a thread's fd link to the mount's root");
	close(fd);
	/* Nothing was mapped; the mount answers. */
	char *stats = slurp(mp(m, "stats"), NULL);
	cr_expect(stats && strncmp(stats, "maps 1\n", 7) == 0, "stats: %s", stats);
	free(stats);
}

/* 9.7: mountinfo writes these characters as octal escapes. */
Test(hangs, a_mount_point_with_a_space_tab_and_backslash)
{
	char base[4096];
	const char *tmp = getenv("TMPDIR");
	snprintf(base, sizeof base, "%s/hangs a\tb\\c.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	cr_assert(mkdtemp(base), "mkdtemp: %s", strerror(errno));
	setenv("TMPDIR", base, 1);
	mnt_start(&A, NULL);
	cr_assert(strstr(A.dir, " ") && strstr(A.dir, "\t") && strstr(A.dir, "\\"), "%s", A.dir);
	expect_own_files_refused(&A);
	expect_parallel_reads(mp(&A, "maps/x/data"), 32, 5);
	cr_expect(server_answers(&A));
	mnt_stop(&A);
	rmdir(base);
}

/* -s: one thread, so even the open's lookups into the mount would hang. */
static void use_single_thread_server(void)
{
	static char script[4096];
	const char *bin = getenv("MMAPFS_BIN");
	const char *tmp = getenv("TMPDIR");
	snprintf(script, sizeof script, "%s/mmapfs-s.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	int fd = mkstemp(script);
	cr_assert(fd >= 0);
	dprintf(fd, "#!/bin/sh\nexec '%s' -s \"$@\"\n", bin ? bin : "src/server/mmapfs");
	fchmod(fd, 0755);
	close(fd);
	setenv("MMAPFS_BIN", script, 1);
}

Test(hangs, single_threaded_own_files_are_refused)
{
	use_single_thread_server();
	mnt_start(&A, NULL);
	expect_own_files_refused(&A);
	expect_parallel_reads(mp(&A, "maps/x/data"), 32, 5);
	cr_expect(server_answers(&A));
}

/* 9.8: each mount maps the other's data: the second map closes a cycle. */
static void expect_cycle_refused(void)
{
	make_file(sp(&A, "f"), "from A", 6);
	make_file(sp(&B, "g"), "from B", 6);
	map_ok(&A, "'%s' name=x", sp(&A, "f"));
	map_ok(&B, "'%s' name=x", sp(&B, "g"));
	expect_deadlock(&B, mp(&A, "maps/x/data"), ON_FUSE, "B maps A's data");
	expect_deadlock(&A, mp(&B, "maps/x/data"), ON_FUSE, "A maps B's data");
	expect_parallel_reads(mp(&A, "maps/x/data"), 16, 6);
	expect_parallel_reads(mp(&B, "maps/x/data"), 16, 6);
	cr_expect(server_answers(&A) && server_answers(&B));
}

Test(hangs, a_cycle_of_two_mounts_is_refused)
{
	mnt_start(&A, NULL);
	mnt_start(&B, NULL);
	expect_cycle_refused();
}

Test(hangs, a_cycle_of_two_single_threaded_mounts_is_refused)
{
	use_single_thread_server();
	mnt_start(&A, NULL);
	mnt_start(&B, NULL);
	expect_cycle_refused();
}

/* Files of another FUSE mount, every way there. */
Test(hangs, files_on_another_fuse_mount_are_refused)
{
	mnt_start(&A, NULL);
	mnt_start(&B, NULL);
	make_file(sp(&B, "g"), "from B", 6);
	map_ok(&B, "'%s' name=x", sp(&B, "g"));
	static const char *const files[] = { "maps/x/data", "maps/x/size", "ctl", "stats", "log" };
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
		expect_deadlock(&A, mp(&B, "%s", files[i]), ON_FUSE, files[i]);
	expect_deadlock(&A, B.dir, ON_FUSE, "the mount point itself");
	cr_assert_eq(symlink(mp(&B, "maps/x/data"), sp(&A, "link")), 0);
	expect_deadlock(&A, sp(&A, "link"), ON_FUSE, "a symlink");
	int fd = open(mp(&B, "maps/x/data"), O_RDONLY);
	cr_assert(fd >= 0);
	expect_deadlock(&A, proc_fd(fd), ON_FUSE, "/proc/PID/fd");
	close(fd);
	/* A magic link to a directory, then names below it. */
	cr_assert_eq(chdir(mp(&B, "maps")), 0);
	char path[128];
	snprintf(path, sizeof path, "/proc/%d/cwd/x/data", (int)getpid());
	expect_deadlock(&A, path, ON_FUSE, "/proc/PID/cwd and below");
	cr_assert_eq(chdir("/"), 0);
	snprintf(path, sizeof path, "/proc/%d/root", (int)getpid());
	char via_root[4400];
	snprintf(via_root, sizeof via_root, "%s%s", path, mp(&B, "maps/x/data"));
	expect_deadlock(&A, via_root, ON_FUSE, "/proc/PID/root and below");
	char *stats = slurp(mp(&A, "stats"), NULL);
	cr_expect(stats && strncmp(stats, "maps 0\n", 7) == 0, "stats: %s", stats);
	free(stats);
}

/* The check never asks the other file system anything: with its server
 * stopped, any request to it would wait until the time limit. */
Test(hangs, a_stopped_servers_mount_is_refused_at_once)
{
	mnt_start(&A, NULL);
	mnt_start(&B, NULL);
	make_file(sp(&B, "g"), "from B", 6);
	map_ok(&B, "'%s' name=x", sp(&B, "g"));
	int fd = open(mp(&B, "maps/x/data"), O_RDONLY);
	cr_assert(fd >= 0);
	cr_assert_eq(symlink(mp(&B, "maps/x/data"), sp(&A, "link")), 0);
	cr_assert_eq(symlink(B.dir, sp(&A, "dirlink")), 0);
	cr_assert_eq(kill(B.pid, SIGSTOP), 0);
	expect_deadlock(&A, B.dir, ON_FUSE, "the stopped mount's root");
	expect_deadlock(&A, mp(&B, "maps/x/data"), ON_FUSE, "a file in the stopped mount");
	expect_deadlock(&A, mp(&B, "nonexistent"), ON_FUSE, "a name nobody could look up");
	expect_deadlock(&A, sp(&A, "link"), ON_FUSE, "a symlink into it");
	expect_deadlock(&A, sp(&A, "dirlink/ctl"), ON_FUSE, "a symlink to its mount point");
	expect_deadlock(&A, proc_fd(fd), ON_FUSE, "/proc/PID/fd of a file in it");
	cr_expect(server_answers(&A), "A was never held up");
	cr_assert_eq(kill(B.pid, SIGCONT), 0);
	close(fd);
	cr_expect(server_answers(&B));
}

/* The two checks themselves (core/deadlock.h), as any open path calls them,
 * on a real mount: the descriptor check catches a file that reached FUSE
 * in spite of the path check (a path changed in between). */
Test(hangs, the_checks_refuse_fuse_files_and_name_this_mount)
{
	mnt_start(&B, NULL);
	make_file(sp(&B, "g"), "from B", 6);
	map_ok(&B, "'%s' name=x", sp(&B, "g"));
	struct stat st;
	cr_assert_eq(stat(mp(&B, "maps/x/data"), &st), 0);
	static const char *const files[] = { "maps/x/data", "maps/x", "ctl", "" };
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		int fd = open(mp(&B, "%s", files[i]), O_RDONLY);
		cr_assert(fd >= 0, "%s", files[i]);
		struct msg m = { "" };
		cr_expect_eq(deadlock_check_fd(fd, 0, &m), -EDEADLK, "fd of %s", files[i]);
		cr_expect(strncmp(m.text, ON_FUSE + 7, strlen(ON_FUSE) - 7) == 0, "%s", m.text);
		cr_expect_eq(deadlock_check_fd(fd, st.st_dev, &m), -EDEADLK, "fd of %s", files[i]);
		cr_expect_str_eq(m.text, INSIDE + 7, "the message for this mount");
		close(fd);
		cr_expect_eq(deadlock_check_path(mp(&B, "%s", files[i]), st.st_dev, &m), -EDEADLK);
		cr_expect_str_eq(m.text, INSIDE + 7, "the message for this mount");
	}
	/* A file elsewhere passes both. */
	int fd = open(sp(&B, "g"), O_RDONLY);
	struct msg m = { "" };
	cr_expect_eq(deadlock_check_fd(fd, st.st_dev, &m), 0, "%s", m.text);
	cr_expect_eq(deadlock_check_path(sp(&B, "g"), st.st_dev, &m), 0, "%s", m.text);
	close(fd);
}
