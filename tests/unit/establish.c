/* unit_establish.c - mapping_establish: every check CPython's mmap.mmap()
 * makes, with its errno and word-for-word message, how access, flags and
 * prot resolve, trackfd=no, the refusals of resize, read-only files, the
 * source checks and the max_bytes budget. */
#include "lib/unit_util.h"

#include "core/mapping.h"

TestSuite(establish, .fini = remove_made_files);
TestSuite(access_mode, .fini = remove_made_files);
TestSuite(trackfd, .fini = remove_made_files);
TestSuite(readonly_file, .fini = remove_made_files);
TestSuite(source, .fini = remove_made_files);
TestSuite(budget, .fini = remove_made_files);

static const char CANT_RESIZE_RO[] = "mmap can't resize a readonly or copy-on-write memory map.";
static const char CANT_RESIZE_TRACKFD[] = "mmap can't resize with trackfd=False.";

static struct mapping_request file_req(const char *path)
{
	struct mapping_request r;
	mapping_request_init(&r);
	r.source = path;
	return r;
}

static struct mapping_request anon_req(int64_t length)
{
	struct mapping_request r;
	mapping_request_init(&r);
	r.length = length;
	return r;
}

/* Try to establish; the mapping is thrown away either way. */
static int try_map_in(const struct mapping_request *r, struct mapping_budget *b, struct msg *m)
{
	struct mapping *mp = mapping_new();
	cr_assert_not_null(mp);
	int rc = mapping_establish(mp, r, b, m);
	mapping_unref(mp);
	return rc;
}

static int try_map(const struct mapping_request *r, struct msg *m)
{
	return try_map_in(r, &no_limit, m);
}

static struct mapping_info info_of(struct mapping *m)
{
	struct mapping_info i;
	mapping_info(m, &i);
	return i;
}

/* ---- CPython's argument checks ---------------------------------------- */

Test(establish, defaults_map_the_whole_file_shared_read_write)
{
	const char *path = make_abc_file(100);
	struct mapping *m = map_path(path);
	struct mapping_info i = info_of(m);
	cr_expect_eq(i.len, 100);
	cr_expect_eq(i.pos, 0);
	cr_expect_eq(i.offset, 0);
	cr_expect_eq(i.access, ACCESS_DEFAULT);
	cr_expect_eq(i.flags, MAP_SHARED);
	cr_expect_eq(i.prot, PROT_READ | PROT_WRITE);
	cr_expect(i.trackfd);
	cr_expect_not(i.anonymous);
	cr_expect_not(i.closed);
	expect_slice(m, 0, "abcdefghijklmnopqrstuvwxyzab");
	mapping_unref(m);
}

Test(establish, negative_length)
{
	struct msg m = { "" };
	struct mapping_request r = file_req(make_abc_file(10));
	r.length = -1;
	expect_error(try_map(&r, &m), EINVAL, m, "memory mapped length must be positive");
	r = anon_req(-4096);
	expect_error(try_map(&r, &m), EINVAL, m, "memory mapped length must be positive");
}

Test(establish, negative_offset)
{
	struct msg m = { "" };
	struct mapping_request r = file_req(make_abc_file(10));
	r.offset = -4096;
	expect_error(try_map(&r, &m), EINVAL, m, "memory mapped offset must be positive");
	r = anon_req(4096);
	r.offset = -1;
	expect_error(try_map(&r, &m), EINVAL, m, "memory mapped offset must be positive");
}

Test(establish, length_is_checked_before_offset)
{
	struct msg m = { "" };
	struct mapping_request r = anon_req(-1);
	r.offset = -1;
	expect_error(try_map(&r, &m), EINVAL, m, "memory mapped length must be positive");
}

