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
	cr_expect_eq(guard_call(NULL, 0, count, NULL), 0);
	cr_expect_eq(calls, 1);
}

Test(guard, copies_that_do_not_fault)
{
	char dst[8] = "", buf[] = "abcdef";
	cr_expect_eq(guard_read(dst, "hello", 6), 0);
	cr_expect_str_eq(dst, "hello");
	cr_expect_eq(guard_memmove(buf + 1, buf, 4), 0);
	cr_expect_str_eq(buf, "aabcdf");
	cr_expect_eq(guard_read(dst, NULL, 0), 0);
	cr_expect_eq(guard_write(dst, "hi", 3), 0);
	cr_expect_str_eq(dst, "hi");
}

Test(guard, segv_is_eio)
{
	char buf[4];
	cr_expect_eq(guard_read(buf, no_access, 4), -EIO);
	cr_expect_eq(guard_write(no_access, "x", 1), -EIO);
	cr_expect_eq(guard_memmove(no_access, no_access + 8, 4), -EIO);
	cr_expect_eq(guard_call(no_access, 1, touch, no_access), -EIO);
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
	cr_expect_eq(guard_read(buf, p + page(), 4), -EIO);
	cr_expect_eq(guard_read(buf, p, 4), 0);
	cr_expect_eq(memcmp(buf, "abcd", 4), 0);
	munmap(p, 2 * (size_t)page());
	close(fd);
	remove_made_files();
}

Test(guard, recovers_every_time)
{
	char buf[4];
	for (int i = 0; i < 100; i++)
		cr_assert_eq(guard_read(buf, no_access, 4), -EIO, "fault %d", i);
	cr_expect_eq(guard_call(NULL, 0, count, NULL), 0);
	cr_expect_eq(calls, 1);
}

/* Outside a guarded call a fault is a bug: the process dies of it. */
Test(guard, fault_outside_a_guarded_call_still_kills, .signal = SIGSEGV)
{
	char buf[4];
	cr_expect_eq(guard_read(buf, no_access, 4), -EIO);
	touch(no_access);
}

/* A fault inside a guarded call but outside its range is a bug of the
 * server's own (here: a copy told to guard `ok` that touches no_access):
 * it must kill the process with the signal, not come back as EIO. */
struct stray {
	const char *ok;
	const char *bad;
};

static void stray_touch(void *ctx)
{
	struct stray *s = ctx;
	(void)*(volatile const char *)s->ok;
	(void)*(volatile const char *)s->bad;
}

static char good_page[1 << 16];

Test(guard, fault_outside_the_guarded_range_kills, .signal = SIGSEGV)
{
	struct stray s = { good_page, no_access };
	guard_call(good_page, sizeof good_page, stray_touch, &s);
	cr_assert_fail("a stray fault came back from the guarded call");
}

Test(guard, fault_just_past_the_guarded_range_kills, .signal = SIGSEGV)
{
	/* The range ends where the inaccessible page starts. */
	char *two = mmap(NULL, 2 * (size_t)page(), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(two, MAP_FAILED);
	cr_assert_eq(mprotect(two + page(), (size_t)page(), PROT_NONE), 0);
	struct stray s = { two, two + page() };
	guard_call(two, (size_t)page(), stray_touch, &s);
	cr_assert_fail("a fault past the range came back from the guarded call");
}

Test(guard, sigbus_outside_the_guarded_range_kills, .signal = SIGBUS)
{
	const char *path = make_abc_file(2 * (size_t)page());
	int fd = open(path, O_RDWR);
	cr_assert_geq(fd, 0);
	char *p = mmap(NULL, 2 * (size_t)page(), PROT_READ, MAP_SHARED, fd, 0);
	cr_assert_neq(p, MAP_FAILED);
	cr_assert_eq(ftruncate(fd, 0), 0);
	remove_made_files();
	struct stray s = { good_page, p };
	guard_call(good_page, sizeof good_page, stray_touch, &s);
	cr_assert_fail("a SIGBUS outside the range came back from the guarded call");
}

/* A signal sent with kill(2) is not a fault, even inside a guarded call. */
static void raise_segv(void *ctx)
{
	(void)ctx;
	raise(SIGSEGV);
}

Test(guard, a_sent_signal_is_not_a_fault, .signal = SIGSEGV)
{
	guard_call(NULL, (size_t)-1, raise_segv, NULL);
	cr_assert_fail("a sent SIGSEGV came back from the guarded call");
}

/* The probe says how far memory can be read: to the first page that is gone. */
Test(guard, probe_stops_at_the_first_vanished_page)
{
	const char *path = make_abc_file(3 * (size_t)page());
	int fd = open(path, O_RDWR);
	cr_assert_geq(fd, 0);
	char *p = mmap(NULL, 3 * (size_t)page(), PROT_READ, MAP_SHARED, fd, 0);
	cr_assert_neq(p, MAP_FAILED);
	size_t ps = (size_t)page();
	cr_expect_eq(guard_probe(p, 3 * ps), 3 * ps);
	cr_expect_eq(guard_probe(p + 10, 3 * ps - 10), 3 * ps - 10);
	cr_assert_eq(ftruncate(fd, (off_t)ps + 1), 0); /* page 1 stays (partly), page 2 goes */
	cr_expect_eq(guard_probe(p, 3 * ps), 2 * ps);
	cr_expect_eq(guard_probe(p + 100, 3 * ps - 100), 2 * ps - 100);
	cr_expect_eq(guard_probe(p + 2 * ps, ps), 0);
	cr_expect_eq(guard_probe(p + 2 * ps + 5, 10), 0);
	cr_expect_eq(guard_probe(p, 0), 0);
	cr_expect_eq(guard_probe(no_access, 4), 0);
	munmap(p, 3 * ps);
	close(fd);
	remove_made_files();
}
