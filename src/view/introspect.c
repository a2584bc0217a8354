/* introspect.c - page states and runs from PAGEMAP_SCAN or pagemap,
 * kpageflags, mincore and the VMA's flags; smaps records. */
#include "config.h"
#include "view/introspect.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

/* /proc/PID/pagemap entries (Documentation/admin-guide/mm/pagemap.rst). */
#define PM_PFN_MASK ((1ull << 55) - 1)	/* zero unless the reader has CAP_SYS_ADMIN */
#define PM_EXCLUSIVE (1ull << 56)
#define PM_GUARD (1ull << 58)		/* Linux 6.14+; older kernels show S */
#define PM_FILE_OR_SHARED (1ull << 61)
#define PM_SWAPPED (1ull << 62)
#define PM_PRESENT (1ull << 63)

/* /proc/kpageflags bits (include/uapi/linux/kernel-page-flags.h; root only). */
#define KPF_DIRTY (1ull << 4)
#define KPF_ANON (1ull << 12)
#define KPF_SWAPBACKED (1ull << 14)	/* anonymous, shmem, memfd: never written back */
#define KPF_HUGE (1ull << 17)
#define KPF_THP (1ull << 22)
#define KPF_ZERO_PAGE (1ull << 24)

/* The PAGEMAP_SCAN ioctl (Linux 6.7+, include/uapi/linux/fs.h); Debian 12's
 * headers predate it. */
struct page_region {
	uint64_t start, end, categories;
};
struct pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#define PAGE_IS_FILE (1ull << 2)
#define PAGE_IS_PRESENT (1ull << 3)
#define PAGE_IS_SWAPPED (1ull << 4)
#define PAGE_IS_PFNZERO (1ull << 5)
#define PAGE_IS_HUGE (1ull << 6)
#define PAGE_IS_GUARD (1ull << 8)	/* Linux 6.14+ */
/* WRITTEN and SOFT_DIRTY are left out: they tell holes apart that are the
 * same to a user (with or without a page table), splitting runs. */
#define SCAN_CATEGORIES (PAGE_IS_FILE | PAGE_IS_PRESENT | PAGE_IS_SWAPPED | PAGE_IS_PFNZERO | \
			 PAGE_IS_HUGE)

#define CHUNK_PAGES 4096
#define SCAN_REGIONS 512

/* ---- the flags and their character ------------------------------------- */

char page_char(unsigned f)
{
	if (f & PGF_GUARD)
		return 'G';
	if (f & PGF_SWAPPED)
		return 'S';
	if (!(f & PGF_PRESENT))
		return (f & PGF_INCORE) ? 'R' : '.';
	/* Mapped here: Z, C and D are kinds of mapped pages. */
	if (f & PGF_ZERO)
		return 'Z';
	if (f & PGF_COPY)
		return 'C';
	if (f & PGF_DIRTY)
		return 'D';
	return 'M';
}

static const char *const flag_names[PGF_NAMED] = {
	"present", "swapped", "file", "anon", "shared", "copy",
	"zero", "dirty", "huge", "locked", "guard",
};

size_t page_flags_format(unsigned flags, char *buf, size_t cap)
{
	size_t n = 0;
	if (cap == 0)
		return 0;
	buf[0] = '\0';
	for (int i = 0; i < PGF_NAMED; i++) {
		if (!(flags & (1u << i)))
			continue;
		int w = snprintf(buf + n, cap - n, "%s%s", n ? "," : "", flag_names[i]);
		n = w < 0 || (size_t)w >= cap - n ? cap - 1 : n + (size_t)w;
	}
	if (n == 0)
		n = (size_t)snprintf(buf, cap, "none") >= cap ? cap - 1 : 4;
	return n;
}

/* The flags that follow from the kernel's facts about one page. */
static unsigned derive(unsigned f, bool private_mapping)
{
	if (f & PGF_GUARD)
		return f & (PGF_GUARD | PGF_LOCKED); /* the kernel also calls it swapped */
	if (f & PGF_ZERO)
		f &= ~PGF_FILE;
	if (((f & PGF_PRESENT) && !(f & (PGF_FILE | PGF_ZERO))) ||
	    ((f & PGF_SWAPPED) && !(f & PGF_FILE)))
		f |= PGF_ANON;
	if ((f & PGF_PRESENT) && (f & PGF_ANON) && private_mapping)
		f |= PGF_COPY;
	if ((f & PGF_PRESENT) && (f & PGF_FILE))
		f |= PGF_SHARED;
	if (!(f & PGF_SHARED) || private_mapping)
		f &= ~PGF_DIRTY;
	return f;
}

