/* passthrough.c - FUSE passthrough of data, and the open flags of control
 * files, which libfuse 3.14 cannot say (see passthrough.h).
 *
 * What is patched, and why: libfuse 3.14 writes every reply to /dev/fuse
 * through the session's writev, which fuse_session_custom_io lets us supply.
 * Two replies are changed on their way out, and only when the thread that
 * sends them has armed the change just before (a thread-local slot: libfuse
 * sends a reply on the thread that makes it, inside fuse_reply_open or
 * after the init handler), so no other reply can be mistaken for them:
 *
 * - the INIT reply gets FUSE_PASSTHROUGH (flags2 bit 5, with FUSE_INIT_EXT)
 *   and max_stack_depth, which 3.14's struct fuse_init_out calls unused[0];
 *   without them the kernel refuses FUSE_DEV_IOC_BACKING_OPEN;
 * - an open reply gets FOPEN_PASSTHROUGH and the backing id (3.14's
 *   fuse_open_out calls it padding), or, for a control file,
 *   FOPEN_STREAM | FOPEN_PARALLEL_DIRECT_WRITES, for which 3.14's
 *   fuse_file_info has no bits.
 *
 * A backing file is registered once per mapping, at the first open that is
 * passed through, and closed when the last such open file is released: the
 * kernel requires every open of an inode in passthrough mode to name the
 * same backing file, and an id closed early would fail a concurrent open
 * that was already told it. An open file keeps its own reference in the
 * kernel, so a `data` open at `close NAME` keeps reaching the file. */
#define FUSE_USE_VERSION 312
#include "config.h"

#include "server/passthrough.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/exact.h"
#include "server/server.h"
#include "server/trace.h"	/* the open reply is traced as fs.c's are */

/* Kernel ABI 7.40 (Linux 6.9): newer than Debian 12's <linux/fuse.h>. */
#define OPEN_PASSTHROUGH (1u << 7)	/* FOPEN_PASSTHROUGH */
#define INIT_EXT (1u << 30)		/* FUSE_INIT_EXT */
#define INIT2_PASSTHROUGH (1u << 5)	/* FUSE_PASSTHROUGH (1ULL << 37), in flags2 */
/* FILESYSTEM_MAX_STACK_DEPTH: a backing file may itself be on a stacking
 * file system (overlayfs), and nothing stacks on mmapfs. */
#define STACK_DEPTH 2
struct backing_map {
	int32_t fd;
	uint32_t flags;
	uint64_t padding;
};
#define IOC_BACKING_OPEN _IOW(229, 1, struct backing_map)
#define IOC_BACKING_CLOSE _IOW(229, 2, uint32_t)
struct init_in {		/* struct fuse_init_in, 7.36+ */
	uint32_t major, minor, max_readahead, flags, flags2, unused[11];
};
struct init_out {		/* struct fuse_init_out, 7.40 */
	uint32_t major, minor, max_readahead, flags;
	uint16_t max_background, congestion_threshold;
	uint32_t max_write, time_gran;
	uint16_t max_pages, map_alignment;
	uint32_t flags2, max_stack_depth;
	uint32_t unused[6];
};
struct open_out {		/* struct fuse_open_out, 7.40 */
	uint64_t fh;
	uint32_t open_flags;
	int32_t backing_id;
};
_Static_assert(sizeof(struct init_out) == sizeof(struct fuse_init_out), "fuse_init_out");
_Static_assert(sizeof(struct open_out) == sizeof(struct fuse_open_out), "fuse_open_out");

#define CONTROL_FLAGS (FOPEN_STREAM | FOPEN_PARALLEL_DIRECT_WRITES)
#define WITHHOLD_ENV "MMAPFS_PASSTHROUGH_WITHHOLD"
#define BUCKETS 256

/* One mapping's registered backing file; every field under the owning
 * struct passthrough's lock (it lives in its table). */
struct backing {
	struct backing *next;	/* the bucket's chain */
	uint64_t mapping_id;
	int id;			/* the kernel's backing id */
	unsigned opens;		/* open files that were told it */
};

struct passthrough {
	bool wanted;		/* -o passthrough; fixed */
	bool withhold;		/* WITHHOLD_ENV: do not ask at INIT (tests); fixed */
	_Atomic int dev_fd;	/* atomic: the session's /dev/fuse, -1 before attach, after detach */
	pthread_mutex_t lock;
	/* Under lock: */
	bool offered;		/* the kernel's INIT offered passthrough */
	bool probed;		/* on and reason are known */
	bool on;
	char reason[200];	/* why off */
	struct backing *table[BUCKETS];
};

