/* names.c - tables of mmap constant names, and their parsing and printing. */
#include "config.h"
#include "core/names.h"

#include "core/parse.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>

struct name_value {
	const char *name;
	int value;
};

static const char *const access_names[] = { "default", "read", "write", "copy" };

const char *names_access_name(enum access_mode a)
{
	return access_names[a];
}

static bool word_is(const char *w, size_t len, const char *name)
{
	return strlen(name) == len && memcmp(w, name, len) == 0;
}

int names_access_parse(const char *word, size_t len, enum access_mode *out, struct msg *m)
{
	for (int i = 0; i < 4; i++) {
		if (word_is(word, len, access_names[i])) {
			*out = (enum access_mode)i;
			return 0;
		}
	}
	return msg_fail(m, EINVAL, "mmap invalid access parameter.");
}

/* The extra MAP_ flags a mapping may carry. MAP_FIXED and its kin are left
 * out: they would let a user clobber the server's own memory. */
static const struct name_value extra_flags[] = {
	{ "populate", MAP_POPULATE },
	{ "noreserve", MAP_NORESERVE },
	{ "stack", MAP_STACK },
	{ "locked", MAP_LOCKED },
	{ "nonblock", MAP_NONBLOCK },
	{ "hugetlb", MAP_HUGETLB },
	{ "growsdown", MAP_GROWSDOWN },
	{ "denywrite", MAP_DENYWRITE },
	{ "executable", MAP_EXECUTABLE },
	{ "32bit", MAP_32BIT },
#ifdef MAP_SYNC
	{ "sync", MAP_SYNC },
#endif
	{ NULL, 0 },
};

static const struct name_value map_types[] = {
	{ "shared", MAP_SHARED },
	{ "private", MAP_PRIVATE },
#ifdef MAP_SHARED_VALIDATE
	{ "shared_validate", MAP_SHARED_VALIDATE },
#endif
	{ NULL, 0 },
};

static const struct name_value *lookup(const struct name_value *t, const char *w, size_t len)
{
	for (; t->name; t++)
		if (word_is(w, len, t->name))
			return t;
	return NULL;
}

/* Walk a comma-separated list, calling fn on each item. */
static int each_item(const char *list, size_t len,
		     int (*fn)(const char *w, size_t n, int *acc, struct msg *m),
		     int *acc, struct msg *m)
{
	size_t i = 0;
	for (;;) {
		const char *comma = memchr(list + i, ',', len - i);
		size_t n = comma ? (size_t)(comma - (list + i)) : len - i;
		int rc = fn(list + i, n, acc, m);
		if (rc < 0)
			return rc;
		if (!comma)
			return 0;
		i += n + 1;
	}
}

static int add_flag(const char *w, size_t n, int *acc, struct msg *m)
{
	const struct name_value *nv = lookup(map_types, w, n);
	if (!nv)
		nv = lookup(extra_flags, w, n);
	if (!nv)
		return msg_fail(m, EINVAL, "unknown flag '%.*s' (known: shared, private, populate, "
			    "noreserve, stack, locked, nonblock, hugetlb, ...)", (int)n, w);
	*acc |= nv->value;
	return 0;
}

int names_flags_parse(const char *list, size_t len, int *out, struct msg *m)
{
	*out = 0;
	return each_item(list, len, add_flag, out, m);
}

static void append(char *buf, size_t cap, const char *word)
{
	size_t used = strlen(buf);
	snprintf(buf + used, cap - used, "%s%s", used ? "," : "", word);
}

void names_flags_format(int flags, char *buf, size_t cap)
{
	buf[0] = '\0';
	int type = flags & MAP_TYPE;
	for (const struct name_value *t = map_types; t->name; t++)
		if (type == t->value)
			append(buf, cap, t->name);
	for (const struct name_value *t = extra_flags; t->name; t++)
		if (flags & t->value)
			append(buf, cap, t->name);
}

static const struct name_value prot_bits[] = {
	{ "read", PROT_READ },
	{ "write", PROT_WRITE },
	{ "exec", PROT_EXEC },
	{ NULL, 0 },
};

static int add_prot(const char *w, size_t n, int *acc, struct msg *m)
{
	const struct name_value *nv = lookup(prot_bits, w, n);
	if (!nv)
		return msg_fail(m, EINVAL, "unknown prot '%.*s' (known: read, write, exec, none)",
			    (int)n, w);
	*acc |= nv->value;
	return 0;
}

int names_prot_parse(const char *list, size_t len, int *out, struct msg *m)
{
	*out = 0;
	if (word_is(list, len, "none"))
		return 0;
	return each_item(list, len, add_prot, out, m);
}

void names_prot_format(int prot, char *buf, size_t cap)
{
	buf[0] = '\0';
	for (const struct name_value *t = prot_bits; t->name; t++)
		if (prot & t->value)
			append(buf, cap, t->name);
	if (!buf[0])
		snprintf(buf, cap, "none");
}

/* Every MADV_ constant Linux defines, by its value, so that the list does
 * not depend on how new the C library's headers are. */
static const struct name_value advice_names[] = {
	{ "normal", 0 },	{ "random", 1 },	{ "sequential", 2 },
	{ "willneed", 3 },	{ "dontneed", 4 },	{ "free", 8 },
	{ "remove", 9 },	{ "dontfork", 10 },	{ "dofork", 11 },
	{ "mergeable", 12 },	{ "unmergeable", 13 },	{ "hugepage", 14 },
	{ "nohugepage", 15 },	{ "dontdump", 16 },	{ "dodump", 17 },
	{ "wipeonfork", 18 },	{ "keeponfork", 19 },	{ "cold", 20 },
	{ "pageout", 21 },	{ "populate_read", 22 }, { "populate_write", 23 },
	{ "dontneed_locked", 24 }, { "collapse", 25 },	{ "hwpoison", 100 },
	{ "soft_offline", 101 }, { "guard_install", 102 }, { "guard_remove", 103 },
	{ NULL, 0 },
};

bool names_advice_is_hardware(int advice)
{
	return advice == 100 || advice == 101;
}

int names_advice_parse(const char *word, size_t len, int *out, struct msg *m)
{
	const char *w = word;
	size_t n = len;
	if (n > 5 && strncasecmp(w, "MADV_", 5) == 0) {
		w += 5;
		n -= 5;
	}
	for (const struct name_value *t = advice_names; t->name; t++) {
		if (strlen(t->name) == n && strncasecmp(w, t->name, n) == 0) {
			*out = t->value;
			return 0;
		}
	}
	/* A number passes straight to madvise(2), as mmap.madvise(int) does. */
	struct parse_token t = { (char *)word, len };
	int64_t v;
	if (parse_number(&t, &v, NULL) == 0 && v >= INT32_MIN && v <= INT32_MAX) {
		*out = (int)v;
		return 0;
	}
	return msg_fail(m, EINVAL, "unknown madvise advice '%.*s'", (int)len, word);
}
