/* memlock.h - the rule for memory a caller makes the server lock (a `map`
 * with flags=locked; the `lock` command): as mlock(2) would judge it for the
 * caller. Learning the caller's limit and capability is the server's job
 * (server/creds.c reads them from /proc); the rule is here, so that every
 * command that locks memory applies the same one. */
#ifndef MMAPFS_MEMLOCK_H
#define MMAPFS_MEMLOCK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/msg.h"

/* What the server learned of the calling process. */
struct memlock_rights {
	bool known;		/* false: the caller's process could not be read */
	bool unlimited;		/* CAP_IPC_LOCK in its effective set */
	uint64_t limit;		/* its RLIMIT_MEMLOCK soft limit, bytes */
};

/* Where a caller's rights come from: asked only when memory is to be
 * locked, since learning them costs the server reads of /proc. */
struct memlock_source {
	const struct memlock_rights *(*rights)(void *ctx);	/* NULL: unknown */
	void *ctx;
};

/* The source's rights; NULL (fail closed) for a NULL source. */
const struct memlock_rights *memlock_rights_of(const struct memlock_source *s);

/* May the caller, who holds `held` locked bytes in the server, lock `want`
 * more? 0, or what mlock(2) says to a process without CAP_IPC_LOCK:
 * EPERM when its limit is 0 (and when the caller is unknown: fail closed),
 * ENOMEM when the limit would be passed. */
int memlock_permit(const struct memlock_rights *r, uint64_t held, uint64_t want,
		   struct msg *msg);

/* memlock_permit and, if it permits, add want to *held, atomically against
 * other takers of the same counter. */
int memlock_take(const struct memlock_rights *r, _Atomic uint64_t *held, uint64_t want,
		 struct msg *msg);
void memlock_give(_Atomic uint64_t *held, uint64_t n);

/* An address range [lo, hi). */
struct addr_range {
	uintptr_t lo, hi;
};

/* Bytes of the ranges that lie in locked VMAs (VmFlags "lo" in
 * /proc/self/smaps), so that a mapping's charge is what the kernel has
 * locked of it, however that came about: the ranges must not overlap.
 * -errno on failure. */
int64_t memlock_bytes_in(const struct addr_range *r, size_t n);
/* The parts of r that lie in locked VMAs, in address order, adjacent ones
 * joined: *out (free() it) holds *n of them. 0, or -errno (*out NULL). */
int memlock_spans_in(struct addr_range r, struct addr_range **out, size_t *n);

#endif
