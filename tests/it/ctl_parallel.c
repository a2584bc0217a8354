/* ctl_parallel.c - a slow command on one open control file does not hold up
 * a command on another (issue 9, item 9).
 *
 * What is slow, honestly: work the kernel does for the command, with no
 * memory to speak of. On the root ctl, `map` of 64 GiB of private
 * anonymous memory with flags=populate and prot=read, which maps the zero
 * page into every one of its 16 million page-table entries (seconds); on a
 * mapping's ctl, `touch` of such a mapping, which reads every page.
 * Meanwhile a quick command on another open file of the same ctl must
 * finish within QUICK_MS. Before the fix the kernel ran writes to one ctl
 * inode one at a time (its inode lock, held across the request), so the
 * quick one waited for the slow one. (The first version of this test
 * stalled a second mount instead; the deadlock rule now refuses any source
 * on a FUSE file system without touching it, so that is no longer slow.)
 *
 * Nothing can hang: the slow command ends by itself, every quick command
 * runs in a child under a time limit, and the suite has a timeout. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/harness.h"

#define QUICK_MS 1500	/* a 4 KiB map takes well under 100 ms, even under load */

static struct mnt A;

/* Seconds of kernel work, and no memory but page tables. */
#define SLOW_MAP "map anon length=64G flags=private,noreserve,populate prot=read name=slow"

static void up(void)
{
	mnt_start(&A, NULL);
}

static void down(void)
{
	mnt_stop(&A);
}

TestSuite(ctl_parallel, .init = up, .fini = down, .timeout = 60);

static long long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Whether pid is inside write(2) (syscall 1 on x86-64, 64 on arm64). */
static bool in_write(pid_t pid)
{
	char path[64], buf[64] = "";
	snprintf(path, sizeof path, "/proc/%d/syscall", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	bool got = fgets(buf, sizeof buf, f) != NULL;
	fclose(f);
#ifdef __aarch64__
	return got && strncmp(buf, "64 ", 3) == 0;
#else
	return got && strncmp(buf, "1 ", 2) == 0;
#endif
}

/* Wait until the slow command's child is inside its write(), then a little
 * more, so that it holds whatever it takes. */
static pid_t await_slow(pid_t pid)
{
	long long give_up = now_ms() + 3000;
	while (!in_write(pid) && now_ms() < give_up)
		usleep(5000);
	cr_assert(in_write(pid), "the slow command never got into write()");
	usleep(200 * 1000);
	cr_assert(in_write(pid), "the slow command was not slow");
	return pid;
}

/* Start the slow command in a child, on a fresh open of ctl. */
static pid_t start_slow_opened(const char *ctl, const char *command, int oflags)
{
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int fd = open(ctl, oflags);
		ssize_t n = fd < 0 ? -1 : write(fd, command, strlen(command));
		_exit(n < 0 ? 1 : 0);
	}
	return await_slow(pid);
}

static pid_t start_slow(const char *ctl, const char *command)
{
	return start_slow_opened(ctl, command, O_RDWR);
}

static void finish_slow(pid_t pid)
{
	int st;
	cr_assert(waitpid(pid, &st, 0) == pid);
}

struct quick {
	int fd;			/* an open control file, or -1: open path afresh */
	const char *path;
	const char *command;
	int oflags;		/* for a fresh open; 0: O_RDWR */
};

static int quick_write(void *ctx, int out)
{
	(void)out;
	struct quick *q = ctx;
	int fd = q->fd >= 0 ? q->fd : open(q->path, q->oflags ? q->oflags : O_RDWR);
	if (fd < 0)
		return 100;
	ssize_t n = write(fd, q->command, strlen(q->command));
	return n == (ssize_t)strlen(q->command) ? 0 : 101;
}

/* Run the quick command; it must be done within QUICK_MS while the slow
 * one is still waiting. Returns the time it took. */
static long long expect_quick(struct quick *q, pid_t slow)
{
	long long t0 = now_ms();
	int rc = run_limited(QUICK_MS, quick_write, q, NULL, 0, NULL);
	long long took = now_ms() - t0;
	cr_expect_eq(rc, 0, "'%s' on another open file of %s: %s after %lld ms", q->command,
		     q->path, rc == -ETIMEDOUT ? "still waiting" : "failed", took);
	cr_expect(in_write(slow), "the slow command ended first: the test proves nothing");
	return took;
}

