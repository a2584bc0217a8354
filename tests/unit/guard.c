/* unit_guard.c - copies that fault on memory come back as -EIO instead of
 * killing the process, every time, and real bugs still crash. */
#include "lib/unit_util.h"

#include <signal.h>

#include "core/guard.h"

static char *no_access;

static void up(void)
{
	cr_assert_eq(guard_init(), 0);
	no_access = mmap(NULL, (size_t)page(), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(no_access, MAP_FAILED);
}

static void down(void)
{
	munmap(no_access, (size_t)page());
}

TestSuite(guard, .init = up, .fini = down);

static int calls;

static void count(void *ctx)
{
	(void)ctx;
	calls++;
}

static void touch(void *ctx)
{
	*(volatile char *)ctx = 1;
}

Test(guard, call_that_does_not_fault)
{
	cr_expect_eq(guarded_call(count, NULL), 0);
	cr_expect_eq(calls, 1);
}

Test(guard, copies_that_do_not_fault)
{
	char dst[8] = "", buf[] = "abcdef";
	cr_expect_eq(guarded_memcpy(dst, "hello", 6), 0);
	cr_expect_str_eq(dst, "hello");
	cr_expect_eq(guarded_memmove(buf + 1, buf, 4), 0);
	cr_expect_str_eq(buf, "aabcdf");
	cr_expect_eq(guarded_memcpy(dst, NULL, 0), 0);
}

Test(guard, segv_is_eio)
{
	char buf[4];
	cr_expect_eq(guarded_memcpy(buf, no_access, 4), -EIO);
	cr_expect_eq(guarded_memcpy(no_access, "x", 1), -EIO);
	cr_expect_eq(guarded_memmove(no_access, no_access + 8, 4), -EIO);
	cr_expect_eq(guarded_call(touch, no_access), -EIO);
}

Test(guard, sigbus_is_eio)
{
	const char *path = make_abc_file(2 * (size_t)page());
	int fd = open(path, O_RDWR);
	cr_assert_geq(fd, 0);
	char *p = mmap(NULL, 2 * (size_t)page(), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	cr_assert_neq(p, MAP_FAILED);
	cr_assert_eq(ftruncate(fd, page()), 0);
	char buf[4];
	cr_expect_eq(guarded_memcpy(buf, p + page(), 4), -EIO);
	cr_expect_eq(guarded_memcpy(buf, p, 4), 0);
	cr_expect_eq(memcmp(buf, "abcd", 4), 0);
	munmap(p, 2 * (size_t)page());
	close(fd);
	remove_made_files();
}

Test(guard, recovers_every_time)
{
	char buf[4];
	for (int i = 0; i < 100; i++)
		cr_assert_eq(guarded_memcpy(buf, no_access, 4), -EIO, "fault %d", i);
	cr_expect_eq(guarded_call(count, NULL), 0);
	cr_expect_eq(calls, 1);
}

/* Outside a guarded call a fault is a bug: the process dies of it. */
Test(guard, fault_outside_a_guarded_call_still_kills, .signal = SIGSEGV)
{
	char buf[4];
	cr_expect_eq(guarded_memcpy(buf, no_access, 4), -EIO);
	touch(no_access);
}
