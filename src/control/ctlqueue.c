/* ctlqueue.c - result queues of open control files. */
#include "config.h"
#include "control/ctlqueue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "control/command.h"
#include "core/parse.h"

static int append(struct ctl_queue *q, const char *s, size_t n)
{
	if (q->len + n > q->cap && q->head > 0) {
		/* Reclaim what was read before growing. */
		memmove(q->text, q->text + q->head, q->len - q->head);
		q->len -= q->head;
		q->head = 0;
	}
	if (q->len + n > q->cap) {
		size_t cap = q->cap ? q->cap : 256;
		while (cap < q->len + n)
			cap *= 2;
		char *t = realloc(q->text, cap);
		if (!t)
			return -ENOMEM;
		q->text = t;
		q->cap = cap;
	}
	memcpy(q->text + q->len, s, n);
	q->len += n;
	return 0;
}

int ctl_queue_init(struct ctl_queue *q, const char *usage)
{
	memset(q, 0, sizeof *q);
	pthread_mutex_init(&q->lock, NULL);
	return append(q, usage, strlen(usage));
}

void ctl_queue_destroy(struct ctl_queue *q)
{
	pthread_mutex_destroy(&q->lock);
	free(q->text);
}

static const char queue_full[] =
	"error: too many unread results: read them before writing more "
	"(at most 65536 bytes wait)\n";

static size_t unread(const struct ctl_queue *q)
{
	return q->len - q->head;
}

/* Append a line the server itself writes (a refusal) only where it fits:
 * the queue never holds more than CTL_QUEUE_MAX. */
static void add_notice(struct ctl_queue *q, const char *line, size_t n)
{
	if (unread(q) + n <= CTL_QUEUE_MAX)
		append(q, line, n);
}

/* The reserve holds the longest result line a command can add (a value, or
 * "error: " and a message, and the newline) and then the refusal line. */
_Static_assert(CTL_QUEUE_RESERVE >= sizeof "error: " + sizeof(struct msg) + sizeof queue_full,
	       "the reserve holds an error line and a refusal");
_Static_assert(CTL_QUEUE_RESERVE >= COMMAND_RESULT_MAX + sizeof queue_full,
	       "the reserve holds a value line and a refusal");

/* Whether one more command's result fits, leaving room for a refusal. */
static bool has_room(const struct ctl_queue *q)
{
	return unread(q) + CTL_QUEUE_RESERVE <= CTL_QUEUE_MAX;
}

static void add_result(struct ctl_queue *q, int rc, const char *value, const struct msg *m)
{
	if (rc == 0) {
		append(q, value, strlen(value));
	} else {
		append(q, "error: ", 7);
		append(q, m->text, strlen(m->text));
	}
	append(q, "\n", 1);
}

ssize_t ctl_queue_write(struct ctl_queue *q, const char *buf, size_t len, ctl_runner run,
			void *ctx)
{
	pthread_mutex_lock(&q->lock);
	if (!q->written) {
		q->written = true;
		q->head = q->len = 0;
	}
	ssize_t rc = (ssize_t)len;
	if (len > CTL_WRITE_MAX) {
		static const char too_long[] =
			"error: command too long (a write() carries at most 65536 bytes)\n";
		add_notice(q, too_long, sizeof too_long - 1);
		rc = -E2BIG;
	}
	/* One trailing newline ends the last command; it does not start a blank one. */
	size_t end = (len > 0 && buf[len - 1] == '\n') ? len - 1 : len;
	for (size_t at = 0; rc > 0 && at <= end;) {
		size_t next, n = parse_next_line(buf + at, end - at, &next);
		char result[COMMAND_RESULT_MAX];
		struct msg m = { "" };
		if (!has_room(q)) {
			add_notice(q, queue_full, sizeof queue_full - 1);
			rc = -ENOBUFS;
			break;
		}
		int r = run(ctx, buf + at, n, result, sizeof result, &m);
		add_result(q, r, result, &m);
		if (r < 0)
			rc = r;
		if (at + n >= end)
			break;
		at += next;
	}
	pthread_mutex_unlock(&q->lock);
	return rc;
}

size_t ctl_queue_read(struct ctl_queue *q, char *out, size_t n)
{
	pthread_mutex_lock(&q->lock);
	size_t avail = q->len - q->head;
	if (n > avail)
		n = avail;
	memcpy(out, q->text + q->head, n);
	q->head += n;
	pthread_mutex_unlock(&q->lock);
	return n;
}
