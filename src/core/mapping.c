/* mapping.c - the mapping object: creation, copies, resize, seek, flush,
 * madvise, move, find and close, with CPython mmap's rules and messages. */
#include "config.h"
#include "core/mapping.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <time.h>
#include <unistd.h>

#include "core/guard.h"

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

static const char CLOSED_MSG[] = "mmap closed or invalid";

/* ---- byte budget ------------------------------------------------------ */

static int budget_take_one(struct budget *b, uint64_t n, struct msg *m)
{
	uint64_t used = atomic_load(&b->used);
	do {
		if (n > b->limit || used > b->limit - n)
			return fail(m, ENOSPC, "%s reached: %llu bytes mapped, limit %llu",
				    b->what ? b->what : "max_bytes", (unsigned long long)used,
				    (unsigned long long)b->limit);
	} while (!atomic_compare_exchange_weak(&b->used, &used, used + n));
	return 0;
}

int budget_take(struct budget *b, uint64_t n, struct msg *m)
{
	int rc = budget_take_one(b, n, m);
	if (rc == 0 && b->parent && (rc = budget_take(b->parent, n, m)) < 0)
		atomic_fetch_sub(&b->used, n);
	return rc;
}

void budget_give(struct budget *b, uint64_t n)
{
	for (; b; b = b->parent)
		atomic_fetch_sub(&b->used, n);
}

/* ---- life cycle ------------------------------------------------------- */

void map_request_init(struct map_request *r)
{
	memset(r, 0, sizeof *r);
	r->access = ACCESS_DEFAULT;
	r->flags = MAP_SHARED;
	r->prot = PROT_READ | PROT_WRITE;
	r->trackfd = true;
}

struct mapping *mapping_new(void)
{
	struct mapping *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	pthread_rwlock_init(&m->lock, NULL);
	atomic_init(&m->refs, 1);
	m->fd = -1;
	return m;
}

void mapping_ref(struct mapping *m)
{
	atomic_fetch_add(&m->refs, 1);
}

void mapping_unref(struct mapping *m)
{
	if (!m || atomic_fetch_sub(&m->refs, 1) != 1)
		return;
	if (!m->closed)
		mapping_close(m, true, NULL);
	pthread_rwlock_destroy(&m->lock);
	free(m->source);
	free(m);
}

static bool is_shared(int flags)
{
	return (flags & MAP_TYPE) != MAP_PRIVATE;
}

static bool is_shared_writable(const struct mapping *m)
{
	return is_shared(m->flags) && (m->prot & PROT_WRITE);
}

bool mapping_can_resize(const struct mapping *m)
{
	return m->trackfd && (m->access == ACCESS_WRITE || m->access == ACCESS_DEFAULT);
}

bool mapping_takes_writes(const struct mapping *m)
{
	return m->access != ACCESS_READ && (m->prot & PROT_WRITE);
}

/* CPython's new_mmap_object: access decides flags and prot, or, for
 * ACCESS_DEFAULT, prot decides the access reported. */
static void resolve_access(enum access_mode *access, int *flags, int *prot)
{
	switch (*access) {
	case ACCESS_READ:
		*flags = MAP_SHARED;
		*prot = PROT_READ;
		break;
	case ACCESS_WRITE:
		*flags = MAP_SHARED;
		*prot = PROT_READ | PROT_WRITE;
		break;
	case ACCESS_COPY:
		*flags = MAP_PRIVATE;
		*prot = PROT_READ | PROT_WRITE;
		break;
	case ACCESS_DEFAULT:
		if ((*prot & PROT_READ) && (*prot & PROT_WRITE))
			break;
		*access = (*prot & PROT_WRITE) ? ACCESS_WRITE : ACCESS_READ;
		break;
	}
}

/* An absolute path with "//", "/./" and "/../" folded, without asking the
 * file system (which, inside this mount, is the server itself). */
static void fold_path(const char *path, char *out, size_t cap)
{
	size_t n = 0;
	for (const char *p = path; *p && n + 2 < cap;) {
		while (*p == '/')
			p++;
		size_t len = strcspn(p, "/");
		if (len == 0)
			break;
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			while (n > 0 && out[--n] != '/')
				;
		} else if (!(len == 1 && p[0] == '.') && n + len + 2 < cap) {
			out[n++] = '/';
			memcpy(out + n, p, len);
			n += len;
		}
		p += len;
	}
	if (n == 0)
		out[n++] = '/';
	out[n] = '\0';
}

