/* attrs.c - one value and a newline per attribute file. */
#include "config.h"
#include "view/attrs.h"

#include "view/introspect.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int text_of(char **text, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int text_of(char **text, size_t *len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(text, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	*len = (size_t)n;
	return 0;
}

/* Read afresh: the name the kernel gives the backing file now. */
static int source_text(struct mapping *m, char **text, size_t *len, struct msg *msg)
{
	char *path = NULL;
	int rc = mapping_source(m, &path, msg);
	if (rc == 0)
		rc = text_of(text, len, "%s\n", path);
	free(path);
	return rc;
}

int attrs_render(struct mapping *m, enum kind k, char **text, size_t *len, struct msg *msg)
{
	struct mapping_info i;
	mapping_info(m, &i);
	if (i.closed)
		return msg_fail(msg, ENXIO, "mmap closed or invalid");
	char words[128];
	int64_t filesize;
	int rc;
	switch (k) {
	case KIND_SIZE:
		return text_of(text, len, "%zu\n", i.len);
	case KIND_POS:
		return text_of(text, len, "%zu\n", i.pos);
	case KIND_ACCESS:
		return text_of(text, len, "%s\n", names_access_name(i.access));
	case KIND_OFFSET:
		return text_of(text, len, "%lld\n", (long long)i.offset);
	case KIND_FLAGS:
		names_flags_format(i.flags, words, sizeof words);
		return text_of(text, len, "%s\n", words);
	case KIND_PROT:
		names_prot_format(i.prot, words, sizeof words);
		return text_of(text, len, "%s\n", words);
	case KIND_SOURCE:
		return source_text(m, text, len, msg);
	case KIND_PAGES:
		return introspect_pages(m, text, len, msg);
	case KIND_SMAPS:
		return introspect_smaps(m, text, len, msg);
	case KIND_PAGEMAP:
		return mapping_pagemap(m, text, len, msg);
	case KIND_FILESIZE:
		rc = mapping_filesize(m, &filesize, msg);
		return rc < 0 ? rc : text_of(text, len, "%lld\n", (long long)filesize);
	default:
		return msg_fail(msg, EINVAL, "not an attribute file");
	}
}

int attrs_root_render(struct table *t, enum node n, char **text, size_t *len)
{
	long page = sysconf(_SC_PAGESIZE);
	struct table_stats s;
	switch (n) {
	case NODE_PAGESIZE:
	case NODE_ALLOCGRAN: /* Linux: mmap.ALLOCATIONGRANULARITY == PAGESIZE */
		return text_of(text, len, "%ld\n", page);
	case NODE_STATS:
		table_stats(t, &s);
		return text_of(text, len,
			       "maps %zu\nbytes %llu\nmax_maps %llu\nmax_bytes %llu\nresident %llu\n",
			       s.maps, (unsigned long long)s.bytes, (unsigned long long)s.max_maps,
			       (unsigned long long)s.max_bytes,
			       (unsigned long long)table_resident(t, introspect_resident));
	default:
		return -EINVAL;
	}
}