Test(establish, access_with_other_flags_is_refused)
{
	struct msg m = { "" };
	struct mapping_request r = file_req(make_abc_file(10));
	r.access = ACCESS_READ;
	r.flags = MAP_PRIVATE;
	expect_error(try_map(&r, &m), EINVAL, m, "mmap can't specify both access and flags, prot.");
	r.access = ACCESS_COPY;
	r.flags = MAP_SHARED | MAP_POPULATE;
	expect_error(try_map(&r, &m), EINVAL, m, "mmap can't specify both access and flags, prot.");
}

Test(establish, access_with_other_prot_is_refused)
{
	struct msg m = { "" };
	struct mapping_request r = file_req(make_abc_file(10));
	r.access = ACCESS_WRITE;
	r.prot = PROT_READ;
	expect_error(try_map(&r, &m), EINVAL, m, "mmap can't specify both access and flags, prot.");
	/* Even the prot that access=read would pick is "other than the default". */
	r.access = ACCESS_READ;
	expect_error(try_map(&r, &m), EINVAL, m, "mmap can't specify both access and flags, prot.");
}

Test(establish, access_with_other_flags_is_refused_before_the_file_is_looked_at)
{
	struct msg m = { "" };
	struct mapping_request r = file_req("/nonexistent/mmapfs-unit");
	r.access = ACCESS_READ;
	r.prot = PROT_READ;
	expect_error(try_map(&r, &m), EINVAL, m, "mmap can't specify both access and flags, prot.");
}

Test(establish, access_with_the_default_flags_and_prot_is_fine)
{
	struct mapping_request r = file_req(make_abc_file(10));
	r.access = ACCESS_READ;
	r.flags = MAP_SHARED;
	r.prot = PROT_READ | PROT_WRITE;
	struct mapping *m = must_map(&r);
	cr_expect_eq(info_of(m).prot, PROT_READ);
	mapping_unref(m);
}

Test(establish, empty_file)
{
	struct msg m = { "" };
	struct mapping_request r = file_req(make_file("", 0));
	expect_error(try_map(&r, &m), EINVAL, m, "cannot mmap an empty file");
}

Test(establish, empty_file_with_a_length)
{
	struct msg m = { "" };
	struct mapping_request r = file_req(make_file("", 0));
	r.length = 10;
	expect_error(try_map(&r, &m), EINVAL, m, "mmap length is greater than file size");
}

Test(establish, offset_at_the_end_with_length_0)
{
	struct msg m = { "" };
	struct mapping_request r = file_req(make_abc_file((size_t)page()));
	r.offset = page();
	expect_error(try_map(&r, &m), EINVAL, m, "mmap offset is greater than file size");
}

Test(establish, offset_past_the_end_with_length_0)
{
	struct msg m = { "" };
	struct mapping_request r = file_req(make_abc_file(10));
	r.offset = 2 * page();
	expect_error(try_map(&r, &m), EINVAL, m, "mmap offset is greater than file size");
}

Test(establish, length_greater_than_the_file)
{
	struct msg m = { "" };
	struct mapping_request r = file_req(make_abc_file(100));
	r.length = 101;
	expect_error(try_map(&r, &m), EINVAL, m, "mmap length is greater than file size");
}

Test(establish, length_greater_than_the_rest_after_offset)
{
	struct msg m = { "" };
	struct mapping_request r = file_req(make_abc_file(2 * (size_t)page()));
	r.offset = page();
	r.length = page() + 1;
	expect_error(try_map(&r, &m), EINVAL, m, "mmap length is greater than file size");
}

Test(establish, offset_past_the_end_with_a_length)
{
	struct msg m = { "" };
	struct mapping_request r = file_req(make_abc_file(10));
	r.offset = page();
	r.length = 1;
	expect_error(try_map(&r, &m), EINVAL, m, "mmap length is greater than file size");
}

Test(establish, length_0_maps_the_rest_from_offset)
{
	const char *path = make_abc_file(3 * (size_t)page());
	struct mapping_request r = file_req(path);
	r.offset = page();
	struct mapping *m = must_map(&r);
	struct mapping_info i = info_of(m);
	cr_expect_eq(i.len, 2 * (size_t)page());
	cr_expect_eq(i.offset, page());
	char want[8] = "";
	file_read(path, page(), want, 7);
	expect_slice(m, 0, want);
	mapping_unref(m);
}