/* The one change armed on this thread for the reply it is about to send. */
struct patch {
	bool armed;
	uint64_t fh;		/* the open reply it is for */
	uint32_t open_flags;
	int32_t backing_id;
};
static __thread struct patch pending;
static __thread struct passthrough *init_pending; /* set by the init handler */

struct passthrough *passthrough_new(bool wanted)
{
	struct passthrough *pt = calloc(1, sizeof *pt);
	if (!pt)
		return NULL;
	pt->wanted = wanted;
	const char *w = getenv(WITHHOLD_ENV);
	pt->withhold = w && *w && strcmp(w, "0") != 0;
	atomic_init(&pt->dev_fd, -1);
	pthread_mutex_init(&pt->lock, NULL);
	return pt;
}

void passthrough_free(struct passthrough *pt)
{
	if (!pt)
		return;
	for (size_t i = 0; i < BUCKETS; i++)
		while (pt->table[i]) {
			struct backing *b = pt->table[i];
			pt->table[i] = b->next;
			free(b);
		}
	pthread_mutex_destroy(&pt->lock);
	free(pt);
}

/* ---- registering backing files ----------------------------------------- */

static int backing_open(struct passthrough *pt, fuse_req_t req, int fd)
{
#ifdef HAVE_FUSE_PASSTHROUGH_OPEN
	(void)pt;
	int id = fuse_passthrough_open(req, fd);
	return id > 0 ? id : -(errno ? errno : EIO);
#else
	(void)req;
	struct backing_map map = { .fd = fd };
	int id = ioctl(atomic_load(&pt->dev_fd), IOC_BACKING_OPEN, &map);
	return id > 0 ? id : -(id < 0 ? errno : EIO);
#endif
}

static void backing_close(struct passthrough *pt, fuse_req_t req, int id)
{
	int dev = atomic_load(&pt->dev_fd);
	if (dev < 0) /* the session is gone, and every id with it */
		return;
#ifdef HAVE_FUSE_PASSTHROUGH_OPEN
	if (req) {
		fuse_passthrough_close(req, id);
		return;
	}
#endif
	(void)req;
	uint32_t arg = (uint32_t)id;
	(void)ioctl(dev, IOC_BACKING_CLOSE, &arg);
}

/* Register a fresh memfd and drop it: the only sure way to learn whether
 * this kernel, this mount and these privileges allow passthrough. */
static void probe_locked(struct passthrough *pt)
{
	pt->probed = true;
	if (!pt->wanted) {
		snprintf(pt->reason, sizeof pt->reason, "not asked for (-o passthrough)");
		return;
	}
	if (!pt->offered) {
		snprintf(pt->reason, sizeof pt->reason, "the kernel does not offer FUSE "
			 "passthrough (it needs Linux 6.9+ with CONFIG_FUSE_PASSTHROUGH)");
		return;
	}
	int fd = memfd_create("mmapfs:probe", MFD_CLOEXEC);
	struct backing_map map = { .fd = fd };
	int id = fd < 0 ? -1 : ioctl(atomic_load(&pt->dev_fd), IOC_BACKING_OPEN, &map);
	int err = errno;
	if (fd >= 0)
		close(fd);
	if (id > 0) {
		backing_close(pt, NULL, id);
		pt->on = true;
		return;
	}
	snprintf(pt->reason, sizeof pt->reason, "%s: %s%s", fd < 0 ? "memfd_create" :
		 "FUSE_DEV_IOC_BACKING_OPEN", strerror(err),
		 pt->withhold ? " (not asked for at INIT: " WITHHOLD_ENV " is set)"
		 : err == EPERM ? " (it needs CAP_SYS_ADMIN: a root server)" : "");
}

static void probe(struct passthrough *pt)
{
	pthread_mutex_lock(&pt->lock);
	bool first = !pt->probed;
	if (first)
		probe_locked(pt);
	bool tell = first && pt->wanted && !pt->on;
	pthread_mutex_unlock(&pt->lock);
	/* Said once; the mount goes on without it. */
	if (tell)
		fprintf(stderr, "mmapfs: passthrough off: %s\n", pt->reason);
}

static bool is_on(struct passthrough *pt)
{
	probe(pt);
	pthread_mutex_lock(&pt->lock);
	bool on = pt->on;
	pthread_mutex_unlock(&pt->lock);
	return on;
}

static struct backing **slot_of(struct passthrough *pt, uint64_t mapping_id)
{
	struct backing **b = &pt->table[mapping_id % BUCKETS];
	while (*b && (*b)->mapping_id != mapping_id)
		b = &(*b)->next;
	return b;
}

/* The mapping's backing id with one more open holding it, or 0 if it has
 * none and gets none. Called with the lock held. */
