/* creds.c - learning the caller's identity, capabilities and limits. */
#define FUSE_USE_VERSION 312
#include "config.h"
#include "server/creds.h"

#include <errno.h>
#include <fuse_lowlevel.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef CAP_IPC_LOCK
#define CAP_IPC_LOCK 14
#endif
#define GROUPS_MAX 65536	/* Linux's NGROUPS_MAX */

/* Tgid and CapEff from /proc/TID/status, if its fsuid is the caller's
 * (else it is not the caller's thread: leave everything unknown). */
static void read_status(struct caller *c)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", (int)c->tid);
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	long tgid = 0;
	uint64_t cap = 0;
	unsigned long fsuid = (unsigned long)-1;
	while (fgets(line, sizeof line, f)) {
		unsigned long u[4];
		if (sscanf(line, "Tgid: %ld", &tgid) == 1)
			continue;
		if (sscanf(line, "Uid: %lu %lu %lu %lu", &u[0], &u[1], &u[2], &u[3]) == 4)
			fsuid = u[3];
		else
			(void)sscanf(line, "CapEff: %" SCNx64, &cap);
	}
	fclose(f);
	if (fsuid != (unsigned long)c->uid || tgid <= 0)
		return;
	c->tgid = (pid_t)tgid;
	c->cap_eff = cap;
}

/* The soft RLIMIT_MEMLOCK from /proc/TGID/limits: world-readable, where
 * prlimit(2) on another user's process needs CAP_SYS_RESOURCE, which a
 * server in a container may lack. */
static void read_memlock(struct caller *c)
{
	char path[64], line[256];
	if (c->tgid <= 0)
		return;
	snprintf(path, sizeof path, "/proc/%d/limits", (int)c->tgid);
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	static const char KEY[] = "Max locked memory";
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, KEY, sizeof KEY - 1) != 0)
			continue;
		char soft[32];
		unsigned long long v;
		if (sscanf(line + sizeof KEY - 1, "%31s", soft) != 1)
			break;
		bool infinite = strcmp(soft, "unlimited") == 0;
		if (!infinite && sscanf(soft, "%llu", &v) != 1)
			break;
		c->memlock.known = true;
		c->memlock.unlimited = (c->cap_eff >> CAP_IPC_LOCK & 1) || infinite;
		c->memlock.limit = infinite ? UINT64_MAX : (uint64_t)v;
		break;
	}
	fclose(f);
}

void caller_learn(fuse_req_t req, struct caller *c)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	memset(c, 0, offsetof(struct caller, inline_groups));
	c->uid = ctx->uid;
	c->gid = ctx->gid;
	c->groups = c->inline_groups;
	c->tid = ctx->pid;
}

void caller_ensure(struct caller *c)
{
	if (c->ensured)
		return;
	c->ensured = true;
	if (c->tid > 0)
		read_status(c);
	read_memlock(c);
}

int caller_learn_groups(fuse_req_t req, struct caller *c, struct msg *msg)
{
	/* fuse_req_getgroups returns how many there are, even when more than
	 * fit: then try again with room for all. */
	int n = fuse_req_getgroups(req, CREDS_INLINE_GROUPS, c->inline_groups);
	if (n > CREDS_INLINE_GROUPS && n <= GROUPS_MAX) {
		c->groups = malloc((size_t)n * sizeof *c->groups);
		int again = c->groups ? fuse_req_getgroups(req, n, c->groups) : -ENOMEM;
		n = again > n ? -EAGAIN : again;	/* it grew meanwhile: refuse */
	}
	if (n < 0 || n > GROUPS_MAX)
		return msg_fail(msg, EPERM, "cannot learn the groups of the calling process "
			    "(pid %d): %s", (int)c->tid, strerror(n < 0 ? -n : E2BIG));
	c->ngroups = n;
	return 0;
}

void caller_forget(struct caller *c)
{
	if (c->groups != c->inline_groups)
		free(c->groups);
	c->groups = c->inline_groups;
}