Test(establish, length_exactly_the_rest_is_fine)
{
	struct mapping_request r = file_req(make_abc_file(2 * (size_t)page() + 5));
	r.offset = page();
	r.length = page() + 5;
	struct mapping *m = must_map(&r);
	cr_expect_eq(info_of(m).len, (size_t)page() + 5);
	mapping_unref(m);
}

Test(establish, unaligned_offset_is_the_kernels_einval)
{
	struct msg m = { "" };
	struct mapping_request r = file_req(make_abc_file(3 * (size_t)page()));
	r.offset = 1;
	r.length = 10;
	expect_error(try_map(&r, &m), EINVAL, m, "Invalid argument");
	r.offset = page() / 2;
	r.length = 0;
	expect_error(try_map(&r, &m), EINVAL, m, "Invalid argument");
}

Test(establish, unaligned_offset_of_anonymous_memory)
{
	struct msg m = { "" };
	struct mapping_request r = anon_req(page());
	r.offset = 100;
	expect_error(try_map(&r, &m), EINVAL, m, "Invalid argument");
}

Test(establish, anonymous_length_0)
{
	struct msg m = { "" };
	struct mapping_request r = anon_req(0);
	expect_error(try_map(&r, &m), EINVAL, m, "Invalid argument");
	r.flags = MAP_PRIVATE;
	expect_error(try_map(&r, &m), EINVAL, m, "Invalid argument");
}

Test(establish, anonymous_memory_starts_zeroed)
{
	struct mapping *shared = map_anon(page() + 3, MAP_SHARED);
	struct mapping *priv = map_anon(page() + 3, MAP_PRIVATE);
	ssize_t got;
	char *s = slice(shared, 0, (size_t)page() + 3, &got);
	cr_expect_eq(got, page() + 3);
	cr_expect(all_zero(s, (size_t)got));
	free(s);
	s = slice(priv, 0, (size_t)page() + 3, &got);
	cr_expect_eq(got, page() + 3);
	cr_expect(all_zero(s, (size_t)got));
	free(s);
	cr_expect(info_of(shared).anonymous);
	cr_expect_str_eq(shared->source, "anonymous");
	cr_expect_eq(info_of(priv).flags, MAP_PRIVATE);
	mapping_unref(shared);
	mapping_unref(priv);
}

Test(establish, source_is_the_file_the_kernel_opened)
{
	const char *path = make_abc_file(10);
	char real[PATH_MAX];
	cr_assert_not_null(realpath(path, real));
	struct mapping *m = map_path(path);
	cr_expect_str_eq(m->source, real);
	mapping_unref(m);
}

/* ---- how access, flags and prot resolve (CPython's new_mmap_object) ---- */

static void expect_resolution(enum access_mode access, int flags, int prot,
			      enum access_mode want_access, int want_flags, int want_prot)
{
	struct mapping_request r = file_req(make_abc_file((size_t)page()));
	r.access = access;
	r.flags = flags;
	r.prot = prot;
	struct mapping *m = must_map(&r);
	struct mapping_info i = info_of(m);
	cr_expect_eq(i.access, want_access, "access %d flags %#x prot %#x: access %d, wanted %d",
		     access, flags, prot, i.access, want_access);
	cr_expect_eq(i.flags, want_flags, "access %d flags %#x prot %#x: flags %#x, wanted %#x",
		     access, flags, prot, i.flags, want_flags);
	cr_expect_eq(i.prot, want_prot, "access %d flags %#x prot %#x: prot %#x, wanted %#x",
		     access, flags, prot, i.prot, want_prot);
	mapping_unref(m);
}

Test(access_mode, default_with_read_write_stays_default)
{
	expect_resolution(ACCESS_DEFAULT, MAP_SHARED, PROT_READ | PROT_WRITE, ACCESS_DEFAULT,
			  MAP_SHARED, PROT_READ | PROT_WRITE);
}

