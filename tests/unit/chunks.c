/* unit_chunks.c - long kernel work on a mapping goes in chunks.
 *
 * Faulting a range in (MAP_POPULATE, MAP_LOCKED, mlock), paging it out,
 * advice and munmap hold the server's mmap lock for all of the range they
 * are given; while one thread waits for that lock alone, every page fault
 * of the server waits too (tests/it/ctl_parallel shows the stall). So the
 * core hands the kernel at most KERNEL_CHUNK (32 MiB) at a time, chunks
 * ending on 32 MiB boundaries of the address space. Here mmap, munmap,
 * madvise and syscall (mlock2 is a raw call) are wrapped, and every call
 * on a mapping is checked against that rule. */
#include "lib/unit_util.h"

#include <stdarg.h>

#include "core/memlock.h"

#define CHUNK ((size_t)32 << 20)

void *__real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int __real_munmap(void *addr, size_t len);
int __real_madvise(void *addr, size_t len, int advice);
long __real_syscall(long nr, ...);
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int __wrap_munmap(void *addr, size_t len);
int __wrap_madvise(void *addr, size_t len, int advice);
long __wrap_syscall(long nr, ...);

/* What the wrappers saw since reset(). */
static struct {
	bool on;
	size_t calls, longest, total;
	int crossing;	/* calls whose range holds a 32 MiB boundary inside */
	int mmap_flags;	/* the MAP_ flags every mmap was given, or-ed */
} seen;

static void reset(void)
{
	memset(&seen, 0, sizeof seen);
	seen.on = true;
}

static void note(void *addr, size_t len)
{
	if (!seen.on)
		return;
	seen.calls++;
	seen.total += len;
	if (len > seen.longest)
		seen.longest = len;
	if ((uintptr_t)addr % CHUNK + len > CHUNK)
		seen.crossing++;
}

void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (seen.on)
		seen.mmap_flags |= flags;
	return __real_mmap(addr, len, prot, flags, fd, off);
}

int __wrap_munmap(void *addr, size_t len)
{
	note(addr, len);
	return __real_munmap(addr, len);
}

int __wrap_madvise(void *addr, size_t len, int advice)
{
	note(addr, len);
	return __real_madvise(addr, len, advice);
}

long __wrap_syscall(long nr, ...)
{
	va_list ap;
	va_start(ap, nr);
	long a = va_arg(ap, long), b = va_arg(ap, long), c = va_arg(ap, long);
	long d = va_arg(ap, long), e = va_arg(ap, long), f = va_arg(ap, long);
	va_end(ap);
	if (nr == SYS_mlock2)
		note((void *)a, (size_t)b);
	return __real_syscall(nr, a, b, c, d, e, f);
}

TestSuite(chunks);

static const struct memlock_rights unlimited = { .known = true, .unlimited = true };

static const struct memlock_rights *rights_in(void *ctx)
{
	(void)ctx;
	return &unlimited;
}

static _Atomic uint64_t held;

/* 200 MiB of the zero page: private, read-only, no memory reserved. */
static struct mapping *big(int more_flags)
{
	static struct memlock_source source = { rights_in, NULL };
	struct mapping_request r;
	mapping_request_init(&r);
	r.length = 200 << 20;
	r.flags = MAP_PRIVATE | MAP_NORESERVE | more_flags;
	r.prot = PROT_READ;
	r.locked_held = &held;
	r.memlock = &source;
	return must_map(&r);
}

static void expect_chunked(const char *what)
{
	cr_expect_geq(seen.total, (size_t)200 << 20, "%s: %zu bytes in %zu calls", what,
		      seen.total, seen.calls);
	cr_expect_leq(seen.longest, CHUNK, "%s: one call of %zu bytes", what, seen.longest);
	cr_expect_eq(seen.crossing, 0, "%s: %d calls across a 32 MiB boundary", what, seen.crossing);
}

static void close_map(struct mapping *m)
{
	struct msg msg = { "" };
	cr_expect_eq(mapping_close(m, true, &msg), 0, "%s", msg.text);
	mapping_unref(m);
}