/* Lexically inside the mount: would make the server call itself. */
static bool inside_mount(const char *path, const char *mount)
{
	if (!mount || !*mount)
		return false;
	char folded[PATH_MAX];
	fold_path(path, folded, sizeof folded);
	size_t n = strlen(mount);
	while (n > 1 && mount[n - 1] == '/')
		n--;
	return strncmp(folded, mount, n) == 0 && (folded[n] == '/' || folded[n] == '\0');
}

static void name_anonymous(struct mapping *m)
{
	if (!m->data || m->fd >= 0 || !m->anonymous)
		return;
	char label[MAPPING_NAME_MAX + 16];
	snprintf(label, sizeof label, "mmapfs:%s", m->name);
	/* Some kernels refuse this (EINVAL); the mapping then stays unnamed. */
	(void)prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)m->data, m->len,
		    (unsigned long)label);
}

/* Descriptors kept free for the server itself (FUSE threads, /proc reads):
 * a map that would leave fewer is refused rather than starve them. */
#define FD_RESERVE 64

static int check_fd_room(int fd, struct msg *msg)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (rlim_t)fd + FD_RESERVE >= rl.rlim_cur) {
		close(fd);
		return fail(msg, EMFILE, "too many open files: each mapping of a file (with "
			    "trackfd) or of shared memory holds one");
	}
	return 0;
}

/* /proc's own files (mem, environ, ...) are regular but stand for a
 * process, possibly the very one that opened them: never a source. The
 * files that /proc/PID/fd/N links to live on their own file systems. */
static bool on_procfs(int fd)
{
	struct statfs sf;
	return fstatfs(fd, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC;
}

static int open_backing(const struct map_request *r, enum access_mode access, int flags,
			int prot, int *fd_out, struct stat *st, struct msg *msg)
{
	const char *path = r->source;
	if (path[0] != '/')
		return fail(msg, EINVAL, "source must be an absolute path or 'anon'");
	if (inside_mount(path, r->own_mount))
		return fail(msg, EDEADLK, "cannot map a file inside this mount (it would deadlock)");

	bool needs_write = is_shared(flags) && (prot & PROT_WRITE);
	bool wants_write = r->trackfd && (access == ACCESS_WRITE || access == ACCESS_DEFAULT);
	int base = O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	/* Without write permission, a private mapping falls back to reading
	 * (resize then fails as ftruncate does). */
	struct open_plan plan = {
		path, base | ((needs_write || wants_write) ? O_RDWR : O_RDONLY),
		!needs_write && wants_write ? base | O_RDONLY : -1,
	};
	int fd = r->opener ? r->opener->open(r->opener->ctx, &plan, msg) : open_plan_run(&plan);
	if (fd < 0)
		return r->opener ? fd : open_plan_fail(msg, -fd);
	int rc = r->trackfd ? check_fd_room(fd, msg) : 0;
	if (rc < 0)
		return rc;
	/* The path may have changed between stat and open. */
	if (fstat(fd, st) < 0)
		rc = fail_errno(msg, errno);
	else if (!S_ISREG(st->st_mode))
		rc = fail(msg, ENODEV, "source is not a regular file");
	else if (on_procfs(fd))
		rc = fail(msg, ENODEV, "source is a /proc file (only the files /proc/PID/fd/N "
			  "links to can be mapped)");
	else if (r->own_dev && st->st_dev == r->own_dev)
		rc = fail(msg, EDEADLK, "cannot map a file inside this mount (it would deadlock)");
	if (rc < 0) {
		close(fd);
		return rc;
	}
	*fd_out = fd;
	return 0;
}

/* CPython's length and offset checks against the file's size. */
static int check_file_length(const struct stat *st, int64_t offset, int64_t *length,
			     struct msg *msg)
{
	int64_t size = st->st_size;
	if (*length == 0) {
		if (size == 0)
			return fail(msg, EINVAL, "cannot mmap an empty file");
		if (offset >= size)
			return fail(msg, EINVAL, "mmap offset is greater than file size");
		*length = size - offset;
	} else if (offset > size || size - offset < *length) {
		return fail(msg, EINVAL, "mmap length is greater than file size");
	}
	return 0;
}

static int open_anonymous(struct mapping *m, const struct map_request *r, int flags,
			  int64_t length, int *fd_out, struct msg *msg)
{
	/* What mmap(2) itself says of these, as Python reports it. */
	if (length == 0 || r->offset % sysconf(_SC_PAGESIZE) != 0)
		return fail_errno(msg, EINVAL);
	*fd_out = -1;
	if (!is_shared(flags))
		return 0;
	/* A memfd lets a shared anonymous mapping grow, which MAP_ANONYMOUS
	 * memory cannot do on Linux, and names it in /proc/PID/maps. */
	char label[MAPPING_NAME_MAX + 16];
	snprintf(label, sizeof label, "mmapfs:%s", m->name);
	int fd = memfd_create(label, MFD_CLOEXEC);
	if (fd < 0)
		return fail_errno(msg, errno);
	int rc = r->trackfd ? check_fd_room(fd, msg) : 0;
	if (rc < 0)
		return rc;
	if (ftruncate(fd, length) < 0) {
		int e = errno;
		close(fd);
		return fail_errno(msg, e);
	}
	*fd_out = fd;
	return 0;
}

static char *fd_path(int fd)
{
	char link[64], target[PATH_MAX];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, target, sizeof target - 1);
	if (n < 0)
		return NULL;
	target[n] = '\0';
	return strdup(target);
}