Test(access_mode, default_with_prot_read_becomes_read)
{
	expect_resolution(ACCESS_DEFAULT, MAP_SHARED, PROT_READ, ACCESS_READ, MAP_SHARED,
			  PROT_READ);
}

Test(access_mode, default_with_prot_write_becomes_write)
{
	expect_resolution(ACCESS_DEFAULT, MAP_SHARED, PROT_WRITE, ACCESS_WRITE, MAP_SHARED,
			  PROT_WRITE);
}

Test(access_mode, default_with_prot_none_becomes_read)
{
	expect_resolution(ACCESS_DEFAULT, MAP_SHARED, PROT_NONE, ACCESS_READ, MAP_SHARED,
			  PROT_NONE);
}

Test(access_mode, default_private_keeps_its_flags)
{
	expect_resolution(ACCESS_DEFAULT, MAP_PRIVATE, PROT_READ | PROT_WRITE, ACCESS_DEFAULT,
			  MAP_PRIVATE, PROT_READ | PROT_WRITE);
	expect_resolution(ACCESS_DEFAULT, MAP_PRIVATE, PROT_READ, ACCESS_READ, MAP_PRIVATE,
			  PROT_READ);
}

Test(access_mode, default_keeps_extra_flags)
{
	expect_resolution(ACCESS_DEFAULT, MAP_SHARED | MAP_POPULATE, PROT_READ | PROT_WRITE,
			  ACCESS_DEFAULT, MAP_SHARED | MAP_POPULATE, PROT_READ | PROT_WRITE);
}

Test(access_mode, read_is_shared_read_only)
{
	expect_resolution(ACCESS_READ, MAP_SHARED, PROT_READ | PROT_WRITE, ACCESS_READ,
			  MAP_SHARED, PROT_READ);
}

Test(access_mode, write_is_shared_read_write)
{
	expect_resolution(ACCESS_WRITE, MAP_SHARED, PROT_READ | PROT_WRITE, ACCESS_WRITE,
			  MAP_SHARED, PROT_READ | PROT_WRITE);
}

Test(access_mode, copy_is_private_read_write)
{
	expect_resolution(ACCESS_COPY, MAP_SHARED, PROT_READ | PROT_WRITE, ACCESS_COPY,
			  MAP_PRIVATE, PROT_READ | PROT_WRITE);
}

Test(access_mode, what_each_access_may_do)
{
	struct mapping_request r = file_req(make_abc_file(10));
	const enum access_mode modes[] = { ACCESS_DEFAULT, ACCESS_READ, ACCESS_WRITE, ACCESS_COPY };
	const bool resizes[] = { true, false, true, false };
	const bool writes[] = { true, false, true, true };
	for (int k = 0; k < 4; k++) {
		r.access = modes[k];
		struct mapping *m = must_map(&r);
		cr_expect_eq(mapping_can_resize(m), resizes[k], "access %d", k);
		cr_expect_eq(mapping_takes_writes(m), writes[k], "access %d", k);
		mapping_unref(m);
	}
	r.access = ACCESS_DEFAULT;
	r.prot = PROT_READ;
	struct mapping *m = must_map(&r);
	cr_expect_not(mapping_takes_writes(m));
	mapping_unref(m);
}

/* ---- resize refusals --------------------------------------------------- */

static void expect_resize_refused(struct mapping *m, const char *path, int64_t new_len,
				  int errnum, const char *message)
{
	struct msg msg = { "" };
	struct mapping_info before = info_of(m);
	int64_t size_before = path ? file_size(path) : 0;
	int rc = mapping_resize(m, new_len, &msg);
	cr_expect_eq(rc, -errnum, "resize(%lld) returned %d", (long long)new_len, rc);
	cr_expect_str_eq(msg.text, message);
	cr_expect_eq(info_of(m).len, before.len, "a refused resize keeps the length");
	if (path)
		cr_expect_eq(file_size(path), size_before, "a refused resize keeps the file");
}

