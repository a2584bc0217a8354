/* memlock.c - mlock(2)'s rule, applied for the caller, and what is locked now. */
#include "config.h"
#include "core/memlock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct memlock_rights *memlock_rights_of(const struct memlock_source *s)
{
	return s && s->rights ? s->rights(s->ctx) : NULL;
}

int memlock_permit(const struct memlock_rights *r, uint64_t held, uint64_t want,
		   struct msg *msg)
{
	if (!r || !r->known)
		return msg_fail(msg, EPERM, "cannot lock memory: the calling process's limits "
			    "cannot be read (is it in another pid namespace, or gone?)");
	if (r->unlimited)
		return 0;
	if (r->limit == 0)
		return msg_fail(msg, EPERM, "cannot lock memory: RLIMIT_MEMLOCK is 0 "
			    "(ulimit -l) and CAP_IPC_LOCK is not held");
	if (want > r->limit || held > r->limit - want)
		return msg_fail(msg, ENOMEM, "cannot lock %llu bytes: RLIMIT_MEMLOCK (ulimit -l) is "
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

/* The overlap of [s, e) with the ranges. */
static uint64_t overlap(uintptr_t s, uintptr_t e, const struct addr_range *r, size_t n)
{
	uint64_t sum = 0;
	for (size_t i = 0; i < n; i++) {
		uintptr_t lo = s > r[i].lo ? s : r[i].lo, hi = e < r[i].hi ? e : r[i].hi;
		if (lo < hi)
			sum += hi - lo;
	}
	return sum;
}

int64_t memlock_bytes_in(const struct addr_range *r, size_t n)
{
	FILE *in = fopen("/proc/self/smaps", "re");
	if (!in)
		return -errno;
	char *line = NULL;
	size_t cap = 0;
	unsigned long s = 0, e = 0, ts, te;
	char dash;
	uint64_t sum = 0;
	while (n > 0 && getline(&line, &cap, in) > 0) {
		/* A header: the VMA's range (field names may begin with hex letters). */
		if (sscanf(line, "%lx%c%lx ", &ts, &dash, &te) == 3 && dash == '-') {
			s = ts;
			e = te;
			continue;
		}
		if (strncmp(line, "VmFlags:", 8) == 0 && strstr(line + 8, " lo"))
			sum += overlap(s, e, r, n);
	}
	free(line);
	fclose(in);
	return (int64_t)sum;
}