/* n bytes in whole pages, as the kernel counts locked memory. */
static uint64_t pages_of(uint64_t n)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	return (n + page - 1) / page * page;
}

/* The bytes against the budget and, for flags=locked, the locked bytes
 * (whole pages, as the kernel counts them) against the caller's memlock
 * right: all or nothing. */
static int take_resources(const struct map_request *r, struct budget *budget, int flags,
			  uint64_t length, uint64_t *locked, struct memlock_rights *rights_out,
			  struct msg *msg)
{
	int rc = budget_take(budget, length, msg);
	if (rc < 0 || !(flags & MAP_LOCKED))
		return rc;
	uint64_t want = pages_of(length);
	_Atomic uint64_t scratch = 0;
	const struct memlock_rights *rights = memlock_rights_of(r->memlock);
	rc = memlock_take(rights, r->locked_held ? r->locked_held : &scratch, want, msg);
	if (rc < 0)
		budget_give(budget, length);
	else
		*locked = want;
	if (rc == 0)
		*rights_out = *rights;
	return rc;
}

static void give_resources(_Atomic uint64_t *held, struct budget *budget, uint64_t length,
			   uint64_t locked)
{
	budget_give(budget, length);
	if (locked && held)
		memlock_give(held, locked);
}

int mapping_establish(struct mapping *m, const struct map_request *r,
		      struct budget *budget, struct msg *msg)
{
	enum access_mode access = r->access;
	int flags = r->flags, prot = r->prot;
	int64_t length = r->length;
	if (length < 0)
		return fail(msg, EINVAL, "memory mapped length must be positive");
	if (r->offset < 0)
		return fail(msg, EINVAL, "memory mapped offset must be positive");
	if (access != ACCESS_DEFAULT &&
	    (flags != MAP_SHARED || prot != (PROT_READ | PROT_WRITE)))
		return fail(msg, EINVAL, "mmap can't specify both access and flags, prot.");
	resolve_access(&access, &flags, &prot);

	int fd = -1, rc;
	struct stat st;
	if (r->source) {
		rc = open_backing(r, access, flags, prot, &fd, &st, msg);
		if (rc == 0 && (rc = check_file_length(&st, r->offset, &length, msg)) < 0)
			close(fd);
	} else {
		rc = open_anonymous(m, r, flags, length, &fd, msg);
	}
	if (rc < 0)
		return rc;