Test(establish, read_access_cannot_resize)
{
	const char *path = make_abc_file(100);
	struct mapping_request r = file_req(path);
	r.access = ACCESS_READ;
	struct mapping *m = must_map(&r);
	expect_resize_refused(m, path, 200, EPERM, CANT_RESIZE_RO);
	expect_resize_refused(m, path, 50, EPERM, CANT_RESIZE_RO);
	expect_resize_refused(m, path, 0, EPERM, CANT_RESIZE_RO);
	mapping_unref(m);
}

Test(establish, copy_access_cannot_resize)
{
	const char *path = make_abc_file(100);
	struct mapping_request r = file_req(path);
	r.access = ACCESS_COPY;
	struct mapping *m = must_map(&r);
	expect_resize_refused(m, path, 200, EPERM, CANT_RESIZE_RO);
	mapping_unref(m);
}

Test(establish, prot_read_cannot_resize)
{
	const char *path = make_abc_file(100);
	struct mapping_request r = file_req(path);
	r.prot = PROT_READ;
	struct mapping *m = must_map(&r);
	expect_resize_refused(m, path, 200, EPERM, CANT_RESIZE_RO);
	mapping_unref(m);
}

Test(establish, access_is_checked_before_the_new_size)
{
	const char *path = make_abc_file(100);
	struct mapping_request r = file_req(path);
	r.access = ACCESS_READ;
	struct mapping *m = must_map(&r);
	expect_resize_refused(m, path, -1, EPERM, CANT_RESIZE_RO);
	mapping_unref(m);
}

Test(establish, negative_new_size)
{
	const char *path = make_abc_file(100);
	struct mapping *m = map_path(path);
	expect_resize_refused(m, path, -1, EINVAL, "new size out of range");
	mapping_unref(m);
}

Test(establish, new_size_that_overflows_with_the_offset)
{
	const char *path = make_abc_file(2 * (size_t)page());
	struct mapping_request r = file_req(path);
	r.offset = page();
	struct mapping *m = must_map(&r);
	expect_resize_refused(m, path, INT64_MAX, EINVAL, "new size out of range");
	expect_resize_refused(m, path, INT64_MAX - page() + 1, EINVAL, "new size out of range");
	mapping_unref(m);
}

/* ---- trackfd=no -------------------------------------------------------- */

Test(trackfd, file_size_is_refused)
{
	struct mapping_request r = file_req(make_abc_file(100));
	r.trackfd = false;
	struct mapping *m = must_map(&r);
	struct msg msg = { "" };
	int64_t size = -7;
	expect_error(mapping_filesize(m, &size, &msg), EBADF, msg,
		     "can't get size with trackfd=False");
	cr_expect_eq(size, -7);
	cr_expect_not(info_of(m).trackfd);
	mapping_unref(m);
}

Test(trackfd, anonymous_size_is_refused)
{
	struct mapping_request r = anon_req(page());
	r.trackfd = false;
	struct mapping *m = must_map(&r);
	struct msg msg = { "" };
	int64_t size;
	expect_error(mapping_filesize(m, &size, &msg), EBADF, msg,
		     "can't get size with trackfd=False");
	mapping_unref(m);
}

Test(trackfd, resize_is_refused)
{
	const char *path = make_abc_file(100);
	struct mapping_request r = file_req(path);
	r.trackfd = false;
	struct mapping *m = must_map(&r);
	expect_resize_refused(m, path, 200, EINVAL, CANT_RESIZE_TRACKFD);
	expect_resize_refused(m, path, 10, EINVAL, CANT_RESIZE_TRACKFD);
	expect_resize_refused(m, path, 0, EINVAL, CANT_RESIZE_TRACKFD);
	mapping_unref(m);
}

