/* swap.c - the `S` state of `pages`: a page pushed out to swap.
 *
 * Most machines that run this suite have no swap, so the test brings its
 * own: a small swap file in its scratch directory, switched on for the
 * test alone and off again after (also on failure). Pushing the pages out
 * with `madvise pageout` makes the kernel replace their page-table entries
 * with swap entries at once, so no memory pressure is needed. Needs root
 * (swapon); CI runs as root, so there it never skips. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/swap.h>
#include <unistd.h>

#include "lib/harness.h"

static char swapfile[4200];
static bool swap_on;

static void up(void)
{
	if (geteuid() != 0)
		cr_skip_test("swapon needs root");
	mnt_start(&M, NULL);
}

static void down(void)
{
	if (swap_on && swapoff(swapfile) < 0)
		fprintf(stderr, "swapoff %s: %s\n", swapfile, strerror(errno));
	swap_on = false;
	mnt_down();
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
	char out[256];
	cr_assert_eq(cmd(&M, "maps/sw/ctl", "madvise pageout", out, sizeof out), 0, "%s", out);
	char *p = read_all(mp(&M, "maps/sw/pages"), NULL);
	cr_assert(p);
	/* The two written pages are in swap; the two never touched were never
	 * in memory at all. */
	cr_expect_str_eq(p, "SS..\n", "pages after pageout with swap on");
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
