/* fs.c - the FUSE layer: translates low-level requests into calls on the
 * table, the mappings and the control-file queues. Its only state is what
 * each open file needs, kept in the server's list of open files. */
#define FUSE_USE_VERSION 312
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "view/attrs.h"
#include "control/command.h"
#include "server/passthrough.h"
#include "server/logsite.h"
#include "server/opener.h"
#include "control/ctlqueue.h"
#include "server/server.h"
#include "view/tree.h"
/* Last: with -d, every fuse_reply_* below goes through the trace. */
#include "server/trace.h"

#define MAX_IO (1024 * 1024)
/* Names under the root and inside maps/NAME/ never change meaning. */
#define FIXED_ENTRY_TIMEOUT 86400.0
/* The size control files report: the most one write() may carry. The
 * kernel runs writes to one inode in parallel only when they end within its
 * size (they are opened FOPEN_STREAM, so each starts at 0); below that, a
 * slow command on one open file would hold up every other. */
#define CTL_SIZE CTL_WRITE_MAX

/* One open file: which file, its mapping, and what its kind needs. The
 * kernel may send requests on one open file from several threads at once;
 * open fills it before fi->fh is handed out, release frees it. */
struct open_file {
	struct open_file *prev, *next;	/* server's files_lock: its list of open files */
	enum node node;			/* fixed at open; root-level file, or NODE_NONE */
	enum kind kind;			/* fixed at open; for files of a mapping */
	struct mapping *m;		/* files_lock: set at open, where getattr reads it;
					 * referenced while open */
	struct ctl_queue *queue;	/* fixed at open; control files; its own lock */
	pthread_mutex_t text_lock;	/* generated files: text of the last read at 0 */
	char *text;			/* text_lock */
	size_t text_len;		/* text_lock */
	struct table_entry *entries;	/* fixed at opendir: maps/ listing snapshot */
	size_t n_entries;		/* fixed at opendir */
	struct cmdlog_snap *log_snap;	/* fixed at open: `log`, the lines its opener may see */
	bool backing;			/* fixed at open: holds m's passthrough backing file */
};

static struct server *server_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static struct open_file *file_of(struct fuse_file_info *fi)
{
	return (struct open_file *)(uintptr_t)fi->fh;
}

static void free_file(struct server *s, struct open_file *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&s->files_lock);
	if (f->prev)
		f->prev->next = f->next;
	else
		s->files = f->next;
	if (f->next)
		f->next->prev = f->prev;
	pthread_mutex_unlock(&s->files_lock);
	mapping_unref(f->m);
	if (f->queue) {
		ctl_queue_destroy(f->queue);
		free(f->queue);
	}
	pthread_mutex_destroy(&f->text_lock);
	free(f->text);
	free(f->entries);
	cmdlog_snap_free(f->log_snap);
	free(f);
}

static struct open_file *new_file(struct server *s)
{
	struct open_file *f = calloc(1, sizeof *f);
	if (!f)
		return NULL;
	pthread_mutex_init(&f->text_lock, NULL);
	pthread_mutex_lock(&s->files_lock);
	f->next = s->files;
	if (f->next)
		f->next->prev = f;
	s->files = f;
	pthread_mutex_unlock(&s->files_lock);
	return f;
}

/* Set while the file is already listed: getattr reads f->m there. */
static void file_set_mapping(struct server *s, struct open_file *f, struct mapping *m)
{
	pthread_mutex_lock(&s->files_lock);
	f->m = m;
	pthread_mutex_unlock(&s->files_lock);
}

void fs_release_all(struct server *s)
{
	while (s->files)
		free_file(s, s->files);
}

/* ---- attributes ------------------------------------------------------- */

static mode_t root_file_mode(const struct server *s, enum node n)
{
	switch (n) {
	case NODE_ROOT:
		return S_IFDIR | 0755;
	case NODE_MAPS:
		/* As /tmp: everyone may remove their own mappings (rmdir), and the
		 * kernel's sticky rule keeps them from removing others'. */
		return S_IFDIR | (s->allow_other ? 01777 : 0755);
	case NODE_CTL:
		return S_IFREG | (s->allow_other ? 0666 : 0644);
	default:
		return S_IFREG | 0444;
	}
}

