/* cmdlog.h - the `log` file: the most recent commands, who sent them and
 * what they returned. */
#ifndef MMAPFS_CMDLOG_H
#define MMAPFS_CMDLOG_H

#include <pthread.h>
#include <stddef.h>
#include <sys/types.h>

#define CMDLOG_LINES 1000

/* Shared by every thread. lock is a leaf: nothing else is taken under it. */
struct cmdlog {
	pthread_mutex_t lock;
	char *lines[CMDLOG_LINES];	/* lock */
	size_t next;			/* lock; slot for the next line; the ring wraps */
	unsigned long long seq;		/* lock */
};

void cmdlog_init(struct cmdlog *l);
void cmdlog_destroy(struct cmdlog *l);
/* "pid 42 maps/a/ctl: resize 10 => ok", control bytes escaped as \xHH. */
void cmdlog_add(struct cmdlog *l, pid_t pid, const char *file, const char *cmd, size_t len,
		const char *result);
/* The whole log, oldest first; free() the text. */
int cmdlog_render(struct cmdlog *l, char **text, size_t *len);

#endif
