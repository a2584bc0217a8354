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

struct server {
	struct table table;
	struct cmdlog log;
	char *mountpoint;	/* absolute */
	dev_t own_dev;		/* the mount's device, once mounted */
	bool allow_other;	/* multi-user: permissions and caller credentials */
	uid_t uid;		/* the server's own */
	gid_t gid;
	time_t started;
	/* Open files, so that those whose release never came (the kernel drops
	 * pending releases at unmount) are freed at shutdown. */
	pthread_mutex_t files_lock;
	struct open_file *files;
	struct passthrough *pt;	/* open flags libfuse cannot say; set before the loop */
};

/* Free the open files that are left; call once the session loop is over. */
void fs_release_all(struct server *s);

struct fuse_lowlevel_ops;
/* The low-level operations of mmapfs. */
const struct fuse_lowlevel_ops *fs_operations(void);

#endif
