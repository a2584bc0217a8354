/* passthrough.h - what the server says to the kernel about open files that
 * libfuse 3.14 has no words for:
 *
 * - `-o passthrough`: `data` of a mapping whose bytes are exactly its file's
 *   (core/exact.h) is opened with FOPEN_PASSTHROUGH on that file, so the
 *   kernel serves it from the file's own pages (Linux 6.9+, CAP_SYS_ADMIN).
 *   An open for reading is passed through whole; an open for writing only
 *   for mmap (FOPEN_PASSTHROUGH | FOPEN_DIRECT_IO): its read() and write()
 *   still reach the server, so that a write past the end resizes the mapping
 *   and the file together.
 * - Control files are opened FOPEN_STREAM | FOPEN_PARALLEL_DIRECT_WRITES, so
 *   that the kernel does not serialise writes to one ctl on its inode lock:
 *   a slow `map` on one open file no longer holds up another.
 *
 * With libfuse >= 3.17 passthrough uses libfuse's own API
 * (fuse_passthrough_open); the control-file flags and, on 3.14, passthrough
 * too are added to the replies on their way to the kernel (a custom writev,
 * fuse_session_custom_io), the way bench/floor.c proved it. */
#ifndef MMAPFS_PASSTHROUGH_H
#define MMAPFS_PASSTHROUGH_H

#include <fuse_lowlevel.h>	/* after FUSE_USE_VERSION, as every server file has it */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mapping.h"

struct passthrough;

/* wanted: -o passthrough was given. NULL only when out of memory. */
struct passthrough *passthrough_new(bool wanted);
void passthrough_free(struct passthrough *pt);

/* Once mounted, before the loop: take over writing replies to the kernel.
 * Returns 0 or -errno (then the mount must not be served). */
int passthrough_attach(struct passthrough *pt, struct fuse_session *se);
/* The loop is over: the session's descriptor is about to close. */
void passthrough_detach(struct passthrough *pt);

/* From the init handler: ask the kernel for passthrough if wanted. */
void passthrough_init(struct passthrough *pt, struct fuse_conn_info *conn);

enum pt_file {
	PT_PLAIN,	/* every other file: replied as it is */
	PT_CONTROL,	/* a ctl file */
	PT_DATA,	/* data of a mapping */
};

/* Reply to an open of a file of this kind (m: the mapping, for PT_DATA).
 * Sets *held when the open holds m's backing file, to be given back with
 * passthrough_release at its release. Returns fuse_reply_open's result. */
int passthrough_reply_open(struct passthrough *pt, fuse_req_t req, struct fuse_file_info *fi,
			   enum pt_file what, struct mapping *m, bool *held);
void passthrough_release(struct passthrough *pt, fuse_req_t req, const struct mapping *m);

/* Whether -o passthrough was given. */
bool passthrough_wanted(const struct passthrough *pt);

/* The `stats` line with -o passthrough: "passthrough on\n" or
 * "passthrough off: REASON\n"; without it, nothing (returns 0). */
int passthrough_stats_line(struct passthrough *pt, char *buf, size_t cap);
/* Whether an open of m's data would be passed through now: "yes", or
 * "no: REASON". */
int passthrough_explain(struct passthrough *pt, fuse_req_t req, struct mapping *m, char *buf,
			size_t cap);

#endif