static mode_t kind_mode(const struct server *s, const struct mapping *m, enum kind k)
{
	bool read_only = m->access == ACCESS_READ;
	switch (k) {
	case KIND_DIR:
		return S_IFDIR | (s->allow_other ? 0700 : 0755);
	case KIND_DATA:
	case KIND_STREAM:
		return S_IFREG | (read_only ? 0444 : 0644);
	case KIND_CTL:
	case KIND_SIZE:
	case KIND_POS:
		return S_IFREG | 0644;
	default:
		return S_IFREG | 0444;
	}
}

static void fill_times(struct stat *st, time_t t)
{
	st->st_atim.tv_sec = st->st_mtim.tv_sec = st->st_ctim.tv_sec = t;
}

static int root_attr(const struct server *s, fuse_ino_t ino, struct stat *st)
{
	if (ino < NODE_ROOT || ino > NODE_ROOT_LAST)
		return -ENOENT;
	st->st_ino = ino;
	st->st_mode = root_file_mode(s, (enum node)ino);
	st->st_nlink = S_ISDIR(st->st_mode) ? 2 : 1;
	st->st_uid = s->uid;
	st->st_gid = s->gid;
	fill_times(st, s->started);
	if (ino == NODE_CTL)
		st->st_size = CTL_SIZE;
	return 0;
}

static void mapping_attr(const struct server *s, struct mapping *m, enum kind k,
			 struct stat *st)
{
	st->st_ino = tree_ino(m->id, k);
	st->st_mode = kind_mode(s, m, k);
	st->st_nlink = k == KIND_DIR ? 2 : 1;
	st->st_uid = m->uid;
	st->st_gid = m->gid;
	fill_times(st, (time_t)m->created);
	if (k == KIND_DATA) {
		struct mapping_info i;
		mapping_info(m, &i);
		st->st_size = (off_t)i.len;
		st->st_blocks = (blkcnt_t)((i.len + 511) / 512);
	}
	if (k == KIND_CTL)
		st->st_size = CTL_SIZE;
	st->st_blksize = MAX_IO;
}

/* Attributes of any inode; a closed mapping's inodes are gone (ENOENT). */
static int inode_attr(struct server *s, fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof *st);
	if (!tree_ino_is_mapping(ino))
		return root_attr(s, ino, st);
	enum kind k = tree_ino_kind(ino);
	struct mapping *m = k < KIND_COUNT ? table_find_id(&s->table, tree_ino_mapping_id(ino)) : NULL;
	if (!m)
		return -ENOENT;
	mapping_attr(s, m, k, st);
	mapping_unref(m);
	return 0;
}

/* The mapping behind an open file, if the request came through one. */
static struct mapping *open_mapping(struct fuse_file_info *fi)
{
	struct open_file *f = fi ? file_of(fi) : NULL;
	return f ? f->m : NULL;
}

/* The mapping with this id that a still-open file holds, referenced; or NULL. */
static struct mapping *mapping_of_open_files(struct server *s, uint64_t id)
{
	struct mapping *m = NULL;
	pthread_mutex_lock(&s->files_lock);
	for (struct open_file *f = s->files; f && !m; f = f->next)
		if (f->m && f->m->id == id) {
			m = f->m;
			mapping_ref(m);
		}
	pthread_mutex_unlock(&s->files_lock);
	return m;
}

/* Attributes for GETATTR. The kernel's fstat sends none of the file's
 * handle, so a closed mapping's inode answers for as long as a file of it
 * is open, with nlink 0 like an unlinked file (everything else through
 * that file is ENXIO). Lookups still find nothing of it. */
static int getattr_attr(struct server *s, fuse_ino_t ino, struct stat *st)
{
	int rc = inode_attr(s, ino, st);
	if (rc != -ENOENT || !tree_ino_is_mapping(ino) || tree_ino_kind(ino) >= KIND_COUNT)
		return rc;
	struct mapping *m = mapping_of_open_files(s, tree_ino_mapping_id(ino));
	if (!m)
		return rc;
	mapping_attr(s, m, tree_ino_kind(ino), st);
	if (mapping_is_closed(m))
		st->st_nlink = 0;
	mapping_unref(m);
	return 0;
}

