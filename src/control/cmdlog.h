/* cmdlog.h - the `log` file: the most recent commands, who sent them, when,
 * and what they returned.
 *
 * Memory is bounded twice: at most CMDLOG_LINES entries and CMDLOG_BYTES
 * bytes of text are kept (the oldest go first), and each entry's command
 * and result are cut to CMDLOG_TEXT_MAX bytes of escaped text. Entries are
 * immutable and reference-counted, so a reader's snapshot shares them with
 * the log instead of copying the text. */
#ifndef MMAPFS_CMDLOG_H
#define MMAPFS_CMDLOG_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#define CMDLOG_LINES 1000
#define CMDLOG_BYTES (256 * 1024)
#define CMDLOG_TEXT_MAX 512

struct cmdlog_entry;

/* Shared by every thread. lock is a leaf: nothing else is taken under it. */
struct cmdlog {
	pthread_mutex_t lock;
	struct cmdlog_entry *ring[CMDLOG_LINES]; /* lock; the oldest is count slots before next */
	size_t next;			/* lock: slot for the next entry */
	size_t count;			/* lock: entries held */
	size_t bytes;			/* lock: bytes of text held */
	unsigned long long seq;		/* lock: entries ever added */
};

/* Who sent a command, and when. */
struct cmdlog_origin {
	struct timespec when;	/* CLOCK_REALTIME */
	pid_t pid;
	uid_t uid;
};

void cmdlog_init(struct cmdlog *l);
void cmdlog_destroy(struct cmdlog *l);

/* Escape len bytes of s as commands are written: printable ASCII (backslash
 * included) stays, every other byte becomes \xHH. Writes at most cap bytes
 * (never half an escape) and a NUL; returns the bytes written and sets
 * *used to the input bytes they stand for. */
size_t cmdlog_escape(char *out, size_t cap, const char *s, size_t len, size_t *used);

/* "TIME pid PID uid UID FILE: COMMAND => RESULT\n"; file, command and
 * result escaped, command and result cut to CMDLOG_TEXT_MAX with
 * " [cut: N bytes]" (N the full length) after what is kept. */
void cmdlog_add(struct cmdlog *l, const struct cmdlog_origin *o, const char *file,
		const char *cmd, size_t len, const char *result);

/* One reader's view: the entries held when it was taken. */
struct cmdlog_snap;

/* The entries a reader may see: all of them, or only those whose uid is
 * uid. Returns 0 or -ENOMEM. */
int cmdlog_snapshot(struct cmdlog *l, bool all, uid_t uid, struct cmdlog_snap **out);
/* Bytes of text in the snapshot. */
size_t cmdlog_snap_size(const struct cmdlog_snap *s);
/* Copy up to n bytes of its text from offset off; returns the count. */
size_t cmdlog_snap_read(const struct cmdlog_snap *s, size_t off, char *out, size_t n);
void cmdlog_snap_free(struct cmdlog_snap *s);

/* The whole log as one text (free() it), oldest first. */
int cmdlog_render(struct cmdlog *l, char **text, size_t *len);

#endif
