/* table.h - the table of mappings: names (given, or the smallest unused
 * number), O(1) lookup by name and by id, the max_maps and max_bytes
 * limits, and the lock that makes concurrent use safe.
 *
 * A mapping enters in two steps: table_reserve() claims its name and id
 * (invisible to lookups), the caller establishes it without holding the
 * table lock (opening a file may take long, or even come back to this
 * filesystem), then table_publish() shows it or table_drop() forgets it.
 * Lock order: table lock, then a mapping's lock; never the reverse. And
 * nothing waits for a mapping's lock while holding the table's (a close may
 * hold a mapping's lock through a long msync; the writer-preferring table
 * lock would then stall every lookup): visit mappings through references
 * taken under the table lock, after dropping it. */
#ifndef MMAPFS_TABLE_H
#define MMAPFS_TABLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/mapping.h"
#include "core/msg.h"

/* What one user holds, for the per-user limits (user_max_maps,
 * user_max_bytes) and for their locked memory. Kept until the table goes. */
struct user_account {
	uid_t uid;			/* fixed */
	size_t maps;			/* the table's lock: reserved or published */
	struct mapping_budget bytes;		/* atomic; its parent is the table's budget */
	_Atomic uint64_t locked;	/* atomic: locked bytes of the user's mappings */
	struct user_account *next;	/* the table's lock */
};

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
	struct mapping_budget budget;	/* its own atomic; not under lock */
	/* Per-user limits, set before use; the exempt uid (the server's own)
	 * has no account and is bounded by the totals only. */
	size_t user_max_maps;		/* fixed by table_set_user_limits */
	uint64_t user_max_bytes;	/* fixed by table_set_user_limits */
	uid_t exempt_uid;		/* fixed by table_set_user_limits */
	struct user_account *accounts;	/* lock */
	_Atomic uint64_t locked;	/* atomic: the exempt uid's locked bytes */
};

struct table_stats {
	size_t maps;
	uint64_t bytes, max_maps, max_bytes;
};

/* One entry of a directory listing snapshot. */
struct table_entry {
	uint64_t id;
	char name[MAPNAME_MAX + 1];
};

int table_init(struct table *t, size_t max_maps, uint64_t max_bytes);
/* Bound every user but exempt_uid to maps mappings and bytes bytes (the
 * defaults of table_init: no per-user bound). */
void table_set_user_limits(struct table *t, size_t maps, uint64_t bytes, uid_t exempt_uid);
/* Flush and unmap every mapping, then free the table. */
void table_destroy(struct table *t);

int table_reserve(struct table *t, struct mapping *m, const char *name, size_t len,
		  struct msg *msg);
void table_publish(struct table *t, struct mapping *m);
/* The account of a reserved mapping's user (NULL for the exempt uid): its
 * bytes are the budget to establish it with, its locked counter the one
 * for flags=locked. Valid as long as the table. */
struct user_account *table_account(struct table *t, const struct mapping *m);
/* The counter of the bytes uid holds locked, for memlock_take() (core/
 * memlock.h): their account's (made if need be), or the exempt uid's.
 * NULL when an account cannot be made (ENOMEM). Valid as long as the table. */
_Atomic uint64_t *table_locked_counter(struct table *t, uid_t uid);
void table_drop(struct table *t, struct mapping *m);

/* Published mappings only; the result carries a reference. */
struct mapping *table_find(struct table *t, const char *name, size_t len);
struct mapping *table_find_id(struct table *t, uint64_t id);
/* As table_find, with `close`'s errors: EINVAL for a bad name, else ENOENT. */
int table_lookup(struct table *t, const char *name, size_t len, struct mapping **out,
		 struct msg *msg);

void table_stats(struct table *t, struct table_stats *out);
/* The sum of measure(m) over the published mappings; measure runs without
 * the table lock held, so it may take a mapping's lock. */
uint64_t table_resident(struct table *t, uint64_t (*measure)(struct mapping *m));
/* A snapshot of the published names, in id order; free() the array. */
int table_list(struct table *t, struct table_entry **out, size_t *n);

#endif
