/* msg.h - the one error path of mmapfs: functions return 0 or a negative
 * errno and, when given a struct msg, leave a message a shell user can read
 * in it (CPython's own text where CPython raises for the same call). */
#ifndef MMAPFS_MSG_H
#define MMAPFS_MSG_H

#include <stddef.h>

struct msg {
	char text[256];
};

/* Record a formatted message and return -errnum. A NULL msg only returns. */
int msg_fail(struct msg *m, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Record strerror(errnum) and return -errnum. */
int msg_fail_errno(struct msg *m, int errnum);

#endif