static int hold_locked(struct passthrough *pt, uint64_t mapping_id)
{
	struct backing *b = *slot_of(pt, mapping_id);
	if (!b)
		return 0;
	b->opens++;
	return b->id;
}

struct registration {
	struct passthrough *pt;
	fuse_req_t req;
	int id;			/* > 0 once registered */
	bool keep;		/* false: only try, then close it again */
};

static int register_fd(void *ctx, int fd)
{
	struct registration *r = ctx;
	r->id = backing_open(r->pt, r->req, fd);
	if (r->id > 0 && !r->keep) {
		backing_close(r->pt, r->req, r->id);
		r->id = 0;
		return 0;
	}
	return r->id < 0 ? r->id : 0;
}

/* The backing id an open of m's data is to name, held by that open; 0 to
 * serve it as without passthrough. */
static int hold_backing(struct passthrough *pt, fuse_req_t req, struct mapping *m)
{
	pthread_mutex_lock(&pt->lock);
	int id = hold_locked(pt, m->id);
	pthread_mutex_unlock(&pt->lock);
	if (id > 0)
		return id;
	/* Registered outside our lock: the mapping's lock may be held long
	 * (a close's msync), and other mappings' opens need not wait. */
	struct registration r = { pt, req, 0, true };
	if (mapping_with_exact_file(m, register_fd, &r, NULL) < 0 || r.id <= 0)
		return 0;
	struct backing *fresh = malloc(sizeof *fresh);
	pthread_mutex_lock(&pt->lock);
	id = hold_locked(pt, m->id); /* another open may have been quicker */
	if (id == 0 && fresh) {
		*fresh = (struct backing){ NULL, m->id, r.id, 1 };
		*slot_of(pt, m->id) = fresh;
		id = r.id;
		fresh = NULL;
	}
	pthread_mutex_unlock(&pt->lock);
	if (id != r.id)
		backing_close(pt, req, r.id);
	free(fresh);
	return id;
}

void passthrough_release(struct passthrough *pt, fuse_req_t req, const struct mapping *m)
{
	pthread_mutex_lock(&pt->lock);
	struct backing **slot = slot_of(pt, m->id), *b = *slot;
	if (b && --b->opens == 0)
		*slot = b->next;
	else
		b = NULL;
	pthread_mutex_unlock(&pt->lock);
	if (b)
		backing_close(pt, req, b->id);
	free(b);
}

/* ---- replies ----------------------------------------------------------- */

int passthrough_reply_open(struct passthrough *pt, fuse_req_t req, struct fuse_file_info *fi,
			   enum pt_file what, struct mapping *m, bool *held)
{
	struct patch p = { .armed = true, .fh = fi->fh };
	*held = false;
	if (what == PT_CONTROL)
		p.open_flags = CONTROL_FLAGS;
	if (what == PT_DATA && pt->wanted && is_on(pt)) {
		int id = hold_backing(pt, req, m);
		*held = id > 0;
		/* FOPEN_DIRECT_IO overrides FOPEN_PASSTHROUGH for read and write,
		 * not for mmap: an open for writing keeps its writes on the
		 * server, which resizes the mapping and the file together. */
		if (*held)
			fi->direct_io = (fi->flags & O_ACCMODE) != O_RDONLY;
#ifdef HAVE_FUSE_PASSTHROUGH_OPEN
		fi->backing_id = *held ? id : 0;
#else
		p.open_flags = *held ? OPEN_PASSTHROUGH : 0;
		p.backing_id = id;
#endif
	}
	pending = p;
	int rc = fuse_reply_open(req, fi);
	pending.armed = false;
	if (rc < 0 && *held) {
		passthrough_release(pt, req, m);
		*held = false;
	}
	return rc;
}

static void patch_open(struct open_out *arg)
{
	if (!pending.armed || arg->fh != pending.fh)
		return;
	arg->open_flags |= pending.open_flags;
	if (pending.open_flags & OPEN_PASSTHROUGH)
		arg->backing_id = pending.backing_id;
}

static void patch_init(struct passthrough *pt, struct init_out *arg)
{
#ifndef HAVE_FUSE_PASSTHROUGH_OPEN
	pthread_mutex_lock(&pt->lock);
	bool ask = pt->wanted && pt->offered && !pt->withhold;
	pthread_mutex_unlock(&pt->lock);
	if (ask && arg->major == 7 && (arg->flags & INIT_EXT)) {
		arg->flags2 |= INIT2_PASSTHROUGH;
		arg->max_stack_depth = STACK_DEPTH;
	}
#else
	(void)pt;
	(void)arg;
#endif
}

