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
		append(q, too_long, sizeof too_long - 1);
		rc = -E2BIG;
	}
	/* One trailing newline ends the last command; it does not start a blank one. */
	size_t end = (len > 0 && buf[len - 1] == '\n') ? len - 1 : len;
	for (size_t at = 0; rc > 0 && at <= end;) {
		size_t next, n = next_line(buf + at, end - at, &next);
		char result[RESULT_MAX];
		struct msg m = { "" };
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
