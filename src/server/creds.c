/* creds.c - per-thread identity switching with the raw syscalls.
 *
 * glibc's setgroups() changes every thread of the process (it broadcasts,
 * as POSIX requires); the raw syscall changes only the calling thread, and
 * setfsuid/setfsgid are per-thread already. Other requests served at the
 * same time by other threads therefore keep the server's own identity. */
#include "config.h"
#include "server/creds.h"

#include <errno.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <unistd.h>

static int set_groups(int n, const gid_t *groups)
{
	return syscall(SYS_setgroups, (size_t)n, groups) < 0 ? -errno : 0;
}

int creds_become(const struct creds *who, struct creds *saved)
{
	saved->uid = (uid_t)setfsuid((uid_t)-1);
	saved->gid = (gid_t)setfsgid((gid_t)-1);
	saved->ngroups = getgroups(CREDS_MAX_GROUPS, saved->groups);
	if (saved->ngroups < 0)
		return -errno;
	if (who->uid == saved->uid && who->gid == saved->gid)
		return 0; /* the server's own user: nothing to switch */
	int rc = set_groups(who->ngroups, who->groups);
	if (rc < 0)
		return -EPERM;
	setfsgid(who->gid);
	setfsuid(who->uid);
	/* setfsuid reports the old value, never failure: check it took. */
	if ((uid_t)setfsuid((uid_t)-1) != who->uid || (gid_t)setfsgid((gid_t)-1) != who->gid) {
		creds_restore(saved);
		return -EPERM;
	}
	return 0;
}

void creds_restore(const struct creds *saved)
{
	/* Regain the server's uid first: it may be what allows the rest. */
	setfsuid(saved->uid);
	setfsgid(saved->gid);
	set_groups(saved->ngroups, saved->groups);
}
