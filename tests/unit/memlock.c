/* unit_memlock.c - the rule for locked memory: mlock(2)'s, for the caller. */
#include "lib/unit_util.h"

#include "core/memlock.h"

TestSuite(memlock);

Test(memlock, unknown_callers_may_not_lock)
{
	struct msg msg = { "" };
	cr_expect_eq(memlock_permit(NULL, 0, 4096, &msg), -EPERM);
	struct memlock_rights r = { .known = false, .unlimited = true, .limit = UINT64_MAX };
	cr_expect_eq(memlock_permit(&r, 0, 4096, &msg), -EPERM, "unknown beats unlimited");
	cr_expect(strstr(msg.text, "cannot be read"), "%s", msg.text);
	cr_expect_null(memlock_rights_of(NULL));
}

Test(memlock, as_mlock_judges)
{
	struct msg msg = { "" };
	struct memlock_rights r = { .known = true, .limit = 8192 };
	cr_expect_eq(memlock_permit(&r, 0, 8192, &msg), 0, "up to the limit");
	cr_expect_eq(memlock_permit(&r, 4096, 4096, &msg), 0);
	cr_expect_eq(memlock_permit(&r, 4096, 8192, &msg), -ENOMEM, "what is held counts");
	cr_expect_eq(memlock_permit(&r, UINT64_MAX, 4096, &msg), -ENOMEM, "no wrap-around");
	cr_expect_eq(memlock_permit(&r, 0, UINT64_MAX, &msg), -ENOMEM);
	r.limit = 0;
	cr_expect_eq(memlock_permit(&r, 0, 4096, &msg), -EPERM, "a limit of 0 is EPERM");
	r.unlimited = true;
	cr_expect_eq(memlock_permit(&r, UINT64_MAX - 1, 1, &msg), 0, "CAP_IPC_LOCK");
}

Test(memlock, take_charges_only_what_it_permits)
{
	struct msg msg = { "" };
	struct memlock_rights r = { .known = true, .limit = 8192 };
	_Atomic uint64_t held = 0;
	cr_expect_eq(memlock_take(&r, &held, 4096, &msg), 0);
	cr_expect_eq(memlock_take(&r, &held, 8192, &msg), -ENOMEM);
	cr_expect_eq(atomic_load(&held), 4096);
	memlock_give(&held, 4096);
	cr_expect_eq(atomic_load(&held), 0);
}

/* ---- what a mapping holds locked ---------------------------------------- *
 * Every way pages of a mapping get locked (flags=locked, lock, growing a
 * mapping whose end is locked) charges its owner's counter first, within a
 * right; every way they get unlocked gives the charge back. The charge is
 * always what the kernel has locked, read from the server's (here: the
 * test's) VMAs. */

TestSuite(locked);

#include <pthread.h>

static struct memlock_rights limit_of(long pages)
{
	return (struct memlock_rights){ .known = true, .limit = (uint64_t)(pages * page()) };
}

static const struct memlock_rights *rights_in(void *ctx)
{
	return ctx;
}

/* Anonymous shared memory of `pages` pages, charged to *held; flags=locked
 * ones within *right. */
static struct mapping *owned_map(long pages, int flags, _Atomic uint64_t *held,
				 struct memlock_rights *right)
{
	static struct memlock_source source;
	source = (struct memlock_source){ rights_in, right };
	struct mapping_request r;
	mapping_request_init(&r);
	r.length = pages * page();
	r.flags = flags;
	r.locked_held = held;
	r.memlock = right ? &source : NULL;
	return must_map(&r);
}

/* Bytes of pages [first, first + n) of m that the kernel has locked. */
static int64_t locked_pages(struct mapping *m, long first, long n)
{
	struct addr_range r = { (uintptr_t)m->data + (uintptr_t)(first * page()),
				(uintptr_t)m->data + (uintptr_t)((first + n) * page()) };
	int64_t got = memlock_bytes_in(&r, 1);
	cr_assert_geq(got, 0, "smaps: %s", strerror((int)-got));
	return got / page();
}