Test(chunks, close_unmaps_in_chunks)
{
	struct mapping *m = big(0);
	reset();
	close_map(m);
	expect_chunked("munmap");
}

Test(chunks, populate_faults_in_after_the_mmap_in_chunks)
{
	reset();
	struct mapping *m = big(MAP_POPULATE);
	cr_expect_eq(seen.mmap_flags & MAP_POPULATE, 0, "mmap was given MAP_POPULATE");
	expect_chunked("MADV_POPULATE");
	seen.on = false;
	close_map(m);
}

Test(chunks, flags_locked_locks_after_the_mmap_in_chunks)
{
	reset();
	struct mapping *m = big(MAP_LOCKED);
	cr_expect_eq(seen.mmap_flags & MAP_LOCKED, 0, "mmap was given MAP_LOCKED");
	expect_chunked("mlock2");
	struct addr_range all = { (uintptr_t)m->data, (uintptr_t)m->data + m->len };
	cr_expect_eq(memlock_bytes_in(&all, 1), (int64_t)m->len, "locked, as MAP_LOCKED makes it");
	cr_expect_eq(atomic_load(&held), m->len);
	seen.on = false;
	close_map(m);
	cr_expect_eq(atomic_load(&held), 0);
}

Test(chunks, lock_advice_and_evict_go_in_chunks)
{
	struct msg msg = { "" };
	struct mapping *m = big(0);
	reset();
	cr_expect_eq(mapping_lock(m, NULL, NULL, &unlimited, true, &msg), 0, "%s", msg.text);
	expect_chunked("lock");
	cr_expect_eq(mapping_unlock(m, NULL, NULL, &msg), 0, "%s", msg.text);
	reset();
	cr_expect_eq(mapping_madvise(m, MADV_WILLNEED, NULL, NULL, &msg), 0, "%s", msg.text);
	expect_chunked("madvise");
	reset();
	cr_expect_eq(mapping_evict(m, NULL, NULL, &msg), 0, "%s", msg.text);
	expect_chunked("evict");
	seen.on = false;
	close_map(m);
}

/* 64 MiB of shared memory, split in two VMAs (page 1 advised apart), so
 * that a resize maps it afresh: the fresh map, as mremap, faults in
 * nothing at once, and what it locks again goes in chunks. */
static struct mapping *split_shared(int more_flags)
{
	static struct memlock_source source = { rights_in, NULL };
	struct mapping_request r;
	mapping_request_init(&r);
	r.length = 64 << 20;
	r.flags = MAP_SHARED | more_flags;
	r.locked_held = &held;
	r.memlock = &source;
	struct mapping *m = must_map(&r);
	cr_assert_eq(__real_madvise(m->data + page(), (size_t)page(), MADV_DONTFORK), 0);
	return m;
}

Test(chunks, a_fresh_map_in_a_resize_faults_in_nothing_at_once)
{
	struct msg msg = { "" };
	struct mapping *m = split_shared(MAP_POPULATE);
	reset();
	cr_expect_eq(mapping_resize(m, 96 << 20, &msg), 0, "%s", msg.text);
	cr_expect_eq(seen.mmap_flags & MAP_POPULATE, 0, "the fresh map was given MAP_POPULATE");
	seen.on = false;
	close_map(m);

	m = split_shared(MAP_LOCKED);
	reset();
	cr_expect_eq(mapping_resize(m, 96 << 20, &msg), 0, "%s", msg.text);
	cr_expect_eq(seen.mmap_flags & MAP_LOCKED, 0, "the fresh map was given MAP_LOCKED");
	cr_expect_leq(seen.longest, CHUNK, "one call of %zu bytes", seen.longest);
	struct addr_range all = { (uintptr_t)m->data, (uintptr_t)m->data + m->len };
	cr_expect_eq(memlock_bytes_in(&all, 1), (int64_t)m->len, "all of it locked again");
	cr_expect_eq(atomic_load(&held), m->len);
	seen.on = false;
	close_map(m);
	cr_expect_eq(atomic_load(&held), 0);
}