static void fs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)fi;
	ino = tree_ino_canonical(ino);
	struct stat st;
	int rc = getattr_attr(server_of(req), ino, &st);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, 0);
}

/* ---- lookup ----------------------------------------------------------- */

static void reply_entry(fuse_req_t req, const struct stat *st, double entry_timeout)
{
	struct fuse_entry_param e;
	memset(&e, 0, sizeof e);
	e.ino = st->st_ino;
	e.attr = *st;
	e.entry_timeout = entry_timeout;
	fuse_reply_entry(req, &e);
}

/* The root ctl: a node id of its own for each lookup (see tree.h), never
 * cached, so that each open of ctl comes with a new one. */
static void reply_ctl_entry(fuse_req_t req, const struct stat *st)
{
	static _Atomic uint64_t lookups;
	struct fuse_entry_param e;
	memset(&e, 0, sizeof e);
	e.ino = TREE_CTL_OWN_FIRST + atomic_fetch_add(&lookups, 1) % TREE_CTL_OWN_FIRST;
	e.attr = *st;
	e.entry_timeout = 0;
	fuse_reply_entry(req, &e);
}

static void fs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct server *s = server_of(req);
	struct stat st;
	int rc = -ENOENT;
	memset(&st, 0, sizeof st);
	if (parent == NODE_ROOT) {
		enum node n = tree_root_lookup(name);
		if (n != NODE_NONE)
			rc = root_attr(s, n, &st);
		if (rc == 0 && n == NODE_CTL)
			return reply_ctl_entry(req, &st);
		if (rc == 0)
			return reply_entry(req, &st, FIXED_ENTRY_TIMEOUT);
	} else if (parent == NODE_MAPS) {
		/* Never cached: the name may soon belong to another mapping. */
		struct mapping *m = table_find(&s->table, name, strlen(name));
		if (m) {
			mapping_attr(s, m, KIND_DIR, &st);
			mapping_unref(m);
			return reply_entry(req, &st, 0);
		}
	} else if (tree_ino_is_mapping(parent) && tree_ino_kind(parent) == KIND_DIR) {
		enum kind k = tree_kind_lookup(name);
		if (k != KIND_DIR)
			rc = inode_attr(s, tree_ino(tree_ino_mapping_id(parent), k), &st);
		if (rc == 0)
			return reply_entry(req, &st, FIXED_ENTRY_TIMEOUT);
	}
	fuse_reply_err(req, -rc);
}

/* ---- directories ------------------------------------------------------ */

struct dir_entry {
	const char *name;
	fuse_ino_t ino;
	mode_t mode;
};

/* Entry i of directory ino (0 and 1 are . and ..); false past the end. */
static bool dir_entry_at(struct server *s, fuse_ino_t ino, const struct open_file *f,
			 size_t i, struct dir_entry *e)
{
	e->mode = S_IFDIR;
	if (i < 2) {
		e->name = i == 0 ? "." : "..";
		e->ino = i == 0 ? ino : (ino == NODE_ROOT || ino == NODE_MAPS ? NODE_ROOT : NODE_MAPS);
		return true;
	}
	i -= 2;
	if (ino == NODE_ROOT) {
		enum node n = (enum node)(NODE_CTL + i);
		if (n > NODE_ROOT_LAST)
			return false;
		e->name = tree_root_name(n);
		e->ino = n;
		e->mode = root_file_mode(s, n);
	} else if (ino == NODE_MAPS) {
		if (i >= f->n_entries)
			return false;
		e->name = f->entries[i].name;
		e->ino = tree_ino(f->entries[i].id, KIND_DIR);
	} else {
		enum kind k = (enum kind)(KIND_DATA + i);
		if (k >= KIND_COUNT)
			return false;
		e->name = tree_kind_name(k);
		e->ino = tree_ino(tree_ino_mapping_id(ino), k);
		e->mode = S_IFREG;
	}
	return true;
}