/* y: LENGTH of private read-only memory, every page the zero page: what
 * the slow commands on a mapping's ctl work through, with no memory. */
static void map_zero_pages(const char *length)
{
	char command[128], out[512];
	snprintf(command, sizeof command,
		 "map anon length=%s flags=private,noreserve prot=read name=y", length);
	cr_assert_eq(root_cmd(&A, command, out, sizeof out), 0, "%s", out);
}

/* ---- the root ctl ------------------------------------------------------ */

Test(ctl_parallel, slow_map_does_not_hold_up_a_fresh_open)
{
	pid_t slow = start_slow(mp(&A, "ctl"), SLOW_MAP);
	struct quick q = { -1, mp(&A, "ctl"), "map anon length=4096 name=quick", 0 };
	long long took = expect_quick(&q, slow);
	cr_log_info("a 4 KiB map beside a slow one took %lld ms", took);
	finish_slow(slow);
	cr_expect(attr_num(&A, "quick", "size") == 4096);
}

/* `echo CMD > ctl` opens with O_TRUNC. With FUSE's atomic O_TRUNC the
 * kernel then sets the ctl's size to 0, and every later write, this one's
 * and other clients', passes the end and runs alone: the server asks for
 * O_TRUNC as a SETATTR instead, whose reply keeps the size. */
Test(ctl_parallel, a_shell_redirect_does_not_make_writes_wait)
{
	int fd = open(mp(&A, "ctl"), O_WRONLY | O_TRUNC);
	cr_assert(fd >= 0);
	const char *first = "map anon length=4096 name=first";
	cr_assert_eq(write(fd, first, strlen(first)), (ssize_t)strlen(first));
	close(fd);
	pid_t slow = start_slow_opened(mp(&A, "ctl"), SLOW_MAP, O_WRONLY | O_TRUNC);
	struct quick q = { -1, mp(&A, "ctl"), "map anon length=4096 name=quick", 0 };
	expect_quick(&q, slow);
	finish_slow(slow);
	cr_expect(attr_num(&A, "quick", "size") == 4096);
}

/* Both as a shell sends them, `echo CMD > ctl`: the quick one's open
 * truncates, which takes the inode's lock alone; each lookup of ctl has an
 * inode of its own, so it is not the slow one's. */
Test(ctl_parallel, two_shell_redirects_run_side_by_side)
{
	pid_t slow = start_slow_opened(mp(&A, "ctl"), SLOW_MAP, O_WRONLY | O_TRUNC);
	struct quick q = { -1, mp(&A, "ctl"), "map anon length=4096 name=quick",
			   O_WRONLY | O_TRUNC };
	expect_quick(&q, slow);
	finish_slow(slow);
	cr_expect(attr_num(&A, "quick", "size") == 4096);
}

/* The kernel runs a write in parallel only if it ends within the file's
 * size; an open file that has carried more than that in all must still
 * not wait (control files have no file position). */
Test(ctl_parallel, slow_map_does_not_hold_up_a_long_used_open)
{
	int fd = open(mp(&A, "ctl"), O_RDWR);
	cr_assert(fd >= 0);
	/* Well over 64 KiB through this open file, in commands that work. */
	static char batch[60000];
	size_t used = 0;
	for (int i = 0; used + 64 < sizeof batch; i++)
		used += (size_t)snprintf(batch + used, sizeof batch - used,
					 "map anon length=4096 name=b%d\nclose b%d\n", i, i);
	for (int round = 0; round < 3; round++)
		cr_assert_eq(write(fd, batch, used), (ssize_t)used, "%s", strerror(errno));
	pid_t slow = start_slow(mp(&A, "ctl"), SLOW_MAP);
	struct quick q = { fd, mp(&A, "ctl"), "map anon length=4096 name=quick", 0 };
	expect_quick(&q, slow);
	finish_slow(slow);
	close(fd);
	cr_expect(attr_num(&A, "quick", "size") == 4096);
}

/* ---- a mapping's ctl --------------------------------------------------- */

Test(ctl_parallel, slow_touch_does_not_hold_up_a_mapping_ctl)
{
	map_zero_pages("16G");
	/* touch reads every page of 16 GiB (each the zero page): seconds. */
	pid_t slow = start_slow(mp(&A, "maps/y/ctl"), "touch");
	struct quick q = { -1, mp(&A, "maps/y/ctl"), "find x 0 1", 0 };
	expect_quick(&q, slow);
	finish_slow(slow);
}