	char *source = r->source ? fd_path(fd) : strdup("anonymous");
	uint64_t locked = 0;
	struct memlock_rights rights;
	if (!source ||
	    (rc = take_resources(r, budget, flags, (uint64_t)length, &locked, &rights, msg)) < 0) {
		if (fd >= 0)
			close(fd);
		free(source);
		return rc < 0 ? rc : fail_errno(msg, ENOMEM);
	}
	int anon_private = (!r->source && fd < 0) ? MAP_ANONYMOUS : 0;
	void *p = mmap(NULL, (size_t)length, prot, flags | anon_private, fd,
		       r->source ? r->offset : 0);
	if (p == MAP_FAILED) {
		rc = fail_errno(msg, errno);
		give_resources(r->locked_held, budget, (uint64_t)length, locked);
		if (fd >= 0)
			close(fd);
		free(source);
		return rc;
	}
	if (!r->trackfd && fd >= 0) {
		close(fd);
		fd = -1;
	}
	m->data = p;
	m->len = (size_t)length;
	m->fd = fd;
	m->source = source;
	m->offset = r->offset;
	m->flags = flags;
	m->prot = prot;
	m->access = access;
	m->trackfd = r->trackfd;
	m->anonymous = !r->source;
	m->created = (int64_t)time(NULL);
	m->budget = budget;
	m->locked_held = locked ? r->locked_held : NULL;
	m->locked_charge = locked;
	if (locked)
		m->locked_rights = rights;
	name_anonymous(m);
	return 0;
}

static void release_memory(struct mapping *m)
{
	if (m->data)
		munmap(m->data, m->len);
	if (m->fd >= 0)
		close(m->fd);
	if (m->budget)
		budget_give(m->budget, m->len);
	if (m->locked_held)
		memlock_give(m->locked_held, m->locked_charge);
	m->locked_charge = 0;
	m->data = NULL;
	m->fd = -1;
	m->len = 0;
	m->closed = true;
}

int mapping_close(struct mapping *m, bool force, struct msg *msg)
{
	pthread_rwlock_wrlock(&m->lock);
	int rc = 0;
	if (m->closed) {
		rc = fail(msg, ENXIO, CLOSED_MSG);
	} else if (m->data && is_shared_writable(m) && msync(m->data, m->len, MS_SYNC) < 0) {
		/* Keep the mapping rather than drop data the kernel could not write. */
		rc = fail_errno(msg, errno);
	}
	if ((rc == 0 || force) && !m->closed)
		release_memory(m);
	pthread_rwlock_unlock(&m->lock);
	return force && rc != -ENXIO ? 0 : rc;
}

/* ---- checks shared by the operations --------------------------------- */

static int check_open(const struct mapping *m, struct msg *msg)
{
	return m->closed ? fail(msg, ENXIO, CLOSED_MSG) : 0;
}

static int check_readable(const struct mapping *m, struct msg *msg)
{
	if (m->closed)
		return fail(msg, ENXIO, CLOSED_MSG);
	if (!(m->prot & PROT_READ))
		return fail(msg, EACCES, "mapping is not readable (its prot has no read)");
	return 0;
}

static int check_writable(const struct mapping *m, struct msg *msg)
{
	if (m->closed)
		return fail(msg, ENXIO, CLOSED_MSG);
	if (m->access == ACCESS_READ)
		return fail(msg, EACCES, "mmap can't modify a readonly memory map.");
	if (!(m->prot & PROT_WRITE))
		return fail(msg, EACCES, "mapping is not writable (its prot has no write)");
	return 0;
}

/* ---- attributes ------------------------------------------------------- */

void mapping_info(struct mapping *m, struct mapping_info *out)
{
	pthread_rwlock_rdlock(&m->lock);
	out->len = m->len;
	out->pos = m->pos;
	out->offset = m->offset;
	out->flags = m->flags;
	out->prot = m->prot;
	out->access = m->access;
	out->trackfd = m->trackfd;
	out->anonymous = m->anonymous;
	out->closed = m->closed;
	pthread_rwlock_unlock(&m->lock);
}

bool mapping_is_closed(struct mapping *m)
{
	pthread_rwlock_rdlock(&m->lock);
	bool closed = m->closed;
	pthread_rwlock_unlock(&m->lock);
	return closed;
}

int mapping_filesize(struct mapping *m, int64_t *out, struct msg *msg)
{
	pthread_rwlock_rdlock(&m->lock);
	int rc = check_open(m, msg);
	struct stat st;
	if (rc < 0)
		;
	else if (!m->trackfd)
		rc = fail(msg, EBADF, "can't get size with trackfd=False");
	else if (m->anonymous)
		*out = (int64_t)m->len;
	else if (fstat(m->fd, &st) < 0)
		rc = fail_errno(msg, errno);
	else
		*out = st.st_size;
	pthread_rwlock_unlock(&m->lock);
	return rc;
}

/* ---- resize ----------------------------------------------------------- */

