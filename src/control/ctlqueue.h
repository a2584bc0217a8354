/* ctlqueue.h - one open control file: its queue of unread result text and
 * the rule that turns one write() into commands run in order. */
#ifndef MMAPFS_CTLQUEUE_H
#define MMAPFS_CTLQUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/msg.h"

#define CTL_WRITE_MAX (64 * 1024)
/* Unread text one open control file may hold. A command runs only while
 * CTL_QUEUE_RESERVE bytes are free (room for its result line and for the
 * line that refuses the next one); otherwise it is refused with ENOBUFS
 * (nothing of it runs), as a failing command: those before it in the write
 * stay done, and its `error:` line is queued. */
#define CTL_QUEUE_MAX (64 * 1024)
#define CTL_QUEUE_RESERVE 512	/* so commands run while unread <= 65024 */

/* Shared by the threads serving one open control file. lock is held for
 * a whole write(), while its commands run, so it is taken before the
 * table's and a mapping's locks. */
struct ctl_queue {
	pthread_mutex_t lock;
	char *text;            /* lock */
	size_t head, len, cap; /* lock; unread text is text[head..len) */
	bool written;          /* lock; a write() has reached us: the usage is gone */
};

/* Runs one command line; fills result (value or message) and returns 0 or -errno. */
typedef int (*ctl_runner)(void *ctx, const char *line, size_t len, char *result,
			  size_t cap, struct msg *msg);

int ctl_queue_init(struct ctl_queue *q, const char *usage);
void ctl_queue_destroy(struct ctl_queue *q);

/* Run a write()'s commands; returns len, or the -errno of the first that fails. */
ssize_t ctl_queue_write(struct ctl_queue *q, const char *buf, size_t len, ctl_runner run,
			void *ctx);

/* Take up to n bytes from the front of the queue into out; returns the count. */
size_t ctl_queue_read(struct ctl_queue *q, char *out, size_t n);

#endif
