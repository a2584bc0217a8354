/* unit_resize_faults.c - a resize that fails at any step changes nothing.
 *
 * Linked with -Wl,--wrap for every call a resize makes that can fail
 * (fstat, ftruncate, posix_fallocate, mremap, mmap, munmap, madvise,
 * pread): each test makes the k-th call of one of them fail, for every k
 * the resize reaches, and checks that the resize either succeeds with the
 * right bytes or is refused with the mapping (length and bytes) and its
 * file (size and bytes) exactly as they were. mremap failing with EFAULT
 * (what Linux says of a range split by madvise) must not refuse the
 * resize at all: the new length is mapped afresh. */
#include "lib/unit_util.h"

#include <stdarg.h>

#include "core/guard.h"
#include "core/mapping.h"

/* ---- injection ------------------------------------------------------ */

enum call { C_NONE, C_FSTAT, C_FTRUNCATE, C_FALLOCATE, C_MREMAP, C_MMAP, C_MUNMAP, C_COUNT };
static const char *const call_names[] = { "none", "fstat", "ftruncate", "posix_fallocate",
					  "mremap", "mmap", "munmap" };

static enum call failing = C_NONE;
static int fail_at;	/* fail the call when this reaches 0 */
static int fail_errno_v;
static int reached[C_COUNT];

static bool inject(enum call c)
{
	reached[c]++;
	if (c != failing || fail_at < 0)
		return false;
	return fail_at-- == 0;
}

int __wrap_fstat(int fd, struct stat *st);
int __wrap_ftruncate(int fd, off_t len);
int __wrap_posix_fallocate(int fd, off_t off, off_t len);
void *__wrap_mremap(void *old, size_t old_len, size_t new_len, int flags, ...);
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int __wrap_munmap(void *addr, size_t len);
int __real_fstat(int fd, struct stat *st);
int __real_ftruncate(int fd, off_t len);
int __real_posix_fallocate(int fd, off_t off, off_t len);
void *__real_mremap(void *old, size_t old_len, size_t new_len, int flags, ...);
void *__real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int __real_munmap(void *addr, size_t len);

int __wrap_fstat(int fd, struct stat *st)
{
	if (inject(C_FSTAT)) {
		errno = fail_errno_v;
		return -1;
	}
	return __real_fstat(fd, st);
}

int __wrap_ftruncate(int fd, off_t len)
{
	if (inject(C_FTRUNCATE)) {
		errno = fail_errno_v;
		return -1;
	}
	return __real_ftruncate(fd, len);
}

int __wrap_posix_fallocate(int fd, off_t off, off_t len)
{
	if (inject(C_FALLOCATE))
		return fail_errno_v;
	return __real_posix_fallocate(fd, off, len);
}

void *__wrap_mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
	if (inject(C_MREMAP)) {
		errno = fail_errno_v;
		return MAP_FAILED;
	}
	void *to = NULL;
	if (flags & MREMAP_FIXED) { /* the fifth argument: where to */
		va_list ap;
		va_start(ap, flags);
		to = va_arg(ap, void *);
		va_end(ap);
	}
	return __real_mremap(old, old_len, new_len, flags, to);
}

void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (inject(C_MMAP)) {
		errno = fail_errno_v;
		return MAP_FAILED;
	}
	return __real_mmap(addr, len, prot, flags, fd, off);
}

int __wrap_munmap(void *addr, size_t len)
{
	if (inject(C_MUNMAP)) {
		errno = fail_errno_v;
		return -1;
	}
	return __real_munmap(addr, len);
}

static void arm(enum call c, int k, int e)
{
	failing = c;
	fail_at = k;
	fail_errno_v = e;
	memset(reached, 0, sizeof reached);
}

static void disarm(void)
{
	failing = C_NONE;
	fail_at = -1;
}

/* ---- the scenario --------------------------------------------------- */

TestSuite(resize_faults, .init = disarm, .fini = remove_made_files, .timeout = 60);

static char *file_bytes(const char *path, size_t *n)
{
	int64_t size = file_size(path);
	char *buf = malloc((size_t)size + 1);
	cr_assert_eq(file_read(path, 0, buf, (size_t)size), (ssize_t)size);
	*n = (size_t)size;
	return buf;
}