static void fs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	ino = tree_ino_canonical(ino);
	struct server *s = server_of(req);
	struct stat st;
	int rc = inode_attr(s, ino, &st);
	if (rc == 0 && !S_ISDIR(st.st_mode))
		rc = -ENOTDIR;
	struct open_file *f = rc == 0 ? new_file(s) : NULL;
	if (rc == 0 && !f)
		rc = -ENOMEM;
	/* A mapping's directory holds it, so that fstat of it works after close. */
	if (rc == 0 && tree_ino_is_mapping(ino))
		file_set_mapping(s, f, table_find_id(&s->table, tree_ino_mapping_id(ino)));
	/* A snapshot, so that offsets stay meaningful while mappings come and go. */
	if (rc == 0 && ino == NODE_MAPS)
		rc = table_list(&s->table, &f->entries, &f->n_entries);
	if (rc < 0) {
		free_file(s, f);
		fuse_reply_err(req, -rc);
		return;
	}
	fi->fh = (uintptr_t)f;
	if (fuse_reply_open(req, fi) < 0)
		free_file(s, f);
}

static void fs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct server *s = server_of(req);
	char *buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	size_t used = 0;
	struct dir_entry e;
	for (size_t i = (size_t)off; dir_entry_at(s, ino, file_of(fi), i, &e); i++) {
		struct stat st = { .st_ino = e.ino, .st_mode = e.mode };
		size_t n = fuse_add_direntry(req, buf + used, size - used, e.name, &st, (off_t)i + 1);
		if (n > size - used)
			break;
		used += n;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void fs_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	free_file(server_of(req), file_of(fi));
	fuse_reply_err(req, 0);
}

/* ---- control files ---------------------------------------------------- */

struct runner_ctx {
	struct server *server;
	fuse_req_t req;		/* the write's request: who sent the commands */
	struct mapping *m;	/* NULL for the root ctl */
	struct command_env env;
};

/* The command environment of the request's caller. */
static struct command_env caller_env(struct server *s, fuse_req_t req)
{
	const struct fuse_ctx *who = fuse_req_ctx(req);
	struct command_env env = { .table = &s->table, .mountpoint = s->mountpoint,
				   .own_dev = s->own_dev, .uid = who->uid, .gid = who->gid,
				   .owners_only = s->allow_other };
	return env;
}

/* Runs one command line (the queue's result buffer holds COMMAND_RESULT_MAX). */
static int run_command(void *p, const char *line, size_t len, char *result, size_t cap,
		       struct msg *msg)
{
	(void)cap;
	struct runner_ctx *c = p;
	int rc = c->m ? command_mapping(&c->env, c->m, line, len, result, msg)
		      : command_root(&c->env, line, len, result, msg);
	char file[MAPNAME_MAX + 16];
	snprintf(file, sizeof file, c->m ? "maps/%s/ctl" : "ctl", c->m ? c->m->name : "");
	log_request(c->server, c->req, file, line, len, rc, result, msg);
	return rc;
}

static void ctl_write(fuse_req_t req, struct open_file *f, const char *buf, size_t size)
{
	struct server *s = server_of(req);
	struct runner_ctx c = { .server = s, .req = req, .m = f->m, .env = caller_env(s, req) };
	/* `map` opens files as the caller, not as the server. */
	struct acting_caller as;
	acting_begin(&as, req, s->allow_other, !f->m, &c.env);
	ssize_t rc = ctl_queue_write(f->queue, buf, size, run_command, &c);
	acting_end(&as);
	if (rc < 0)
		fuse_reply_err(req, (int)-rc);
	else
		fuse_reply_write(req, (size_t)rc);
}

/* ---- open, read, write ------------------------------------------------ */

/* O_TRUNC counts as writing even with O_RDONLY: Linux truncates then too,
 * and asks for write permission to do it. */
static bool opens_for_writing(const struct fuse_file_info *fi)
{
	return (fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC);
}

