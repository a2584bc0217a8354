/* mountinfo.c - reading /proc/self/mountinfo, escapes decoded. */
#define _GNU_SOURCE
#include "core/mountinfo.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#define MOUNTINFO "/proc/self/mountinfo"

static bool is_octal(char c)
{
	return c >= '0' && c <= '7';
}

size_t mountinfo_unescape(char *s)
{
	char *out = s;
	for (const char *in = s; *in;) {
		/* The kernel writes \ooo with exactly three digits (the first at
		 * most 3); anything else is a byte of the name itself. */
		if (in[0] == '\\' && in[1] >= '0' && in[1] <= '3' && is_octal(in[2]) &&
		    is_octal(in[3])) {
			*out++ = (char)((in[1] - '0') << 6 | (in[2] - '0') << 3 | (in[3] - '0'));
			in += 4;
		} else {
			*out++ = *in++;
		}
	}
	*out = '\0';
	return (size_t)(out - s);
}

/* The next field separated by single spaces (mountinfo escapes spaces
 * inside fields), or NULL at the end of the line. */
static char *next_field(char **cursor)
{
	char *f = *cursor;
	if (!f || !*f)
		return NULL;
	char *end = strpbrk(f, " \n");
	if (end) {
		bool last = *end == '\n';
		*end = '\0';
		*cursor = last ? NULL : end + 1;
	} else {
		*cursor = NULL;
	}
	return f;
}

bool mountinfo_parse_line(char *line, struct mount_entry *e)
{
	char *cur = line;
	char *id = next_field(&cur), *parent = next_field(&cur), *dev = next_field(&cur);
	char *root = next_field(&cur), *point = next_field(&cur);
	unsigned maj, min;
	if (!id || !parent || !dev || !root || !point || sscanf(dev, "%u:%u", &maj, &min) != 2)
		return false;
	/* Options, then optional fields up to a lone "-", then the type. */
	char *f;
	while ((f = next_field(&cur)) && strcmp(f, "-") != 0)
		;
	char *fstype = f ? next_field(&cur) : NULL;
	if (!fstype)
		return false;
	char *end;
	long n = strtol(id, &end, 10);
	if (*end || n < 0 || n > INT32_MAX)
		return false;
	e->id = (int)n;
	e->dev = makedev(maj, min);
	mountinfo_unescape(point);
	mountinfo_unescape(fstype);
	e->point = point;
	e->fstype = fstype;
	return true;
}

bool fstype_is_fuse(const char *t)
{
	return strcmp(t, "fuse") == 0 || strncmp(t, "fuse.", 5) == 0 ||
	       strcmp(t, "fuseblk") == 0 || strcmp(t, "virtiofs") == 0;
}

/* Call fn for each line of mountinfo until it returns nonzero; returns
 * that value, 0 at the end, or -errno if mountinfo cannot be read. */
static int each_mount(int (*fn)(const struct mount_entry *e, void *ctx), void *ctx)
{
	FILE *f = fopen(MOUNTINFO, "re");
	if (!f)
		return -errno;
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;
	struct mount_entry e;
	while (rc == 0 && getline(&line, &cap, f) > 0)
		if (mountinfo_parse_line(line, &e))
			rc = fn(&e, ctx);
	if (rc == 0 && ferror(f))
		rc = -EIO;
	free(line);
	fclose(f);
	return rc;
}

struct device_query {
	const char *point;
	dev_t dev;
};

static int note_device(const struct mount_entry *e, void *ctx)
{
	struct device_query *q = ctx;
	if (strcmp(e->point, q->point) == 0)
		q->dev = e->dev; /* later lines are mounted on top */
	return 0;
}

dev_t mountinfo_device_of(const char *point)
{
	struct device_query q = { point, 0 };
	return each_mount(note_device, &q) < 0 ? 0 : q.dev;
}

static int note_id(const struct mount_entry *e, void *ctx)
{
	struct mount_ids *ids = ctx;
	if (ids->n == ids->cap) {
		size_t cap = ids->cap ? ids->cap * 2 : 64;
		struct mount_id *v = realloc(ids->v, cap * sizeof *v);
		if (!v)
			return -ENOMEM;
		ids->v = v;
		ids->cap = cap;
	}
	ids->v[ids->n].id = e->id;
	ids->v[ids->n].dev = e->dev;
	ids->v[ids->n].fuse = fstype_is_fuse(e->fstype);
	ids->n++;
	return 0;
}

int mount_ids_read(struct mount_ids *ids)
{
	ids->v = NULL;
	ids->n = ids->cap = 0;
	int rc = each_mount(note_id, ids);
	if (rc < 0)
		mount_ids_free(ids);
	return rc;
}

enum mount_kind mount_ids_kind(const struct mount_ids *ids, int id)
{
	for (size_t i = 0; i < ids->n; i++)
		if (ids->v[i].id == id)
			return ids->v[i].fuse ? MOUNT_FUSE : MOUNT_OTHER;
	return MOUNT_UNKNOWN;
}

enum mount_kind mount_ids_kind_of_dev(const struct mount_ids *ids, dev_t dev)
{
	for (size_t i = 0; i < ids->n; i++)
		if (ids->v[i].dev == dev)
			return ids->v[i].fuse ? MOUNT_FUSE : MOUNT_OTHER;
	return MOUNT_UNKNOWN;
}

void mount_ids_free(struct mount_ids *ids)
{
	free(ids->v);
	ids->v = NULL;
	ids->n = ids->cap = 0;
}
