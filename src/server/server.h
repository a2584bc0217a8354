/* server.h - what the FUSE layer serves from: the table, the log, and the
 * facts of this mount. One instance, passed to libfuse as its userdata. */
#ifndef MMAPFS_SERVER_H
#define MMAPFS_SERVER_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "control/cmdlog.h"
#include "core/table.h"

/* Shared by every thread of the session loop. Only "files" changes while
 * requests are served; everything else is fixed before the loop starts. */
struct server {
	struct table table;	/* its own lock */
	struct cmdlog log;	/* its own lock */
	char *mountpoint;	/* fixed before the loop; absolute */
	dev_t own_dev;		/* fixed once mounted, before the loop */
	bool allow_other;	/* fixed; multi-user: permissions and caller credentials */
	uid_t uid;		/* fixed; the server's own */
	gid_t gid;		/* fixed */
	time_t started;		/* fixed */
	/* Open files, so that those whose release never came (the kernel drops
	 * pending releases at unmount) are freed at shutdown. */
	pthread_mutex_t files_lock;
	struct open_file *files; /* files_lock: the list and its links */
	struct passthrough *pt;	/* open flags libfuse cannot say; set before the loop */
};

/* Free the open files that are left; call once the session loop is over. */
void fs_release_all(struct server *s);

struct fuse_lowlevel_ops;
/* The low-level operations of mmapfs. */
const struct fuse_lowlevel_ops *fs_operations(void);

#endif
