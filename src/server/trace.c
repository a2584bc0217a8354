/* trace.c - the debug trace (see trace.h): a line per request. */
#define FUSE_USE_VERSION 312
#define TRACE_REAL_REPLIES
#include "config.h"
#include "server/trace.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>

#include "core/table.h"
#include "server/server.h"
#include "view/tree.h"

/* A command is shown up to this many bytes, then "...". */
#define TRACE_TEXT_MAX 200

static const struct fuse_lowlevel_ops *inner;	/* fixed by trace_operations */
static struct fuse_lowlevel_ops wrapped;	/* fixed by trace_operations */

/* The request this thread is serving, until its reply. */
static __thread struct {
	bool active;
	size_t len;
	char text[1024];
} pending;

__attribute__((format(printf, 1, 2)))
static void note(const char *fmt, ...)
{
	size_t cap = sizeof pending.text;
	if (pending.len >= cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(pending.text + pending.len, cap - pending.len, fmt, ap);
	va_end(ap);
	if (n > 0)
		pending.len = pending.len + (size_t)n < cap ? pending.len + (size_t)n : cap - 1;
}

/* A file as a path below the mount: "ctl", "maps/a/data"; a mapping that is
 * gone (or not yet there) is shown by inode number. */
static void note_node(struct server *s, fuse_ino_t ino)
{
	ino = tree_ino_canonical(ino);
	if (!tree_ino_is_mapping(ino)) {
		const char *name = ino == NODE_ROOT ? "/" : tree_root_name((enum node)ino);
		if (name)
			note("%s", name);
		else
			note("ino %llu", (unsigned long long)ino);
		return;
	}
	enum kind k = tree_ino_kind(ino);
	struct mapping *m = k < KIND_COUNT ? table_find_id(&s->table, tree_ino_mapping_id(ino)) : NULL;
	if (!m) {
		note("ino %llu", (unsigned long long)ino);
		return;
	}
	/* The name is fixed before a mapping is published. */
	if (k == KIND_DIR)
		note("maps/%s", m->name);
	else
		note("maps/%s/%s", m->name, tree_kind_name(k));
	mapping_unref(m);
}

/* A name inside the directory parent. */
static void note_child(struct server *s, fuse_ino_t parent, const char *name)
{
	if (parent != NODE_ROOT) {
		note_node(s, parent);
		note("/");
	}
	note("%s", name);
}

/* Text written as a command, quoted, with \xHH for bytes that are not
 * printable (so a newline between commands shows as \x0a). */
static void note_text(const char *buf, size_t size)
{
	note(" \"");
	for (size_t i = 0; i < size && i < TRACE_TEXT_MAX; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			note("%c", c);
		else
			note("\\x%02x", c);
	}
	note(size > TRACE_TEXT_MAX ? "\"..." : "\"");
}

/* Start the line of a request: who sent it and what it asks. */
static struct server *begin(fuse_req_t req, const char *op)
{
	pending.active = true;
	pending.len = 0;
	note("mmapfs: pid %d %s ", (int)fuse_req_ctx(req)->pid, op);
	return fuse_req_userdata(req);
}

/* End the line with the result and write it. */
__attribute__((format(printf, 1, 2)))
static void finish(const char *fmt, ...)
{
	if (!pending.active)
		return;
	char result[128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(result, sizeof result, fmt, ap);
	va_end(ap);
	pending.active = false;
	fuse_log(FUSE_LOG_DEBUG, "%.*s -> %s\n", (int)pending.len, pending.text, result);
}

static bool takes_commands(fuse_ino_t ino)
{
	ino = tree_ino_canonical(ino);
	if (!tree_ino_is_mapping(ino))
		return ino == NODE_CTL;
	enum kind k = tree_ino_kind(ino);
	return k == KIND_CTL || k == KIND_SIZE || k == KIND_POS;
}

static void note_open_flags(int flags)
{
	int acc = flags & O_ACCMODE;
	note(" %s%s%s", acc == O_RDONLY ? "rdonly" : acc == O_WRONLY ? "wronly" : "rdwr",
	     flags & O_TRUNC ? ",trunc" : "", flags & O_APPEND ? ",append" : "");
}

/* ---- the wrappers ----------------------------------------------------- */

static void t_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	note_child(begin(req, "lookup"), parent, name);
	inner->lookup(req, parent, name);
}

static void t_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	note_node(begin(req, "getattr"), ino);
	inner->getattr(req, ino, fi);
}

static void t_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		      struct fuse_file_info *fi)
{
	note_node(begin(req, "setattr"), ino);
	if (to_set & FUSE_SET_ATTR_SIZE)
		note(" size %lld", (long long)attr->st_size);
	if (to_set & FUSE_SET_ATTR_MODE)
		note(" mode %o", (unsigned)attr->st_mode & 07777);
	if (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID))
		note(" owner");
	if (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_ATIME_NOW |
		      FUSE_SET_ATTR_MTIME_NOW | FUSE_SET_ATTR_CTIME))
		note(" times");
	inner->setattr(req, ino, attr, to_set, fi);
}

static void t_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	note_node(begin(req, "opendir"), ino);
	inner->opendir(req, ino, fi);
}