/* ---- runs ------------------------------------------------------------- */

struct run {
	uint64_t first, last; /* page indices, inclusive */
	unsigned flags;
};

struct runs {
	struct run *v;
	size_t n, cap;
};

/* Append pages [first, last], merging with the previous run when equal. */
static int runs_add(struct runs *r, uint64_t first, uint64_t last, unsigned flags)
{
	if (r->n && r->v[r->n - 1].flags == flags && r->v[r->n - 1].last + 1 == first) {
		r->v[r->n - 1].last = last;
		return 0;
	}
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 64;
		struct run *v = realloc(r->v, cap * sizeof *v);
		if (!v)
			return -ENOMEM;
		r->v = v;
		r->cap = cap;
	}
	r->v[r->n++] = (struct run){ first, last, flags };
	return 0;
}

/* What one walk over a mapping needs. */
struct walk {
	char *base;
	uint64_t pages;
	size_t page;
	bool private_mapping;
	int pagemap;	/* /proc/self/pagemap */
	int kpf;	/* /proc/kpageflags, or -1 (not root) */
};

/* ---- PAGEMAP_SCAN, probed once ----------------------------------------- */

static pthread_once_t scan_once = PTHREAD_ONCE_INIT;
/* Set once, by probe_scan under scan_once, before any reader sees it:
 * 0 for no PAGEMAP_SCAN (or MMAPFS_NO_PAGEMAP_SCAN), else the categories
 * asked for. */
static uint64_t scan_mask;

static void probe_scan(void)
{
	const char *off = getenv("MMAPFS_NO_PAGEMAP_SCAN");
	if (off && *off && strcmp(off, "0") != 0)
		return;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	/* An empty range: the kernel checks the arguments (EINVAL for a
	 * category it does not know, ENOTTY without the ioctl) and walks
	 * nothing. */
	const uint64_t masks[] = { SCAN_CATEGORIES | PAGE_IS_GUARD, SCAN_CATEGORIES };
	for (size_t i = 0; i < 2 && !scan_mask; i++) {
		struct page_region r;
		struct pm_scan_arg a = { .size = sizeof a, .vec = (uintptr_t)&r, .vec_len = 1,
					 .return_mask = masks[i] };
		if (ioctl(fd, PAGEMAP_SCAN, &a) >= 0)
			scan_mask = masks[i];
	}
	close(fd);
}

bool introspect_uses_scan(void)
{
	pthread_once(&scan_once, probe_scan);
	return scan_mask != 0;
}

static unsigned scan_flags(uint64_t c)
{
	return (c & PAGE_IS_PRESENT ? PGF_PRESENT : 0) | (c & PAGE_IS_SWAPPED ? PGF_SWAPPED : 0) |
	       (c & PAGE_IS_FILE ? PGF_FILE : 0) | (c & PAGE_IS_PFNZERO ? PGF_ZERO : 0) |
	       (c & PAGE_IS_HUGE ? PGF_HUGE : 0) | (c & PAGE_IS_GUARD ? PGF_GUARD : 0);
}

/* The kernel's runs over the whole mapping: the cost follows their number. */
static int scan_runs(const struct walk *w, struct runs *out)
{
	struct page_region r[SCAN_REGIONS];
	uint64_t lo = (uintptr_t)w->base, end = lo + w->pages * w->page;
	for (uint64_t at = lo; at < end;) {
		struct pm_scan_arg a = { .size = sizeof a, .start = at, .end = end,
					 .vec = (uintptr_t)r, .vec_len = SCAN_REGIONS,
					 .return_mask = scan_mask };
		long n = ioctl(w->pagemap, PAGEMAP_SCAN, &a);
		if (n < 0)
			return -errno;
		for (long i = 0; i < n; i++) {
			int rc = runs_add(out, (r[i].start - lo) / w->page, (r[i].end - lo) / w->page - 1,
					  scan_flags(r[i].categories));
			if (rc < 0)
				return rc;
		}
		if (a.walk_end <= at)
			return -EIO; /* no progress: never loop forever on a kernel surprise */
		at = a.walk_end;
	}
	return 0;
}

/* ---- /proc/self/pagemap and /proc/kpageflags ------------------------------ */