/* lock of 64 GiB (each page the zero page, locked): seconds of mlock.
 * Done in one call, it would hold the server's mmap lock all along, and
 * any map (whose mmap takes that lock alone) would wait for it; and the
 * mapping's own lock is held shared, so its reads go on too. */
Test(ctl_parallel, slow_lock_does_not_hold_up_maps_or_reads)
{
	map_zero_pages("64G");
	pid_t slow = start_slow(mp(&A, "maps/y/ctl"), "lock");
	struct quick q = { -1, mp(&A, "ctl"), "map anon length=4096 name=quick", 0 };
	expect_quick(&q, slow);
	struct quick r = { -1, mp(&A, "maps/y/ctl"), "find x 0 1", 0 };
	expect_quick(&r, slow);
	finish_slow(slow);
}

/* The same for advice that works through the whole range. */
Test(ctl_parallel, slow_advice_does_not_hold_up_maps)
{
	map_zero_pages("64G");
	pid_t slow = start_slow(mp(&A, "maps/y/ctl"), "madvise populate_read");
	struct quick q = { -1, mp(&A, "ctl"), "map anon length=4096 name=quick", 0 };
	expect_quick(&q, slow);
	finish_slow(slow);
}

/* flags=locked faults the whole mapping in. Inside mmap(2) that would hold
 * the server's mmap lock for seconds, so another map (whose mmap takes it
 * alone) would wait; and once one thread waits for it alone, every page
 * fault of the server, in any mapping, waits behind it. */
Test(ctl_parallel, slow_locked_map_does_not_hold_up_another_map)
{
	pid_t slow = start_slow(mp(&A, "ctl"), "map anon length=64G "
				"flags=private,noreserve,locked prot=read name=slow");
	struct quick q = { -1, mp(&A, "ctl"), "map anon length=4096 name=quick", 0 };
	expect_quick(&q, slow);
	finish_slow(slow);
	cr_expect(attr_num(&A, "quick", "size") == 4096);
}

/* Over 64 KiB through one open of a mapping's ctl (one inode for every
 * open): without FOPEN_STREAM its file position would pass the ctl's size,
 * so its next write would run alone, waiting for a slow one elsewhere. */
Test(ctl_parallel, slow_touch_does_not_hold_up_a_long_used_mapping_ctl)
{
	map_zero_pages("16G");
	int fd = open(mp(&A, "maps/y/ctl"), O_RDWR);
	cr_assert(fd >= 0, "%s", strerror(errno));
	static char batch[60000], results[65536];
	size_t used = 0;
	while (used + 8 < sizeof batch)
		used += (size_t)snprintf(batch + used, sizeof batch - used, "seek 0\n");
	for (int round = 0; round < 3; round++) {
		cr_assert_eq(write(fd, batch, used), (ssize_t)used, "%s", strerror(errno));
		while (read(fd, results, sizeof results) > 0)
			; /* drain the "ok" lines, so the queue has room */
	}
	pid_t slow = start_slow(mp(&A, "maps/y/ctl"), "touch");
	struct quick q = { fd, mp(&A, "maps/y/ctl"), "find x 0 1", 0 };
	expect_quick(&q, slow);
	finish_slow(slow);
	close(fd);
}

/* A mapping's ctl has one inode for every open. `echo CMD > maps/y/ctl`
 * truncates it; with FUSE's atomic O_TRUNC the kernel would then take its
 * size to be what that write left (6 bytes here), and each longer write
 * through any open of it would pass the end and run alone, so a quick
 * command would wait for a slow one. */
Test(ctl_parallel, a_shell_redirect_to_a_mapping_ctl_leaves_later_writes_parallel)
{
	map_zero_pages("16G");
	int fd = open(mp(&A, "maps/y/ctl"), O_WRONLY | O_TRUNC);
	cr_assert(fd >= 0, "%s", strerror(errno));
	cr_assert_eq(write(fd, "seek 0", 6), 6, "%s", strerror(errno));
	close(fd);
	pid_t slow = start_slow(mp(&A, "maps/y/ctl"), "touch");
	struct quick q = { -1, mp(&A, "maps/y/ctl"), "find x 0 1", 0 };
	expect_quick(&q, slow);
	finish_slow(slow);
}