static long charged(_Atomic uint64_t *held)
{
	return (long)(atomic_load(held) / (uint64_t)page());
}

static int lock_pages(struct mapping *m, long first, long n, const struct memlock_rights *who,
		      bool owner, struct msg *msg)
{
	int64_t s = first * page(), l = n * page();
	return mapping_lock(m, &s, &l, who, owner, msg);
}

static int unlock_pages(struct mapping *m, long first, long n, struct msg *msg)
{
	int64_t s = first * page(), l = n * page();
	return mapping_unlock(m, &s, &l, msg);
}

static void close_map(struct mapping *m)
{
	struct msg msg = { "" };
	cr_expect_eq(mapping_close(m, true, &msg), 0, "%s", msg.text);
	mapping_unref(m);
}

Test(locked, lock_charges_the_owner_what_it_newly_locks)
{
	struct msg msg = { "" };
	_Atomic uint64_t held = 0;
	struct memlock_rights four = limit_of(4);
	struct mapping *m = owned_map(8, MAP_SHARED, &held, NULL);
	cr_expect_eq(lock_pages(m, 0, 4, &four, true, &msg), 0, "%s", msg.text);
	cr_expect_eq(charged(&held), 4);
	cr_expect_eq(lock_pages(m, 0, 4, &four, true, &msg), 0, "the same pages again: %s", msg.text);
	cr_expect_eq(charged(&held), 4, "cost nothing");
	cr_expect_eq(lock_pages(m, 3, 2, &four, true, &msg), -ENOMEM, "a fifth page");
	cr_expect_eq(charged(&held), 4);
	cr_expect_eq(locked_pages(m, 0, 8), 4, "and it was not locked");
	cr_expect_eq(unlock_pages(m, 0, 1, &msg), 0, "%s", msg.text);
	cr_expect_eq(charged(&held), 3, "unlock gives back");
	cr_expect_eq(lock_pages(m, 4, 1, &four, true, &msg), 0, "%s", msg.text);
	cr_expect_eq(locked_pages(m, 0, 8), 4);
	cr_expect_eq(charged(&held), 4);
	close_map(m);
	cr_expect_eq(charged(&held), 0, "close gives back");
}

Test(locked, nothing_counts_for_a_mapping_without_a_counter)
{
	struct msg msg = { "" };
	struct memlock_rights any = { .known = true, .unlimited = true };
	struct mapping *m = owned_map(2, MAP_SHARED, NULL, NULL);
	expect_error(lock_pages(m, 0, 1, &any, true, &msg), ENOMEM, msg,
		     "cannot lock memory: the server cannot count it for this user");
	cr_expect_eq(locked_pages(m, 0, 2), 0);
	close_map(m);
}

struct racer {
	struct mapping *m;
	const struct memlock_rights *right;
	pthread_barrier_t *start;
	int rc;
};

static void *race_to_lock(void *p)
{
	struct racer *r = p;
	struct msg msg = { "" };
	pthread_barrier_wait(r->start);
	r->rc = lock_pages(r->m, 0, 1, r->right, true, &msg);
	return NULL;
}

/* Check and charge are one step: lockers racing from one user never pass
 * the limit together. */
Test(locked, lockers_racing_never_pass_the_limit)
{
	enum { N = 8 };
	_Atomic uint64_t held = 0;
	struct memlock_rights four = limit_of(4);
	pthread_barrier_t start;
	pthread_barrier_init(&start, NULL, N);
	struct racer r[N];
	pthread_t t[N];
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < N; i++) {
			r[i] = (struct racer){ owned_map(1, MAP_SHARED, &held, NULL), &four, &start, 1 };
			pthread_create(&t[i], NULL, race_to_lock, &r[i]);
		}
		int won = 0;
		long locked = 0;
		for (int i = 0; i < N; i++) {
			pthread_join(t[i], NULL);
			won += r[i].rc == 0;
			locked += locked_pages(r[i].m, 0, 1);
		}
		cr_expect_eq(won, 4, "round %d: %d of %d one-page locks within 4 pages", round, won, N);
		cr_expect_eq(locked, 4);
		cr_expect_eq(charged(&held), 4);
		for (int i = 0; i < N; i++)
			close_map(r[i].m);
		cr_assert_eq(charged(&held), 0);
	}
	pthread_barrier_destroy(&start);
}