static int truncate_backing(struct mapping *m, int64_t size, struct msg *msg)
{
	return ftruncate(m->fd, size) < 0 ? fail_errno(msg, errno) : 0;
}

/* Reserve the blocks a growing file needs now, so a full disk is ENOSPC
 * for this call rather than SIGBUS on some later write. */
static int reserve_blocks(struct mapping *m, int64_t from, int64_t to, struct msg *msg)
{
#ifdef HAVE_POSIX_FALLOCATE
	int e = posix_fallocate(m->fd, from, to - from);
	if (e != 0 && e != EOPNOTSUPP && e != EINVAL && e != ENOSYS)
		return fail_errno(msg, e);
#endif
	return 0;
}

static int remap(struct mapping *m, size_t new_len, struct msg *msg)
{
	void *p;
	if (new_len == 0) {
		munmap(m->data, m->len);
		p = NULL;
	} else if (!m->data) {
		int anon = m->fd < 0 ? MAP_ANONYMOUS : 0;
		p = mmap(NULL, new_len, m->prot, m->flags | anon, m->fd,
			 m->anonymous ? 0 : m->offset);
	} else {
		p = mremap(m->data, m->len, new_len, MREMAP_MAYMOVE);
	}
	if (p == MAP_FAILED)
		return fail_errno(msg, errno);
	m->data = p;
	return 0;
}

struct tail_fill {
	struct mapping *m;
	size_t from, to;
};

/* Zeros, or the file's bytes (zeros where the file ends), over the tail. */
static void do_fill_tail(void *ctx)
{
	struct tail_fill *t = ctx;
	char *p = t->m->data + t->from;
	size_t n = t->to - t->from;
	ssize_t got = 0;
	if (t->m->fd >= 0 && !t->m->anonymous)
		got = pread(t->m->fd, p, n, t->m->offset + (off_t)t->from);
	if (got < 0)
		got = 0;
	memset(p + got, 0, n - (size_t)got);
}

/* A private mapping keeps the old bytes of its last partial page beyond a
 * shrink (mremap moves whole pages); growing again must show what the SPEC
 * promises there instead: zeros for anonymous memory, else the file's bytes. */
static int refresh_grown_tail(struct mapping *m, size_t old_len, size_t new_len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t page_end = (old_len + page - 1) / page * page;
	struct tail_fill t = { m, old_len, new_len < page_end ? new_len : page_end };
	if (is_shared(m->flags) || old_len % page == 0 || t.to <= t.from || !m->data)
		return 0;
	return guarded_call(do_fill_tail, &t);
}

/* A growing mapping takes the new bytes from its budget and, if it is
 * locked, the new pages from its creator's memlock right (the kernel locks
 * them as mremap adds them): all or nothing. */
static int take_growth(struct mapping *m, uint64_t old_len, uint64_t new_len,
		       uint64_t *lock_more, struct msg *msg)
{
	int rc = budget_take(m->budget, new_len - old_len, msg);
	if (rc < 0 || !m->locked_held)
		return rc;
	uint64_t want = pages_of(new_len);
	if (want > m->locked_charge) {
		rc = memlock_take(&m->locked_rights, m->locked_held, want - m->locked_charge, msg);
		if (rc < 0)
			budget_give(m->budget, new_len - old_len);
		else
			*lock_more = want - m->locked_charge;
	}
	return rc;
}

/* After a resize: the charge is the locked pages the mapping has now. */
static void settle_locked(struct mapping *m, uint64_t new_len, uint64_t lock_more)
{
	if (!m->locked_held)
		return;
	m->locked_charge += lock_more;
	uint64_t now = pages_of(new_len);
	if (now < m->locked_charge) {
		memlock_give(m->locked_held, m->locked_charge - now);
		m->locked_charge = now;
	}
}