static int read_entries(const struct walk *w, uint64_t first, size_t n, uint64_t *pm)
{
	off_t at = (off_t)(((uintptr_t)w->base / w->page + first) * sizeof *pm);
	ssize_t got = pread(w->pagemap, pm, n * sizeof *pm, at);
	if (got != (ssize_t)(n * sizeof *pm))
		return got < 0 ? -errno : -EIO;
	return 0;
}

/* The kpageflags of each entry's frame (0 where there is none or the file
 * is not readable); consecutive frames are read at once. */
static void read_kpageflags(const struct walk *w, const uint64_t *pm, size_t n, uint64_t *kf)
{
	memset(kf, 0, n * sizeof *kf);
	for (size_t i = 0; w->kpf >= 0 && i < n;) {
		uint64_t pfn = pm[i] & PM_PFN_MASK;
		size_t j = i + 1;
		if (!(pm[i] & PM_PRESENT) || pfn == 0) {
			i = j;
			continue;
		}
		while (j < n && (pm[j] & PM_PRESENT) && (pm[j] & PM_PFN_MASK) == pfn + (j - i))
			j++;
		ssize_t got = pread(w->kpf, kf + i, (j - i) * sizeof *kf, (off_t)(pfn * sizeof *kf));
		if (got < 0)
			memset(kf + i, 0, (j - i) * sizeof *kf);
		i = j;
	}
}

static unsigned kpf_flags(uint64_t kf)
{
	unsigned f = 0;
	/* Written back: a page-cache page of a real file (not shmem or anon). */
	if ((kf & KPF_DIRTY) && !(kf & (KPF_SWAPBACKED | KPF_ANON)))
		f |= PGF_DIRTY;
	if (kf & (KPF_THP | KPF_HUGE))
		f |= PGF_HUGE;
	if (kf & KPF_ZERO_PAGE)
		f |= PGF_ZERO;
	return f;
}

/* One page from its pagemap entry (the fallback, without PAGEMAP_SCAN). */
static unsigned entry_flags(uint64_t pm, uint64_t kf, bool have_kpf)
{
	unsigned f = 0;
	if (pm & PM_GUARD)
		return PGF_GUARD;
	if (pm & PM_PRESENT)
		f |= PGF_PRESENT | kpf_flags(kf);
	else if (pm & PM_SWAPPED)
		f |= PGF_SWAPPED;
	if (pm & PM_FILE_OR_SHARED)
		f |= PGF_FILE;
	/* Without kpageflags: a present page that is neither a file's nor
	 * mapped only here, in a server that never forks, is the zero page. */
	if (!have_kpf && (pm & PM_PRESENT) && !(pm & (PM_FILE_OR_SHARED | PM_EXCLUSIVE)))
		f |= PGF_ZERO;
	return f;
}

/* Pages per PMD-sized huge page (hpage_pmd_size; 2 MiB without THP). */
static size_t pmd_pages(size_t page)
{
	static _Atomic size_t pages; /* atomic: 0 until first read */
	size_t n = atomic_load(&pages);
	if (n)
		return n;
	unsigned long bytes = 2ul << 20;
	FILE *in = fopen("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", "re");
	if (in) {
		if (fscanf(in, "%lu", &bytes) != 1 || bytes < page)
			bytes = 2ul << 20;
		fclose(in);
	}
	atomic_store(&pages, bytes / page);
	return bytes / page;
}

/* kpageflags says THP for any large folio; PAGEMAP_SCAN says huge only for
 * a PMD-mapped one. Keep the fallback to that: a huge page's block of
 * virtual pages, aligned, all present with consecutive frames, the first
 * aligned too. block starts at pm[0], aligned. */
static bool pmd_mapped(const uint64_t *pm, const uint64_t *kf, size_t block)
{
	uint64_t pfn = pm[0] & PM_PFN_MASK;
	if (pfn == 0 || pfn % block != 0)
		return false;
	for (size_t k = 0; k < block; k++)
		if (!(pm[k] & PM_PRESENT) || (pm[k] & PM_PFN_MASK) != pfn + k ||
		    !(kf[k] & (KPF_THP | KPF_HUGE)))
			return false;
	return true;
}

static void mark_huge(const struct walk *w, uint64_t first, const uint64_t *pm,
		      const uint64_t *kf, size_t n, unsigned *flags)
{
	size_t block = pmd_pages(w->page);
	uint64_t vpn = (uintptr_t)w->base / w->page + first;
	for (size_t k = 0; k < n; k++)
		flags[k] &= ~PGF_HUGE;
	for (size_t k = (size_t)((block - vpn % block) % block); k + block <= n; k += block)
		if (pmd_mapped(pm + k, kf + k, block))
			for (size_t j = k; j < k + block; j++)
				flags[j] |= PGF_HUGE;
}

