/* memlock.c - mlock(2)'s rule, applied for the caller. */
#include "config.h"
#include "core/memlock.h"

#include <errno.h>

const struct memlock_rights *memlock_rights_of(const struct memlock_source *s)
{
	return s && s->rights ? s->rights(s->ctx) : NULL;
}

int memlock_permit(const struct memlock_rights *r, uint64_t held, uint64_t want,
		   struct msg *msg)
{
	if (!r || !r->known)
		return fail(msg, EPERM, "cannot lock memory: the calling process's limits "
			    "cannot be read (is it in another pid namespace, or gone?)");
	if (r->unlimited)
		return 0;
	if (r->limit == 0)
		return fail(msg, EPERM, "cannot lock memory: RLIMIT_MEMLOCK is 0 "
			    "(ulimit -l) and CAP_IPC_LOCK is not held");
	if (want > r->limit || held > r->limit - want)
		return fail(msg, ENOMEM, "cannot lock %llu bytes: RLIMIT_MEMLOCK (ulimit -l) is "
			    "%llu bytes and %llu are locked already", (unsigned long long)want,
			    (unsigned long long)r->limit, (unsigned long long)held);
	return 0;
}

int memlock_take(const struct memlock_rights *r, _Atomic uint64_t *held, uint64_t want,
		 struct msg *msg)
{
	uint64_t now = atomic_load(held);
	do {
		int rc = memlock_permit(r, now, want, msg);
		if (rc < 0)
			return rc;
	} while (!atomic_compare_exchange_weak(held, &now, now + want));
	return 0;
}

void memlock_give(_Atomic uint64_t *held, uint64_t n)
{
	atomic_fetch_sub(held, n);
}
