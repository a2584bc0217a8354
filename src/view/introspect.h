/* introspect.h - what the kernel knows of a mapping's pages: the `pages`
 * map (from mincore(2) and /proc/self/pagemap), the `smaps` records, and
 * resident bytes. */
#ifndef MMAPFS_INTROSPECT_H
#define MMAPFS_INTROSPECT_H

#include <stddef.h>
#include <stdint.h>

#include "core/mapping.h"
#include "core/msg.h"

/* One character per page, then "\n":
 *   .  not in memory          R  in memory (page cache or anonymous), not mapped here
 *   M  mapped here, shared with the backing object
 *   C  mapped here as a private copy (copy-on-write)
 *   S  swapped out */
int mapping_pages(struct mapping *m, char **text, size_t *len, struct msg *msg);

/* The server's own /proc/self/smaps record(s) for the mapping's range. */
int mapping_smaps(struct mapping *m, char **text, size_t *len, struct msg *msg);

/* Bytes of the mapping's pages that are in memory (mincore). */
uint64_t mapping_resident(struct mapping *m);

#endif