static int open_root_file(struct server *s, fuse_req_t req, enum node n,
			  struct fuse_file_info *fi, struct open_file *f)
{
	f->node = n;
	if (n == NODE_CTL) {
		f->queue = malloc(sizeof *f->queue);
		if (!f->queue || ctl_queue_init(f->queue, COMMAND_ROOT_USAGE) < 0)
			return -ENOMEM;
		fi->nonseekable = 1;
		return 0;
	}
	if (opens_for_writing(fi))
		return -EACCES;
	if (n == NODE_LOG) /* one consistent snapshot per open */
		return log_open(s, req, &f->log_snap);
	return 0;
}

static int open_mapping_file(struct server *s, fuse_req_t req, fuse_ino_t ino,
			     struct fuse_file_info *fi, struct open_file *f)
{
	f->kind = tree_ino_kind(ino);
	file_set_mapping(s, f, table_find_id(&s->table, tree_ino_mapping_id(ino)));
	if (!f->m)
		return -ENOENT;
	bool writing = opens_for_writing(fi);
	switch (f->kind) {
	case KIND_CTL:
		f->queue = malloc(sizeof *f->queue);
		if (!f->queue || ctl_queue_init(f->queue, COMMAND_MAPPING_USAGE) < 0)
			return -ENOMEM;
		fi->nonseekable = 1;
		return 0;
	case KIND_DATA:
	case KIND_STREAM:
		if (writing && !mapping_takes_writes(f->m))
			return -EACCES;
		if ((fi->flags & O_TRUNC) && f->kind == KIND_DATA)
			return logged_truncate(s, req, f->m, 0);
		return 0;
	case KIND_SIZE:
	case KIND_POS:
		return 0;
	default:
		return writing ? -EACCES : 0;
	}
}

static void fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	ino = tree_ino_canonical(ino);
	struct server *s = server_of(req);
	struct open_file *f = new_file(s);
	int rc = !f ? -ENOMEM
		    : tree_ino_is_mapping(ino) ? open_mapping_file(s, req, ino, fi, f)
					  : open_root_file(s, req, (enum node)ino, fi, f);
	if (rc < 0) {
		free_file(s, f);
		fuse_reply_err(req, -rc);
		return;
	}
	/* Every read and write reaches the server: no stale page cache
	 * (unless data is passed through to the very file, -o passthrough). */
	fi->direct_io = 1;
	fi->fh = (uintptr_t)f;
	enum pt_file what = f->queue ? PT_CONTROL : f->m && f->kind == KIND_DATA ? PT_DATA : PT_PLAIN;
	if (passthrough_reply_open(s->pt, req, fi, what, f->m, &f->backing) < 0)
		free_file(s, f);
}

struct reply_ctx {
	fuse_req_t req;
	bool replied;
};

/* Replies straight from mapped memory: the kernel copies it, and a page that
 * vanished makes that copy fail (EFAULT, which the reader sees as EIO)
 * instead of faulting here. */
static int reply_sink(void *p, const char *bytes, size_t n)
{
	struct reply_ctx *c = p;
	c->replied = true;
	int rc = fuse_reply_buf(c->req, bytes, n);
	return rc < 0 ? rc : 0;
}

/* The slice [off, off+size) of an open file's text, copied: once a reply
 * is sent, release() may free the open file on another thread, so nothing
 * of it may be in use while replying. */
static int text_slice(struct open_file *f, size_t size, off_t off, char **out, size_t *n)
{
	size_t len = f->text ? f->text_len : 0;
	*n = (size_t)off >= len ? 0 : len - (size_t)off < size ? len - (size_t)off : size;
	*out = malloc(*n ? *n : 1);
	if (!*out)
		return -ENOMEM;
	if (*n)
		memcpy(*out, f->text + off, *n);
	return 0;
}

/* stats ends with the passthrough line. */
static int stats_passthrough(struct server *s, char **text, size_t *len)
{
	char line[256];
	int n = passthrough_stats_line(s->pt, line, sizeof line);
	if (n < 0 || (size_t)n >= sizeof line)
		n = n < 0 ? 0 : (int)sizeof line - 1;
	char *grown = realloc(*text, *len + (size_t)n + 1);
	if (!grown)
		return -ENOMEM;
	memcpy(grown + *len, line, (size_t)n + 1);
	*text = grown;
	*len += (size_t)n;
	return 0;
}

