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
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/deadlock.h"
#include "core/guard.h"

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102	/* Linux 6.13+; older headers lack it */
#endif

static const char CLOSED_MSG[] = "mmap closed or invalid";
static const char GONE_MSG[] = "the mapping's memory is gone (was its file truncated?)";

/* ---- byte budget ------------------------------------------------------ */

static int budget_take_one(struct mapping_budget *b, uint64_t n, struct msg *m)
{
	uint64_t used = atomic_load(&b->used);
	do {
		if (n > b->limit || used > b->limit - n)
			return msg_fail(m, ENOSPC, "%s reached: %llu bytes mapped, limit %llu",
				    b->what ? b->what : "max_bytes", (unsigned long long)used,
				    (unsigned long long)b->limit);
	} while (!atomic_compare_exchange_weak(&b->used, &used, used + n));
	return 0;
}

int mapping_budget_take(struct mapping_budget *b, uint64_t n, struct msg *m)
{
	int rc = budget_take_one(b, n, m);
	if (rc == 0 && b->parent && (rc = mapping_budget_take(b->parent, n, m)) < 0)
		atomic_fetch_sub(&b->used, n);
	return rc;
}

void mapping_budget_give(struct mapping_budget *b, uint64_t n)
{
	for (; b; b = b->parent)
		atomic_fetch_sub(&b->used, n);
}

/* ---- life cycle ------------------------------------------------------- */

void mapping_request_init(struct mapping_request *r)
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
	pthread_mutex_init(&m->charge_lock, NULL);
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
	pthread_mutex_destroy(&m->charge_lock);
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
	char label[MAPNAME_MAX + 16];
	snprintf(label, sizeof label, "mmapfs:%s", m->name);
	/* Some kernels refuse this (EINVAL); the mapping then stays unnamed. */
	(void)prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)m->data, m->len,
		    (unsigned long)label);
}

/* ---- VMAs of its own: a guard gap on each side ------------------------- */

/* Each mapping lies between two PROT_NONE pages of one shared memfd, so its
 * VMA never merges with a neighbour (another mapping of the same file at
 * the next offset, the heap, anonymous memory with the same flags): smaps
 * and the page views then show this mapping alone. The gap pages are
 * shared mappings of a file, which no mapping of the server is, and the
 * left gap maps the memfd's page 1, the right one its page 0: the right gap
 * of one mapping and the left gap of the one above it merge into one VMA,
 * so a packed table costs two VMAs per mapping, not three. PROT_NONE: they
 * are never touched, so the memfd holds no memory. hugetlb mappings need
 * huge-page alignment and never merge anyway: they go without gaps. */
static pthread_once_t gap_once = PTHREAD_ONCE_INIT;
/* The template: the memfd's pages 0 and 1, PROT_NONE. Set once, by
 * gap_open under gap_once, then only read. */
static char *gap_pages = MAP_FAILED;

static size_t page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

/* Named mmapfs-gap, not mmapfs:NAME as the mappings' memfds are: it is no
 * mapping, and stays for the process's life. The memfd is mapped once, as a template, and its descriptor closed: the
 * gaps are copies of the template's pages (mremap with an old size of 0
 * maps the same pages of a shared mapping again), so no descriptor is held
 * for them. */
static void gap_open(void)
{
	int fd = memfd_create("mmapfs-gap", MFD_CLOEXEC);
	if (fd < 0)
		return;
	gap_pages = mmap(NULL, 2 * page_size(), PROT_NONE, MAP_SHARED, fd, 0);
	close(fd);
}

static size_t span_of(size_t len)
{
	return (len + page_size() - 1) / page_size() * page_size();
}

static bool gapped(int flags)
{
	return !(flags & MAP_HUGETLB);
}

/* Put the gap pages just outside [p, p + span). */
static int place_gaps(char *p, size_t span)
{
	size_t page = page_size();
	int moves = MREMAP_MAYMOVE | MREMAP_FIXED;
	pthread_once(&gap_once, gap_open);
	if (gap_pages == MAP_FAILED ||
	    mremap(gap_pages + page, 0, page, moves, p - page) == MAP_FAILED ||
	    mremap(gap_pages, 0, page, moves, p + span) == MAP_FAILED)
		return -1;
	return 0;
}

/* Long kernel work on a range (faulting it in for MAP_POPULATE, MAP_LOCKED
 * or mlock, paging it out, most advice, unmapping) runs under the process's mmap lock
 * for all of it: seconds, for gigabytes. Meanwhile one thread that asks for
 * that lock alone (an mmap, a new thread's stack) waits, and every page
 * fault of the server queues behind that one: every mapping's reads stall.
 * Done a chunk at a time, the lock is let go between chunks. Chunks end on
 * KERNEL_CHUNK boundaries of the address space, so no huge page is cut. */
#define KERNEL_CHUNK ((uintptr_t)32 << 20)

/* fn on each chunk of [p, p + len), until one fails: 0, or its -errno. An
 * empty range is handed over once, so the kernel still judges its start. */
static int in_chunks(char *p, size_t len, int (*fn)(char *p, size_t n, void *ctx), void *ctx)
{
	if (len == 0)
		return fn(p, 0, ctx);
	int rc = 0;
	for (char *end = p + len; rc == 0 && p < end;) {
		uintptr_t next = ((uintptr_t)p / KERNEL_CHUNK + 1) * KERNEL_CHUNK;
		size_t n = next < (uintptr_t)end ? next - (uintptr_t)p : (size_t)(end - p);
		rc = fn(p, n, ctx);
		p += n;
	}
	return rc;
}

static int unmap_chunk(char *p, size_t n, void *ctx)
{
	(void)ctx;
	return munmap(p, n) < 0 ? -errno : 0;
}

/* munmap(2) in chunks, from the start: each one shrinks the VMA left, so
 * none splits one (which could fail). */
static void munmap_in_chunks(char *p, size_t len)
{
	(void)in_chunks(p, len, unmap_chunk, NULL);
}

/* Where the kernel would align a large anonymous mapping for transparent
 * huge pages, the mapping inside its gaps is aligned so too. */
#define HUGE_ALIGN ((size_t)2 << 20)

/* A reservation of span bytes plus a page each side; the start of its
 * middle (aligned to HUGE_ALIGN when span is that large), or MAP_FAILED. */
static char *reserve_gapped(size_t span, int flags)
{
	size_t page = page_size();
	size_t align = span >= HUGE_ALIGN ? HUGE_ALIGN : page;
	size_t total = span + 2 * page + (align - page);
	char *r = mmap(NULL, total, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | (flags & MAP_32BIT), -1, 0);
	if (r == MAP_FAILED)
		return MAP_FAILED;
	char *mid = (char *)(((uintptr_t)r + page + align - 1) / align * align);
	char *end = r + total;
	if (mid - page > r)
		munmap(r, (size_t)(mid - page - r));
	if (mid + span + page < end)
		munmap(mid + span + page, (size_t)(end - (mid + span + page)));
	return mid;
}