Test(trackfd, anonymous_resize_is_refused)
{
	struct mapping_request r = anon_req(page());
	r.trackfd = false;
	struct mapping *m = must_map(&r);
	expect_resize_refused(m, NULL, 2 * page(), EINVAL, CANT_RESIZE_TRACKFD);
	r.flags = MAP_PRIVATE;
	struct mapping *p = must_map(&r);
	expect_resize_refused(p, NULL, 2 * page(), EINVAL, CANT_RESIZE_TRACKFD);
	mapping_unref(m);
	mapping_unref(p);
}

Test(trackfd, is_checked_before_read_access)
{
	const char *path = make_abc_file(100);
	struct mapping_request r = file_req(path);
	r.trackfd = false;
	r.access = ACCESS_READ;
	struct mapping *m = must_map(&r);
	expect_resize_refused(m, path, 200, EINVAL, CANT_RESIZE_TRACKFD);
	mapping_unref(m);
}

Test(trackfd, write_past_the_end_is_efbig)
{
	const char *path = make_abc_file(10);
	struct mapping_request r = file_req(path);
	r.trackfd = false;
	struct mapping *m = must_map(&r);
	struct msg msg = { "" };
	expect_error(mapping_write_at(m, 8, "XYZ", 3, true, &msg), EFBIG, msg,
		     "write past the end of a mapping that cannot grow");
	expect_slice(m, 0, "abcdefghij");
	cr_expect_eq(file_size(path), 10);
	mapping_unref(m);
}

Test(trackfd, the_bytes_still_work)
{
	const char *path = make_abc_file(10);
	struct mapping_request r = file_req(path);
	r.trackfd = false;
	struct mapping *m = must_map(&r);
	cr_expect_eq(mapping_write_at(m, 2, "XY", 2, true, NULL), 2);
	char buf[11] = "";
	file_read(path, 0, buf, 10);
	cr_expect_str_eq(buf, "abXYefghij");
	mapping_unref(m);
}

Test(trackfd, file_size_with_trackfd_is_the_files_size_now)
{
	const char *path = make_abc_file(3 * (size_t)page());
	struct mapping_request r = file_req(path);
	r.offset = page();
	r.length = 10;
	struct mapping *m = must_map(&r);
	int64_t size = 0;
	cr_expect_eq(mapping_filesize(m, &size, NULL), 0);
	cr_expect_eq(size, 3 * page());
	cr_assert_eq(truncate(path, 2 * page()), 0);
	cr_expect_eq(mapping_filesize(m, &size, NULL), 0);
	cr_expect_eq(size, 2 * page());
	mapping_unref(m);
}

Test(trackfd, anonymous_file_size_is_the_length)
{
	struct mapping *m = map_anon(5000, MAP_SHARED);
	struct mapping *p = map_anon(5000, MAP_PRIVATE);
	int64_t size = 0;
	cr_expect_eq(mapping_filesize(m, &size, NULL), 0);
	cr_expect_eq(size, 5000);
	cr_expect_eq(mapping_filesize(p, &size, NULL), 0);
	cr_expect_eq(size, 5000);
	mapping_unref(m);
	mapping_unref(p);
}

/* ---- files the server may only read ------------------------------------ */

static const char *readonly_file(void)
{
	if (!obey_file_modes())
		cr_skip_test("cannot drop CAP_DAC_OVERRIDE to test file modes");
	const char *path = make_abc_file(100);
	cr_assert_eq(chmod(path, 0444), 0);
	int fd = open(path, O_RDWR);
	if (fd >= 0) {
		close(fd);
		cr_skip_test("a 0444 file opens for writing here");
	}
	return path;
}

Test(readonly_file, access_read_works)
{
	struct mapping_request r = file_req(readonly_file());
	r.access = ACCESS_READ;
	struct mapping *m = must_map(&r);
	expect_slice(m, 0, "abcdef");
	mapping_unref(m);
}

Test(readonly_file, prot_read_works)
{
	struct mapping_request r = file_req(readonly_file());
	r.prot = PROT_READ;
	struct mapping *m = must_map(&r);
	cr_expect_eq(info_of(m).access, ACCESS_READ);
	mapping_unref(m);
}