static void t_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		      struct fuse_file_info *fi)
{
	note_node(begin(req, "readdir"), ino);
	note(" off %lld", (long long)off);
	inner->readdir(req, ino, size, off, fi);
}

static void t_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	note_node(begin(req, "releasedir"), ino);
	inner->releasedir(req, ino, fi);
}

static void t_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	note_node(begin(req, "open"), ino);
	note_open_flags(fi->flags);
	inner->open(req, ino, fi);
}

static void t_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	note_node(begin(req, "read"), ino);
	note(" off %lld size %zu", (long long)off, size);
	inner->read(req, ino, size, off, fi);
}

static void t_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	note_node(begin(req, "write"), ino);
	if (takes_commands(ino))
		note_text(buf, size);
	else
		note(" off %lld size %zu", (long long)off, size);
	inner->write(req, ino, buf, size, off, fi);
}

static void t_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	note_node(begin(req, "flush"), ino);
	inner->flush(req, ino, fi);
}

static void t_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	note_node(begin(req, "release"), ino);
	inner->release(req, ino, fi);
}

static void t_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	note_node(begin(req, "fsync"), ino);
	inner->fsync(req, ino, datasync, fi);
}

static void t_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	note_child(begin(req, "mkdir"), parent, name);
	inner->mkdir(req, parent, name, mode);
}

static void t_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	note_child(begin(req, "rmdir"), parent, name);
	inner->rmdir(req, parent, name);
}

static void t_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	note_child(begin(req, "unlink"), parent, name);
	inner->unlink(req, parent, name);
}

static void t_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		     struct fuse_file_info *fi)
{
	note_child(begin(req, "create"), parent, name);
	inner->create(req, parent, name, mode, fi);
}

static void t_statfs(fuse_req_t req, fuse_ino_t ino)
{
	note_node(begin(req, "statfs"), ino);
	inner->statfs(req, ino);
}

const struct fuse_lowlevel_ops *trace_operations(const struct fuse_lowlevel_ops *ops)
{
	inner = ops;
	wrapped = *ops;
#define WRAP(op) if (ops->op) wrapped.op = t_##op
	WRAP(lookup);
	WRAP(getattr);
	WRAP(setattr);
	WRAP(opendir);
	WRAP(readdir);
	WRAP(releasedir);
	WRAP(open);
	WRAP(read);
	WRAP(write);
	WRAP(flush);
	WRAP(release);
	WRAP(fsync);
	WRAP(mkdir);
	WRAP(rmdir);
	WRAP(unlink);
	WRAP(create);
	WRAP(statfs);
#undef WRAP
	return &wrapped;
}

/* ---- the replies -------------------------------------------------------- */

static void finish_errno(int err)
{
	if (err == 0) {
		finish("ok");
		return;
	}
	const char *name = strerrorname_np(err);
	if (name)
		finish("%s", name);
	else
		finish("errno %d", err);
}

int trace_reply_err(fuse_req_t req, int err)
{
	finish_errno(err);
	return fuse_reply_err(req, err);
}

void trace_reply_none(fuse_req_t req)
{
	finish("ok");
	fuse_reply_none(req);
}

int trace_reply_entry(fuse_req_t req, const struct fuse_entry_param *e)
{
	finish("ino %llu", (unsigned long long)e->ino);
	return fuse_reply_entry(req, e);
}

int trace_reply_create(fuse_req_t req, const struct fuse_entry_param *e,
		       const struct fuse_file_info *fi)
{
	finish("ino %llu", (unsigned long long)e->ino);
	return fuse_reply_create(req, e, fi);
}

int trace_reply_attr(fuse_req_t req, const struct stat *attr, double attr_timeout)
{
	finish("mode %o size %lld", (unsigned)attr->st_mode, (long long)attr->st_size);
	return fuse_reply_attr(req, attr, attr_timeout);
}

int trace_reply_readlink(fuse_req_t req, const char *link)
{
	finish("%s", link);
	return fuse_reply_readlink(req, link);
}

int trace_reply_open(fuse_req_t req, const struct fuse_file_info *fi)
{
	finish("ok");
	return fuse_reply_open(req, fi);
}

int trace_reply_write(fuse_req_t req, size_t count)
{
	finish("%zu bytes", count);
	return fuse_reply_write(req, count);
}

int trace_reply_buf(fuse_req_t req, const char *buf, size_t size)
{
	finish("%zu bytes", size);
	return fuse_reply_buf(req, buf, size);
}

int trace_reply_data(fuse_req_t req, struct fuse_bufvec *bufv, enum fuse_buf_copy_flags flags)
{
	finish("%zu bytes", fuse_buf_size(bufv));
	return fuse_reply_data(req, bufv, flags);
}

int trace_reply_iov(fuse_req_t req, const struct iovec *iov, int count)
{
	size_t n = 0;
	for (int i = 0; i < count; i++)
		n += iov[i].iov_len;
	finish("%zu bytes", n);
	return fuse_reply_iov(req, iov, count);
}

int trace_reply_statfs(fuse_req_t req, const struct statvfs *stbuf)
{
	finish("ok");
	return fuse_reply_statfs(req, stbuf);
}

int trace_reply_lseek(fuse_req_t req, off_t off)
{
	finish("off %lld", (long long)off);
	return fuse_reply_lseek(req, off);
}