/* Generated files: the text is made afresh by each read at offset 0, and
 * later reads of the same open file continue that text. */
static void read_generated(fuse_req_t req, struct open_file *f, size_t size, off_t off)
{
	struct server *s = server_of(req);
	struct msg msg;
	char *slice = NULL;
	size_t n = 0;
	int rc = 0;
	if (f->log_snap) {
		log_read(req, f->log_snap, size, off);
		return;
	}
	pthread_mutex_lock(&f->text_lock);
	if (off == 0 && f->node != NODE_LOG) {
		free(f->text);
		f->text = NULL;
		rc = f->m ? attrs_render(f->m, f->kind, &f->text, &f->text_len, &msg)
			  : attrs_root_render(&s->table, f->node, &f->text, &f->text_len);
		if (rc == 0 && f->node == NODE_STATS)
			rc = stats_passthrough(s, &f->text, &f->text_len);
	}
	if (rc == 0)
		rc = text_slice(f, size, off, &slice, &n);
	pthread_mutex_unlock(&f->text_lock);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_buf(req, slice, n);
	free(slice);
}

static void fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	(void)ino;
	struct open_file *f = file_of(fi);
	struct reply_ctx c = { req, false };
	int rc = 0;
	if (f->queue) {
		char *buf = malloc(size ? size : 1);
		if (!buf) {
			fuse_reply_err(req, ENOMEM);
			return;
		}
		fuse_reply_buf(req, buf, ctl_queue_read(f->queue, buf, size));
		free(buf);
		return;
	}
	bool bytes = f->kind == KIND_DATA || f->kind == KIND_STREAM || f->kind == KIND_LINE;
	if (!f->m || !bytes) {
		read_generated(req, f, size, off);
		return;
	}
	/* The reply goes out under the mapping's lock, and release() may drop
	 * the open file's reference as soon as it is sent: hold our own. */
	struct mapping *m = f->m;
	mapping_ref(m);
	if (f->kind == KIND_DATA)
		rc = mapping_read_at(m, (uint64_t)off, size, reply_sink, &c);
	else if (f->kind == KIND_STREAM)
		rc = mapping_stream_read(m, size, reply_sink, &c);
	else
		rc = mapping_readline(m, size, reply_sink, &c);
	if (rc < 0 && !c.replied)
		fuse_reply_err(req, -rc);
	mapping_unref(m);
}

static void fs_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	(void)ino;
	struct open_file *f = file_of(fi);
	ssize_t rc;
	if (f->queue) {
		ctl_write(req, f, buf, size);
		return;
	}
	switch (f->m ? f->kind : KIND_DIR) {
	case KIND_DATA:
		/* The kernel's idea of the end may be stale: append at ours. */
		rc = logged_data_write(server_of(req), req, f->m, buf, size, off,
				       fi->flags & O_APPEND);
		break;
	case KIND_STREAM:
		rc = mapping_stream_write(f->m, buf, size, NULL);
		break;
	case KIND_SIZE:
	case KIND_POS:
		rc = logged_attr_write(server_of(req), req, f->m, f->kind, buf, size);
		break;
	default:
		rc = -EACCES;
	}
	/* data and stream count what they wrote: short at a vanished page. */
	bool counted = f->m && (f->kind == KIND_DATA || f->kind == KIND_STREAM);
	if (rc < 0)
		fuse_reply_err(req, (int)-rc);
	else
		fuse_reply_write(req, counted ? (size_t)rc : size);
}

static void fs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	struct open_file *f = file_of(fi);
	if (f->backing)
		passthrough_release(server_of(req)->pt, req, f->m);
	free_file(server_of(req), f);
	fuse_reply_err(req, 0);
}

static void fs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)ino;
	(void)datasync;
	struct open_file *f = file_of(fi);
	int rc = 0;
	if (f->m && f->kind == KIND_DATA)
		rc = mapping_flush(f->m, NULL, NULL, NULL);
	fuse_reply_err(req, -rc);
}

