/* swap.c - the `S` state of `pages`: a page pushed out to swap.
 *
 * Most machines that run this suite have no swap, so the test brings its
 * own: a small swap file in its scratch directory, switched on for the
 * test alone and off again after (also on failure). Pushing the pages out
 * with `madvise pageout` makes the kernel replace their page-table entries
 * with swap entries at once, so no memory pressure is needed. Needs root
 * (swapon); CI runs as root, so there it never skips.
 *
 * Swap is the machine's, not the suite's: with two suites at once, the
 * kernel may put this test's pages on the other's swap file, and its
 * swapoff then brings them back in before they are looked at. So the
 * test holds a machine-wide lock (flock on SWAP_LOCK) from before its
 * swapon to after its swapoff. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/swap.h>
#include <unistd.h>

#include "lib/harness.h"

#define SWAP_LOCK "/tmp/mmapfs-swap-test.lock"

static char swapfile[4200];
static bool swap_on;
static int swap_lock = -1;

static void up(void)
{
	if (geteuid() != 0)
		cr_skip_test("swapon needs root");
	swap_lock = open(SWAP_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	cr_assert(swap_lock >= 0, "%s: %s", SWAP_LOCK, strerror(errno));
	/* Waits while another suite's swap test runs (the suite's timeout
	 * bounds it). */
	cr_assert_eq(flock(swap_lock, LOCK_EX), 0, "flock %s: %s", SWAP_LOCK, strerror(errno));
	mnt_start(&M, NULL);
}

static void down(void)
{
	if (swap_on && swapoff(swapfile) < 0)
		fprintf(stderr, "swapoff %s: %s\n", swapfile, strerror(errno));
	swap_on = false;
	mnt_down();
	if (swap_lock >= 0)
		close(swap_lock); /* and with it the lock */
	swap_lock = -1;
}

TestSuite(swap, .init = up, .fini = down, .timeout = 60);

/* A swap file of its own, switched on; false (with the reason logged)
 * where the kernel or the file system will not swap to it. */
static void own_swap(void)
{
	snprintf(swapfile, sizeof swapfile, "%s", sp(&M, "swapfile"));
	char line[3 * sizeof swapfile + 200];
	snprintf(line, sizeof line,
		 "dd if=/dev/zero of='%s' bs=1M count=16 status=none && chmod 600 '%s' && "
		 "mkswap '%s' >/dev/null",
		 swapfile, swapfile, swapfile);
	cr_assert_eq(system(line), 0, "making a swap file failed: %s", line);
	cr_assert_eq(swapon(swapfile, 0), 0, "swapon %s: %s", swapfile, strerror(errno));
	swap_on = true;
}

/* The kernel's lru_add_drain_all(), from user space: a compaction starts
 * with it (root only, as is this suite). */
static void drain_lru_batches(void)
{
	FILE *f = fopen("/proc/sys/vm/compact_memory", "w");
	cr_assert_not_null(f, "/proc/sys/vm/compact_memory: %s", strerror(errno));
	fputs("1\n", f);
	fclose(f);
}

Test(swap, pages_pushed_out_to_swap_show_S)
{
	own_swap();
	long page = sysconf(_SC_PAGESIZE);
	const char *n = map_ok(&M, "anon length=%ld flags=private name=sw", 4 * page);
	char *bytes = malloc((size_t)(4 * page));
	cr_assert(bytes);
	memset(bytes, 'x', (size_t)(4 * page));
	cr_assert_eq(pwrite_at(mp(&M, "maps/%s/data", n), bytes, (size_t)(2 * page), 0), 0);
	free(bytes);
	/* MADV_PAGEOUT skips a page that is still in a CPU's batch on its way
	 * to the LRU lists (the server thread that wrote it may have run on
	 * another CPU than the one that pages it out). Should it, drain every
	 * CPU's batch (compaction does, first) and advise again. */
	char out[256], *p = NULL;
	for (int round = 0; round < 3; round++) {
		if (round > 0) {
			cr_log_info("pageout left %.4s: draining the LRU batches", p);
			drain_lru_batches();
		}
		cr_assert_eq(cmd(&M, "maps/sw/ctl", "madvise pageout", out, sizeof out), 0, "%s", out);
		free(p);
		p = read_all(mp(&M, "maps/sw/pages"), NULL);
		cr_assert(p);
		if (strcmp(p, "SS..\n") == 0)
			break;
	}
	/* The two written pages are in swap; the two never touched were never
	 * in memory at all. */
	cr_expect_str_eq(p, "SS..\n", "pages after pageout with swap on: %s", p);
	free(p);
	/* Reading a page brings it back in: no longer S. */
	size_t len;
	char *back = read_all(mp(&M, "maps/sw/data"), &len);
	cr_assert(back && len == (size_t)(4 * page) && back[0] == 'x' && back[page] == 'x');
	free(back);
	p = read_all(mp(&M, "maps/sw/pages"), NULL);
	cr_assert(p);
	cr_expect_neq(p[0], 'S', "a page read back is in memory again: %s", p);
	free(p);
}
