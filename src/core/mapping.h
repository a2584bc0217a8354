/* mapping.h - one memory mapping, as CPython's mmap.mmap has it: a file or
 * anonymous memory mapped with an access mode, flags, prot and offset, a
 * length, and a position. Every operation validates exactly as CPython's
 * mmapmodule.c does and returns 0 (or a count) or a negative errno with a
 * message. Knows nothing of FUSE or of the table it is kept in.
 *
 * Locking: each mapping has a rwlock. Copies out of the mapping hold it
 * shared; anything that moves pos, changes the bytes, their address or
 * length, or whether they can be touched (write, resize, close, advice that
 * drops or guards pages) holds it exclusive, so a resize or close waits for
 * the copies in flight and no reader sees a write half done. close writes
 * back under the shared lock first, so a long msync stalls no reader.
 *
 * Reads and writes that run into a page that faults (the file was truncated
 * under the mapping, a guard page) are short before it; one that starts on
 * such a page fails with -EIO. */
#ifndef MMAPFS_MAPPING_H
#define MMAPFS_MAPPING_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/mapname.h"
#include "core/memlock.h"
#include "core/msg.h"
#include "core/names.h"
#include "core/source.h"

/* Bytes mapped, against a limit: all mappings together (max_bytes), or one
 * user's (user_max_bytes), whose budget then has the table's as parent:
 * taking from a budget takes from its parent too, or from neither. */
struct mapping_budget {
	_Atomic uint64_t used;	/* atomic: taken and given back without a lock */
	uint64_t limit;		/* fixed at start */
	struct mapping_budget *parent;	/* fixed; NULL: none */
	const char *what;	/* fixed; the limit's name for messages; NULL: "max_bytes" */
};

int mapping_budget_take(struct mapping_budget *b, uint64_t n, struct msg *m);
void mapping_budget_give(struct mapping_budget *b, uint64_t n);

/* What a `map` command asks for, already parsed. */
struct mapping_request {
	const char *source;	/* absolute path; NULL for anonymous memory */
	int64_t length;		/* 0: the whole file from offset */
	int64_t offset;
	enum access_mode access;
	int flags;		/* MAP_* as given; MAP_SHARED by default */
	int prot;		/* PROT_* as given; PROT_READ|PROT_WRITE by default */
	bool trackfd;
	const char *own_mount;	/* files below this path are refused (EDEADLK) */
	dev_t own_dev;		/* ... and files on this device (0: none) */
	const struct source_opener *opener;	/* NULL: open in this process */
	/* flags=locked: the caller's right to lock memory. */
	const struct memlock_source *memlock;
	/* The counter of the bytes the caller holds locked in the server, to
	 * which every locked page of the mapping is charged, whoever locks it
	 * (NULL: none of its pages may be locked). */
	_Atomic uint64_t *locked_held;
};

void mapping_request_init(struct mapping_request *r);

/* Shared by the threads that serve its files. Copies out of it take lock
 * shared; whatever moves pos or changes the bytes or their address takes it
 * alone. The table's lock, if needed, is taken first. */
struct mapping {
	pthread_rwlock_t lock;
	atomic_uint refs;	/* atomic; the last unref frees */

	/* Identity: fixed by table_reserve, before the mapping is published. */
	uint64_t id;
	char name[MAPNAME_MAX + 1];
	uid_t uid;		/* the creator, fixed by `map` */
	gid_t gid;
	struct mapping *next_by_name, *next_by_id; /* the table's lock */
	bool published;		/* the table's lock */

	/* Fixed by mapping_establish, before the mapping is published. */
	char *source;		/* as the kernel named it then, or "anonymous" */
	int64_t offset;
	int flags;		/* MAP_* without MAP_ANONYMOUS */
	int prot;
	enum access_mode access;
	bool trackfd;
	bool anonymous;
	int64_t created;	/* seconds since the epoch */
	struct mapping_budget *budget;
	_Atomic uint64_t *locked_held;	/* its owner's counter, where locked_charge is counted */

	/* lock */
	char *data;		/* lock; NULL while len is 0 */
	size_t len;		/* lock */
	size_t pos;		/* lock */
	int fd;			/* lock; backing file or memfd; -1 without one */
	/* What the mapping holds locked. Changed under lock exclusively (a
	 * resize, close), or under lock shared and charge_lock (lock, unlock:
	 * they change no address, so reads go on beside them); charge_lock is
	 * taken after lock, and nothing is waited for while holding it. */
	pthread_mutex_t charge_lock;
	/* The bytes of its pages that are locked (flags=locked, the `lock`
	 * command), charged to *locked_held; measured from the VMAs after
	 * every change that can lock or unlock. */
	uint64_t locked_charge;
	/* Its owner's right to lock memory, as learned
	 * at `map` (flags=locked) or at their last `lock`; growing a mapping
	 * whose end is locked locks the new pages, against it. Unknown (known
	 * false) until then, which refuses such a growth. */
	struct memlock_rights locked_rights;
	bool closed;		/* lock */
	uint64_t changes;	/* lock (bumped under it exclusively) by what writes bytes */
	bool guarded;		/* lock (set exclusively): has had guard pages */