static int resize_locked(struct mapping *m, int64_t new_len, struct msg *msg)
{
	int rc = check_open(m, msg);
	if (rc < 0)
		return rc;
	if (!m->trackfd)
		return fail(msg, EINVAL, "mmap can't resize with trackfd=False.");
	if (!mapping_can_resize(m))
		return fail(msg, EPERM, "mmap can't resize a readonly or copy-on-write memory map.");
	if (new_len < 0 || INT64_MAX - new_len < m->offset)
		return fail(msg, EINVAL, "new size out of range");

	int64_t old_len = (int64_t)m->len;
	int64_t base = m->anonymous ? 0 : m->offset;
	uint64_t lock_more = 0;
	if (new_len > old_len && (rc = take_growth(m, (uint64_t)old_len, (uint64_t)new_len,
						   &lock_more, msg)) < 0)
		return rc;
	struct stat st = { .st_size = 0 };
	if (m->fd >= 0 && fstat(m->fd, &st) < 0)
		rc = fail_errno(msg, errno);
	/* As in CPython, the file's size becomes offset + new length. */
	if (rc == 0 && m->fd >= 0 && (rc = truncate_backing(m, base + new_len, msg)) == 0 &&
	    new_len > old_len && !m->anonymous)
		rc = reserve_blocks(m, base + old_len, base + new_len, msg);
	if (rc == 0 && new_len != old_len)
		rc = remap(m, (size_t)new_len, msg);
	if (rc < 0) {
		/* Undo, so that a refused resize changes nothing. */
		if (m->fd >= 0 && st.st_size != base + new_len)
			(void)ftruncate(m->fd, st.st_size);
		if (new_len > old_len)
			give_resources(m->locked_held, m->budget, (uint64_t)(new_len - old_len),
				       lock_more);
		return rc;
	}
	if (new_len < old_len)
		budget_give(m->budget, (uint64_t)(old_len - new_len));
	settle_locked(m, (uint64_t)new_len, lock_more);
	m->len = (size_t)new_len;
	name_anonymous(m);
	if (new_len > old_len && refresh_grown_tail(m, (size_t)old_len, (size_t)new_len) < 0)
		return fail(msg, EIO, "the mapping's memory is gone (was its file truncated?)");
	return 0;
}

int mapping_resize(struct mapping *m, int64_t new_len, struct msg *msg)
{
	pthread_rwlock_wrlock(&m->lock);
	int rc = resize_locked(m, new_len, msg);
	pthread_rwlock_unlock(&m->lock);
	return rc;
}

/* ---- position --------------------------------------------------------- */

int mapping_seek(struct mapping *m, int64_t dist, int whence, struct msg *msg)
{
	pthread_rwlock_wrlock(&m->lock);
	int rc = check_open(m, msg);
	int64_t where = 0;
	if (rc == 0) {
		int64_t from = whence == 1 ? (int64_t)m->pos : whence == 2 ? (int64_t)m->len : 0;
		if (whence < 0 || whence > 2)
			rc = fail(msg, EINVAL, "unknown seek type");
		else if ((dist > 0 && INT64_MAX - from < dist) ||
			 (where = from + dist) < 0 || where > (int64_t)m->len)
			rc = fail(msg, EINVAL, "seek out of range");
	}
	if (rc == 0)
		m->pos = (size_t)where;
	pthread_rwlock_unlock(&m->lock);
	return rc;
}

/* ---- copies ----------------------------------------------------------- */

static size_t clamp_count(size_t len, uint64_t off, size_t n)
{
	if (off >= len)
		return 0;
	return n < len - off ? n : (size_t)(len - off);
}

int mapping_read_at(struct mapping *m, uint64_t off, size_t n, byte_sink sink, void *ctx)
{
	pthread_rwlock_rdlock(&m->lock);
	int rc = check_readable(m, NULL);
	if (rc == 0) {
		n = clamp_count(m->len, off, n);
		rc = sink(ctx, n ? m->data + off : NULL, n);
	}
	pthread_rwlock_unlock(&m->lock);
	return rc;
}

struct copy_target {
	char *buf;
	size_t copied;
};

static int copy_sink(void *ctx, const char *bytes, size_t n)
{
	struct copy_target *t = ctx;
	int rc = guarded_memcpy(t->buf, bytes, n);
	if (rc == 0)
		t->copied = n;
	return rc;
}

ssize_t mapping_copy_out(struct mapping *m, uint64_t off, void *buf, size_t n)
{
	struct copy_target t = { buf, 0 };
	int rc = mapping_read_at(m, off, n, copy_sink, &t);
	return rc < 0 ? rc : (ssize_t)t.copied;
}

static int write_locked(struct mapping *m, uint64_t off, const void *buf, size_t n, bool grow,
			struct msg *msg);