/* mremap extends the last VMA, locked: so a growth of a mapping whose end
 * `lock` locked locks the new pages, and is charged for them first. */
Test(locked, growing_a_locked_end_is_charged)
{
	struct msg msg = { "" };
	_Atomic uint64_t held = 0;
	struct memlock_rights eight = limit_of(8);
	struct mapping *m = owned_map(4, MAP_SHARED, &held, NULL);
	cr_assert_eq(lock_pages(m, 0, 4, &eight, true, &msg), 0, "%s", msg.text);
	cr_expect_eq(mapping_resize(m, 16 * page(), &msg), -ENOMEM, "12 more pages past 8");
	cr_expect_eq(m->len, (size_t)(4 * page()), "the refused resize changed nothing");
	cr_expect_eq(charged(&held), 4);
	cr_expect_eq(mapping_resize(m, 8 * page(), &msg), 0, "%s", msg.text);
	cr_expect_eq(locked_pages(m, 0, 8), 8, "the kernel locked the new pages");
	cr_expect_eq(charged(&held), 8);
	cr_expect_eq(mapping_resize(m, 2 * page(), &msg), 0, "%s", msg.text);
	cr_expect_eq(charged(&held), 2, "a shrink gives back");
	cr_expect_eq(mapping_resize(m, 0, &msg), 0, "%s", msg.text);
	cr_expect_eq(charged(&held), 0);
	close_map(m);
}

/* Where only the start is locked, the growth locks nothing and costs nothing;
 * the mapping, split in two VMAs, is mapped afresh (mremap refuses), and
 * the fresh one keeps the lock where it was. */
Test(locked, growing_past_an_unlocked_end_keeps_the_locks_in_place)
{
	struct msg msg = { "" };
	_Atomic uint64_t held = 0;
	struct memlock_rights one = limit_of(1);
	struct mapping *m = owned_map(4, MAP_SHARED, &held, NULL);
	cr_assert_eq(lock_pages(m, 0, 1, &one, true, &msg), 0, "%s", msg.text);
	cr_expect_eq(mapping_resize(m, 64 * page(), &msg), 0, "%s", msg.text);
	cr_expect_eq(locked_pages(m, 0, 1), 1, "page 0 is still locked");
	cr_expect_eq(locked_pages(m, 1, 63), 0);
	cr_expect_eq(charged(&held), 1);
	close_map(m);
}

/* Two locked ranges, the second to the end: a fresh map keeps both, and
 * the new pages after the locked end are locked and charged. */
Test(locked, a_fresh_map_carries_every_lock_and_the_locked_end)
{
	struct msg msg = { "" };
	_Atomic uint64_t held = 0;
	struct memlock_rights eight = limit_of(8);
	struct mapping *m = owned_map(4, MAP_SHARED, &held, NULL);
	cr_assert_eq(lock_pages(m, 1, 1, &eight, true, &msg), 0, "%s", msg.text);
	cr_assert_eq(lock_pages(m, 3, 1, &eight, true, &msg), 0, "%s", msg.text);
	cr_expect_eq(mapping_resize(m, 8 * page(), &msg), 0, "%s", msg.text);
	cr_expect_eq(locked_pages(m, 0, 1), 0);
	cr_expect_eq(locked_pages(m, 1, 1), 1);
	cr_expect_eq(locked_pages(m, 2, 1), 0);
	cr_expect_eq(locked_pages(m, 3, 5), 5);
	cr_expect_eq(charged(&held), 6);
	cr_expect_eq(mapping_resize(m, 16 * page(), &msg), -ENOMEM, "6 + 8 pages past 8");
	cr_expect_eq(charged(&held), 6);
	close_map(m);
}

/* A lock by someone else (root, unlimited) does not lend its right to the
 * owner: growing that locked end is refused until it is unlocked. */
