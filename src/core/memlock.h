/* memlock.h - how much memory a caller may have the server lock for them
 * (`lock`): within their RLIMIT_MEMLOCK, unless they hold CAP_IPC_LOCK, as
 * mlock(2) would judge it had they called it themselves. */
#ifndef MMAPFS_MEMLOCK_H
#define MMAPFS_MEMLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/msg.h"

/* What the rule needs to know of a caller. */
struct memlock_caller {
	uint64_t limit;		/* RLIMIT_MEMLOCK (soft), bytes; UINT64_MAX: unlimited */
	bool cap_ipc_lock;	/* CAP_IPC_LOCK in the caller's effective set */
};

/* The caller's limit (prlimit) and capability (/proc/PID/status CapEff). */
int memlock_caller_of(pid_t pid, struct memlock_caller *out, struct msg *msg);

/* The rule: may a caller who has `locked` bytes locked lock `more`?
 * 0, or mlock(2)'s errors: EPERM with a limit of 0, ENOMEM above it. */
int memlock_allowed(const struct memlock_caller *c, uint64_t locked, uint64_t more,
		    struct msg *msg);

/* An address range [lo, hi). */
struct addr_range {
	uintptr_t lo, hi;
};

/* Bytes of the ranges that lie in locked VMAs (VmFlags "lo" in
 * /proc/self/smaps); the ranges must not overlap. -errno on failure. */
int64_t memlock_bytes_in(const struct addr_range *r, size_t n);

#endif
