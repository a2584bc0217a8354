/* trace.h - the debug trace: with -d (or -o debug), one line per request
 * through fuse_log, as libfuse's passthrough_ll does, so a user sees what
 * a tool did to the tree:
 *
 *   mmapfs: pid 4242 write ctl "map /tmp/f name=a" -> 17 bytes
 *   mmapfs: pid 4242 read maps/a/data off 0 size 4096 -> 10 bytes
 *   mmapfs: pid 4242 rmdir maps/a -> ok
 *   mmapfs: pid 4242 lookup maps/b -> ENOENT
 *
 * How: trace_operations() wraps each handler of fs.c. The wrapper notes the
 * request (operation, the file as a path, the command of a ctl write) in a
 * thread-local slot before the handler runs; fs.c's replies go through
 * trace_reply_* (this header renames fuse_reply_* for the file that
 * includes it), which write the line with the result and clear the slot.
 * libfuse runs a handler and its reply on one thread, so the slot is the
 * request's. Without -d the slot stays empty and a reply costs one test.
 *
 * The path is worked out before the handler runs, never in a reply: fs.c
 * replies to reads under a mapping's lock, and naming a file takes the
 * table's lock, which must not be taken after a mapping's. */
#ifndef MMAPFS_TRACE_H
#define MMAPFS_TRACE_H

#include <fuse_lowlevel.h>

/* inner, with every handler this file knows wrapped to trace its request;
 * handlers it does not know are kept, untraced. Call once. */
const struct fuse_lowlevel_ops *trace_operations(const struct fuse_lowlevel_ops *inner);

int trace_reply_err(fuse_req_t req, int err);
void trace_reply_none(fuse_req_t req);
int trace_reply_entry(fuse_req_t req, const struct fuse_entry_param *e);
int trace_reply_create(fuse_req_t req, const struct fuse_entry_param *e,
		       const struct fuse_file_info *fi);
int trace_reply_attr(fuse_req_t req, const struct stat *attr, double attr_timeout);
int trace_reply_readlink(fuse_req_t req, const char *link);
int trace_reply_open(fuse_req_t req, const struct fuse_file_info *fi);
int trace_reply_write(fuse_req_t req, size_t count);
int trace_reply_buf(fuse_req_t req, const char *buf, size_t size);
int trace_reply_data(fuse_req_t req, struct fuse_bufvec *bufv, enum fuse_buf_copy_flags flags);
int trace_reply_iov(fuse_req_t req, const struct iovec *iov, int count);
int trace_reply_statfs(fuse_req_t req, const struct statvfs *stbuf);
int trace_reply_lseek(fuse_req_t req, off_t off);

#ifndef TRACE_REAL_REPLIES
#define fuse_reply_err trace_reply_err
#define fuse_reply_none trace_reply_none
#define fuse_reply_entry trace_reply_entry
#define fuse_reply_create trace_reply_create
#define fuse_reply_attr trace_reply_attr
#define fuse_reply_readlink trace_reply_readlink
#define fuse_reply_open trace_reply_open
#define fuse_reply_write trace_reply_write
#define fuse_reply_buf trace_reply_buf
#define fuse_reply_data trace_reply_data
#define fuse_reply_iov trace_reply_iov
#define fuse_reply_statfs trace_reply_statfs
#define fuse_reply_lseek trace_reply_lseek
#endif

#endif