static int entry_runs(const struct walk *w, uint64_t first, uint64_t last, struct runs *out)
{
	uint64_t pm[CHUNK_PAGES], kf[CHUNK_PAGES];
	unsigned flags[CHUNK_PAGES];
	size_t block = pmd_pages(w->page);
	for (uint64_t i = first; i <= last;) {
		/* Chunks end on huge-page boundaries, so no block straddles two. */
		uint64_t vpn = (uintptr_t)w->base / w->page + i;
		size_t room = CHUNK_PAGES - (block <= CHUNK_PAGES ? (size_t)(vpn % block) : 0);
		size_t n = last - i + 1 < room ? (size_t)(last - i + 1) : room;
		int rc = read_entries(w, i, n, pm);
		if (rc < 0)
			return rc;
		read_kpageflags(w, pm, n, kf);
		for (size_t k = 0; k < n; k++)
			flags[k] = entry_flags(pm[k], kf[k], w->kpf >= 0);
		mark_huge(w, i, pm, kf, n, flags);
		for (size_t k = 0; k < n; k++)
			if ((rc = runs_add(out, i + k, i + k, flags[k])) < 0)
				return rc;
		i += n;
	}
	return 0;
}

/* With PAGEMAP_SCAN: only mapped file pages of a shared mapping need each
 * page's frame (whether it is dirty), and only when kpageflags is readable. */
static bool needs_frames(const struct walk *w, unsigned f)
{
	return w->kpf >= 0 && !w->private_mapping && (f & PGF_PRESENT) && (f & PGF_FILE) &&
	       !(f & PGF_GUARD);
}

