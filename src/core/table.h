/* table.h - the table of mappings: names (given, or the smallest unused
 * number), O(1) lookup by name and by id, the max_maps and max_bytes
 * limits, and the lock that makes concurrent use safe.
 *
 * A mapping enters in two steps: table_reserve() claims its name and id
 * (invisible to lookups), the caller establishes it without holding the
 * table lock (opening a file may take long, or even come back to this
 * filesystem), then table_publish() shows it or table_drop() forgets it.
 * Lock order: table lock, then a mapping's lock; never the reverse. */
#ifndef MMAPFS_TABLE_H
#define MMAPFS_TABLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mapping.h"
#include "core/msg.h"

/* Shared by every thread of the server. "lock" guards what says so;
 * lookups take it shared, reserve, publish and drop alone. It is taken
 * before a mapping's lock, never after. */
struct table {
	pthread_rwlock_t lock;
	struct mapping **by_name, **by_id; /* lock: the hash chains */
	size_t buckets;		/* lock; a power of two */
	size_t count;		/* lock; reserved or published */
	size_t max_maps;	/* fixed by table_init */
	uint64_t next_id;	/* lock */
	uint64_t *numbered;	/* lock; bit k: the name "k" is taken */
	size_t numbered_words;	/* lock */
	size_t free_hint;	/* lock; no number below this is free */
	struct budget budget;	/* its own atomic; not under lock */
};

struct table_stats {
	size_t maps;
	uint64_t bytes, max_maps, max_bytes;
};

/* One entry of a directory listing snapshot. */
struct table_entry {
	uint64_t id;
	char name[MAPPING_NAME_MAX + 1];
};

int table_init(struct table *t, size_t max_maps, uint64_t max_bytes);
/* Flush and unmap every mapping, then free the table. */
void table_destroy(struct table *t);

/* The name this module used to give mapname_valid; renames.sed makes the
 * callers use mapname_valid, then this line goes. */
#define name_is_valid mapname_valid

int table_reserve(struct table *t, struct mapping *m, const char *name, size_t len,
		  struct msg *msg);
void table_publish(struct table *t, struct mapping *m);
void table_drop(struct table *t, struct mapping *m);

/* Published mappings only; the result carries a reference. */
struct mapping *table_find(struct table *t, const char *name, size_t len);
struct mapping *table_find_id(struct table *t, uint64_t id);
/* As table_find, with `close`'s errors: EINVAL for a bad name, else ENOENT. */
int table_lookup(struct table *t, const char *name, size_t len, struct mapping **out,
		 struct msg *msg);

void table_stats(struct table *t, struct table_stats *out);
/* The sum of measure(m) over the published mappings. */
uint64_t table_resident(struct table *t, uint64_t (*measure)(struct mapping *m));
/* A snapshot of the published names, in id order; free() the array. */
int table_list(struct table *t, struct table_entry **out, size_t *n);

#endif