	/* atomic: a `lock` ran once, so `pages` reads the VMAs' flags. */
	atomic_bool was_locked;
};

/* A snapshot of a mapping's attributes, taken under its lock. */
struct mapping_info {
	size_t len, pos;
	int64_t offset;
	int flags, prot;
	enum access_mode access;
	bool trackfd, anonymous, closed;
};

struct mapping *mapping_new(void);
void mapping_ref(struct mapping *m);
/* Drop a reference; the last one closes (without flushing errors) and frees. */
void mapping_unref(struct mapping *m);

/* Open (or create) the memory behind a new mapping. */
int mapping_establish(struct mapping *m, const struct mapping_request *r,
		      struct mapping_budget *budget, struct msg *msg);

int mapping_close(struct mapping *m, bool force, struct msg *msg);

void mapping_info(struct mapping *m, struct mapping_info *out);
bool mapping_is_closed(struct mapping *m);
bool mapping_can_resize(const struct mapping *m);
/* Whether its bytes may be written at all (access and prot allow it). */
bool mapping_takes_writes(const struct mapping *m);
int mapping_resize(struct mapping *m, int64_t new_len, struct msg *msg);
int mapping_seek(struct mapping *m, int64_t offset, int whence, struct msg *msg);
int mapping_filesize(struct mapping *m, int64_t *out, struct msg *msg);

/* Called with the bytes to hand out, while the mapping is locked. */
typedef int (*mapping_sink)(void *ctx, const char *bytes, size_t n);

/* mm[off:off+n] handed to sink (zero-copy); n may come back short (at the
 * end, or before a page that faults). */
int mapping_read_at(struct mapping *m, uint64_t off, size_t n, mapping_sink sink, void *ctx);
/* mm[off:off+n] copied into buf; returns the count copied. */
ssize_t mapping_copy_out(struct mapping *m, uint64_t off, void *buf, size_t n);
/* Slice assignment at off; past the end it grows the mapping when it can
 * (grow=true), else fails with EFBIG writing nothing. Returns the count
 * written: n, or fewer before a page that faults (then nothing grows). */
ssize_t mapping_write_at(struct mapping *m, uint64_t off, const void *buf, size_t n,
			 bool grow, struct msg *msg);

/* As mapping_write_at at the current end (O_APPEND): grows the mapping. */
ssize_t mapping_append(struct mapping *m, const void *buf, size_t n, struct msg *msg);

/* mm.read(n), mm.write(b), mm.readline() at pos, advancing it. */
int mapping_stream_read(struct mapping *m, size_t n, mapping_sink sink, void *ctx);
ssize_t mapping_stream_write(struct mapping *m, const void *buf, size_t n, struct msg *msg);
int mapping_readline(struct mapping *m, size_t max, mapping_sink sink, void *ctx);

/* Optional arguments are passed as pointers; NULL means "not given". */
int mapping_flush(struct mapping *m, const int64_t *offset, const int64_t *size,
		  struct msg *msg);
int mapping_madvise(struct mapping *m, int advice, const int64_t *start,
		    const int64_t *length, struct msg *msg);
int mapping_move(struct mapping *m, int64_t dest, int64_t src, int64_t count,
		 struct msg *msg);
int mapping_find(struct mapping *m, const char *needle, size_t nlen, const int64_t *start,
		 const int64_t *end, bool reverse, int64_t *result, struct msg *msg);

/* ---- introspection and residency (lock, touch, evict) ------------------ */

/* The backing file as the kernel names it now (" (deleted)" once
 * unlinked), "anonymous", or, for trackfd=no, the name of the mapped file in
 * /proc/self/maps. malloc'd. */
int mapping_source(struct mapping *m, char **out, struct msg *msg);

/* mlock2 of the range: START (default 0) and LENGTH (default: to the end)
 * with madvise's rules and messages, made whole pages. The pages it newly
 * locks are charged to the owner's counter, within `who`'s right
 * (core/memlock.h's rule, atomically against every other locker); `owner`
 * says who is the mapping's owner, whose right is then kept for growing. */
int mapping_lock(struct mapping *m, const int64_t *start, const int64_t *length,
		 const struct memlock_rights *who, bool owner, struct msg *msg);
/* munlock of the range, taken as mapping_lock takes it; gives the charge back. */
int mapping_unlock(struct mapping *m, const int64_t *start, const int64_t *length,
		   struct msg *msg);
/* Read every page of the range, bringing it into memory (vmtouch -t). */
int mapping_touch(struct mapping *m, const int64_t *start, const int64_t *length,
		  struct msg *msg);
/* MADV_PAGEOUT the range, and drop a file's clean page cache over it
 * (posix_fadvise DONTNEED), as vmtouch -e. */
int mapping_evict(struct mapping *m, const int64_t *start, const int64_t *length,
		  struct msg *msg);

#endif
