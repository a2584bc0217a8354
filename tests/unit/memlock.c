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