Test(readonly_file, default_access_is_permission_denied)
{
	struct msg m = { "" };
	struct mapping_request r = file_req(readonly_file());
	expect_error(try_map(&r, &m), EACCES, m, "Permission denied");
}

Test(readonly_file, write_access_is_permission_denied)
{
	struct msg m = { "" };
	struct mapping_request r = file_req(readonly_file());
	r.access = ACCESS_WRITE;
	expect_error(try_map(&r, &m), EACCES, m, "Permission denied");
}

Test(readonly_file, copy_access_writes_only_memory)
{
	const char *path = readonly_file();
	struct mapping_request r = file_req(path);
	r.access = ACCESS_COPY;
	struct mapping *m = must_map(&r);
	cr_expect_eq(mapping_write_at(m, 0, "XYZ", 3, true, NULL), 3);
	expect_slice(m, 0, "XYZdef");
	char buf[7] = "";
	file_read(path, 0, buf, 6);
	cr_expect_str_eq(buf, "abcdef");
	mapping_unref(m);
}

Test(readonly_file, private_default_maps_and_resize_fails_as_ftruncate_does)
{
	const char *path = readonly_file();
	struct mapping_request r = file_req(path);
	r.flags = MAP_PRIVATE;
	struct mapping *m = must_map(&r);
	cr_expect_eq(info_of(m).access, ACCESS_DEFAULT);
	expect_resize_refused(m, path, 200, EINVAL, "Invalid argument");
	expect_slice(m, 0, "abcdef");
	mapping_unref(m);
}

/* ---- the source -------------------------------------------------------- */

Test(source, relative_path)
{
	struct msg m = { "" };
	struct mapping_request r = file_req("tmp/file");
	expect_error(try_map(&r, &m), EINVAL, m, "source must be an absolute path or 'anon'");
	r = file_req("");
	expect_error(try_map(&r, &m), EINVAL, m, "source must be an absolute path or 'anon'");
}

Test(source, missing_file)
{
	struct msg m = { "" };
	struct mapping_request r = file_req("/nonexistent/mmapfs-unit");
	expect_error(try_map(&r, &m), ENOENT, m, "No such file or directory");
}

Test(source, directory_is_not_a_regular_file)
{
	struct msg m = { "" };
	struct mapping_request r = file_req(tmp_dir());
	expect_error(try_map(&r, &m), ENODEV, m, "source is not a regular file");
}

Test(source, device_is_not_a_regular_file)
{
	struct msg m = { "" };
	struct mapping_request r = file_req("/dev/zero");
	r.length = 4096;
	expect_error(try_map(&r, &m), ENODEV, m, "source is not a regular file");
}

Test(source, file_inside_the_own_mount)
{
	struct msg m = { "" };
	const char *deadlock = "cannot map a file inside this mount (it would deadlock)";
	struct mapping_request r = file_req("/mnt/mmapfs/maps/a/data");
	r.own_mount = "/mnt/mmapfs";
	expect_error(try_map(&r, &m), EDEADLK, m, deadlock);
	r.own_mount = "/mnt/mmapfs/";
	expect_error(try_map(&r, &m), EDEADLK, m, deadlock);
	r.source = "/mnt/mmapfs";
	expect_error(try_map(&r, &m), EDEADLK, m, deadlock);
}

Test(source, sibling_of_the_own_mount_is_not_inside)
{
	struct msg m = { "" };
	struct mapping_request r = file_req("/mnt/mmapfsX/file");
	r.own_mount = "/mnt/mmapfs";
	expect_error(try_map(&r, &m), ENOENT, m, "No such file or directory");
}

Test(source, file_on_the_own_device)
{
	const char *path = make_abc_file(10);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	struct msg m = { "" };
	struct mapping_request r = file_req(path);
	r.own_dev = st.st_dev;
	expect_error(try_map(&r, &m), EDEADLK, m,
		     "cannot map a file inside this mount (it would deadlock)");
}