static void unreserve(char *mid, size_t span)
{
	munmap_in_chunks(mid - page_size(), span + 2 * page_size());
}

/* mmap(2) of a mapping into VMAs of its own. */
static void *map_gapped(size_t len, int prot, int flags, int fd, off_t off)
{
	if (!gapped(flags))
		return mmap(NULL, len, prot, flags, fd, off);
	size_t span = span_of(len);
	char *mid = reserve_gapped(span, flags);
	if (mid == MAP_FAILED)
		return MAP_FAILED;
	void *p = mmap(mid, len, prot, flags | MAP_FIXED, fd, off);
	if (p == MAP_FAILED) {
		int e = errno;
		unreserve(mid, span);
		errno = e;
		return MAP_FAILED;
	}
	/* Should the gap pages fail, the reservation's own pages stay in their
	 * place: gaps still, only less sure never to merge. */
	(void)place_gaps(mid, span);
	return p;
}

/* munmap(2) of a mapping and its gaps. */
static void unmap_gapped(void *p, size_t len, int flags)
{
	if (gapped(flags))
		unreserve(p, span_of(len));
	else
		munmap_in_chunks(p, len);
}

/* mremap(2) of a mapping into a new place between new gaps (mremap moves
 * the pages themselves, not their bytes); the old gaps go. */
static void *remap_gapped(void *old, size_t old_len, size_t new_len, int flags)
{
	if (!gapped(flags))
		return mremap(old, old_len, new_len, MREMAP_MAYMOVE);
	size_t span = span_of(new_len);
	char *mid = reserve_gapped(span, flags);
	if (mid == MAP_FAILED)
		return MAP_FAILED;
	void *p = mremap(old, old_len, new_len, MREMAP_MAYMOVE | MREMAP_FIXED, mid);
	if (p == MAP_FAILED) {
		int e = errno;
		unreserve(mid, span);
		errno = e;
		return MAP_FAILED;
	}
	(void)place_gaps(mid, span); /* as in map_gapped */
	size_t page = page_size();
	munmap((char *)old - page, page);
	munmap((char *)old + span_of(old_len), page);
	return p;
}

/* mremap(2) of a mapping to a smaller length in place: mremap shrinks
 * whatever VMAs advice split the mapping into (moving it, as remap_gapped
 * does, needs a single VMA). The gap after it moves to its new end. */
static void *shrink_gapped(void *p, size_t old_len, size_t new_len, int flags)
{
	if (mremap(p, old_len, new_len, 0) == MAP_FAILED)
		return MAP_FAILED;
	size_t page = page_size(), old_span = span_of(old_len), new_span = span_of(new_len);
	if (gapped(flags) && new_span < old_span) {
		munmap((char *)p + old_span, page);
		/* The tail mremap freed is where the new gap goes. */
		if (gap_pages != MAP_FAILED)
			(void)mremap(gap_pages, 0, page, MREMAP_MAYMOVE | MREMAP_FIXED,
				     (char *)p + new_span);
	}
	return p;
}

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#define MADV_POPULATE_WRITE 23
#endif

static int advise_chunk(char *p, size_t n, void *advice)
{
	return madvise(p, n, *(int *)advice) < 0 ? -errno : 0;
}

/* madvise(2) of the range, in chunks. */
static int madvise_in_chunks(char *p, size_t len, int advice)
{
	return in_chunks(p, len, advise_chunk, &advice);
}

static int lock_chunk(char *p, size_t n, void *ctx)
{
	(void)ctx;
	/* The raw call: the sanitizers' runtimes make the munlock a no-op. */
	return syscall(SYS_mlock2, p, n, 0) < 0 ? -errno : 0;
}

/* mlock2(2) of the range, in chunks (each merges into the locked VMA
 * before it). On failure the chunks before stay locked. */
static int mlock_in_chunks(char *p, size_t len)
{
	return in_chunks(p, len, lock_chunk, NULL);
}

/* MAP_POPULATE's prefault, done after the mmap with MADV_POPULATE_READ or
 * _WRITE in chunks. As MAP_POPULATE, it is best effort: a chunk that fails
 * (no memory, a page past the file's end, a kernel before 5.14) ends it,
 * and the rest faults in when used. A private writable mapping is
 * populated for writing, as MAP_POPULATE does (its copies made),
 * everything else for reading. */
static void populate_in_chunks(char *p, size_t len, int flags, int prot)
{
	int advice = !is_shared(flags) && (prot & PROT_WRITE) ? MADV_POPULATE_WRITE
							       : MADV_POPULATE_READ;
	(void)madvise_in_chunks(p, len, advice);
}

static int lock_new_chunk(char *p, size_t n, void *ctx)
{
	(void)ctx;
	int rc = lock_chunk(p, n, NULL);
	struct addr_range r = { (uintptr_t)p, (uintptr_t)p + n };
	/* Locked, but not all faulted in: MAP_LOCKED's prefault is best effort. */
	if ((rc == -ENOMEM || rc == -EAGAIN) && memlock_bytes_in(&r, 1) == (int64_t)n)
		return 0;
	return rc == -ENOMEM ? -EAGAIN : rc; /* mmap's errno for MAP_LOCKED past the limit */
}

/* MAP_LOCKED done after the mmap, in chunks: 0, or -errno as mmap(2) with
 * MAP_LOCKED would fail (EAGAIN past the server's own RLIMIT_MEMLOCK). */
