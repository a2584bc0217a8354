/* creds.h - act as the calling user (fsuid, fsgid, supplementary groups)
 * for the file system calls of one thread, so that with allow_other nobody
 * maps a file they could not open themselves. */
#ifndef MMAPFS_CREDS_H
#define MMAPFS_CREDS_H

#include <sys/types.h>

#define CREDS_MAX_GROUPS 256

struct creds {
	uid_t uid;
	gid_t gid;
	int ngroups;
	gid_t groups[CREDS_MAX_GROUPS];
};

/* Switch this thread to who; saved receives what to restore. Fails with
 * -EPERM (and changes nothing) when the thread cannot take on who's identity. */
int creds_become(const struct creds *who, struct creds *saved);
void creds_restore(const struct creds *saved);

#endif