/* ---- setattr, rmdir, create ------------------------------------------- */

/* truncate(2) and O_TRUNC without atomic_o_trunc: resize `data`; accept and
 * ignore it on files written as commands, so `echo CMD > FILE` works. */
static int truncate_inode(struct server *s, fuse_req_t req, fuse_ino_t ino, off_t size,
			  struct mapping *through)
{
	if (!tree_ino_is_mapping(ino))
		return ino == NODE_CTL ? 0 : -EACCES;
	enum kind k = tree_ino_kind(ino);
	/* `> stream` (O_TRUNC, which comes as a SETATTR of size 0 with no
	 * handle) is accepted and changes nothing, as for ctl, size and pos:
	 * stream writes at pos. Other sizes are refused. */
	if (k == KIND_STREAM)
		return size == 0 ? 0 : -EACCES;
	if (k != KIND_DATA)
		return (k == KIND_CTL || k == KIND_SIZE || k == KIND_POS) ? 0 : -EACCES;
	/* ftruncate acts on the open file's mapping, closed or not (ENXIO). */
	struct mapping *m = through ? through : table_find_id(&s->table, tree_ino_mapping_id(ino));
	if (!m)
		return -ENOENT;
	if (through)
		mapping_ref(m);
	int rc = logged_truncate(s, req, m, size);
	mapping_unref(m);
	return rc;
}

static void fs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	ino = tree_ino_canonical(ino);
	struct server *s = server_of(req);
	int rc = 0;
	if (to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID))
		rc = -EPERM;
	else if (to_set & FUSE_SET_ATTR_SIZE)
		rc = truncate_inode(s, req, ino, attr->st_size, open_mapping(fi));
	/* Times are not kept; setting them is accepted so that touch works. */
	struct stat st;
	if (rc == 0)
		rc = inode_attr(s, ino, &st);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, 0);
}

static void fs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct server *s = server_of(req);
	if (parent != NODE_MAPS) {
		fuse_reply_err(req, parent == NODE_ROOT ? EBUSY : ENOTDIR);
		return;
	}
	struct command_env env = caller_env(s, req);
	struct msg msg;
	int rc = command_close_name(&env, name, strlen(name), &msg);
	/* Logged as the command it stands for, through maps/NAME. */
	char cmd[NAME_MAX + 16], file[NAME_MAX + 16];
	int n = snprintf(cmd, sizeof cmd, "close %.*s", NAME_MAX, name);
	snprintf(file, sizeof file, "maps/%.*s", NAME_MAX, name);
	log_request(s, req, file, cmd, (size_t)n, rc, "ok", &msg);
	fuse_reply_err(req, -rc);
}

static void fs_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      struct fuse_file_info *fi)
{
	(void)parent;
	(void)name;
	(void)mode;
	(void)fi;
	/* The tree is made by commands, never by creating files in it. */
	fuse_reply_err(req, EACCES);
}

static void fs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	(void)parent;
	(void)name;
	(void)mode;
	fuse_reply_err(req, EACCES);
}

/* maps/ is writable under allow_other, so the kernel asks about every way
 * of making or moving a name in it: none is allowed. */
static void fs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		     dev_t rdev)
{
	(void)parent;
	(void)name;
	(void)mode;
	(void)rdev;
	fuse_reply_err(req, EACCES);
}

static void fs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	(void)link;
	(void)parent;
	(void)name;
	fuse_reply_err(req, EACCES);
}

static void fs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t parent, const char *name)
{
	(void)ino;
	(void)parent;
	(void)name;
	fuse_reply_err(req, EACCES);
}

static void fs_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	(void)parent;
	(void)name;
	(void)newparent;
	(void)newname;
	(void)flags;
	fuse_reply_err(req, EACCES);
}

/* user.mmapfs.passthrough on data: whether an open of it is passed
 * through ("yes") or why not ("no: REASON"). An extended attribute, since
 * the SPEC fixes the tree's files and their contents. Only with -o
 * passthrough: answering getxattr makes the kernel ask for
 * security.capability at every O_TRUNC open (one more round trip), while
 * ENOSYS, once, stops it asking for good. */