static int lock_new_mapping(char *p, size_t len)
{
	return in_chunks(p, len, lock_new_chunk, NULL);
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
		return msg_fail(msg, EMFILE, "too many open files: each mapping of a file (with "
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

static int open_backing(const struct mapping_request *r, enum access_mode access, int flags,
			int prot, int *fd_out, struct stat *st, struct msg *msg)
{
	const char *path = r->source;
	if (path[0] != '/')
		return msg_fail(msg, EINVAL, "source must be an absolute path or 'anon'");
	if (inside_mount(path, r->own_mount))
		return msg_fail(msg, EDEADLK, "cannot map a file inside this mount (it would deadlock)");
	/* Before anything follows the path (core/deadlock.h). An opener checks
	 * the path it opens itself, which may differ (/proc/self is the
	 * caller's there). */
	int rc = r->opener ? 0 : deadlock_check_path(path, r->own_dev, msg);
	if (rc < 0)
		return rc;

	bool needs_write = is_shared(flags) && (prot & PROT_WRITE);
	bool wants_write = r->trackfd && (access == ACCESS_WRITE || access == ACCESS_DEFAULT);
	int base = O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	/* Without write permission, a private mapping falls back to reading
	 * (resize then fails as ftruncate does). */
	struct open_plan plan = {
		path, base | ((needs_write || wants_write) ? O_RDWR : O_RDONLY),
		!needs_write && wants_write ? base | O_RDONLY : -1, r->own_dev,
	};
	int fd = r->opener ? r->opener->open(r->opener->ctx, &plan, msg) : open_plan_run(&plan);
	if (fd < 0)
		return r->opener ? fd : open_plan_fail(msg, -fd);
	/* The path may have changed since the check: before any fstat. */
	if ((rc = deadlock_check_fd(fd, r->own_dev, msg)) < 0) {
		close(fd);
		return rc;
	}
	rc = r->trackfd ? check_fd_room(fd, msg) : 0;
	if (rc < 0)
		return rc;
	/* The path may have changed between stat and open. */
	if (fstat(fd, st) < 0)
		rc = msg_fail_errno(msg, errno);
	else if (!S_ISREG(st->st_mode))
		rc = msg_fail(msg, ENODEV, "source is not a regular file");
	else if (on_procfs(fd))
		rc = msg_fail(msg, ENODEV, "source is a /proc file (only the files /proc/PID/fd/N "
			  "links to can be mapped)");
	else if (r->own_dev && st->st_dev == r->own_dev)
		rc = msg_fail(msg, EDEADLK, "cannot map a file inside this mount (it would deadlock)");
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
			return msg_fail(msg, EINVAL, "cannot mmap an empty file");
		if (offset >= size)
			return msg_fail(msg, EINVAL, "mmap offset is greater than file size");
		*length = size - offset;
	} else if (offset > size || size - offset < *length) {
		return msg_fail(msg, EINVAL, "mmap length is greater than file size");
	}
	return 0;
}

static int open_anonymous(struct mapping *m, const struct mapping_request *r, int flags,
			  int64_t length, int *fd_out, struct msg *msg)
{
	/* What mmap(2) itself says of these, as Python reports it. */
	if (length == 0 || r->offset % sysconf(_SC_PAGESIZE) != 0)
		return msg_fail_errno(msg, EINVAL);
	*fd_out = -1;
	if (!is_shared(flags))
		return 0;
	/* A memfd lets a shared anonymous mapping grow, which MAP_ANONYMOUS
	 * memory cannot do on Linux, and names it in /proc/PID/maps. */
	char label[MAPNAME_MAX + 16];
	snprintf(label, sizeof label, "mmapfs:%s", m->name);
	int fd = memfd_create(label, MFD_CLOEXEC);
	if (fd < 0)
		return msg_fail_errno(msg, errno);
	int rc = r->trackfd ? check_fd_room(fd, msg) : 0;
	if (rc < 0)
		return rc;
	if (ftruncate(fd, length) < 0) {
		int e = errno;
		close(fd);
		return msg_fail_errno(msg, e);
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
static int take_resources(const struct mapping_request *r, struct mapping_budget *budget, int flags,
			  uint64_t length, uint64_t *locked, struct memlock_rights *rights_out,
			  struct msg *msg)
{
	int rc = mapping_budget_take(budget, length, msg);
	if (rc < 0 || !(flags & MAP_LOCKED))
		return rc;
	uint64_t want = pages_of(length);
	const struct memlock_rights *rights = memlock_rights_of(r->memlock);
	rc = r->locked_held ? memlock_take(rights, r->locked_held, want, msg)
			    : msg_fail(msg, ENOMEM, "cannot lock memory: the server cannot count "
				       "it for this user");
	if (rc < 0)
		mapping_budget_give(budget, length);
	else
		*locked = want;
	if (rc == 0)
		*rights_out = *rights;
	return rc;
}

static void give_resources(_Atomic uint64_t *held, struct mapping_budget *budget, uint64_t length,
			   uint64_t locked)
{
	mapping_budget_give(budget, length);
	if (locked && held)
		memlock_give(held, locked);
}

int mapping_establish(struct mapping *m, const struct mapping_request *r,
		      struct mapping_budget *budget, struct msg *msg)
{
	enum access_mode access = r->access;
	int flags = r->flags, prot = r->prot;
	int64_t length = r->length;
	if (length < 0)
		return msg_fail(msg, EINVAL, "memory mapped length must be positive");
	if (r->offset < 0)
		return msg_fail(msg, EINVAL, "memory mapped offset must be positive");
	if (access != ACCESS_DEFAULT &&
	    (flags != MAP_SHARED || prot != (PROT_READ | PROT_WRITE)))
		return msg_fail(msg, EINVAL, "mmap can't specify both access and flags, prot.");
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
		return rc < 0 ? rc : msg_fail_errno(msg, ENOMEM);
	}
	int anon_private = (!r->source && fd < 0) ? MAP_ANONYMOUS : 0;
	/* What faults the range in is done after the mmap, in chunks. */
	int after = flags & (MAP_POPULATE | MAP_LOCKED);
	void *p = map_gapped((size_t)length, prot, (flags & ~after) | anon_private, fd,
			     r->source ? r->offset : 0);
	rc = 0;
	if (p != MAP_FAILED && (flags & MAP_LOCKED))
		rc = lock_new_mapping(p, (size_t)length);
	else if (p != MAP_FAILED && (flags & MAP_POPULATE))
		populate_in_chunks(p, (size_t)length, flags, prot);
	if (rc < 0) {
		unmap_gapped(p, (size_t)length, flags);
		p = MAP_FAILED;
		errno = -rc;
	}
	if (p == MAP_FAILED) {
		rc = msg_fail_errno(msg, errno);
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
	m->locked_held = r->locked_held;
	m->locked_charge = locked;
	if (locked)
		m->locked_rights = rights;
	name_anonymous(m);
	return 0;
}

static void release_memory(struct mapping *m)
{
	if (m->data)
		unmap_gapped(m->data, m->len, m->flags);
	if (m->fd >= 0)
		close(m->fd);
	if (m->budget)
		mapping_budget_give(m->budget, m->len);
	if (m->locked_held)
		memlock_give(m->locked_held, m->locked_charge);
	m->locked_charge = 0;
	m->data = NULL;
	m->fd = -1;
	m->len = 0;
	m->closed = true;
}

static int write_back(struct mapping *m, struct msg *msg)
{
	if (m->data && is_shared_writable(m) && msync(m->data, m->len, MS_SYNC) < 0)
		return msg_fail_errno(msg, errno);
	return 0;
}

/* The write-back, which can take long (a large dirty file), runs under the
 * shared lock, so reads, attributes and `stats` of this mapping go on
 * meanwhile; under the exclusive lock it is redone only if bytes were
 * written since. A failed write-back keeps the mapping rather than drop
 * data the kernel could not write (unless forced, at shutdown). */
int mapping_close(struct mapping *m, bool force, struct msg *msg)
{
	pthread_rwlock_rdlock(&m->lock);
	uint64_t changes = m->changes;
	int rc = m->closed ? msg_fail(msg, ENXIO, CLOSED_MSG) : write_back(m, msg);
	pthread_rwlock_unlock(&m->lock);
	pthread_rwlock_wrlock(&m->lock);
	if (m->closed)
		rc = msg_fail(msg, ENXIO, CLOSED_MSG);
	else if (rc == 0 && m->changes != changes)
		rc = write_back(m, msg);
	if ((rc == 0 || force) && !m->closed)
		release_memory(m);
	pthread_rwlock_unlock(&m->lock);
	return force && rc != -ENXIO ? 0 : rc;
}

/* ---- checks shared by the operations --------------------------------- */

static int check_open(const struct mapping *m, struct msg *msg)
{
	return m->closed ? msg_fail(msg, ENXIO, CLOSED_MSG) : 0;
}

static int check_readable(const struct mapping *m, struct msg *msg)
{
	if (m->closed)
		return msg_fail(msg, ENXIO, CLOSED_MSG);
	if (!(m->prot & PROT_READ))
		return msg_fail(msg, EACCES, "mapping is not readable (its prot has no read)");
	return 0;
}

static int check_writable(const struct mapping *m, struct msg *msg)
{
	if (m->closed)
		return msg_fail(msg, ENXIO, CLOSED_MSG);
	if (m->access == ACCESS_READ)
		return msg_fail(msg, EACCES, "mmap can't modify a readonly memory map.");
	if (!(m->prot & PROT_WRITE))
		return msg_fail(msg, EACCES, "mapping is not writable (its prot has no write)");
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
		rc = msg_fail(msg, EBADF, "can't get size with trackfd=False");
	else if (m->anonymous)
		*out = (int64_t)m->len;
	else if (fstat(m->fd, &st) < 0)
		rc = msg_fail_errno(msg, errno);
	else
		*out = st.st_size;
	pthread_rwlock_unlock(&m->lock);
	return rc;
}

/* ---- resize ----------------------------------------------------------- */

/* The rule of every resize: each step that can fail comes before the first
 * that destroys anything, and an undo never destroys bytes. So the file is
 * only ever shrunk once the mapping at its new length exists, and a failed
 * step after that puts back what it can without losing a byte. */

static int set_file_size(struct mapping *m, int64_t size, struct msg *msg)
{
	return ftruncate(m->fd, size) < 0 ? msg_fail_errno(msg, errno) : 0;
}

/* Reserve the blocks a growing file needs now, so a full disk is ENOSPC
 * for this call rather than SIGBUS on some later write. */
static int reserve_blocks(struct mapping *m, int64_t from, int64_t to, struct msg *msg)
{
#ifdef HAVE_POSIX_FALLOCATE
	int e = posix_fallocate(m->fd, from, to - from);
	if (e != 0 && e != EOPNOTSUPP && e != EINVAL && e != ENOSYS)
		return msg_fail_errno(msg, e);
#endif
	return 0;
}

/* The mapping's source mapped again at len. As mremap would, it faults in
 * nothing (MAP_POPULATE and MAP_LOCKED are left out): the locks are the
 * caller's to carry (carry_locks), but one of a flags=locked mapping
 * that has no pages yet is locked whole, as its first mmap was. */
static void *map_fresh(struct mapping *m, size_t len)
{
	int anon = m->fd < 0 ? MAP_ANONYMOUS : 0;
	int flags = m->flags & ~(MAP_POPULATE | MAP_LOCKED);
	void *p = map_gapped(len, m->prot, flags | anon, m->fd, m->anonymous ? 0 : m->offset);
	int rc = p != MAP_FAILED && !m->data && (m->flags & MAP_LOCKED) ? lock_new_mapping(p, len) : 0;
	if (rc < 0) {
		unmap_gapped(p, len, m->flags);
		errno = -rc;
		return MAP_FAILED;
	}
	return p;
}

#define PM_PRESENT (1ull << 63)
#define PM_SWAPPED (1ull << 62)
#define PM_FILE (1ull << 61)	/* a page of the file, or shared anonymous memory */
#define PM_GUARD (1ull << 58)	/* a guard page (Linux 6.15+) */

/* Whether page i of a private mapping holds bytes only memory has: a
 * copy-on-write copy (or, for anonymous memory, any page it touched). */
static bool private_copy(uint64_t e)
{
	return (e & PM_SWAPPED) || ((e & PM_PRESENT) && !(e & PM_FILE));
}

/* Give a fresh mapping `to` what the old one holds beyond its file: the
 * private copies of a private mapping (all its pages where the page map
 * cannot be read) and the guard pages. Reads the old pages, writes none. */
static int carry_pages(struct mapping *m, char *to, size_t n, struct msg *msg)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), pages = (n + page - 1) / page;
	int pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	bool shared = is_shared(m->flags);
	int rc = 0;
	for (size_t i = 0; i < pages && rc == 0; i++) {
		uint64_t e = PM_PRESENT; /* unknown: copy it */
		off_t at = (off_t)(((uintptr_t)m->data / page + i) * sizeof e);
		if (pm >= 0 && pread(pm, &e, sizeof e, at) != (ssize_t)sizeof e)
			e = PM_PRESENT;
		else if (pm < 0 && shared)
			break;
		size_t k = i + 1 < pages ? page : n - i * page;
		if (e & PM_GUARD) {
			if (madvise(to + i * page, page, MADV_GUARD_INSTALL) < 0)
				rc = msg_fail_errno(msg, errno);
			continue;
		}
		if (!shared && private_copy(e) && guard_read(to + i * page, m->data + i * page, k) < 0)
			rc = msg_fail(msg, EIO, GONE_MSG);
	}
	if (pm >= 0)
		close(pm);
	return rc;
}

/* Give a fresh mapping `to` of new_len (map_fresh: nothing locked) the
 * locks the old one has, as mremap would have kept them: the same ranges
 * locked (a flags=locked mapping that was partly unlocked stays so), and
 * the new pages too where the old end was locked. What it locks is
 * charged already (take_growth). */
static int carry_locks(struct mapping *m, char *to, size_t new_len, struct msg *msg)
{
	size_t old_span = span_of(m->len), new_span = span_of(new_len);
	if (m->locked_charge == 0 && !(m->flags & MAP_LOCKED))
		return 0; /* nothing of it is locked */
	struct addr_range *spans;
	size_t n;
	int rc = memlock_spans_in((struct addr_range){ (uintptr_t)m->data,
						       (uintptr_t)m->data + old_span }, &spans, &n);
	if (rc < 0)
		return msg_fail(msg, -rc, "cannot read which pages are locked (/proc/self/smaps): %s",
				strerror(-rc));
	for (size_t i = 0; i < n && rc == 0; i++) {
		size_t from = spans[i].lo - (uintptr_t)m->data, end = spans[i].hi - (uintptr_t)m->data;
		if (end == old_span)
			end = new_span;
		int e = mlock_in_chunks(to + from, end - from);
		if (e < 0)
			rc = msg_fail_errno(msg, -e);
	}
	free(spans);
	return rc;
}

/* The mapping at a larger length, in *out; the old one is untouched unless
 * mremap moved it there in one step (*fresh false). Where mremap refuses
 * (EFAULT: advice split the range into several VMAs), a fresh mapping of
 * the new length: for a shared mapping that is just the file again; a
 * private one also gets its private copies (*fresh true: the caller unmaps
 * the old one once nothing else can fail). */
static int map_larger(struct mapping *m, size_t new_len, void **out, bool *fresh,
		      struct msg *msg)
{
	*fresh = !m->data;
	void *p = m->data ? remap_gapped(m->data, m->len, new_len, m->flags) : map_fresh(m, new_len);
	if (p == MAP_FAILED && m->data && errno == EFAULT) {
		*fresh = true;
		p = map_fresh(m, new_len);
		int rc = p == MAP_FAILED ? 0 : carry_pages(m, p, m->len, msg);
		if (rc == 0 && p != MAP_FAILED)
			rc = carry_locks(m, p, new_len, msg);
		if (rc < 0) {
			unmap_gapped(p, new_len, m->flags);
			return rc;
		}
	}
	if (p == MAP_FAILED)
		return msg_fail_errno(msg, errno);
	*out = p;
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
 * promises there instead: zeros for anonymous memory, else the file's bytes.
 * Done before the resize (the page is the same before and after), where it
 * changes only bytes past the end, so a failure refuses the resize. */
static int refresh_grown_tail(struct mapping *m, size_t old_len, size_t new_len,
			      struct msg *msg)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t page_end = (old_len + page - 1) / page * page;
	struct tail_fill t = { m, old_len, new_len < page_end ? new_len : page_end };
	if (is_shared(m->flags) || old_len % page == 0 || t.to <= t.from || !m->data)
		return 0;
	return guard_call(m->data + t.from, t.to - t.from, do_fill_tail, &t) < 0
		       ? msg_fail(msg, EIO, GONE_MSG) : 0;
}

/* Growing: the file first (it only gains bytes), then the mapping, then,
 * if the file was longer than the new end, the file is cut there (undone
 * by dropping the new mapping, which held no bytes of its own). */
static int grow_locked(struct mapping *m, int64_t base, size_t new_len, int64_t file_size,
		       struct msg *msg)
{
	int64_t end = base + (int64_t)new_len;
	int rc = refresh_grown_tail(m, m->len, new_len, msg);
	bool grew_file = rc == 0 && m->fd >= 0 && file_size < end;
	if (grew_file && (rc = set_file_size(m, end, msg)) == 0 && !m->anonymous)
		rc = reserve_blocks(m, base + (int64_t)m->len, end, msg);
	void *p = NULL;
	bool fresh = false;
	if (rc == 0)
		rc = map_larger(m, new_len, &p, &fresh, msg);
	if (rc == 0 && m->fd >= 0 && file_size > end && (rc = set_file_size(m, end, msg)) < 0) {
		if (fresh)
			unmap_gapped(p, new_len, m->flags);
		else if ((p = shrink_gapped(p, new_len, m->len, m->flags)) != MAP_FAILED)
			m->data = p; /* remap_gapped moved it */
	}
	if (rc < 0) {
		if (grew_file)
			(void)ftruncate(m->fd, file_size); /* drops only what it added */
		return rc;
	}
	if (fresh && m->data)
		unmap_gapped(m->data, m->len, m->flags);
	m->data = p;
	m->len = new_len;
	return 0;
}

/* Shrinking: the mapping first (for a shared one its bytes stay in the
 * file), then the file; if cutting the file fails, the mapping grows back
 * over the file's bytes, which are all still there. */
static int shrink_locked(struct mapping *m, int64_t base, size_t new_len, struct msg *msg)
{
	size_t old_len = m->len;
	void *p = NULL;
	if (new_len == 0) {
		unmap_gapped(m->data, old_len, m->flags);
	} else if ((p = shrink_gapped(m->data, old_len, new_len, m->flags)) == MAP_FAILED) {
		return msg_fail_errno(msg, errno);
	}
	m->data = p;
	m->len = new_len;
	int rc = m->fd >= 0 ? set_file_size(m, base + (int64_t)new_len, msg) : 0;
	if (rc < 0) {
		bool fresh;
		struct msg ignored;
		if (map_larger(m, old_len, &p, &fresh, &ignored) == 0) {
			if (fresh && m->data)
				unmap_gapped(m->data, m->len, m->flags);
			m->data = p;
			m->len = old_len;
		}
	}
	return rc;
}

/* Bytes of [off, off + len) of the mapping that lie in locked VMAs now;
 * -errno when the server's smaps cannot be read. */
static int64_t locked_now(const struct mapping *m, size_t off, size_t len)
{
	if (!m->data || len == 0)
		return 0;
	struct addr_range r = { (uintptr_t)m->data + off, (uintptr_t)m->data + off + len };
	return memlock_bytes_in(&r, 1);
}

/* Whether growing the mapping locks the new pages: its last VMA is locked
 * (mremap extends that one, VM_LOCKED and all, and a fresh map carries the
 * locks the same way), or it has no pages and is flags=locked. In doubt
 * (smaps unreadable), yes. */
static bool growth_locks(const struct mapping *m)
{
	if (!m->data)
		return m->flags & MAP_LOCKED;
	if (m->locked_charge == 0)
		return false; /* nothing of it is locked */
	size_t page = page_size(), end = span_of(m->len);
	return locked_now(m, end - page, page) != 0;
}

/* A growing mapping takes the new bytes from its budget and, if the kernel
 * will lock them as mremap adds them, the new pages from its owner's
 * memlock right: all or nothing. */
static int take_growth(struct mapping *m, uint64_t old_len, uint64_t new_len,
		       uint64_t *lock_more, struct msg *msg)
{
	int rc = mapping_budget_take(m->budget, new_len - old_len, msg);
	uint64_t want = pages_of(new_len) - pages_of(old_len);
	if (rc < 0 || want == 0 || !growth_locks(m))
		return rc;
	if (!m->locked_held || !m->locked_rights.known)
		rc = msg_fail(msg, EPERM, "cannot grow the mapping: its end is locked, and its "
			      "owner's right to lock memory is not known (another user locked "
			      "it: unlock it first)");
	else
		rc = memlock_take(&m->locked_rights, m->locked_held, want, msg);
	if (rc < 0)
		mapping_budget_give(m->budget, new_len - old_len);
	else
		*lock_more = want;
	return rc;
}

/* After a change that may have locked or unlocked pages, `taken` bytes
 * having been charged ahead for it: the charge becomes what is locked now,
 * read from the VMAs (so a fresh map that dropped the `lock` command's
 * locks, or an mlock that locked only part, is counted as it is). If they
 * cannot be read, the charge keeps what was taken, within the mapping. */
static void settle_charge(struct mapping *m, uint64_t taken)
{
	m->locked_charge += taken;
	if (!m->locked_held || m->locked_charge == 0)
		return;
	int64_t now = locked_now(m, 0, span_of(m->len));
	uint64_t have = now >= 0 ? (uint64_t)now : m->locked_charge;
	if (have > pages_of(m->len))
		have = pages_of(m->len);
	if (have < m->locked_charge)
		memlock_give(m->locked_held, m->locked_charge - have);
	else
		atomic_fetch_add(m->locked_held, have - m->locked_charge);
	m->locked_charge = have;
}

static int resize_locked(struct mapping *m, int64_t new_len, struct msg *msg)
{
	int rc = check_open(m, msg);
	if (rc < 0)
		return rc;
	if (!m->trackfd)
		return msg_fail(msg, EINVAL, "mmap can't resize with trackfd=False.");
	if (!mapping_can_resize(m))
		return msg_fail(msg, EPERM, "mmap can't resize a readonly or copy-on-write memory map.");
	if (new_len < 0 || INT64_MAX - new_len < m->offset)
		return msg_fail(msg, EINVAL, "new size out of range");

	size_t old_len = m->len;
	int64_t base = m->anonymous ? 0 : m->offset;
	struct stat st;
	m->changes++;
	/* What can be known to fail, before anything changes: the file's size,
	 * and whether it can be resized at all (setting the size it has). */
	if (m->fd >= 0 && (fstat(m->fd, &st) < 0 || ftruncate(m->fd, st.st_size) < 0))
		return msg_fail_errno(msg, errno);
	uint64_t lock_more = 0;
	if ((uint64_t)new_len > old_len &&
	    (rc = take_growth(m, (uint64_t)old_len, (uint64_t)new_len, &lock_more, msg)) < 0)
		return rc;
	if ((uint64_t)new_len > old_len) {
		rc = grow_locked(m, base, (size_t)new_len, m->fd >= 0 ? st.st_size : 0, msg);
		if (rc < 0)
			give_resources(m->locked_held, m->budget, (uint64_t)new_len - old_len,
				       lock_more);
	} else if ((uint64_t)new_len < old_len) {
		rc = shrink_locked(m, base, (size_t)new_len, msg);
		if (m->len < old_len)
			mapping_budget_give(m->budget, old_len - m->len);
	} else if (m->fd >= 0) {
		/* As in CPython, the file's size becomes offset + new length. */
		rc = set_file_size(m, base + new_len, msg);
	}
	/* The charge follows what is locked now, whatever happened. */
	settle_charge(m, rc == 0 ? lock_more : 0);
	name_anonymous(m);
	return rc;
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
			rc = msg_fail(msg, EINVAL, "unknown seek type");
		else if ((dist > 0 && INT64_MAX - from < dist) ||
			 (where = from + dist) < 0 || where > (int64_t)m->len)
			rc = msg_fail(msg, EINVAL, "seek out of range");
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

/* Whether [p, p+n) of m may hold a page that faults: past the end of the
 * backing file (truncated under us), a guard page, or a file that cannot
 * be asked (trackfd=no). Private anonymous memory never vanishes. One fstat
 * is far cheaper than probing every page of a large read (a TLB miss per
 * page, a fifth of the cost of reading it), so only such ranges are probed. */
static bool may_fault(const struct mapping *m, const char *p, size_t n)
{
	if (m->guarded)
		return true;
	if (m->fd < 0)
		return !m->anonymous;
	struct stat st;
	if (fstat(m->fd, &st) < 0)
		return true;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	int64_t base = m->anonymous ? 0 : m->offset;
	uint64_t have = st.st_size > base ? ((uint64_t)(st.st_size - base) + page - 1) / page * page : 0;
	uint64_t end = (uint64_t)(p - m->data) + n;
	return end > have;
}

/* The bytes at p that can be handed out now: n, or the ones before the
 * first page that is gone (a read is short there, as the SPEC's Faults
 * says); -EIO when the very first page is gone. Memory is only checked
 * here, not locked: a page that vanishes after the check still fails the
 * copy that follows (EIO). */
static ssize_t readable_prefix(const struct mapping *m, const char *p, size_t n)
{
	if (n == 0 || !may_fault(m, p, n))
		return (ssize_t)n;
	size_t ok = guard_probe(p, n);
	return !ok ? -EIO : (ssize_t)ok;
}

int mapping_read_at(struct mapping *m, uint64_t off, size_t n, mapping_sink sink, void *ctx)
{
	pthread_rwlock_rdlock(&m->lock);
	int rc = check_readable(m, NULL);
	ssize_t ok = 0;
	if (rc == 0) {
		n = clamp_count(m->len, off, n);
		ok = readable_prefix(m, n ? m->data + off : NULL, n);
		rc = ok < 0 ? (int)ok : sink(ctx, ok ? m->data + off : NULL, (size_t)ok);
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
	int rc = guard_read(t->buf, bytes, n);
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

static ssize_t write_locked(struct mapping *m, uint64_t off, const void *buf, size_t n,
			    bool grow, struct msg *msg);

ssize_t mapping_write_at(struct mapping *m, uint64_t off, const void *buf, size_t n,
			 bool grow, struct msg *msg)
{
	pthread_rwlock_wrlock(&m->lock);
	ssize_t rc = write_locked(m, off, buf, n, grow, msg);
	pthread_rwlock_unlock(&m->lock);
	return rc;
}

ssize_t mapping_append(struct mapping *m, const void *buf, size_t n, struct msg *msg)
{
	pthread_rwlock_wrlock(&m->lock);
	ssize_t rc = write_locked(m, m->len, buf, n, true, msg);
	pthread_rwlock_unlock(&m->lock);
	return rc;
}

/* Copy into mapped memory up to the first page that is gone: the count
 * written (short there), or -EIO when the first page is gone. */
static ssize_t write_prefix(struct mapping *m, char *dst, const void *buf, size_t n,
			    struct msg *msg)
{
	m->changes++;
	ssize_t ok = readable_prefix(m, dst, n);
	if (ok > 0 && guard_write(dst, buf, (size_t)ok) < 0)
		ok = -EIO;
	return ok < 0 ? msg_fail(msg, EIO, GONE_MSG) : ok;
}

static ssize_t write_locked(struct mapping *m, uint64_t off, const void *buf, size_t n,
			    bool grow, struct msg *msg)
{
	int rc = check_writable(m, msg);
	if (rc < 0 || n == 0)
		return rc;
	if (off > m->len || m->len - off < n) {
		if (!grow || !mapping_can_resize(m) || off > (uint64_t)INT64_MAX - n)
			return msg_fail(msg, EFBIG, "write past the end of a mapping that cannot grow");
		/* A vanished page in the part that exists makes the write short
		 * there, without growing the mapping: check before resizing. */
		size_t have = off < m->len ? m->len - off : 0;
		ssize_t ok = readable_prefix(m, have ? m->data + off : NULL, have);
		if (ok < 0 || (size_t)ok < have)
			return write_prefix(m, m->data + off, buf, have, msg);
		if ((rc = resize_locked(m, (int64_t)(off + n), msg)) < 0)
			return rc;
	}
	return write_prefix(m, m->data + off, buf, n, msg);
}

int mapping_stream_read(struct mapping *m, size_t n, mapping_sink sink, void *ctx)
{
	pthread_rwlock_wrlock(&m->lock);
	int rc = check_readable(m, NULL);
	if (rc == 0) {
		n = clamp_count(m->len, m->pos, n);
		ssize_t ok = readable_prefix(m, n ? m->data + m->pos : NULL, n);
		rc = ok < 0 ? (int)ok : sink(ctx, ok ? m->data + m->pos : NULL, (size_t)ok);
		if (rc == 0)
			m->pos += (size_t)ok;
	}
	pthread_rwlock_unlock(&m->lock);
	return rc;
}

ssize_t mapping_stream_write(struct mapping *m, const void *buf, size_t n, struct msg *msg)
{
	pthread_rwlock_wrlock(&m->lock);
	ssize_t rc = check_writable(m, msg);
	if (rc == 0 && (m->pos > m->len || m->len - m->pos < n))
		rc = msg_fail(msg, EFBIG, "data out of range");
	if (rc == 0 && n > 0)
		rc = write_prefix(m, m->data + m->pos, buf, n, msg);
	if (rc > 0)
		m->pos += (size_t)rc;
	pthread_rwlock_unlock(&m->lock);
	return rc;
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

int mapping_readline(struct mapping *m, size_t max, mapping_sink sink, void *ctx)
{
	pthread_rwlock_wrlock(&m->lock);
	int rc = check_readable(m, NULL);
	if (rc == 0) {
		size_t remaining = m->pos < m->len ? m->len - m->pos : 0;
		const char *p = remaining ? m->data + m->pos : NULL;
		/* A line that runs into a vanished page ends short before it. */
		ssize_t ok = readable_prefix(m, p, remaining);
		struct chr_search s = { p, ok > 0 ? (size_t)ok : 0, NULL };
		if (ok < 0)
			rc = (int)ok;
		else if (ok > 0 && guard_call(s.p, s.n, do_memchr, &s) < 0)
			rc = -EIO;
		size_t line = s.found ? (size_t)(s.found - s.p) + 1 : s.n;
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
	/* CPython 3.13: flush(offset=0, size=len(mm)), so flush(OFFSET) with
	 * OFFSET > 0 is out of range; offset is checked before the subtraction,
	 * which therefore cannot overflow. */
	int64_t offset = offset_arg ? *offset_arg : 0;
	int64_t size = size_arg ? *size_arg : (int64_t)m->len;
	if (rc == 0 && (size < 0 || offset < 0 || (int64_t)m->len - offset < size))
		rc = msg_fail(msg, EINVAL, "flush values out of range");
	bool syncs = m->access != ACCESS_READ && m->access != ACCESS_COPY;
	if (rc == 0 && syncs && m->data && msync(m->data + offset, (size_t)size, MS_SYNC) < 0)
		rc = msg_fail_errno(msg, errno);
	pthread_rwlock_unlock(&m->lock);
	return rc;
}

/* Advice that only tells the kernel how the memory will be used: the bytes
 * and whether they can be touched stay as they are. Any other advice (the
 * ones that drop, zero or punch out pages, guard pages, numbers unknown
 * here) may change what a copy in flight reads, so it runs alone. */
static bool advice_keeps_bytes(int advice)
{
	switch (advice) {
	case MADV_NORMAL: case MADV_RANDOM: case MADV_SEQUENTIAL: case MADV_WILLNEED:
	case MADV_DONTFORK: case MADV_DOFORK: case MADV_MERGEABLE: case MADV_UNMERGEABLE:
	case MADV_HUGEPAGE: case MADV_NOHUGEPAGE: case MADV_DONTDUMP: case MADV_DODUMP:
	case MADV_WIPEONFORK: case MADV_KEEPONFORK:
#ifdef MADV_COLD
	case MADV_COLD: case MADV_PAGEOUT:
#endif
#ifdef MADV_POPULATE_READ
	case MADV_POPULATE_READ: case MADV_POPULATE_WRITE:
#endif
#ifdef MADV_COLLAPSE
	case MADV_COLLAPSE:
#endif
		return true;
	default:
		return false;
	}
}

int mapping_madvise(struct mapping *m, int advice, const int64_t *start_arg,
		    const int64_t *length_arg, struct msg *msg)
{
	if (advice_keeps_bytes(advice))
		pthread_rwlock_rdlock(&m->lock);
	else
		pthread_rwlock_wrlock(&m->lock);
	int rc = check_open(m, msg);
	int64_t len = (int64_t)m->len;
	int64_t start = start_arg ? *start_arg : 0;
	int64_t length = length_arg ? *length_arg : len;
	if (rc < 0)
		;
	else if (start < 0 || start >= len)
		rc = msg_fail(msg, EINVAL, "madvise start out of bounds");
	else if (length < 0)
		rc = msg_fail(msg, EINVAL, "madvise length invalid");
	else if (INT64_MAX - start < length)
		rc = msg_fail(msg, EINVAL, "madvise length too large");
	if (rc == 0) {
		if (start + length > len)
			length = len - start;
		int e = madvise_in_chunks(m->data + start, (size_t)length, advice);
		if (e < 0)
			rc = msg_fail_errno(msg, -e);
		else if (advice == MADV_GUARD_INSTALL)
			m->guarded = true; /* under the exclusive lock: not advice_keeps_bytes */
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
		rc = msg_fail(msg, EACCES, "mapping is not readable (its prot has no read)");
	if (rc == 0 && (dest < 0 || src < 0 || count < 0 || len - dest < count ||
			len - src < count))
		rc = msg_fail(msg, EINVAL, "source, destination, or count out of range");
	if (rc == 0)
		m->changes++;
	/* Both ranges whole first, so that a refused move changes nothing. */
	if (rc == 0 && count > 0 &&
	    (readable_prefix(m, m->data + src, (size_t)count) != count ||
	     readable_prefix(m, m->data + dest, (size_t)count) != count ||
	     guard_memmove(m->data + dest, m->data + src, (size_t)count) < 0))
		rc = msg_fail(msg, EIO, GONE_MSG);
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
		if (guard_call(s.hay, s.hay_len, do_search, &s) < 0)
			rc = msg_fail(msg, EIO, GONE_MSG);
		else
			*result = s.at < 0 ? -1 : start + s.at;
	}
	pthread_rwlock_unlock(&m->lock);
	return rc;
}

/* ---- introspection and residency -------------------------------------- */

/* The path field of /proc/self/maps's line for the VMA at addr ("\012" is
 * the kernel's escape of a newline there). */
static char *maps_path(uintptr_t addr)
{
	FILE *in = fopen("/proc/self/maps", "re");
	char *line = NULL, *found = NULL;
	size_t cap = 0;
	while (in && !found && getline(&line, &cap, in) > 0) {
		unsigned long start;
		int at = 0;
		if (sscanf(line, "%lx-%*x %*s %*s %*s %*s %n", &start, &at) < 1 || start != addr ||
		    at == 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		found = strdup(line + at);
		for (char *p; found && (p = strstr(found, "\\012"));)
			memmove(p + 1, p + 4, strlen(p + 4) + 1), *p = '\n';
	}
	free(line);
	if (in)
		fclose(in);
	return found;
}

int mapping_source(struct mapping *m, char **out, struct msg *msg)
{
	pthread_rwlock_rdlock(&m->lock);
	int rc = check_open(m, msg);
	char *s = NULL;
	if (rc < 0)
		;
	else if (m->anonymous)
		s = strdup("anonymous");
	else if (m->fd >= 0)
		s = fd_path(m->fd);
	else if (m->data)
		s = maps_path((uintptr_t)m->data);
	/* trackfd=no keeps no descriptor: the mapping's VMA names the file;
	 * should even that fail, the name it had at map time. */
	if (rc == 0 && !s)
		s = strdup(m->source);
	pthread_rwlock_unlock(&m->lock);
	if (rc == 0 && !s)
		rc = msg_fail_errno(msg, ENOMEM);
	*out = s;
	return rc;
}

static int range_of(struct mapping *m, const char *verb, const int64_t *start_arg,
		    const int64_t *length_arg, size_t *off, size_t *len, struct msg *msg)
{
	int64_t size = (int64_t)m->len;
	int64_t start = start_arg ? *start_arg : 0;
	int64_t length = length_arg ? *length_arg : size;
	int rc = check_open(m, msg);
	if (rc < 0)
		return rc;
	if (start < 0 || start >= size)
		return msg_fail(msg, EINVAL, "%s start out of bounds", verb);
	if (length < 0)
		return msg_fail(msg, EINVAL, "%s length invalid", verb);
	if (INT64_MAX - start < length)
		return msg_fail(msg, EINVAL, "%s length too large", verb);
	if (start + length > size)
		length = size - start;
	/* Whole pages, as mlock(2) rounds: the page of START to that of its end. */
	size_t page = page_size();
	size_t first = (size_t)start / page * page;
	*off = first;
	*len = length == 0 ? 0 : span_of((size_t)(start + length)) - first;
	return 0;
}

/* Lock [off, off + len): what is not locked yet is charged first. */
static int lock_range(struct mapping *m, size_t off, size_t len, const struct memlock_rights *who,
		      bool owner, struct msg *msg)
{
	if (!m->locked_held)
		return msg_fail(msg, ENOMEM, "cannot lock memory: the server cannot count it for "
				"this user");
	int64_t already = locked_now(m, off, len);
	if (already < 0)
		return msg_fail(msg, (int)-already, "cannot lock memory: the server's smaps cannot "
				"be read to count what is locked: %s", strerror((int)-already));
	uint64_t want = len - (uint64_t)already;
	int rc = memlock_take(who, m->locked_held, want, msg);
	if (rc < 0)
		return rc;
	atomic_store(&m->was_locked, true);
	if ((rc = mlock_in_chunks(m->data + off, len)) < 0) {
		rc = msg_fail_errno(msg, -rc);
		memlock_give(m->locked_held, want);
		want = 0;
	}
	settle_charge(m, want);
	if (rc == 0 && owner)
		m->locked_rights = *who;
	return rc;
}

int mapping_lock(struct mapping *m, const int64_t *start, const int64_t *length,
		 const struct memlock_rights *who, bool owner, struct msg *msg)
{
	size_t off, len;
	/* Shared: an mlock of gigabytes takes long, and reads need not wait. */
	pthread_rwlock_rdlock(&m->lock);
	int rc = range_of(m, "lock", start, length, &off, &len, msg);
	if (rc == 0 && len > 0) {
		pthread_mutex_lock(&m->charge_lock);
		rc = lock_range(m, off, len, who, owner, msg);
		pthread_mutex_unlock(&m->charge_lock);
	}
	pthread_rwlock_unlock(&m->lock);
	return rc;
}

int mapping_unlock(struct mapping *m, const int64_t *start, const int64_t *length,
		   struct msg *msg)
{
	size_t off, len;
	pthread_rwlock_rdlock(&m->lock);
	int rc = range_of(m, "unlock", start, length, &off, &len, msg);
	if (rc == 0 && len > 0) {
		pthread_mutex_lock(&m->charge_lock);
		atomic_store(&m->was_locked, true);
		if (syscall(SYS_munlock, m->data + off, len) < 0)
			rc = msg_fail_errno(msg, errno);
		settle_charge(m, 0);
		pthread_mutex_unlock(&m->charge_lock);
	}
	pthread_rwlock_unlock(&m->lock);
	return rc;
}

struct page_walk {
	const volatile char *p;
	size_t len, page;
};

static void do_touch(void *ctx)
{
	struct page_walk *w = ctx;
	for (size_t i = 0; i < w->len; i += w->page)
		(void)w->p[i];
}

int mapping_touch(struct mapping *m, const int64_t *start, const int64_t *length,
		  struct msg *msg)
{
	size_t off, len;
	pthread_rwlock_rdlock(&m->lock);
	int rc = check_readable(m, msg);
	if (rc == 0)
		rc = range_of(m, "touch", start, length, &off, &len, msg);
	if (rc == 0 && len > 0) {
		struct page_walk w = { m->data + off, len, page_size() };
		if (guard_call(m->data + off, len, do_touch, &w) < 0)
			rc = msg_fail(msg, EIO, "the mapping's memory is gone (was its file truncated, "
				  "or is it a guard page?)");
	}
	pthread_rwlock_unlock(&m->lock);
	return rc;
}

/* One pass of evict: page the range out of this mapping, then drop the
 * file's clean page cache there (the kernel keeps dirty and mapped pages). */
static int evict_pass(struct mapping *m, size_t off, size_t len, struct msg *msg)
{
	int e = madvise_in_chunks(m->data + off, len, MADV_PAGEOUT);
	if (e < 0)
		return e == -EINVAL ? msg_fail(msg, EINVAL, "evict: the kernel cannot page out locked "
					      "or hugetlb pages (unlock them first)")
				       : msg_fail_errno(msg, -e);
	if (m->fd >= 0 && !m->anonymous) {
		e = posix_fadvise(m->fd, m->offset + (off_t)off, (off_t)len, POSIX_FADV_DONTNEED);
		if (e != 0)
			return msg_fail_errno(msg, e);
	}
	return 0;
}

int mapping_evict(struct mapping *m, const int64_t *start, const int64_t *length,
		  struct msg *msg)
{
	size_t off, len;
	pthread_rwlock_rdlock(&m->lock);
	int rc = range_of(m, "evict", start, length, &off, &len, msg);
	/* Twice: MADV_PAGEOUT skips pages just faulted in that still wait in a
	 * CPU's batch for the LRU lists, and the first fadvise drains those
	 * batches, so the second pass finds them. */
	for (int pass = 0; rc == 0 && len > 0 && pass < 2; pass++)
		rc = evict_pass(m, off, len, msg);
	pthread_rwlock_unlock(&m->lock);
	return rc;
}