static int dirty_split(const struct walk *w, const struct runs *in, struct runs *out)
{
	uint64_t pm[CHUNK_PAGES], kf[CHUNK_PAGES];
	for (size_t r = 0; r < in->n; r++) {
		const struct run *x = &in->v[r];
		int rc = 0;
		if (!needs_frames(w, x->flags)) {
			if ((rc = runs_add(out, x->first, x->last, x->flags)) < 0)
				return rc;
			continue;
		}
		for (uint64_t i = x->first; i <= x->last; i += CHUNK_PAGES) {
			size_t n = x->last - i + 1 < CHUNK_PAGES ? (size_t)(x->last - i + 1) : CHUNK_PAGES;
			if ((rc = read_entries(w, i, n, pm)) < 0)
				return rc;
			read_kpageflags(w, pm, n, kf);
			for (size_t k = 0; k < n && rc == 0; k++)
				rc = runs_add(out, i + k, i + k, x->flags | (kpf_flags(kf[k]) & PGF_DIRTY));
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

/* ---- locked ranges, from the VMAs' flags ------------------------------- */

/* Whether an smaps header line's range overlaps [lo, hi); its range. */
static bool header_range(const char *line, uintptr_t lo, uintptr_t hi, uintptr_t *start,
			 uintptr_t *end)
{
	unsigned long s, e;
	char dash;
	if (sscanf(line, "%lx%c%lx ", &s, &dash, &e) != 3 || dash != '-')
		return false;
	*start = s;
	*end = e;
	return s < hi && e > lo;
}

static bool is_header(const char *line)
{
	/* Headers begin with a hex address; field lines with a capitalised key. */
	return (line[0] >= '0' && line[0] <= '9') || (line[0] >= 'a' && line[0] <= 'f');
}

static bool vmflags_locked(const char *line)
{
	return strncmp(line, "VmFlags:", 8) == 0 && strstr(line + 8, " lo");
}

/* The mapping's page ranges in locked VMAs (VmFlags "lo"), as runs. */
static int locked_ranges(const struct walk *w, struct runs *out)
{
	FILE *in = fopen("/proc/self/smaps", "re");
	if (!in)
		return -errno;
	uintptr_t lo = (uintptr_t)w->base, hi = lo + w->pages * w->page, s = 0, e = 0;
	bool inside = false;
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;
	while (rc == 0 && getline(&line, &cap, in) > 0) {
		if (is_header(line))
			inside = header_range(line, lo, hi, &s, &e);
		else if (inside && vmflags_locked(line))
			rc = runs_add(out, ((s < lo ? lo : s) - lo) / w->page,
				      ((e > hi ? hi : e) - lo) / w->page - 1, PGF_LOCKED);
	}
	free(line);
	fclose(in);
	return rc;
}

/* Add PGF_LOCKED where the runs meet a locked range (both sorted). */
static int apply_locked(const struct runs *in, const struct runs *locked, struct runs *out)
{
	size_t k = 0;
	for (size_t r = 0; r < in->n; r++) {
		uint64_t at = in->v[r].first, last = in->v[r].last;
		unsigned f = in->v[r].flags;
		while (at <= last) {
			while (k < locked->n && locked->v[k].last < at)
				k++;
			uint64_t end = last;
			bool in_lock = k < locked->n && locked->v[k].first <= at;
			if (in_lock && locked->v[k].last < end)
				end = locked->v[k].last;
			else if (!in_lock && k < locked->n && locked->v[k].first <= last)
				end = locked->v[k].first - 1;
			int rc = runs_add(out, at, end, f | (in_lock ? PGF_LOCKED : 0));
			if (rc < 0)
				return rc;
			at = end + 1;
		}
	}
	return 0;
}

/* ---- the walk ---------------------------------------------------------- */

static int open_walk(struct mapping *m, struct walk *w)
{
	w->page = (size_t)sysconf(_SC_PAGESIZE);
	w->base = m->data;
	w->pages = (m->len + w->page - 1) / w->page;
	w->private_mapping = (m->flags & MAP_TYPE) == MAP_PRIVATE;
	w->pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (w->pagemap < 0)
		return -errno;
	w->kpf = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	return 0;
}

static void close_walk(struct walk *w)
{
	close(w->pagemap);
	if (w->kpf >= 0)
		close(w->kpf);
}

/* Whether the mapping may have locked pages: reading smaps for every
 * `pages` read would cost as much as the whole server's VMAs. */
static bool maybe_locked(struct mapping *m)
{
	return (m->flags & MAP_LOCKED) || atomic_load(&m->was_locked);
}

/* The mapping's runs with every flag (the caller holds m->lock). */
static int collect_runs(struct mapping *m, const struct walk *w, struct runs *out)
{
	struct runs base = { 0 }, split = { 0 }, locked = { 0 }, all = { 0 };
	int rc = 0;
	if (w->pages == 0)
		return 0;
	if (introspect_uses_scan()) {
		if ((rc = scan_runs(w, &base)) == 0)
			rc = dirty_split(w, &base, &split);
	} else {
		rc = entry_runs(w, 0, w->pages - 1, &split);
	}
	if (rc == 0 && maybe_locked(m))
		rc = locked_ranges(w, &locked);
	if (rc == 0)
		rc = apply_locked(&split, &locked, &all);
	/* Different facts may come to the same flags: merge again. */
	for (size_t i = 0; rc == 0 && i < all.n; i++)
		rc = runs_add(out, all.v[i].first, all.v[i].last,
			      derive(all.v[i].flags, w->private_mapping));
	free(all.v);
	free(base.v);
	free(split.v);
	free(locked.v);
	return rc;
}

/* Runs of the mapping under its lock, and the walk's facts. */
static int mapping_runs(struct mapping *m, struct walk *w, struct runs *out, struct msg *msg)
{
	int rc = open_walk(m, w);
	if (rc < 0)
		return msg_fail_errno(msg, -rc);
	if (m->closed)
		rc = msg_fail(msg, ENXIO, "mmap closed or invalid");
	else if ((rc = collect_runs(m, w, out)) < 0)
		rc = msg_fail_errno(msg, -rc);
	return rc;
}

/* ---- pages, pagemap ---------------------------------------------------- */

/* The characters of pages [first, first + n) of run x, with mincore. */
static int run_chars(const struct walk *w, const struct run *x, char *out)
{
	unsigned char vec[CHUNK_PAGES];
	for (uint64_t i = x->first; i <= x->last; i += CHUNK_PAGES) {
		size_t n = x->last - i + 1 < CHUNK_PAGES ? (size_t)(x->last - i + 1) : CHUNK_PAGES;
		bool ask = !(x->flags & (PGF_PRESENT | PGF_SWAPPED | PGF_GUARD));
		if (ask && mincore(w->base + i * w->page, n * w->page, vec) < 0)
			return -errno;
		for (size_t k = 0; k < n; k++)
			out[i + k] = page_char(x->flags | (ask && (vec[k] & 1) ? PGF_INCORE : 0));
	}
	return 0;
}

int introspect_pages(struct mapping *m, char **text, size_t *len, struct msg *msg)
{
	struct walk w;
	struct runs r = { 0 };
	pthread_rwlock_rdlock(&m->lock);
	int rc = mapping_runs(m, &w, &r, msg);
	char *out = rc == 0 ? malloc(w.pages + 1) : NULL;
	if (rc == 0 && !out)
		rc = msg_fail_errno(msg, ENOMEM);
	for (size_t i = 0; rc == 0 && i < r.n; i++)
		if ((rc = run_chars(&w, &r.v[i], out)) < 0)
			rc = msg_fail_errno(msg, -rc);
	pthread_rwlock_unlock(&m->lock);
	if (w.pagemap >= 0)
		close_walk(&w);
	free(r.v);
	if (rc < 0) {
		free(out);
		return rc;
	}
	out[w.pages] = '\n';
	*text = out;
	*len = w.pages + 1;
	return 0;
}

int mapping_pagemap(struct mapping *m, char **text, size_t *len, struct msg *msg)
{
	struct walk w;
	struct runs r = { 0 };
	pthread_rwlock_rdlock(&m->lock);
	int rc = mapping_runs(m, &w, &r, msg);
	pthread_rwlock_unlock(&m->lock);
	if (w.pagemap >= 0)
		close_walk(&w);
	char *buf = NULL;
	size_t size = 0;
	FILE *out = rc == 0 ? open_memstream(&buf, &size) : NULL;
	if (rc == 0 && !out)
		rc = msg_fail_errno(msg, ENOMEM);
	for (size_t i = 0; out && i < r.n; i++) {
		char words[160];
		page_flags_format(r.v[i].flags, words, sizeof words);
		fprintf(out, "%llu %llu %s\n", (unsigned long long)r.v[i].first,
			(unsigned long long)r.v[i].last, words);
	}
	free(r.v);
	if (out && fclose(out) != 0)
		rc = msg_fail_errno(msg, ENOMEM);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	*text = buf;
	*len = size;
	return 0;
}

/* ---- smaps ------------------------------------------------------------- */

int introspect_smaps(struct mapping *m, char **text, size_t *len, struct msg *msg)
{
	FILE *in = fopen("/proc/self/smaps", "re");
	if (!in)
		return msg_fail_errno(msg, errno);
	char *buf = NULL, *line = NULL;
	size_t size = 0, cap = 0;
	FILE *out = open_memstream(&buf, &size);
	pthread_rwlock_rdlock(&m->lock);
	int rc = m->closed ? msg_fail(msg, ENXIO, "mmap closed or invalid")
			   : out ? 0 : msg_fail_errno(msg, ENOMEM);
	uintptr_t lo = (uintptr_t)m->data, hi = lo + m->len, s, e;
	bool copying = false;
	while (rc == 0 && m->len > 0 && getline(&line, &cap, in) > 0) {
		if (is_header(line))
			copying = header_range(line, lo, hi, &s, &e);
		if (copying)
			fputs(line, out);
	}
	pthread_rwlock_unlock(&m->lock);
	free(line);
	fclose(in);
	if (out)
		fclose(out);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	*text = buf;
	*len = size;
	return 0;
}

/* ---- resident ---------------------------------------------------------- */

uint64_t introspect_resident(struct mapping *m)
{
	struct walk w;
	struct runs r = { 0 };
	unsigned char vec[CHUNK_PAGES];
	uint64_t pages = 0;
	pthread_rwlock_rdlock(&m->lock);
	int rc = mapping_runs(m, &w, &r, NULL);
	for (size_t i = 0; rc == 0 && i < r.n; i++) {
		const struct run *x = &r.v[i];
		if (x->flags & (PGF_ZERO | PGF_GUARD | PGF_SWAPPED))
			continue;
		if (x->flags & PGF_PRESENT) {
			pages += x->last - x->first + 1;
			continue;
		}
		for (uint64_t p = x->first; p <= x->last; p += CHUNK_PAGES) {
			size_t n = x->last - p + 1 < CHUNK_PAGES ? (size_t)(x->last - p + 1) : CHUNK_PAGES;
			if (mincore(w.base + p * w.page, n * w.page, vec) < 0)
				break;
			for (size_t k = 0; k < n; k++)
				pages += vec[k] & 1;
		}
	}
	pthread_rwlock_unlock(&m->lock);
	if (w.pagemap >= 0)
		close_walk(&w);
	free(r.v);
	return pages * w.page;
}