Test(locked, another_users_lock_lends_no_right_to_grow)
{
	struct msg msg = { "" };
	_Atomic uint64_t held = 0;
	struct memlock_rights any = { .known = true, .unlimited = true };
	struct mapping *m = owned_map(4, MAP_SHARED, &held, NULL);
	cr_assert_eq(lock_pages(m, 0, 4, &any, false, &msg), 0, "%s", msg.text);
	cr_expect_eq(charged(&held), 4, "charged to the owner");
	cr_expect_eq(mapping_resize(m, 8 * page(), &msg), -EPERM);
	cr_expect(strstr(msg.text, "unlock it first"), "%s", msg.text);
	cr_expect_eq(m->len, (size_t)(4 * page()));
	cr_expect_eq(unlock_pages(m, 0, 4, &msg), 0, "%s", msg.text);
	cr_expect_eq(mapping_resize(m, 8 * page(), &msg), 0, "%s", msg.text);
	cr_expect_eq(charged(&held), 0);
	close_map(m);
}

/* flags=locked: charged at map time; a partial unlock stays across a
 * growth that maps afresh (the fresh map is made MAP_LOCKED). */
Test(locked, flags_locked_partly_unlocked_grows_as_it_is)
{
	struct msg msg = { "" };
	_Atomic uint64_t held = 0;
	struct memlock_rights eight = limit_of(8);
	struct mapping *m = owned_map(4, MAP_SHARED | MAP_LOCKED, &held, &eight);
	cr_expect_eq(charged(&held), 4);
	cr_expect_eq(unlock_pages(m, 0, 1, &msg), 0, "%s", msg.text);
	cr_expect_eq(charged(&held), 3);
	cr_expect_eq(mapping_resize(m, 8 * page(), &msg), 0, "%s", msg.text);
	cr_expect_eq(locked_pages(m, 0, 1), 0, "page 0 stays unlocked");
	cr_expect_eq(locked_pages(m, 1, 7), 7);
	cr_expect_eq(charged(&held), 7);
	cr_expect_eq(mapping_resize(m, 10 * page(), &msg), -ENOMEM, "7 + 2 pages past 8");
	close_map(m);
	cr_expect_eq(charged(&held), 0);
}

/* flags=locked is mlocked after the mmap, but keeps MAP_LOCKED's rules: a
 * page that cannot be faulted in (prot=none) is no error, as Python's
 * mmap(..., flags=MAP_PRIVATE | MAP_LOCKED, prot=0) succeeds. */
Test(locked, flags_locked_with_prot_none_maps_as_map_locked_does)
{
	_Atomic uint64_t held = 0;
	struct memlock_rights eight = limit_of(8);
	struct memlock_source source = { rights_in, &eight };
	struct mapping_request r;
	mapping_request_init(&r);
	r.length = 2 * page();
	r.flags = MAP_PRIVATE | MAP_LOCKED;
	r.prot = PROT_NONE;
	r.locked_held = &held;
	r.memlock = &source;
	struct mapping *m = must_map(&r);
	cr_expect_eq(locked_pages(m, 0, 2), 2, "its VMA is locked");
	cr_expect_eq(charged(&held), 2);
	close_map(m);
}

/* A flags=locked mapping resized to nothing and grown again is locked whole
 * again, as its first mmap was, and charged for it first. */
Test(locked, flags_locked_grown_from_nothing_is_locked_again)
{
	struct msg msg = { "" };
	_Atomic uint64_t held = 0;
	struct memlock_rights four = limit_of(4);
	struct mapping *m = owned_map(4, MAP_SHARED | MAP_LOCKED, &held, &four);
	cr_assert_eq(mapping_resize(m, 0, &msg), 0, "%s", msg.text);
	cr_expect_eq(charged(&held), 0);
	cr_expect_eq(mapping_resize(m, 8 * page(), &msg), -ENOMEM, "8 pages past 4");
	cr_expect_eq(mapping_resize(m, 3 * page(), &msg), 0, "%s", msg.text);
	cr_expect_eq(locked_pages(m, 0, 3), 3);
	cr_expect_eq(charged(&held), 3);
	close_map(m);
}
