/* memlock.c - the RLIMIT_MEMLOCK rule for `lock`, and what is locked now. */
#include "config.h"
#include "core/memlock.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define CAP_IPC_LOCK_BIT 14

/* CapEff of /proc/PID/status: the caller's effective capabilities. */
static int caller_caps(pid_t pid, uint64_t *caps)
{
	char path[64], *line = NULL;
	size_t cap = 0;
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *in = fopen(path, "re");
	if (!in)
		return -errno;
	int rc = -ENOENT;
	while (rc < 0 && getline(&line, &cap, in) > 0)
		if (sscanf(line, "CapEff: %" SCNx64, caps) == 1)
			rc = 0;
	free(line);
	fclose(in);
	return rc;
}

int memlock_caller_of(pid_t pid, struct memlock_caller *out, struct msg *msg)
{
	struct rlimit rl;
	uint64_t caps = 0;
	if (pid <= 0)
		return fail(msg, EPERM, "cannot learn the caller's RLIMIT_MEMLOCK (no process id)");
	if (prlimit(pid, RLIMIT_MEMLOCK, NULL, &rl) < 0)
		return fail(msg, errno == ESRCH ? EPERM : errno,
			    "cannot learn the RLIMIT_MEMLOCK of process %d: %s", (int)pid,
			    strerror(errno));
	int rc = caller_caps(pid, &caps);
	if (rc < 0)
		return fail(msg, EPERM, "cannot learn the capabilities of process %d: %s",
			    (int)pid, strerror(-rc));
	out->limit = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
	out->cap_ipc_lock = caps & (1ull << CAP_IPC_LOCK_BIT);
	return 0;
}

int memlock_allowed(const struct memlock_caller *c, uint64_t locked, uint64_t more,
		    struct msg *msg)
{
	if (c->cap_ipc_lock || c->limit == UINT64_MAX || more == 0)
		return 0;
	if (c->limit == 0)
		return fail(msg, EPERM, "locking memory needs CAP_IPC_LOCK or a RLIMIT_MEMLOCK "
			    "above 0 (ulimit -l)");
	if (locked > c->limit || more > c->limit - locked)
		return fail(msg, ENOMEM, "lock would exceed your RLIMIT_MEMLOCK: %" PRIu64
			    " bytes locked, %" PRIu64 " more asked, limit %" PRIu64 " (ulimit -l)",
			    locked, more, c->limit);
	return 0;
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