/* ---- max_bytes ----------------------------------------------------------- */

Test(budget, mapping_more_than_the_limit)
{
	struct mapping_budget b = { .used = 0, .limit = 2 * (uint64_t)page() };
	struct msg m = { "" };
	struct mapping_request r = file_req(make_abc_file(3 * (size_t)page()));
	char want[128];
	snprintf(want, sizeof want, "max_bytes reached: 0 bytes mapped, limit %ld", 2 * page());
	expect_error(try_map_in(&r, &b, &m), ENOSPC, m, want);
	cr_expect_eq(atomic_load(&b.used), 0);
	r = anon_req(3 * page());
	expect_error(try_map_in(&r, &b, &m), ENOSPC, m, want);
	cr_expect_eq(atomic_load(&b.used), 0);
}

Test(budget, counts_every_mapping_and_gives_back_on_close)
{
	struct mapping_budget b = { .used = 0, .limit = 2 * (uint64_t)page() };
	struct msg msg = { "" };
	struct mapping_request r = anon_req(page());
	struct mapping *one = mapping_new(), *two = mapping_new();
	cr_assert_eq(mapping_establish(one, &r, &b, &msg), 0, "%s", msg.text);
	cr_expect_eq(atomic_load(&b.used), (uint64_t)page());
	r.length = page() + 1;
	char want[128];
	snprintf(want, sizeof want, "max_bytes reached: %ld bytes mapped, limit %ld", page(),
		 2 * page());
	expect_error(try_map_in(&r, &b, &msg), ENOSPC, msg, want);
	r.length = page();
	cr_assert_eq(mapping_establish(two, &r, &b, &msg), 0, "exactly the limit: %s", msg.text);
	cr_expect_eq(atomic_load(&b.used), 2 * (uint64_t)page());
	cr_expect_eq(mapping_close(one, false, NULL), 0);
	cr_expect_eq(atomic_load(&b.used), (uint64_t)page());
	mapping_unref(one);
	mapping_unref(two);
	cr_expect_eq(atomic_load(&b.used), 0);
}

Test(budget, failed_mmap_gives_the_bytes_back)
{
	struct mapping_budget b = { .used = 0, .limit = 100 * (uint64_t)page() };
	struct msg m = { "" };
	struct mapping_request r = file_req(make_abc_file(3 * (size_t)page()));
	r.offset = 1;
	r.length = 10;
	expect_error(try_map_in(&r, &b, &m), EINVAL, m, "Invalid argument");
	cr_expect_eq(atomic_load(&b.used), 0);
}

Test(budget, growing_past_the_limit)
{
	struct mapping_budget b = { .used = 0, .limit = 2 * (uint64_t)page() };
	const char *path = make_abc_file((size_t)page());
	struct mapping_request r = file_req(path);
	struct mapping *m = mapping_new();
	struct msg msg = { "" };
	cr_assert_eq(mapping_establish(m, &r, &b, &msg), 0);
	char want[128];
	snprintf(want, sizeof want, "max_bytes reached: %ld bytes mapped, limit %ld", page(),
		 2 * page());
	expect_resize_refused(m, path, 2 * page() + 1, ENOSPC, want);
	cr_expect_eq(atomic_load(&b.used), (uint64_t)page());
	expect_error(mapping_write_at(m, 2 * (uint64_t)page(), "x", 1, true, &msg), ENOSPC, msg,
		     want);
	cr_expect_eq(file_size(path), page());
	cr_expect_eq(mapping_resize(m, 2 * page(), NULL), 0);
	cr_expect_eq(atomic_load(&b.used), 2 * (uint64_t)page());
	cr_expect_eq(mapping_resize(m, 10, NULL), 0);
	cr_expect_eq(atomic_load(&b.used), 10);
	cr_expect_eq(mapping_resize(m, 0, NULL), 0);
	cr_expect_eq(atomic_load(&b.used), 0);
	mapping_unref(m);
	cr_expect_eq(atomic_load(&b.used), 0);
}