static char *mapping_bytes(struct mapping *m, size_t *n)
{
	struct mapping_info i;
	mapping_info(m, &i);
	char *buf = malloc(i.len + 1);
	cr_assert_eq(mapping_copy_out(m, 0, buf, i.len), (ssize_t)i.len);
	*n = i.len;
	return buf;
}

struct setup {
	int flags;		/* MAP_SHARED or MAP_PRIVATE */
	bool anonymous;
	bool split;		/* madvise random on the first page */
	size_t file_pages;	/* the file's length (longer than the mapping: cut on resize) */
	size_t map_pages;
};

/* A mapping of map_pages of a file of file_pages (abc bytes), with a
 * private copy written into page 1 when private. */
static struct mapping *make(const struct setup *s, const char **path)
{
	size_t p = (size_t)page();
	struct mapping_request r;
	mapping_request_init(&r);
	r.flags = s->flags;
	r.length = (int64_t)(s->map_pages * p);
	if (!s->anonymous) {
		*path = make_abc_file(s->file_pages * p);
		r.source = *path;
	} else {
		*path = NULL;
	}
	struct mapping *m = must_map(&r);
	/* A page right after it, so that mremap cannot grow it in place and
	 * must move it (a refused resize must then still know where it is). */
	void *after = mmap(m->data + m->len, p, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
			   MAP_FIXED_NOREPLACE, -1, 0);
	(void)after;
	cr_assert_eq(mapping_write_at(m, p + 7, "PRIVATE", 7, false, NULL), 7);
	if (s->split)
		cr_assert_eq(mapping_madvise(m, MADV_RANDOM, &(int64_t){ 0 },
					     &(int64_t){ (int64_t)p }, NULL), 0);
	return m;
}

/* Resize to new_pages with call c failing at its k-th use; check the rule.
 * Returns whether call c was reached k+1 times (so a larger k is worth trying). */
static bool try_one(const struct setup *s, size_t new_pages, enum call c, int k, int e)
{
	size_t p = (size_t)page();
	const char *path;
	struct mapping *m = make(s, &path);
	size_t flen = 0, mlen = 0;
	char *fbefore = path ? file_bytes(path, &flen) : NULL;
	char *mbefore = mapping_bytes(m, &mlen);
	struct msg msg = { "" };
	arm(c, k, e);
	int rc = mapping_resize(m, (int64_t)(new_pages * p), &msg);
	bool hit = fail_at < 0 && reached[c] > k;
	disarm();
	size_t flen2 = 0, mlen2 = 0;
	char *fafter = path ? file_bytes(path, &flen2) : NULL;
	char *mafter = mapping_bytes(m, &mlen2);
	const char *what = call_names[c];
	if (rc < 0) {
		cr_expect_eq(mlen2, mlen, "%s #%d failing (%s): the mapping's length changed", what,
			     k, msg.text);
		cr_expect(memcmp(mafter, mbefore, mlen < mlen2 ? mlen : mlen2) == 0,
			  "%s #%d failing: the mapping's bytes changed", what, k);
		if (path) {
			cr_expect_eq(flen2, flen, "%s #%d failing: the file's size changed", what, k);
			cr_expect(memcmp(fafter, fbefore, flen < flen2 ? flen : flen2) == 0,
				  "%s #%d failing: the file's bytes changed", what, k);
		}
	} else {
		/* Success: the old bytes up to the shorter length are kept. */
		size_t keep = mlen < mlen2 ? mlen : mlen2;
		cr_expect_eq(mlen2, new_pages * p, "%s #%d failing: resized length", what, k);
		cr_expect(memcmp(mafter, mbefore, keep) == 0,
			  "%s #%d failing: a successful resize lost bytes", what, k);
		cr_expect(all_zero(mafter + keep, mlen2 - keep) || (path && s->file_pages > s->map_pages),
			  "%s #%d failing: the grown part is zeros", what, k);
		if (path)
			cr_expect_eq(flen2, new_pages * p, "%s #%d failing: file size", what, k);
	}
	free(fbefore);
	free(fafter);
	free(mbefore);
	free(mafter);
	mapping_unref(m);
	remove_made_files();
	return hit;
}

static void every_failure(const struct setup *s, size_t new_pages)
{
	cr_assert_eq(guard_init(), 0);
	for (enum call c = C_FSTAT; c < C_COUNT; c++) {
		for (int k = 0; k < 8; k++) {
			if (!try_one(s, new_pages, c, k, c == C_MREMAP ? ENOMEM : EIO))
				break;
		}
	}
}

