/* hints.c - after a refusal, a line saying what to change. The server's
 * message stays as it is (it is CPython's, word for word, where CPython
 * refuses the same call); the hint names the option or the range that would
 * work, from what mmapctl can read itself: the file's size, the mapping's
 * attributes. */
#include "config.h"
#include "mmapctl/mmapctl.h"
#include "core/parse.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void hint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void hint(const char *fmt, ...)
{
	va_list ap;
	fputs("hint: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* text as the server reads a number; 0, or -EINVAL with the message in m. */
static int number(const char *text, int64_t *v, struct msg *m)
{
	struct parse_token t = { (char *)text, strlen(text) };
	return parse_number(&t, v, m);
}

/* The value of map's key=value option, or NULL. */
static const char *map_option(const struct invocation *inv, const char *key)
{
	size_t n = strlen(key);
	const char *found = NULL;
	for (int i = 1; i < inv->argc; i++)
		if (strncmp(inv->argv[i], key, n) == 0 && inv->argv[i][n] == '=')
			found = inv->argv[i] + n + 1; /* the last one wins, as in the server */
	return found;
}

static int64_t map_number(const struct invocation *inv, const char *key)
{
	const char *v = map_option(inv, key);
	int64_t n = 0;
	if (v && number(v, &n, NULL) < 0)
		n = 0;
	return n;
}

/* An attribute of the mapping named by the first argument. */
static bool attr_of(const struct invocation *inv, const char *attr, char **value)
{
	return mount_read_attr(inv->mount, inv->argv[0], attr, value) == 0;
}

static bool size_of_mapping(const struct invocation *inv, uint64_t *size)
{
	char *v = NULL;
	bool ok = attr_of(inv, "size", &v);
	if (ok)
		*size = strtoull(v, NULL, 10);
	free(v);
	return ok;
}

static bool file_size(const char *path, uint64_t *size)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return false;
	*size = (uint64_t)st.st_size;
	return true;
}

/* ---- map ------------------------------------------------------------------ */

static void map_too_long(const struct invocation *inv)
{
	uint64_t size;
	int64_t off = map_number(inv, "offset");
	if (!file_size(inv->argv[0], &size) || off < 0 || (uint64_t)off > size)
		return;
	hint("%s has %" PRIu64 " bytes; from offset %" PRId64 " at most %" PRIu64
	     " fit: give length=%" PRIu64 " or less, or length=0 for all of them",
	     inv->argv[0], size, off, size - (uint64_t)off, size - (uint64_t)off);
}

static void map_offset_too_big(const struct invocation *inv)
{
	uint64_t size;
	if (file_size(inv->argv[0], &size))
		hint("%s has %" PRIu64 " bytes: offset= must be less than that", inv->argv[0],
		     size);
}

static void map_empty(const struct invocation *inv)
{
	hint("%s is empty: give it a size first (truncate -s 4K FILE), or map anon length=N",
	     inv->argv[0]);
}

static void map_negative_length(const struct invocation *inv)
{
	(void)inv;
	hint("length= must be 0 (the whole file from offset=) or more");
}

static void map_negative_offset(const struct invocation *inv)
{
	(void)inv;
	hint("offset= must be 0 or more");
}

static void map_access_and_flags(const struct invocation *inv)
{
	(void)inv;
	hint("give access= alone, or flags=/prot= alone (access=copy is flags=private, "
	     "access=read is prot=read)");
}

/* ---- any command ------------------------------------------------------------ */

/* Which argument is the number beyond ssize_t. */
static void too_large(const struct invocation *inv)
{
	for (int i = 0; i < inv->argc; i++) {
		const char *a = inv->argv[i];
		const char *eq = strchr(a, '=');
		struct msg m;
		int64_t v;
		if (number(eq ? eq + 1 : a, &v, &m) < 0 && strstr(m.text, "too large")) {
			hint("%s is beyond the largest number a mapping takes, "
			     "9223372036854775807 (2^63-1)", a);
			return;
		}
	}
}

/* EINVAL from the system call: mostly an offset that is not page-aligned. */
static void invalid_argument(const struct invocation *inv, const char *verb)
{
	long page = sysconf(_SC_PAGESIZE);
	int64_t at = 0;
	if (strcmp(verb, "map") == 0) {
		if (map_number(inv, "offset") % page)
			hint("offset= must be a multiple of the allocation granularity, %ld", page);
	} else if ((strcmp(verb, "flush") == 0 || strcmp(verb, "madvise") == 0) &&
		   inv->argc > (verb[0] == 'f' ? 1 : 2) &&
		   number(inv->argv[verb[0] == 'f' ? 1 : 2], &at, NULL) == 0 && at % page) {
		hint("%s's %s must be a multiple of the page size, %ld", verb,
		     verb[0] == 'f' ? "OFFSET" : "START", page);
	}
}

/* ---- a mapping's commands ----------------------------------------------------- */

static void out_of_range(const struct invocation *inv, const char *verb)
{
	uint64_t n;
	if (!size_of_mapping(inv, &n))
		return;
	const char *name = inv->argv[0];
	if (strcmp(verb, "seek") == 0)
		hint("%s has %" PRIu64 " bytes: the new position must lie in 0..%" PRIu64
		     " (cur counts from the position, end from %" PRIu64 ")", name, n, n, n);
	else if (strcmp(verb, "move") == 0)
		hint("%s has %" PRIu64 " bytes: DEST+COUNT and SRC+COUNT must both be at most %"
		     PRIu64, name, n, n);
	else if (strcmp(verb, "flush") == 0)
		hint("%s has %" PRIu64 " bytes: OFFSET+SIZE must be at most %" PRIu64, name, n, n);
	else if (strcmp(verb, "madvise") == 0)
		hint("%s has %" PRIu64 " bytes: START must be below %" PRIu64
		     " and START+LENGTH at most %" PRIu64, name, n, n, n);
}

static void cannot_resize(const struct invocation *inv, const char *verb)
{
	(void)verb;
	char *access = NULL;
	if (attr_of(inv, "access", &access))
		hint("%s has access=%s: map the file again with access=write (or default) to "
		     "resize it", inv->argv[0], access);
	free(access);
}

static void trackfd_resize(const struct invocation *inv, const char *verb)
{
	(void)verb;
	hint("%s was mapped with trackfd=no: map the file again without it to resize it",
	     inv->argv[0]);
}

static void read_only(const struct invocation *inv, const char *verb)
{
	(void)verb;
	hint("%s has access=read: map the file again with access=write (or default) to "
	     "change its bytes", inv->argv[0]);
}

static void negative_size(const struct invocation *inv, const char *verb)
{
	(void)inv;
	(void)verb;
	hint("SIZE must be 0 or more");
}

static void whence(const struct invocation *inv, const char *verb)
{
	(void)inv;
	(void)verb;
	hint("WHENCE is set, cur or end (or 0, 1, 2)");
}

/* ---- read and write: errno, not a message --------------------------------------- */

static void write_too_big(const struct invocation *inv)
{
	uint64_t n;
	char *access = NULL;
	int64_t off = 0;
	if (!size_of_mapping(inv, &n) || !attr_of(inv, "access", &access))
		return;
	number(inv->argv[1], &off, NULL);
	uint64_t room = off >= 0 && (uint64_t)off < n ? n - (uint64_t)off : 0;
	/* only read/copy access and trackfd=no keep a mapping from growing */
	bool fixed = strcmp(access, "read") == 0 || strcmp(access, "copy") == 0;
	hint("%s has %" PRIu64 " bytes and cannot grow (%s%s): at most %" PRIu64
	     " bytes fit from offset %" PRId64, inv->argv[0], n, fixed ? "access=" : "",
	     fixed ? access : "it was mapped with trackfd=no", room, off);
	free(access);
}

static void no_access(const struct invocation *inv, const char *verb)
{
	char *prot = NULL, *access = NULL;
	if (!attr_of(inv, "prot", &prot) || !attr_of(inv, "access", &access))
		;
	else if (strcmp(verb, "write") != 0)
		hint("%s has prot=%s: map the file again with a prot that has read to read "
		     "its bytes", inv->argv[0], prot);
	else if (strcmp(access, "read") == 0)
		hint("%s has access=read: map the file again with access=write (or default) to "
		     "change its bytes", inv->argv[0]);
	else
		hint("%s has prot=%s: map the file again with a prot that has write to change "
		     "its bytes", inv->argv[0], prot);
	free(prot);
	free(access);
}

static const struct {
	const char *message;
	const char *verb;	/* NULL: any command */
	void (*map_hint)(const struct invocation *inv);
	void (*cmd_hint)(const struct invocation *inv, const char *verb);
} hints[] = {
	{ "mmap length is greater than file size", "map", map_too_long, NULL },
	{ "mmap offset is greater than file size", "map", map_offset_too_big, NULL },
	{ "cannot mmap an empty file", "map", map_empty, NULL },
	{ "memory mapped length must be positive", "map", map_negative_length, NULL },
	{ "memory mapped offset must be positive", "map", map_negative_offset, NULL },
	{ "mmap can't specify both access and flags, prot.", "map", map_access_and_flags, NULL },
	{ "Python int too large to convert to C ssize_t", NULL, too_large, NULL },
	{ "Invalid argument", NULL, NULL, invalid_argument },
	{ "seek out of range", NULL, NULL, out_of_range },
	{ "source, destination, or count out of range", NULL, NULL, out_of_range },
	{ "flush values out of range", NULL, NULL, out_of_range },
	{ "madvise start out of bounds", NULL, NULL, out_of_range },
	{ "madvise length invalid", NULL, NULL, out_of_range },
	{ "madvise length too large", NULL, NULL, out_of_range },
	{ "mmap can't resize a readonly or copy-on-write memory map.", NULL, NULL, cannot_resize },
	{ "mmap can't resize with trackfd=False.", NULL, NULL, trackfd_resize },
	{ "mmap can't modify a readonly memory map.", NULL, NULL, read_only },
	{ "new size out of range", NULL, NULL, negative_size },
	{ "unknown seek type", NULL, NULL, whence },
};

void print_hint(const struct invocation *inv, const char *verb, const char *message, int err)
{
	bool bytes = strcmp(verb, "read") == 0 || strcmp(verb, "write") == 0 ||
		     strcmp(verb, "dump") == 0;
	if (bytes) {
		if (err == EFBIG && strcmp(verb, "write") == 0)
			write_too_big(inv);
		else if (err == EACCES)
			no_access(inv, verb);
		return;
	}
	for (size_t i = 0; i < sizeof hints / sizeof hints[0]; i++) {
		if (strcmp(hints[i].message, message) != 0 ||
		    (hints[i].verb && strcmp(hints[i].verb, verb) != 0))
			continue;
		if (hints[i].map_hint)
			hints[i].map_hint(inv);
		else
			hints[i].cmd_hint(inv, verb);
		return;
	}
}