ssize_t mapping_write_at(struct mapping *m, uint64_t off, const void *buf, size_t n,
			 bool grow, struct msg *msg)
{
	pthread_rwlock_wrlock(&m->lock);
	int rc = write_locked(m, off, buf, n, grow, msg);
	pthread_rwlock_unlock(&m->lock);
	return rc < 0 ? rc : (ssize_t)n;
}

ssize_t mapping_append(struct mapping *m, const void *buf, size_t n, struct msg *msg)
{
	pthread_rwlock_wrlock(&m->lock);
	int rc = write_locked(m, m->len, buf, n, true, msg);
	pthread_rwlock_unlock(&m->lock);
	return rc < 0 ? rc : (ssize_t)n;
}

static int write_locked(struct mapping *m, uint64_t off, const void *buf, size_t n, bool grow,
			struct msg *msg)
{
	int rc = check_writable(m, msg);
	if (rc == 0 && n > 0 && (off > m->len || m->len - off < n)) {
		if (!grow || !mapping_can_resize(m) || off > (uint64_t)INT64_MAX - n)
			rc = fail(msg, EFBIG, "write past the end of a mapping that cannot grow");
		else
			rc = resize_locked(m, (int64_t)(off + n), msg);
	}
	if (rc == 0 && n > 0 && (rc = guarded_memcpy(m->data + off, buf, n)) < 0)
		rc = fail(msg, EIO, "the mapping's memory is gone (was its file truncated?)");
	return rc;
}

int mapping_stream_read(struct mapping *m, size_t n, byte_sink sink, void *ctx)
{
	pthread_rwlock_wrlock(&m->lock);
	int rc = check_readable(m, NULL);
	if (rc == 0) {
		n = clamp_count(m->len, m->pos, n);
		rc = sink(ctx, n ? m->data + m->pos : NULL, n);
		if (rc == 0)
			m->pos += n;
	}
	pthread_rwlock_unlock(&m->lock);
	return rc;
}

ssize_t mapping_stream_write(struct mapping *m, const void *buf, size_t n, struct msg *msg)
{
	pthread_rwlock_wrlock(&m->lock);
	int rc = check_writable(m, msg);
	if (rc == 0 && (m->pos > m->len || m->len - m->pos < n))
		rc = fail(msg, EFBIG, "data out of range");
	if (rc == 0 && n > 0 && (rc = guarded_memcpy(m->data + m->pos, buf, n)) < 0)
		rc = fail(msg, EIO, "the mapping's memory is gone (was its file truncated?)");
	if (rc == 0)
		m->pos += n;
	pthread_rwlock_unlock(&m->lock);
	return rc < 0 ? rc : (ssize_t)n;
}

struct chr_search {
	const char *p;
	size_t n;
	const char *found;
};

static void do_memchr(void *ctx)
{
	struct chr_search *s = ctx;
	s->found = memchr(s->p, '\n', s->n);
}

int mapping_readline(struct mapping *m, size_t max, byte_sink sink, void *ctx)
{
	pthread_rwlock_wrlock(&m->lock);
	int rc = check_readable(m, NULL);
	if (rc == 0) {
		size_t remaining = m->pos < m->len ? m->len - m->pos : 0;
		struct chr_search s = { remaining ? m->data + m->pos : NULL, remaining, NULL };
		if (remaining)
			rc = guarded_call(do_memchr, &s);
		size_t line = s.found ? (size_t)(s.found - s.p) + 1 : remaining;
		size_t n = line < max ? line : max;
		if (rc == 0)
			rc = sink(ctx, s.p, n);
		if (rc == 0)
			m->pos += n;
	}
	pthread_rwlock_unlock(&m->lock);
	return rc;
}

/* ---- methods ---------------------------------------------------------- */

int mapping_flush(struct mapping *m, const int64_t *offset_arg, const int64_t *size_arg,
		  struct msg *msg)
{
	pthread_rwlock_rdlock(&m->lock);
	int rc = check_open(m, msg);
	int64_t offset = offset_arg ? *offset_arg : 0;
	int64_t size = size_arg ? *size_arg : -1;
	if (rc == 0 && size == -1)
		size = (int64_t)m->len - offset;
	if (rc == 0 && (size < 0 || offset < 0 || (int64_t)m->len - offset < size))
		rc = fail(msg, EINVAL, "flush values out of range");
	bool syncs = m->access != ACCESS_READ && m->access != ACCESS_COPY;
	if (rc == 0 && syncs && m->data && msync(m->data + offset, (size_t)size, MS_SYNC) < 0)
		rc = fail_errno(msg, errno);
	pthread_rwlock_unlock(&m->lock);
	return rc;
}