static ssize_t patching_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	(void)userdata;
	struct passthrough *init = init_pending;
	if (count == 2 && iov[1].iov_len == sizeof(struct open_out))
		patch_open(iov[1].iov_base);
	else if (init && count == 2 && iov[1].iov_len == sizeof(struct init_out))
		patch_init(init, iov[1].iov_base);
	ssize_t rc = writev(fd, iov, count);
	if (init) {
		/* The kernel has taken the INIT reply: it now says yes or no. */
		init_pending = NULL;
		if (init->wanted)
			probe(init);
	}
	return rc;
}

/* Watches for the INIT request, to learn whether the kernel offers
 * passthrough (3.14 does not tell its init handler). */
static ssize_t watching_read(int fd, void *buf, size_t len, void *userdata)
{
	struct server *s = userdata;
	ssize_t n = read(fd, buf, len);
	const struct fuse_in_header *h = buf;
	if (n >= (ssize_t)(sizeof *h + sizeof(struct init_in)) && h->opcode == FUSE_INIT) {
		const struct init_in *in = (const void *)(h + 1);
		pthread_mutex_lock(&s->pt->lock);
		s->pt->offered = (in->flags & INIT_EXT) && (in->flags2 & INIT2_PASSTHROUGH);
		pthread_mutex_unlock(&s->pt->lock);
	}
	return n;
}

static ssize_t plain_splice(int fdin, off_t *offin, int fdout, off_t *offout, size_t n,
			    unsigned flags, void *userdata)
{
	(void)userdata;
	return splice(fdin, offin, fdout, offout, n, flags);
}

int passthrough_attach(struct passthrough *pt, struct fuse_session *se)
{
	static const struct fuse_custom_io io = {
		.writev = patching_writev,
		.read = watching_read,
		.splice_receive = plain_splice,
		.splice_send = plain_splice,
	};
	int fd = fuse_session_fd(se);
	atomic_store(&pt->dev_fd, fd);
	int rc = fuse_session_custom_io(se, &io, fd);
	return rc < 0 ? rc : 0;
}

void passthrough_detach(struct passthrough *pt)
{
	atomic_store(&pt->dev_fd, -1);
}

void passthrough_init(struct passthrough *pt, struct fuse_conn_info *conn)
{
#ifdef HAVE_FUSE_PASSTHROUGH_OPEN
	/* 3.17's 64-bit capabilities; it sends max_backing_stack_depth + 1. */
	bool offered = conn->capable_ext & FUSE_CAP_PASSTHROUGH;
	pthread_mutex_lock(&pt->lock);
	pt->offered = offered;
	pthread_mutex_unlock(&pt->lock);
	if (pt->wanted && offered && !pt->withhold) {
		fuse_set_feature_flag(conn, FUSE_CAP_PASSTHROUGH);
		conn->max_backing_stack_depth = STACK_DEPTH - 1;
	}
#else
	(void)conn;
#endif
	/* The reply follows on this thread, in the writev above. */
	init_pending = pt;
}

/* ---- what it says ------------------------------------------------------- */

bool passthrough_wanted(const struct passthrough *pt)
{
	return pt->wanted;
}

int passthrough_stats_line(struct passthrough *pt, char *buf, size_t cap)
{
	/* Without the option stats stays as it was: nothing to say. */
	if (!pt->wanted) {
		if (cap)
			buf[0] = '\0';
		return 0;
	}
	probe(pt);
	pthread_mutex_lock(&pt->lock);
	int n = pt->on ? snprintf(buf, cap, "passthrough on\n")
		       : snprintf(buf, cap, "passthrough off: %s\n", pt->reason);
	pthread_mutex_unlock(&pt->lock);
	return n;
}

int passthrough_explain(struct passthrough *pt, fuse_req_t req, struct mapping *m, char *buf,
			size_t cap)
{
	if (!is_on(pt)) {
		pthread_mutex_lock(&pt->lock);
		int n = snprintf(buf, cap, "no: passthrough off: %s", pt->reason);
		pthread_mutex_unlock(&pt->lock);
		return n;
	}
	pthread_mutex_lock(&pt->lock);
	bool held = *slot_of(pt, m->id) != NULL;
	pthread_mutex_unlock(&pt->lock);
	if (held)
		return snprintf(buf, cap, "yes");
	/* Would the kernel take its file? Register it and drop it again. */
	struct registration r = { pt, req, 0, false };
	struct msg msg = { "" };
	int rc = mapping_with_exact_file(m, register_fd, &r, &msg);
	if (rc < 0 && msg.text[0] == '\0')
		snprintf(msg.text, sizeof msg.text, "FUSE_DEV_IOC_BACKING_OPEN: %s", strerror(-rc));
	return rc < 0 ? snprintf(buf, cap, "no: %s", msg.text) : snprintf(buf, cap, "yes");
}