#define PT_XATTR "user.mmapfs.passthrough"

static void fs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	ino = tree_ino_canonical(ino);
	struct server *s = server_of(req);
	if (!passthrough_wanted(s->pt)) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	bool data = tree_ino_is_mapping(ino) && tree_ino_kind(ino) == KIND_DATA;
	struct mapping *m = data && strcmp(name, PT_XATTR) == 0
				    ? table_find_id(&s->table, tree_ino_mapping_id(ino)) : NULL;
	if (!m) {
		fuse_reply_err(req, ENODATA);
		return;
	}
	char value[320];
	int n = passthrough_explain(s->pt, req, m, value, sizeof value);
	mapping_unref(m);
	if (n < 0 || (size_t)n >= sizeof value)
		n = n < 0 ? 0 : (int)sizeof value - 1;
	if (size == 0)
		fuse_reply_xattr(req, (size_t)n);
	else if (size < (size_t)n)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, value, (size_t)n);
}

static void fs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	ino = tree_ino_canonical(ino);
	if (!passthrough_wanted(server_of(req)->pt)) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	bool data = tree_ino_is_mapping(ino) && tree_ino_kind(ino) == KIND_DATA;
	size_t n = data ? sizeof PT_XATTR : 0; /* with its NUL */
	if (size == 0)
		fuse_reply_xattr(req, n);
	else if (size < n)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, PT_XATTR, n);
}

static void fs_statfs(fuse_req_t req, fuse_ino_t ino)
{
	(void)ino;
	struct server *s = server_of(req);
	struct table_stats ts;
	table_stats(&s->table, &ts);
	struct statvfs sv;
	memset(&sv, 0, sizeof sv);
	long page = sysconf(_SC_PAGESIZE);
	sv.f_bsize = sv.f_frsize = (unsigned long)page;
	sv.f_blocks = (fsblkcnt_t)(ts.max_bytes / (uint64_t)page);
	sv.f_bfree = sv.f_bavail = sv.f_blocks - (fsblkcnt_t)(ts.bytes / (uint64_t)page);
	sv.f_files = ts.max_maps;
	sv.f_ffree = sv.f_favail = ts.max_maps - ts.maps;
	sv.f_namemax = MAPNAME_MAX;
	fuse_reply_statfs(req, &sv);
}

static void fs_init(void *userdata, struct fuse_conn_info *conn)
{
	/* Large requests: one round trip per MiB of data. */
	conn->max_write = MAX_IO;
	conn->max_readahead = MAX_IO;
	/* No atomic O_TRUNC: with it, the kernel sets a control file's size to
	 * 0 once `echo CMD > ctl` has opened it, and from then on every write
	 * to that ctl passes its end, which the kernel runs one at a time under
	 * the inode lock (a slow command would hold up every other, issue 9).
	 * Without it, O_TRUNC comes as a SETATTR, whose reply keeps the size. */
	conn->want &= ~FUSE_CAP_ATOMIC_O_TRUNC;
	passthrough_init(((struct server *)userdata)->pt, conn);
}

static const struct fuse_lowlevel_ops ops = {
	.init = fs_init,
	.lookup = fs_lookup,
	.getattr = fs_getattr,
	.setattr = fs_setattr,
	.opendir = fs_opendir,
	.readdir = fs_readdir,
	.releasedir = fs_releasedir,
	.open = fs_open,
	.read = fs_read,
	.write = fs_write,
	.release = fs_release,
	.fsync = fs_fsync,
	.rmdir = fs_rmdir,
	.mkdir = fs_mkdir,
	.mknod = fs_mknod,
	.symlink = fs_symlink,
	.link = fs_link,
	.rename = fs_rename,
	.create = fs_create,
	.statfs = fs_statfs,
	.getxattr = fs_getxattr,
	.listxattr = fs_listxattr,
};

const struct fuse_lowlevel_ops *fs_operations(void)
{
	return &ops;
}
