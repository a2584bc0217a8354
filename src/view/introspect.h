/* introspect.h - what the kernel knows of a mapping's pages: the `pages`
 * map and the `pagemap` runs (from the PAGEMAP_SCAN ioctl, or
 * /proc/self/pagemap, with /proc/kpageflags, mincore(2) and the VMA's
 * flags), the `smaps` records, and resident bytes. */
#ifndef MMAPFS_INTROSPECT_H
#define MMAPFS_INTROSPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mapping.h"
#include "core/msg.h"

/* A page's flags, as `pagemap` names them (in this order). */
enum page_flag {
	PGF_PRESENT = 1u << 0,	/* mapped here (in the server's page tables) */
	PGF_SWAPPED = 1u << 1,	/* swapped out */
	PGF_FILE = 1u << 2,	/* a page of the page cache (a file, a memfd, tmpfs) */
	PGF_ANON = 1u << 3,	/* an anonymous page */
	PGF_SHARED = 1u << 4,	/* mapped here, and the backing object's own page */
	PGF_COPY = 1u << 5,	/* mapped here as a private (copy-on-write) copy */
	PGF_ZERO = 1u << 6,	/* mapped here to the kernel's shared zero page */
	PGF_DIRTY = 1u << 7,	/* shared, written, not yet written back to its file */
	PGF_HUGE = 1u << 8,	/* in a transparent or hugetlb huge page */
	PGF_LOCKED = 1u << 9,	/* in an mlock'ed range */
	PGF_GUARD = 1u << 10,	/* a guard page (madvise guard_install) */
	PGF_NAMED = 11,		/* how many of the above have names */
	PGF_INCORE = 1u << 11,	/* `pages` only: in memory, per mincore(2) */
};

/* The `pages` character of a page with these flags, the first that holds of
 *   G guard, S swapped, . not in memory, Z zero page, C private copy,
 *   D shared and dirty, M mapped and shared, R in memory, not mapped here. */
char page_char(unsigned flags);

/* The flags as `pagemap` writes them: "present,file,shared", or "none".
 * Returns the length written (truncated to cap - 1). */
size_t page_flags_format(unsigned flags, char *buf, size_t cap);

/* One character per page, then "\n" (see page_char). */
int introspect_pages(struct mapping *m, char **text, size_t *len, struct msg *msg);

/* One line per run of pages with equal flags: "FIRST LAST FLAGS\n". */
int mapping_pagemap(struct mapping *m, char **text, size_t *len, struct msg *msg);

/* The server's own /proc/self/smaps record(s) for the mapping's range. */
int introspect_smaps(struct mapping *m, char **text, size_t *len, struct msg *msg);

/* Bytes of the mapping's pages that hold memory: in memory (mincore), and
 * not the kernel's shared zero page. */
uint64_t introspect_resident(struct mapping *m);

/* Whether the PAGEMAP_SCAN ioctl is used: the kernel has it, and
 * MMAPFS_NO_PAGEMAP_SCAN was not set when the server first looked. */
bool introspect_uses_scan(void);

#endif
