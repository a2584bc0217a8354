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

/* Call each(s, e, ctx) for every locked VMA [s, e) of the server (VmFlags
 * "lo" in /proc/self/smaps), in address order. 0, or -errno. */
static int each_locked_vma(int (*each)(uintptr_t s, uintptr_t e, void *ctx), void *ctx)
{
	FILE *in = fopen("/proc/self/smaps", "re");
	if (!in)
		return -errno;
	char *line = NULL;
	size_t cap = 0;
	unsigned long s = 0, e = 0, ts, te;
	char dash;
	int rc = 0;
	while (rc == 0 && getline(&line, &cap, in) > 0) {
		/* A header: the VMA's range (field names may begin with hex letters). */
		if (sscanf(line, "%lx%c%lx ", &ts, &dash, &te) == 3 && dash == '-') {
			s = ts;
			e = te;
			continue;
		}
		if (strncmp(line, "VmFlags:", 8) == 0 && strstr(line + 8, " lo"))
			rc = each(s, e, ctx);
	}
	free(line);
	fclose(in);
	return rc;
}

struct ranges {
	const struct addr_range *r;
	size_t n;
	uint64_t sum;		/* memlock_bytes_in */
	struct addr_range *out;	/* memlock_spans_in */
	size_t count, cap;
};

/* Add the overlap of [s, e) with the ranges. */
static int add_overlap(uintptr_t s, uintptr_t e, void *ctx)
{
	struct ranges *w = ctx;
	for (size_t i = 0; i < w->n; i++) {
		uintptr_t lo = s > w->r[i].lo ? s : w->r[i].lo, hi = e < w->r[i].hi ? e : w->r[i].hi;
		if (lo < hi)
			w->sum += hi - lo;
	}
	return 0;
}

int64_t memlock_bytes_in(const struct addr_range *r, size_t n)
{
	struct ranges w = { .r = r, .n = n };
	int rc = n > 0 ? each_locked_vma(add_overlap, &w) : 0;
	return rc < 0 ? rc : (int64_t)w.sum;
}

/* Keep the overlap of [s, e) with the one range, joined to the span before
 * it when they touch. */
static int keep_overlap(uintptr_t s, uintptr_t e, void *ctx)
{
	struct ranges *w = ctx;
	uintptr_t lo = s > w->r->lo ? s : w->r->lo, hi = e < w->r->hi ? e : w->r->hi;
	if (lo >= hi)
		return 0;
	if (w->count > 0 && w->out[w->count - 1].hi == lo) {
		w->out[w->count - 1].hi = hi;
		return 0;
	}
	if (w->count == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 8;
		struct addr_range *more = realloc(w->out, cap * sizeof *more);
		if (!more)
			return -ENOMEM;
		w->out = more;
		w->cap = cap;
	}
	w->out[w->count++] = (struct addr_range){ lo, hi };
	return 0;
}

int memlock_spans_in(struct addr_range r, struct addr_range **out, size_t *n)
{
	struct ranges w = { .r = &r, .n = 1 };
	int rc = each_locked_vma(keep_overlap, &w);
	if (rc < 0) {
		free(w.out);
		w.out = NULL;
		w.count = 0;
	}
	*out = w.out;
	*n = w.count;
	return rc;
}