Test(resize_faults, shared_file_grow)
{
	every_failure(&(struct setup){ MAP_SHARED, false, false, 2, 2 }, 4);
}

Test(resize_faults, shared_file_grow_split)
{
	every_failure(&(struct setup){ MAP_SHARED, false, true, 2, 2 }, 4);
}

Test(resize_faults, shared_file_grow_within_a_longer_file)
{
	every_failure(&(struct setup){ MAP_SHARED, false, true, 8, 2 }, 4);
}

Test(resize_faults, shared_file_grow_within_a_longer_file_unsplit)
{
	every_failure(&(struct setup){ MAP_SHARED, false, false, 8, 2 }, 4);
}

Test(resize_faults, shared_file_shrink)
{
	every_failure(&(struct setup){ MAP_SHARED, false, true, 4, 4 }, 2);
}

Test(resize_faults, shared_file_same_length_in_a_longer_file)
{
	every_failure(&(struct setup){ MAP_SHARED, false, true, 6, 4 }, 4);
}

Test(resize_faults, private_file_shrink)
{
	every_failure(&(struct setup){ MAP_PRIVATE, false, true, 4, 4 }, 2);
}

Test(resize_faults, private_file_grow_split)
{
	every_failure(&(struct setup){ MAP_PRIVATE, false, true, 2, 2 }, 4);
}

Test(resize_faults, shared_anonymous_grow_split)
{
	every_failure(&(struct setup){ MAP_SHARED, true, true, 0, 2 }, 4);
}

Test(resize_faults, shared_anonymous_shrink)
{
	every_failure(&(struct setup){ MAP_SHARED, true, true, 0, 4 }, 2);
}

Test(resize_faults, private_anonymous_grow_split)
{
	every_failure(&(struct setup){ MAP_PRIVATE, true, true, 0, 2 }, 4);
}

/* EFAULT from mremap (a split range) is not a refusal: the fresh mapping
 * holds the same bytes, private copies included. */
static void efault_is_mapped_afresh(const struct setup *s)
{
	cr_assert_eq(guard_init(), 0);
	size_t p = (size_t)page();
	const char *path;
	struct mapping *m = make(s, &path);
	size_t mlen;
	char *before = mapping_bytes(m, &mlen);
	arm(C_MREMAP, 0, EFAULT);
	struct msg msg = { "" };
	cr_expect_eq(mapping_resize(m, (int64_t)(4 * p), &msg), 0, "resize: %s", msg.text);
	/* The first mremap is the one refused; placing the fresh mapping's
	 * gaps (see mapping.c) takes more. */
	cr_expect_geq(reached[C_MREMAP], 1, "mremap was tried");
	disarm();
	size_t mlen2;
	char *after = mapping_bytes(m, &mlen2);
	cr_expect_eq(mlen2, 4 * p);
	cr_expect(memcmp(after, before, mlen) == 0, "the bytes (and the private copy) are kept");
	cr_expect(all_zero(after + mlen, mlen2 - mlen), "the new pages are zeros");
	/* It still is the same kind of mapping: a write reaches the file or not. */
	cr_expect_eq(mapping_write_at(m, 3 * p, "new", 3, false, NULL), 3);
	if (path) {
		char buf[3];
		cr_expect_eq(file_read(path, (off_t)(3 * p), buf, 3), 3);
		cr_expect_eq(memcmp(buf, "new", 3) == 0, s->flags == MAP_SHARED,
			     "a write reaches the file only when shared");
	}
	free(before);
	free(after);
	mapping_unref(m);
}

Test(resize_faults, efault_shared_file_is_mapped_afresh)
{
	efault_is_mapped_afresh(&(struct setup){ MAP_SHARED, false, true, 2, 2 });
}

Test(resize_faults, efault_private_file_is_mapped_afresh)
{
	efault_is_mapped_afresh(&(struct setup){ MAP_PRIVATE, false, true, 2, 2 });
}

Test(resize_faults, efault_private_anonymous_is_mapped_afresh)
{
	efault_is_mapped_afresh(&(struct setup){ MAP_PRIVATE, true, true, 0, 2 });
}

Test(resize_faults, efault_shared_anonymous_is_mapped_afresh)
{
	efault_is_mapped_afresh(&(struct setup){ MAP_SHARED, true, true, 0, 2 });
}