int mapping_madvise(struct mapping *m, int advice, const int64_t *start_arg,
		    const int64_t *length_arg, struct msg *msg)
{
	pthread_rwlock_rdlock(&m->lock);
	int rc = check_open(m, msg);
	int64_t len = (int64_t)m->len;
	int64_t start = start_arg ? *start_arg : 0;
	int64_t length = length_arg ? *length_arg : len;
	if (rc < 0)
		;
	else if (start < 0 || start >= len)
		rc = fail(msg, EINVAL, "madvise start out of bounds");
	else if (length < 0)
		rc = fail(msg, EINVAL, "madvise length invalid");
	else if (INT64_MAX - start < length)
		rc = fail(msg, EINVAL, "madvise length too large");
	if (rc == 0) {
		if (start + length > len)
			length = len - start;
		if (madvise(m->data + start, (size_t)length, advice) < 0)
			rc = fail_errno(msg, errno);
	}
	pthread_rwlock_unlock(&m->lock);
	return rc;
}

int mapping_move(struct mapping *m, int64_t dest, int64_t src, int64_t count,
		 struct msg *msg)
{
	pthread_rwlock_wrlock(&m->lock);
	int rc = check_writable(m, msg);
	int64_t len = (int64_t)m->len;
	if (rc == 0 && !(m->prot & PROT_READ))
		rc = fail(msg, EACCES, "mapping is not readable (its prot has no read)");
	if (rc == 0 && (dest < 0 || src < 0 || count < 0 || len - dest < count ||
			len - src < count))
		rc = fail(msg, EINVAL, "source, destination, or count out of range");
	if (rc == 0 && count > 0 &&
	    guarded_memmove(m->data + dest, m->data + src, (size_t)count) < 0)
		rc = fail(msg, EIO, "the mapping's memory is gone (was its file truncated?)");
	pthread_rwlock_unlock(&m->lock);
	return rc;
}

struct needle_search {
	const char *hay;
	size_t hay_len;
	const char *needle;
	size_t needle_len;
	bool reverse;
	int64_t at; /* offset within hay, or -1 */
};

static void do_search(void *ctx)
{
	struct needle_search *s = ctx;
	s->at = -1;
	if (s->needle_len > s->hay_len)
		return;
	if (!s->reverse) {
		const char *p = memmem(s->hay, s->hay_len, s->needle, s->needle_len);
		s->at = p ? p - s->hay : -1;
		return;
	}
	for (size_t i = s->hay_len - s->needle_len + 1; i-- > 0;) {
		if (memcmp(s->hay + i, s->needle, s->needle_len) == 0) {
			s->at = (int64_t)i;
			return;
		}
	}
}

/* CPython clamps START and END as slice indices do. */
static int64_t clamp_index(int64_t i, int64_t len)
{
	if (i < 0)
		i += len;
	if (i < 0)
		return 0;
	return i > len ? len : i;
}

int mapping_find(struct mapping *m, const char *needle, size_t nlen, const int64_t *start_arg,
		 const int64_t *end_arg, bool reverse, int64_t *result, struct msg *msg)
{
	pthread_rwlock_rdlock(&m->lock);
	int rc = check_readable(m, msg);
	int64_t len = (int64_t)m->len;
	int64_t start = clamp_index(start_arg ? *start_arg : (int64_t)m->pos, len);
	int64_t end = clamp_index(end_arg ? *end_arg : len, len);
	if (rc == 0 && end < start) {
		*result = -1;
	} else if (rc == 0 && nlen == 0) {
		*result = reverse ? end : start;
	} else if (rc == 0 && (size_t)(end - start) < nlen) {
		*result = -1; /* also keeps a mapping of length 0 (no memory) untouched */
	} else if (rc == 0) {
		struct needle_search s = { m->data + start, (size_t)(end - start), needle, nlen,
					   reverse, -1 };
		if (guarded_call(do_search, &s) < 0)
			rc = fail(msg, EIO, "the mapping's memory is gone (was its file truncated?)");
		else
			*result = s.at < 0 ? -1 : start + s.at;
	}
	pthread_rwlock_unlock(&m->lock);
	return rc;
}
