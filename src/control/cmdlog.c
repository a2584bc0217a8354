/* cmdlog.c - a ring of the most recent command lines, bounded in lines and
 * bytes, read through snapshots that share its entries. */
#include "config.h"
#include "control/cmdlog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Immutable once made; freed by whoever drops the last reference (the log,
 * or the last snapshot holding it), so no lock guards it. */
struct cmdlog_entry {
	unsigned refs;	/* atomic */
	uid_t uid;
	size_t len;
	char text[];
};

struct cmdlog_snap {
	size_t n, size;
	struct cmdlog_entry **e;
	size_t *end;	/* end[i]: offset just past entry i's text */
};

/* What one entry costs the byte budget: its text and its header. */
static size_t entry_cost(const struct cmdlog_entry *e)
{
	return sizeof *e + e->len;
}

static void entry_unref(struct cmdlog_entry *e)
{
	if (e && __atomic_sub_fetch(&e->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(e);
}

void cmdlog_init(struct cmdlog *l)
{
	memset(l, 0, sizeof *l);
	pthread_mutex_init(&l->lock, NULL);
}

void cmdlog_destroy(struct cmdlog *l)
{
	for (size_t i = 0; i < CMDLOG_LINES; i++)
		entry_unref(l->ring[i]);
	pthread_mutex_destroy(&l->lock);
}

size_t cmdlog_escape(char *out, size_t cap, const char *s, size_t len, size_t *used)
{
	size_t w = 0, i = 0;
	for (; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		bool plain = c >= 0x20 && c < 0x7f;
		size_t need = plain ? 1 : 4;
		if (w + need + 1 > cap)
			break;
		if (plain)
			out[w++] = (char)c;
		else
			w += (size_t)snprintf(out + w, cap - w, "\\x%02x", c);
	}
	if (cap)
		out[w] = '\0';
	if (used)
		*used = i;
	return w;
}

/* The escaped text of one field, cut to CMDLOG_TEXT_MAX with a marker that
 * gives the field's full length. */
#define FIELD_MAX (CMDLOG_TEXT_MAX + 48)
static void field(char out[FIELD_MAX], const char *s, size_t len)
{
	size_t used, w = cmdlog_escape(out, CMDLOG_TEXT_MAX + 1, s, len, &used);
	if (used < len)
		snprintf(out + w, FIELD_MAX - w, " [cut: %zu bytes]", len);
}

/* "2026-12-01T07:06:05.123Z" */
static void format_time(char out[32], const struct timespec *t)
{
	struct tm tm;
	time_t sec = t->tv_sec;
	if (!gmtime_r(&sec, &tm))
		memset(&tm, 0, sizeof tm);
	size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%03ldZ", (long)(t->tv_nsec / 1000000) % 1000);
}

static struct cmdlog_entry *make_entry(const struct cmdlog_origin *o, const char *file,
				       const char *cmd, size_t len, const char *result)
{
	char when[32], f[FIELD_MAX], c[FIELD_MAX], r[FIELD_MAX];
	format_time(when, &o->when);
	field(f, file, strlen(file));
	field(c, cmd, len);
	field(r, result, strlen(result));
	int n = snprintf(NULL, 0, "%s pid %d uid %u %s: %s => %s\n", when, (int)o->pid,
			 (unsigned)o->uid, f, c, r);
	struct cmdlog_entry *e = n < 0 ? NULL : malloc(sizeof *e + (size_t)n + 1);
	if (!e)
		return NULL;
	snprintf(e->text, (size_t)n + 1, "%s pid %d uid %u %s: %s => %s\n", when, (int)o->pid,
		 (unsigned)o->uid, f, c, r);
	e->refs = 1;
	e->uid = o->uid;
	e->len = (size_t)n;
	return e;
}

/* Drop the oldest entry; the caller holds the lock. */
static void drop_oldest(struct cmdlog *l)
{
	size_t i = (l->next + CMDLOG_LINES - l->count) % CMDLOG_LINES;
	l->bytes -= entry_cost(l->ring[i]);
	entry_unref(l->ring[i]);
	l->ring[i] = NULL;
	l->count--;
}

void cmdlog_add(struct cmdlog *l, const struct cmdlog_origin *o, const char *file,
		const char *cmd, size_t len, const char *result)
{
	struct cmdlog_entry *e = make_entry(o, file, cmd, len, result);
	if (!e)
		return;
	pthread_mutex_lock(&l->lock);
	if (l->count == CMDLOG_LINES)
		drop_oldest(l);
	l->ring[l->next] = e;
	l->next = (l->next + 1) % CMDLOG_LINES;
	l->count++;
	l->bytes += entry_cost(e);
	while (l->bytes > CMDLOG_BYTES && l->count > 1)
		drop_oldest(l);
	l->seq++;
	pthread_mutex_unlock(&l->lock);
}

int cmdlog_snapshot(struct cmdlog *l, bool all, uid_t uid, struct cmdlog_snap **out)
{
	struct cmdlog_snap *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	pthread_mutex_lock(&l->lock);
	size_t cap = l->count ? l->count : 1;
	s->e = malloc(cap * sizeof *s->e);
	s->end = malloc(cap * sizeof *s->end);
	for (size_t k = 0; s->e && s->end && k < l->count; k++) {
		struct cmdlog_entry *e = l->ring[(l->next + CMDLOG_LINES - l->count + k) % CMDLOG_LINES];
		if (!all && e->uid != uid)
			continue;
		__atomic_add_fetch(&e->refs, 1, __ATOMIC_RELAXED);
		s->size += e->len;
		s->e[s->n] = e;
		s->end[s->n++] = s->size;
	}
	pthread_mutex_unlock(&l->lock);
	if (!s->e || !s->end) {
		cmdlog_snap_free(s);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

size_t cmdlog_snap_size(const struct cmdlog_snap *s)
{
	return s->size;
}

size_t cmdlog_snap_read(const struct cmdlog_snap *s, size_t off, char *out, size_t n)
{
	/* The first entry that ends past off. */
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->end[mid] <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t got = 0;
	for (size_t i = lo; i < s->n && got < n; i++) {
		size_t start = s->end[i] - s->e[i]->len;
		size_t from = off + got - start, take = s->e[i]->len - from;
		if (take > n - got)
			take = n - got;
		memcpy(out + got, s->e[i]->text + from, take);
		got += take;
	}
	return got;
}

void cmdlog_snap_free(struct cmdlog_snap *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		entry_unref(s->e[i]);
	free(s->e);
	free(s->end);
	free(s);
}

int cmdlog_render(struct cmdlog *l, char **text, size_t *len)
{
	struct cmdlog_snap *s;
	int rc = cmdlog_snapshot(l, true, 0, &s);
	if (rc < 0)
		return rc;
	char *out = malloc(s->size + 1);
	if (out) {
		*len = cmdlog_snap_read(s, 0, out, s->size);
		out[*len] = '\0';
		*text = out;
	}
	cmdlog_snap_free(s);
	return out ? 0 : -ENOMEM;
}
