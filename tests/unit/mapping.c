/* unit_mapping.c - what a mapping does once established: copies at an
 * offset, writes that grow it, resize (to 0 and back, anonymous memory
 * too), the stream and readline at pos, seek, flush, madvise, move,
 * find/rfind as CPython 3.13+ has them, close, and faults. */
#include "lib/unit_util.h"

#include <pthread.h>

#include "core/guard.h"
#include "core/mapping.h"

TestSuite(copy, .fini = remove_made_files);
TestSuite(resize, .fini = remove_made_files);
TestSuite(stream, .fini = remove_made_files);
TestSuite(seek, .fini = remove_made_files);
TestSuite(flush, .fini = remove_made_files);
TestSuite(madvise, .fini = remove_made_files);
TestSuite(move, .fini = remove_made_files);
TestSuite(find, .fini = remove_made_files);
TestSuite(closed, .fini = remove_made_files);
TestSuite(fault, .fini = remove_made_files);
TestSuite(threads, .fini = remove_made_files);

static const char *path_of_last;

/* A shared file mapping of exactly these bytes. */
static struct mapping *map_text(const char *text)
{
	path_of_last = make_file(text, strlen(text));
	return map_path(path_of_last);
}

static struct mapping *map_text_access(const char *text, enum access_mode access)
{
	path_of_last = make_file(text, strlen(text));
	struct mapping_request r;
	mapping_request_init(&r);
	r.source = path_of_last;
	r.access = access;
	return must_map(&r);
}

static size_t len_of(struct mapping *m)
{
	struct mapping_info i;
	mapping_info(m, &i);
	return i.len;
}

static size_t pos_of(struct mapping *m)
{
	struct mapping_info i;
	mapping_info(m, &i);
	return i.pos;
}

static void expect_file(const char *path, const char *want)
{
	size_t n = strlen(want);
	cr_expect_eq(file_size(path), (int64_t)n, "size of the backing file");
	char *buf = calloc(1, n + 1);
	cr_expect_eq(file_read(path, 0, buf, n), (ssize_t)n);
	cr_expect_eq(memcmp(buf, want, n), 0, "file holds [%s], wanted [%s]", buf, want);
	free(buf);
}

static void fill(struct mapping *m, char c, size_t n)
{
	char *buf = malloc(n);
	memset(buf, c, n);
	cr_assert_eq(mapping_write_at(m, 0, buf, n, false, NULL), (ssize_t)n);
	free(buf);
}

static void seek_to(struct mapping *m, int64_t pos)
{
	cr_assert_eq(mapping_seek(m, pos, 0, NULL), 0, "seek %lld", (long long)pos);
}

/* ---- copies at an offset ------------------------------------------------ */

Test(copy, slice_at_an_offset)
{
	struct mapping *m = map_text("hello, world");
	expect_slice(m, 7, "world");
	expect_slice(m, 0, "hello");
	mapping_unref(m);
}

Test(copy, short_at_the_end)
{
	struct mapping *m = map_text("hello");
	char buf[16] = "";
	cr_expect_eq(mapping_copy_out(m, 3, buf, sizeof buf), 2);
	cr_expect_str_eq(buf, "lo");
	mapping_unref(m);
}

Test(copy, nothing_at_or_past_the_end)
{
	struct mapping *m = map_text("hello");
	char buf[16];
	cr_expect_eq(mapping_copy_out(m, 5, buf, sizeof buf), 0);
	cr_expect_eq(mapping_copy_out(m, 6, buf, sizeof buf), 0);
	cr_expect_eq(mapping_copy_out(m, UINT64_MAX, buf, sizeof buf), 0);
	mapping_unref(m);
}

Test(copy, read_at_hands_the_bytes_to_the_sink_once)
{
	struct mapping *m = map_text("hello");
	struct collected c = { 0 };
	cr_expect_eq(mapping_read_at(m, 1, 3, collect, &c), 0);
	cr_expect_eq(c.calls, 1);
	cr_expect_eq(c.n, 3);
	cr_expect_str_eq(c.p, "ell");
	collected_free(&c);
	cr_expect_eq(mapping_read_at(m, 9, 3, collect, &c), 0);
	cr_expect_eq(c.calls, 1, "past the end the sink still answers the read");
	cr_expect_eq(c.n, 0);
	collected_free(&c);
	mapping_unref(m);
}

static int refusing_sink(void *ctx, const char *bytes, size_t n)
{
	(void)ctx;
	(void)bytes;
	(void)n;
	return -EMSGSIZE;
}

Test(copy, sink_error_is_returned_and_pos_stays)
{
	struct mapping *m = map_text("one\ntwo\n");
	cr_expect_eq(mapping_read_at(m, 0, 3, refusing_sink, NULL), -EMSGSIZE);
	cr_expect_eq(mapping_stream_read(m, 3, refusing_sink, NULL), -EMSGSIZE);
	cr_expect_eq(pos_of(m), 0);
	cr_expect_eq(mapping_readline(m, 100, refusing_sink, NULL), -EMSGSIZE);
	cr_expect_eq(pos_of(m), 0);
	mapping_unref(m);
}

Test(copy, write_changes_the_shared_file)
{
	struct mapping *m = map_text("hello, world");
	cr_expect_eq(mapping_write_at(m, 7, "WORLD", 5, true, NULL), 5);
	expect_slice(m, 0, "hello, WORLD");
	expect_file(path_of_last, "hello, WORLD");
	cr_expect_eq(pos_of(m), 0, "a write at an offset leaves pos alone");
	mapping_unref(m);
}

Test(copy, write_past_the_end_grows_the_mapping_and_file)
{
	struct mapping *m = map_text("0123456789");
	cr_expect_eq(mapping_write_at(m, 8, "hello", 5, true, NULL), 5);
	cr_expect_eq(len_of(m), 13);
	expect_slice(m, 0, "01234567hello");
	expect_file(path_of_last, "01234567hello");
	mapping_unref(m);
}

Test(copy, write_after_a_gap_fills_it_with_zeros)
{
	struct mapping *m = map_text("0123456789");
	cr_expect_eq(mapping_write_at(m, 20, "end", 3, true, NULL), 3);
	cr_expect_eq(len_of(m), 23);
	ssize_t got;
	char *s = slice(m, 10, 10, &got);
	cr_expect_eq(got, 10);
	cr_expect(all_zero(s, 10));
	free(s);
	expect_slice(m, 20, "end");
	cr_expect_eq(file_size(path_of_last), 23);
	mapping_unref(m);
}

Test(copy, write_past_the_end_without_grow_writes_nothing)
{
	struct mapping *m = map_text("0123456789");
	struct msg msg = { "" };
	expect_error(mapping_write_at(m, 9, "XY", 2, false, &msg), EFBIG, msg,
		     "write past the end of a mapping that cannot grow");
	cr_expect_eq(len_of(m), 10);
	expect_slice(m, 0, "0123456789");
	expect_file(path_of_last, "0123456789");
	mapping_unref(m);
}

Test(copy, write_whose_end_overflows_int64_is_efbig)
{
	struct mapping *m = map_text("0123456789");
	struct msg msg = { "" };
	expect_error(mapping_write_at(m, UINT64_MAX - 1, "ab", 2, true, &msg), EFBIG, msg,
		     "write past the end of a mapping that cannot grow");
	expect_error(mapping_write_at(m, (uint64_t)INT64_MAX, "a", 1, true, &msg), EFBIG, msg,
		     "write past the end of a mapping that cannot grow");
	cr_expect_eq(len_of(m), 10);
	expect_file(path_of_last, "0123456789");
	mapping_unref(m);
}

Test(copy, growth_the_file_system_refuses_changes_nothing)
{
	struct mapping *m = map_text("0123456789");
	struct msg msg = { "" };
	/* No file system holds a file of 2**63-1 bytes: ftruncate says EFBIG. */
	expect_error(mapping_write_at(m, (uint64_t)INT64_MAX - 1, "a", 1, true, &msg), EFBIG, msg,
		     "File too large");
	cr_expect_eq(len_of(m), 10);
	expect_file(path_of_last, "0123456789");
	mapping_unref(m);
}

Test(copy, copy_access_cannot_grow)
{
	struct mapping *m = map_text_access("0123456789", ACCESS_COPY);
	struct msg msg = { "" };
	expect_error(mapping_write_at(m, 9, "XY", 2, true, &msg), EFBIG, msg,
		     "write past the end of a mapping that cannot grow");
	expect_slice(m, 0, "0123456789");
	mapping_unref(m);
}

Test(copy, copy_access_writes_memory_not_the_file)
{
	struct mapping *m = map_text_access("0123456789", ACCESS_COPY);
	cr_expect_eq(mapping_write_at(m, 0, "AB", 2, true, NULL), 2);
	expect_slice(m, 0, "AB23456789");
	expect_file(path_of_last, "0123456789");
	mapping_unref(m);
}

Test(copy, read_access_refuses_writes)
{
	struct mapping *m = map_text_access("0123456789", ACCESS_READ);
	struct msg msg = { "" };
	expect_error(mapping_write_at(m, 0, "AB", 2, true, &msg), EACCES, msg,
		     "mmap can't modify a readonly memory map.");
	expect_error(mapping_write_at(m, 20, "AB", 2, true, &msg), EACCES, msg,
		     "mmap can't modify a readonly memory map.");
	expect_slice(m, 0, "0123456789");
	mapping_unref(m);
}

Test(copy, empty_write_anywhere_is_a_no_op)
{
	struct mapping *m = map_text("0123456789");
	cr_expect_eq(mapping_write_at(m, 100, "", 0, false, NULL), 0);
	cr_expect_eq(len_of(m), 10);
	mapping_unref(m);
}

Test(copy, prot_without_read_refuses_every_read)
{
	const char *path = make_file("0123456789", 10);
	struct mapping_request r;
	mapping_request_init(&r);
	r.source = path;
	r.prot = PROT_WRITE;
	struct mapping *m = must_map(&r);
	struct msg msg = { "" };
	struct collected c = { 0 };
	char buf[4];
	int64_t at;
	const char *no_read = "mapping is not readable (its prot has no read)";
	cr_expect_eq(mapping_copy_out(m, 0, buf, 4), -EACCES);
	cr_expect_eq(mapping_read_at(m, 0, 4, collect, &c), -EACCES);
	cr_expect_eq(mapping_stream_read(m, 4, collect, &c), -EACCES);
	cr_expect_eq(mapping_readline(m, 4, collect, &c), -EACCES);
	cr_expect_eq(c.calls, 0);
	expect_error(mapping_find(m, "1", 1, NULL, NULL, false, &at, &msg), EACCES, msg, no_read);
	expect_error(mapping_find(m, "1", 1, NULL, NULL, true, &at, &msg), EACCES, msg, no_read);
	expect_error(mapping_move(m, 0, 1, 1, &msg), EACCES, msg, no_read);
	/* Writing is what it may do. */
	cr_expect_eq(mapping_write_at(m, 0, "AB", 2, false, NULL), 2);
	expect_file(path, "AB23456789");
	cr_expect_eq(pos_of(m), 0);
	mapping_unref(m);
}

/* ---- resize ------------------------------------------------------------ */

Test(resize, shrinks_the_mapping_and_the_file)
{
	struct mapping *m = map_text("0123456789");
	cr_expect_eq(mapping_resize(m, 4, NULL), 0);
	cr_expect_eq(len_of(m), 4);
	expect_file(path_of_last, "0123");
	char buf[8];
	cr_expect_eq(mapping_copy_out(m, 0, buf, 8), 4);
	mapping_unref(m);
}

Test(resize, grows_with_the_files_new_zeros)
{
	struct mapping *m = map_text("0123456789");
	size_t n = (size_t)page() + 5;
	cr_expect_eq(mapping_resize(m, (int64_t)n, NULL), 0);
	cr_expect_eq(len_of(m), n);
	cr_expect_eq(file_size(path_of_last), (int64_t)n);
	expect_slice(m, 0, "0123456789");
	ssize_t got;
	char *s = slice(m, 10, n - 10, &got);
	cr_expect_eq(got, (ssize_t)(n - 10));
	cr_expect(all_zero(s, n - 10));
	free(s);
	mapping_unref(m);
}

Test(resize, to_the_same_size)
{
	struct mapping *m = map_text("0123456789");
	cr_expect_eq(mapping_resize(m, 10, NULL), 0);
	expect_slice(m, 0, "0123456789");
	expect_file(path_of_last, "0123456789");
	mapping_unref(m);
}

Test(resize, file_size_becomes_offset_plus_new_length)
{
	const char *path = make_abc_file(3 * (size_t)page());
	struct mapping_request r;
	mapping_request_init(&r);
	r.source = path;
	r.offset = page();
	r.length = page();
	struct mapping *m = must_map(&r);
	cr_expect_eq(mapping_resize(m, 10, NULL), 0);
	cr_expect_eq(file_size(path), page() + 10);
	cr_expect_eq(mapping_resize(m, 2 * page() + 7, NULL), 0);
	cr_expect_eq(file_size(path), 3 * page() + 7);
	cr_expect_eq(len_of(m), 2 * (size_t)page() + 7);
	char first[4] = "";
	file_read(path, page(), first, 3);
	expect_slice(m, 0, first);
	mapping_unref(m);
}

Test(resize, to_zero_keeps_the_mapping)
{
	struct mapping *m = map_text("0123456789");
	cr_expect_eq(mapping_resize(m, 0, NULL), 0);
	cr_expect_eq(len_of(m), 0);
	cr_expect_eq(file_size(path_of_last), 0);
	char buf[4];
	cr_expect_eq(mapping_copy_out(m, 0, buf, 4), 0);
	int64_t at = 5;
	cr_expect_eq(mapping_find(m, "0", 1, NULL, NULL, false, &at, NULL), 0);
	cr_expect_eq(at, -1);
	cr_expect_eq(mapping_flush(m, NULL, NULL, NULL), 0);
	int64_t size = -1;
	cr_expect_eq(mapping_filesize(m, &size, NULL), 0);
	cr_expect_eq(size, 0);
	mapping_unref(m);
}

Test(resize, grows_back_from_zero_on_a_write)
{
	struct mapping *m = map_text("0123456789");
	cr_assert_eq(mapping_resize(m, 0, NULL), 0);
	cr_expect_eq(mapping_write_at(m, 0, "hi\n", 3, true, NULL), 3);
	cr_expect_eq(len_of(m), 3);
	expect_file(path_of_last, "hi\n");
	cr_expect_eq(mapping_resize(m, 5, NULL), 0);
	char buf[5];
	cr_expect_eq(file_size(path_of_last), 5);
	cr_expect_eq(file_read(path_of_last, 0, buf, 5), 5);
	cr_expect_eq(memcmp(buf, "hi\n\0\0", 5), 0);
	mapping_unref(m);
}

Test(resize, to_zero_and_back_with_an_offset)
{
	const char *path = make_abc_file(2 * (size_t)page());
	struct mapping_request r;
	mapping_request_init(&r);
	r.source = path;
	r.offset = page();
	struct mapping *m = must_map(&r);
	cr_expect_eq(mapping_resize(m, 0, NULL), 0);
	cr_expect_eq(file_size(path), page());
	cr_expect_eq(mapping_write_at(m, 0, "XY", 2, true, NULL), 2);
	cr_expect_eq(file_size(path), page() + 2);
	char buf[3] = "";
	file_read(path, page(), buf, 2);
	cr_expect_str_eq(buf, "XY");
	mapping_unref(m);
}

static void expect_anonymous_growth(int flags)
{
	size_t p = (size_t)page();
	struct mapping *m = map_anon((int64_t)p, flags);
	fill(m, 'x', p);
	cr_expect_eq(mapping_resize(m, 3 * (int64_t)p, NULL), 0);
	cr_expect_eq(len_of(m), 3 * p);
	ssize_t got;
	char *s = slice(m, 0, 3 * p, &got);
	cr_expect_eq(got, (ssize_t)(3 * p));
	cr_expect_eq(s[0], 'x');
	cr_expect_eq(s[p - 1], 'x');
	cr_expect(all_zero(s + p, 2 * p), "the bytes a resize adds are zeros");
	free(s);
	int64_t size = 0;
	cr_expect_eq(mapping_filesize(m, &size, NULL), 0);
	cr_expect_eq(size, 3 * (int64_t)p);
	mapping_unref(m);
}

/* SPEC: "the bytes a resize adds are ... zeros for anonymous memory", also
 * when the mapping shrank first and its last page held other bytes. */
static void expect_zeros_after_shrink_and_growth(struct mapping *m)
{
	size_t p = (size_t)page();
	fill(m, 'x', 2 * p);
	cr_assert_eq(mapping_resize(m, 10, NULL), 0);
	cr_assert_eq(mapping_resize(m, 2 * (int64_t)p, NULL), 0);
	ssize_t got;
	char *s = slice(m, 0, 2 * p, &got);
	cr_expect_eq(got, (ssize_t)(2 * p));
	cr_expect_eq(memcmp(s, "xxxxxxxxxx", 10), 0, "the bytes kept are kept");
	size_t stale = 0;
	for (size_t i = 10; i < 2 * p; i++)
		stale += s[i] != 0;
	cr_expect_eq(stale, 0, "%zu of the %zu bytes the resize added are old bytes, not zeros",
		     stale, 2 * p - 10);
	free(s);
	mapping_unref(m);
}

Test(resize, shared_anonymous_growth_after_a_shrink_is_zeros)
{
	expect_zeros_after_shrink_and_growth(map_anon(2 * page(), MAP_SHARED));
}

Test(resize, private_anonymous_growth_after_a_shrink_is_zeros)
{
	expect_zeros_after_shrink_and_growth(map_anon(2 * page(), MAP_PRIVATE));
}

/* The bytes a resize adds are the file's bytes there: zeros where it grew. */
Test(resize, private_file_growth_after_a_shrink_is_the_files_zeros)
{
	path_of_last = make_abc_file(2 * (size_t)page());
	struct mapping_request r;
	mapping_request_init(&r);
	r.source = path_of_last;
	r.flags = MAP_PRIVATE;
	expect_zeros_after_shrink_and_growth(must_map(&r));
}

Test(resize, shared_file_growth_after_a_shrink_is_the_files_zeros)
{
	expect_zeros_after_shrink_and_growth(map_path(make_abc_file(2 * (size_t)page())));
}

Test(resize, shared_anonymous_memory_grows)
{
	expect_anonymous_growth(MAP_SHARED);
}

Test(resize, private_anonymous_memory_grows)
{
	expect_anonymous_growth(MAP_PRIVATE);
}

static void expect_anonymous_zero_and_back(int flags)
{
	struct mapping *m = map_anon(page(), flags);
	fill(m, 'x', 10);
	cr_expect_eq(mapping_resize(m, 0, NULL), 0);
	cr_expect_eq(len_of(m), 0);
	cr_expect_eq(mapping_write_at(m, 5, "hi", 2, true, NULL), 2);
	cr_expect_eq(len_of(m), 7);
	ssize_t got;
	char *s = slice(m, 0, 7, &got);
	cr_expect_eq(got, 7);
	cr_expect(all_zero(s, 5));
	cr_expect_eq(memcmp(s + 5, "hi", 2), 0);
	free(s);
	mapping_unref(m);
}

Test(resize, shared_anonymous_to_zero_and_back)
{
	expect_anonymous_zero_and_back(MAP_SHARED);
}

Test(resize, private_anonymous_to_zero_and_back)
{
	expect_anonymous_zero_and_back(MAP_PRIVATE);
}

Test(resize, keeps_pos_past_the_new_end)
{
	struct mapping *m = map_text("0123456789");
	seek_to(m, 8);
	cr_expect_eq(mapping_resize(m, 4, NULL), 0);
	cr_expect_eq(pos_of(m), 8, "as in Python, pos is not clamped");
	mapping_unref(m);
}

Test(resize, pos_past_the_end_reads_nothing)
{
	struct mapping *m = map_text("0123456789");
	seek_to(m, 8);
	cr_assert_eq(mapping_resize(m, 4, NULL), 0);
	struct collected c = { 0 };
	cr_expect_eq(mapping_stream_read(m, 10, collect, &c), 0);
	cr_expect_eq(c.n, 0);
	cr_expect_eq(mapping_readline(m, 10, collect, &c), 0);
	cr_expect_eq(c.n, 0);
	cr_expect_eq(pos_of(m), 8);
	collected_free(&c);
	mapping_unref(m);
}

Test(resize, pos_past_the_end_refuses_stream_writes)
{
	struct mapping *m = map_text("0123456789");
	seek_to(m, 8);
	cr_assert_eq(mapping_resize(m, 4, NULL), 0);
	struct msg msg = { "" };
	expect_error(mapping_stream_write(m, "x", 1, &msg), EFBIG, msg, "data out of range");
	expect_error(mapping_stream_write(m, "", 0, &msg), EFBIG, msg, "data out of range");
	cr_expect_eq(len_of(m), 4);
	cr_expect_eq(pos_of(m), 8);
	expect_file(path_of_last, "0123");
	mapping_unref(m);
}

Test(resize, pos_past_the_end_and_relative_seeks)
{
	struct mapping *m = map_text("0123456789");
	seek_to(m, 8);
	cr_assert_eq(mapping_resize(m, 4, NULL), 0);
	struct msg msg = { "" };
	expect_error(mapping_seek(m, 0, 1, &msg), EINVAL, msg, "seek out of range");
	cr_expect_eq(mapping_seek(m, -5, 1, NULL), 0);
	cr_expect_eq(pos_of(m), 3);
	mapping_unref(m);
}

Test(resize, pos_past_the_end_and_find)
{
	struct mapping *m = map_text("0123456789");
	seek_to(m, 8);
	cr_assert_eq(mapping_resize(m, 4, NULL), 0);
	int64_t at = 99;
	cr_expect_eq(mapping_find(m, "", 0, NULL, NULL, false, &at, NULL), 0);
	cr_expect_eq(at, 4, "START defaults to pos, clamped to the length");
	cr_expect_eq(mapping_find(m, "1", 1, NULL, NULL, false, &at, NULL), 0);
	cr_expect_eq(at, -1);
	mapping_unref(m);
}

/* ---- stream and line --------------------------------------------------- */

Test(stream, read_advances_pos)
{
	struct mapping *m = map_text("0123456789");
	struct collected c = { 0 };
	cr_expect_eq(mapping_stream_read(m, 3, collect, &c), 0);
	cr_expect_str_eq(c.p, "012");
	cr_expect_eq(pos_of(m), 3);
	collected_free(&c);
	cr_expect_eq(mapping_stream_read(m, 100, collect, &c), 0);
	cr_expect_str_eq(c.p, "3456789");
	cr_expect_eq(pos_of(m), 10);
	collected_free(&c);
	cr_expect_eq(mapping_stream_read(m, 100, collect, &c), 0);
	cr_expect_eq(c.n, 0);
	cr_expect_eq(pos_of(m), 10);
	collected_free(&c);
	mapping_unref(m);
}

Test(stream, write_advances_pos)
{
	struct mapping *m = map_text("0123456789");
	seek_to(m, 2);
	cr_expect_eq(mapping_stream_write(m, "ab", 2, NULL), 2);
	cr_expect_eq(pos_of(m), 4);
	cr_expect_eq(mapping_stream_write(m, "cdefgh", 6, NULL), 6, "exactly to the end");
	cr_expect_eq(pos_of(m), 10);
	expect_file(path_of_last, "01abcdefgh");
	mapping_unref(m);
}

Test(stream, write_past_the_end_writes_nothing)
{
	struct mapping *m = map_text("0123456789");
	seek_to(m, 8);
	struct msg msg = { "" };
	expect_error(mapping_stream_write(m, "abc", 3, &msg), EFBIG, msg, "data out of range");
	cr_expect_eq(pos_of(m), 8);
	cr_expect_eq(len_of(m), 10, "the stream never grows the mapping");
	expect_file(path_of_last, "0123456789");
	mapping_unref(m);
}

Test(stream, read_only_refusal_comes_before_the_range)
{
	struct mapping *m = map_text_access("0123456789", ACCESS_READ);
	seek_to(m, 8);
	struct msg msg = { "" };
	expect_error(mapping_stream_write(m, "abc", 3, &msg), EACCES, msg,
		     "mmap can't modify a readonly memory map.");
	expect_error(mapping_stream_write(m, "a", 1, &msg), EACCES, msg,
		     "mmap can't modify a readonly memory map.");
	cr_expect_eq(pos_of(m), 8);
	mapping_unref(m);
}

Test(stream, readline_returns_one_line_at_a_time)
{
	struct mapping *m = map_text("one\ntwo\n\nlast");
	const char *want[] = { "one\n", "two\n", "\n", "last", "" };
	for (int i = 0; i < 5; i++) {
		struct collected c = { 0 };
		cr_expect_eq(mapping_readline(m, 4096, collect, &c), 0);
		cr_expect_eq(c.n, strlen(want[i]), "line %d", i);
		cr_expect_str_eq(c.p, want[i], "line %d", i);
		collected_free(&c);
	}
	cr_expect_eq(pos_of(m), 13);
	mapping_unref(m);
}

Test(stream, readline_stops_at_max)
{
	struct mapping *m = map_text("abcdef\nx");
	struct collected c = { 0 };
	cr_expect_eq(mapping_readline(m, 4, collect, &c), 0);
	cr_expect_str_eq(c.p, "abcd");
	cr_expect_eq(pos_of(m), 4);
	collected_free(&c);
	cr_expect_eq(mapping_readline(m, 4, collect, &c), 0);
	cr_expect_str_eq(c.p, "ef\n");
	cr_expect_eq(pos_of(m), 7);
	collected_free(&c);
	mapping_unref(m);
}

Test(stream, readline_from_pos)
{
	struct mapping *m = map_text("abc\ndef\n");
	seek_to(m, 5);
	struct collected c = { 0 };
	cr_expect_eq(mapping_readline(m, 100, collect, &c), 0);
	cr_expect_str_eq(c.p, "ef\n");
	collected_free(&c);
	mapping_unref(m);
}

/* ---- seek ---------------------------------------------------------------- */

Test(seek, from_the_start)
{
	struct mapping *m = map_text("0123456789");
	cr_expect_eq(mapping_seek(m, 4, 0, NULL), 0);
	cr_expect_eq(pos_of(m), 4);
	cr_expect_eq(mapping_seek(m, 10, 0, NULL), 0, "the end itself is in range");
	cr_expect_eq(pos_of(m), 10);
	cr_expect_eq(mapping_seek(m, 0, 0, NULL), 0);
	cr_expect_eq(pos_of(m), 0);
	mapping_unref(m);
}

Test(seek, from_the_current_position)
{
	struct mapping *m = map_text("0123456789");
	seek_to(m, 4);
	cr_expect_eq(mapping_seek(m, 3, 1, NULL), 0);
	cr_expect_eq(pos_of(m), 7);
	cr_expect_eq(mapping_seek(m, -7, 1, NULL), 0);
	cr_expect_eq(pos_of(m), 0);
	mapping_unref(m);
}

Test(seek, from_the_end)
{
	struct mapping *m = map_text("0123456789");
	cr_expect_eq(mapping_seek(m, -1, 2, NULL), 0);
	cr_expect_eq(pos_of(m), 9);
	cr_expect_eq(mapping_seek(m, 0, 2, NULL), 0);
	cr_expect_eq(pos_of(m), 10);
	cr_expect_eq(mapping_seek(m, -10, 2, NULL), 0);
	cr_expect_eq(pos_of(m), 0);
	mapping_unref(m);
}

static void expect_seek_refused(struct mapping *m, int64_t off, int whence, const char *message)
{
	struct msg msg = { "" };
	size_t before = pos_of(m);
	int rc = mapping_seek(m, off, whence, &msg);
	cr_expect_eq(rc, -EINVAL, "seek(%lld, %d) returned %d", (long long)off, whence, rc);
	cr_expect_str_eq(msg.text, message, "seek(%lld, %d)", (long long)off, whence);
	cr_expect_eq(pos_of(m), before, "a refused seek leaves pos alone");
}

Test(seek, out_of_range)
{
	struct mapping *m = map_text("0123456789");
	seek_to(m, 5);
	expect_seek_refused(m, -1, 0, "seek out of range");
	expect_seek_refused(m, 11, 0, "seek out of range");
	expect_seek_refused(m, 6, 1, "seek out of range");
	expect_seek_refused(m, -6, 1, "seek out of range");
	expect_seek_refused(m, 1, 2, "seek out of range");
	expect_seek_refused(m, -11, 2, "seek out of range");
	mapping_unref(m);
}

Test(seek, out_of_range_at_the_limits_of_int64)
{
	struct mapping *m = map_text("0123456789");
	seek_to(m, 5);
	expect_seek_refused(m, INT64_MAX, 0, "seek out of range");
	expect_seek_refused(m, INT64_MIN, 0, "seek out of range");
	expect_seek_refused(m, INT64_MAX, 1, "seek out of range");
	expect_seek_refused(m, INT64_MIN, 1, "seek out of range");
	expect_seek_refused(m, INT64_MAX, 2, "seek out of range");
	expect_seek_refused(m, INT64_MIN, 2, "seek out of range");
	mapping_unref(m);
}

Test(seek, unknown_whence)
{
	struct mapping *m = map_text("0123456789");
	seek_to(m, 5);
	expect_seek_refused(m, 0, 3, "unknown seek type");
	expect_seek_refused(m, 0, -1, "unknown seek type");
	expect_seek_refused(m, 1000, 7, "unknown seek type");
	mapping_unref(m);
}

/* ---- flush -------------------------------------------------------------- */

static struct mapping *two_pages(enum access_mode access)
{
	path_of_last = make_abc_file(2 * (size_t)page());
	struct mapping_request r;
	mapping_request_init(&r);
	r.source = path_of_last;
	r.access = access;
	return must_map(&r);
}

Test(flush, whole_mapping)
{
	struct mapping *m = two_pages(ACCESS_DEFAULT);
	cr_expect_eq(mapping_flush(m, NULL, NULL, NULL), 0);
	int64_t off = 0, size = 2 * page();
	cr_expect_eq(mapping_flush(m, &off, &size, NULL), 0);
	mapping_unref(m);
}

Test(flush, a_range)
{
	struct mapping *m = two_pages(ACCESS_WRITE);
	int64_t off = page(), size = page();
	cr_expect_eq(mapping_flush(m, &off, &size, NULL), 0);
	size = 0;
	cr_expect_eq(mapping_flush(m, &off, &size, NULL), 0);
	mapping_unref(m);
}

/* CPython 3.13+: SIZE defaults to the rest of the mapping after OFFSET. */

static void expect_flush_refused(struct mapping *m, int64_t off, const int64_t *size)
{
	struct msg msg = { "" };
	int rc = mapping_flush(m, &off, size, &msg);
	cr_expect_eq(rc, -EINVAL, "flush(%lld, %lld) returned %d", (long long)off,
		     size ? (long long)*size : -999LL, rc);
	cr_expect_str_eq(msg.text, "flush values out of range", "flush(%lld, %lld)",
			 (long long)off, size ? (long long)*size : -999LL);
}

/* CPython 3.13's flush(offset=0, size=len(mm)): SIZE defaults to the whole
 * length, not to the rest, so flush(PAGE) of two pages is out of range
 * (python3.13 -c 'import mmap; mmap.mmap(-1, 8192).flush(4096)' raises). */
Test(flush, size_defaults_to_the_length)
{
	struct mapping *m = two_pages(ACCESS_DEFAULT);
	int64_t zero = 0, len = 2 * page(), p = page();
	cr_expect_eq(mapping_flush(m, &zero, NULL, NULL), 0);
	cr_expect_eq(mapping_flush(m, &len, &zero, NULL), 0, "flush(len, 0) is fine");
	cr_expect_eq(mapping_flush(m, &p, &p, NULL), 0);
	expect_flush_refused(m, p, NULL);
	expect_flush_refused(m, len, NULL);
	mapping_unref(m);
}

/* Extreme values are refused without signed overflow (UBSan would abort). */
Test(flush, extreme_values_are_out_of_range)
{
	struct mapping *m = two_pages(ACCESS_DEFAULT);
	int64_t vals[] = { INT64_MIN, INT64_MIN + 1, -1, INT64_MAX, INT64_MAX - 1 };
	for (size_t i = 0; i < 5; i++) {
		expect_flush_refused(m, vals[i], NULL);
		for (size_t j = 0; j < 5; j++)
			expect_flush_refused(m, vals[i], &vals[j]);
		int64_t zero = 0;
		expect_flush_refused(m, zero, &vals[i]);
	}
	mapping_unref(m);
}

Test(flush, values_out_of_range)
{
	struct mapping *m = two_pages(ACCESS_DEFAULT);
	int64_t p = page(), len = 2 * page();
	int64_t sizes[] = { -2, len + 1, p + 1, 1, INT64_MAX };
	expect_flush_refused(m, -1, NULL);
	expect_flush_refused(m, -p, &sizes[3]);
	expect_flush_refused(m, 0, &sizes[0]);
	expect_flush_refused(m, 0, &sizes[1]);
	expect_flush_refused(m, p, &sizes[2]);
	expect_flush_refused(m, len + p, NULL);
	expect_flush_refused(m, len, &sizes[3]);
	expect_flush_refused(m, 0, &sizes[4]);
	mapping_unref(m);
}

Test(flush, read_and_copy_are_checked_too)
{
	struct mapping *r = two_pages(ACCESS_READ);
	struct mapping *c = two_pages(ACCESS_COPY);
	int64_t huge = 3 * page();
	expect_flush_refused(r, 0, &huge);
	expect_flush_refused(c, -1, NULL);
	mapping_unref(r);
	mapping_unref(c);
}

Test(flush, unaligned_offset_is_msyncs_einval)
{
	struct mapping *m = two_pages(ACCESS_WRITE);
	struct msg msg = { "" };
	int64_t off = 1, size = 1;
	expect_error(mapping_flush(m, &off, &size, &msg), EINVAL, msg, "Invalid argument");
	mapping_unref(m);
}

Test(flush, read_and_copy_do_not_msync)
{
	/* An unaligned range would fail in msync; read and copy never call it. */
	struct mapping *r = two_pages(ACCESS_READ);
	struct mapping *c = two_pages(ACCESS_COPY);
	int64_t off = 1, size = 1;
	cr_expect_eq(mapping_flush(r, &off, &size, NULL), 0);
	cr_expect_eq(mapping_flush(c, &off, &size, NULL), 0);
	mapping_unref(r);
	mapping_unref(c);
}

/* ---- madvise ------------------------------------------------------------ */

static void expect_madvise_refused(struct mapping *m, const int64_t *start, const int64_t *length,
				   const char *message)
{
	struct msg msg = { "" };
	int rc = mapping_madvise(m, MADV_NORMAL, start, length, &msg);
	cr_expect_eq(rc, -EINVAL, "madvise(%lld, %lld) returned %d", start ? (long long)*start : -999LL,
		     length ? (long long)*length : -999LL, rc);
	cr_expect_str_eq(msg.text, message);
}

Test(madvise, whole_mapping_and_ranges)
{
	struct mapping *m = two_pages(ACCESS_DEFAULT);
	int64_t p = page(), one = 1;
	cr_expect_eq(mapping_madvise(m, MADV_WILLNEED, NULL, NULL, NULL), 0);
	cr_expect_eq(mapping_madvise(m, MADV_NORMAL, &p, NULL, NULL), 0);
	cr_expect_eq(mapping_madvise(m, MADV_RANDOM, &p, &one, NULL), 0);
	mapping_unref(m);
}

Test(madvise, start_out_of_bounds)
{
	struct mapping *m = two_pages(ACCESS_DEFAULT);
	int64_t starts[] = { -1, 2 * page(), 2 * page() + 1, INT64_MIN };
	for (int i = 0; i < 4; i++)
		expect_madvise_refused(m, &starts[i], NULL, "madvise start out of bounds");
	mapping_unref(m);
}

Test(madvise, empty_mapping_has_no_valid_start)
{
	struct mapping *m = map_text("0123456789");
	cr_assert_eq(mapping_resize(m, 0, NULL), 0);
	expect_madvise_refused(m, NULL, NULL, "madvise start out of bounds");
	mapping_unref(m);
}

Test(madvise, negative_length)
{
	struct mapping *m = two_pages(ACCESS_DEFAULT);
	int64_t len = -1;
	expect_madvise_refused(m, NULL, &len, "madvise length invalid");
	mapping_unref(m);
}

Test(madvise, length_that_overflows)
{
	struct mapping *m = two_pages(ACCESS_DEFAULT);
	int64_t start = page(), len = INT64_MAX;
	expect_madvise_refused(m, &start, &len, "madvise length too large");
	mapping_unref(m);
}

Test(madvise, length_is_clamped_to_the_end)
{
	size_t p = (size_t)page();
	struct mapping *m = map_anon(2 * (int64_t)p, MAP_PRIVATE);
	fill(m, 'x', 2 * p);
	int64_t start = (int64_t)p, len = 100 * (int64_t)p;
	cr_expect_eq(mapping_madvise(m, MADV_DONTNEED, &start, &len, NULL), 0);
	ssize_t got;
	char *s = slice(m, 0, 2 * p, &got);
	cr_expect_eq(s[p - 1], 'x', "the first page is untouched");
	cr_expect(all_zero(s + p, p), "MADV_DONTNEED emptied the second page");
	free(s);
	start = 0;
	len = INT64_MAX;
	cr_expect_eq(mapping_madvise(m, MADV_DONTNEED, &start, &len, NULL), 0);
	mapping_unref(m);
}

Test(madvise, kernel_errors_come_back_with_strerror)
{
	struct mapping *m = two_pages(ACCESS_DEFAULT);
	struct msg msg = { "" };
	int64_t start = 1;
	expect_error(mapping_madvise(m, MADV_NORMAL, &start, NULL, &msg), EINVAL, msg,
		     "Invalid argument");
	expect_error(mapping_madvise(m, 9999, NULL, NULL, &msg), EINVAL, msg, "Invalid argument");
	mapping_unref(m);
}

/* ---- move ---------------------------------------------------------------- */

static void expect_move_refused(struct mapping *m, int64_t dest, int64_t src, int64_t count)
{
	struct msg msg = { "" };
	int rc = mapping_move(m, dest, src, count, &msg);
	cr_expect_eq(rc, -EINVAL, "move(%lld, %lld, %lld) returned %d", (long long)dest,
		     (long long)src, (long long)count, rc);
	cr_expect_str_eq(msg.text, "source, destination, or count out of range");
}

Test(move, copies_within_the_mapping)
{
	struct mapping *m = map_text("0123456789");
	cr_expect_eq(mapping_move(m, 0, 5, 3, NULL), 0);
	expect_slice(m, 0, "5673456789");
	expect_file(path_of_last, "5673456789");
	mapping_unref(m);
}

Test(move, overlapping_ranges_move_like_memmove)
{
	struct mapping *m = map_text("0123456789");
	cr_expect_eq(mapping_move(m, 2, 0, 6, NULL), 0);
	expect_slice(m, 0, "0101234589");
	cr_expect_eq(mapping_move(m, 0, 2, 8, NULL), 0);
	expect_slice(m, 0, "0123458989");
	mapping_unref(m);
}

Test(move, empty_move_at_the_end)
{
	struct mapping *m = map_text("0123456789");
	cr_expect_eq(mapping_move(m, 10, 10, 0, NULL), 0);
	cr_expect_eq(mapping_move(m, 0, 0, 10, NULL), 0);
	expect_slice(m, 0, "0123456789");
	mapping_unref(m);
}

Test(move, out_of_range)
{
	struct mapping *m = map_text("0123456789");
	expect_move_refused(m, -1, 0, 1);
	expect_move_refused(m, 0, -1, 1);
	expect_move_refused(m, 0, 0, -1);
	expect_move_refused(m, 8, 0, 3);
	expect_move_refused(m, 0, 8, 3);
	expect_move_refused(m, 11, 0, 0);
	expect_move_refused(m, 0, 0, INT64_MAX);
	expect_move_refused(m, INT64_MAX, 0, 1);
	expect_move_refused(m, 0, INT64_MIN, 1);
	expect_slice(m, 0, "0123456789");
	mapping_unref(m);
}

Test(move, read_access_is_refused)
{
	struct mapping *m = map_text_access("0123456789", ACCESS_READ);
	struct msg msg = { "" };
	expect_error(mapping_move(m, 0, 5, 3, &msg), EACCES, msg,
		     "mmap can't modify a readonly memory map.");
	expect_error(mapping_move(m, -1, 5, 3, &msg), EACCES, msg,
		     "mmap can't modify a readonly memory map.");
	expect_slice(m, 0, "0123456789");
	mapping_unref(m);
}

Test(move, copy_access_moves_memory_only)
{
	struct mapping *m = map_text_access("0123456789", ACCESS_COPY);
	cr_expect_eq(mapping_move(m, 0, 5, 3, NULL), 0);
	expect_slice(m, 0, "5673456789");
	expect_file(path_of_last, "0123456789");
	mapping_unref(m);
}

/* ---- find and rfind, as CPython 3.13+ --------------------------------------- */

static struct mapping *abc3;

static void setup_abc3(void)
{
	abc3 = map_text("abcabcabc");
}

static void teardown_abc3(void)
{
	mapping_unref(abc3);
	remove_made_files();
}

TestSuite(find_abc, .init = setup_abc3, .fini = teardown_abc3);

/* start/end: NULL when not given. */
static int64_t find3(const char *needle, size_t nlen, const int64_t *start, const int64_t *end,
		     bool reverse)
{
	int64_t at = -99;
	struct msg msg = { "" };
	int rc = mapping_find(abc3, needle, nlen, start, end, reverse, &at, &msg);
	cr_expect_eq(rc, 0, "find: %s", msg.text);
	return at;
}

#define FIND(needle, ...) find3(needle, sizeof(needle) - 1, __VA_ARGS__, false)
#define RFIND(needle, ...) find3(needle, sizeof(needle) - 1, __VA_ARGS__, true)
#define I(v) (&(int64_t){ v })

Test(find_abc, finds_the_first_from_pos)
{
	cr_expect_eq(FIND("bc", NULL, NULL), 1);
	seek_to(abc3, 2);
	cr_expect_eq(FIND("bc", NULL, NULL), 4, "START defaults to pos, not 0");
	cr_expect_eq(FIND("bc", I(0), NULL), 1);
	seek_to(abc3, 8);
	cr_expect_eq(FIND("bc", NULL, NULL), -1);
}

Test(find_abc, not_found)
{
	cr_expect_eq(FIND("x", NULL, NULL), -1);
	cr_expect_eq(FIND("abcabcabca", NULL, NULL), -1, "longer than the mapping");
	cr_expect_eq(RFIND("cab", I(4), I(7)), -1);
}

Test(find_abc, negative_start_counts_from_the_end)
{
	cr_expect_eq(FIND("bc", I(-4), NULL), 7);
	cr_expect_eq(FIND("bc", I(-100), NULL), 1, "clamped to 0");
	cr_expect_eq(FIND("bc", I(100), NULL), -1, "clamped to the length");
}

Test(find_abc, negative_end_counts_from_the_end)
{
	cr_expect_eq(FIND("bc", I(0), I(-5)), 1);
	cr_expect_eq(FIND("bc", I(2), I(-5)), -1, "the needle must end before END");
	cr_expect_eq(FIND("bc", I(0), I(-100)), -1);
	cr_expect_eq(FIND("bc", I(5), I(100)), 7);
}

Test(find_abc, end_before_start_is_minus_one)
{
	cr_expect_eq(FIND("c", I(5), I(3)), -1);
	cr_expect_eq(FIND("", I(5), I(3)), -1, "even for an empty needle");
	cr_expect_eq(RFIND("", I(5), I(3)), -1);
	cr_expect_eq(FIND("", I(-1), I(-2)), -1);
}

Test(find_abc, empty_needle_gives_start)
{
	cr_expect_eq(FIND("", NULL, NULL), 0);
	cr_expect_eq(FIND("", I(4), NULL), 4);
	cr_expect_eq(FIND("", I(4), I(6)), 4);
	cr_expect_eq(FIND("", I(100), NULL), 9);
	cr_expect_eq(FIND("", I(-2), NULL), 7);
	seek_to(abc3, 3);
	cr_expect_eq(FIND("", NULL, NULL), 3);
}

Test(find_abc, empty_needle_in_rfind_gives_end)
{
	cr_expect_eq(RFIND("", NULL, NULL), 9);
	cr_expect_eq(RFIND("", I(2), I(6)), 6);
	cr_expect_eq(RFIND("", I(2), I(-1)), 8);
	cr_expect_eq(RFIND("", I(2), I(100)), 9);
}

Test(find_abc, rfind_finds_the_last)
{
	cr_expect_eq(RFIND("bc", NULL, NULL), 7);
	cr_expect_eq(RFIND("bc", I(0), I(6)), 4);
	cr_expect_eq(RFIND("abc", I(0), I(8)), 3);
	cr_expect_eq(RFIND("bc", I(-3), NULL), 7);
	cr_expect_eq(RFIND("abc", I(7), NULL), -1);
	cr_expect_eq(RFIND("abcabcabc", NULL, NULL), 0);
}

Test(find_abc, rfind_start_defaults_to_pos)
{
	seek_to(abc3, 5);
	cr_expect_eq(RFIND("ab", NULL, NULL), 6);
	seek_to(abc3, 7);
	cr_expect_eq(RFIND("ab", NULL, NULL), -1);
}

Test(find_abc, extreme_indices)
{
	cr_expect_eq(FIND("a", I(INT64_MIN), I(INT64_MAX)), 0);
	cr_expect_eq(RFIND("a", I(INT64_MIN), I(INT64_MAX)), 6);
	cr_expect_eq(FIND("a", I(INT64_MAX), I(INT64_MIN)), -1);
}

Test(find_abc, find_leaves_pos_alone)
{
	seek_to(abc3, 2);
	FIND("c", NULL, NULL);
	RFIND("c", I(0), NULL);
	cr_expect_eq(pos_of(abc3), 2);
}

Test(find, binary_needle_with_nul)
{
	struct mapping *m = map_anon(16, MAP_PRIVATE);
	cr_assert_eq(mapping_write_at(m, 5, "x\0y", 3, false, NULL), 3);
	int64_t at = -99;
	cr_expect_eq(mapping_find(m, "\0y", 2, NULL, NULL, false, &at, NULL), 0);
	cr_expect_eq(at, 6);
	cr_expect_eq(mapping_find(m, "\0", 1, NULL, NULL, true, &at, NULL), 0);
	cr_expect_eq(at, 15);
	cr_expect_eq(mapping_find(m, "\0", 1, NULL, NULL, false, &at, NULL), 0);
	cr_expect_eq(at, 0);
	mapping_unref(m);
}

Test(find, in_an_empty_mapping)
{
	struct mapping *m = map_text("abc");
	cr_assert_eq(mapping_resize(m, 0, NULL), 0);
	int64_t at = -99;
	cr_expect_eq(mapping_find(m, "", 0, NULL, NULL, false, &at, NULL), 0);
	cr_expect_eq(at, 0);
	cr_expect_eq(mapping_find(m, "", 0, NULL, NULL, true, &at, NULL), 0);
	cr_expect_eq(at, 0);
	cr_expect_eq(mapping_find(m, "a", 1, NULL, NULL, true, &at, NULL), 0);
	cr_expect_eq(at, -1);
	mapping_unref(m);
}

/* ---- a closed mapping ------------------------------------------------------ */

Test(closed, every_operation_is_enxio)
{
	struct mapping *m = map_text("0123456789");
	cr_assert_eq(mapping_close(m, false, NULL), 0);
	const char *closed = "mmap closed or invalid";
	struct msg msg = { "" };
	struct collected c = { 0 };
	int64_t v = 0, at;
	char buf[4];
	expect_error(mapping_resize(m, 5, &msg), ENXIO, msg, closed);
	expect_error(mapping_seek(m, 0, 0, &msg), ENXIO, msg, closed);
	expect_error(mapping_flush(m, NULL, NULL, &msg), ENXIO, msg, closed);
	expect_error(mapping_madvise(m, MADV_NORMAL, NULL, NULL, &msg), ENXIO, msg, closed);
	expect_error(mapping_move(m, 0, 1, 1, &msg), ENXIO, msg, closed);
	expect_error(mapping_find(m, "1", 1, NULL, NULL, false, &at, &msg), ENXIO, msg, closed);
	expect_error(mapping_find(m, "1", 1, NULL, NULL, true, &at, &msg), ENXIO, msg, closed);
	expect_error(mapping_filesize(m, &v, &msg), ENXIO, msg, closed);
	expect_error(mapping_write_at(m, 0, "x", 1, true, &msg), ENXIO, msg, closed);
	expect_error(mapping_stream_write(m, "x", 1, &msg), ENXIO, msg, closed);
	expect_error(mapping_close(m, false, &msg), ENXIO, msg, closed);
	cr_expect_eq(mapping_copy_out(m, 0, buf, 4), -ENXIO);
	cr_expect_eq(mapping_read_at(m, 0, 4, collect, &c), -ENXIO);
	cr_expect_eq(mapping_stream_read(m, 4, collect, &c), -ENXIO);
	cr_expect_eq(mapping_readline(m, 4, collect, &c), -ENXIO);
	cr_expect_eq(c.calls, 0);
	struct mapping_info i;
	mapping_info(m, &i);
	cr_expect(i.closed);
	cr_expect_eq(i.len, 0);
	mapping_unref(m);
}

Test(closed, close_keeps_what_was_written)
{
	struct mapping *m = map_text("0123456789");
	cr_assert_eq(mapping_write_at(m, 0, "AB", 2, false, NULL), 2);
	cr_expect_eq(mapping_close(m, false, NULL), 0);
	expect_file(path_of_last, "AB23456789");
	mapping_unref(m);
}

Test(closed, forced_close_of_a_closed_mapping_is_still_enxio)
{
	struct mapping *m = map_anon(page(), MAP_SHARED);
	cr_expect_eq(mapping_close(m, true, NULL), 0);
	cr_expect_eq(mapping_close(m, true, NULL), -ENXIO);
	mapping_unref(m);
}

Test(closed, close_of_an_empty_mapping)
{
	struct mapping *m = map_text("0123456789");
	cr_assert_eq(mapping_resize(m, 0, NULL), 0);
	cr_expect_eq(mapping_close(m, false, NULL), 0);
	mapping_unref(m);
}

/* ---- faults: the file truncated under the mapping --------------------------- */

static struct mapping *truncated_under(void)
{
	cr_assert_eq(guard_init(), 0);
	size_t p = (size_t)page();
	path_of_last = make_abc_file(2 * p);
	struct mapping *m = map_path(path_of_last);
	cr_assert_eq(truncate(path_of_last, (off_t)p), 0);
	return m;
}

Test(fault, copy_of_a_vanished_page_is_eio)
{
	struct mapping *m = truncated_under();
	char buf[8];
	cr_expect_eq(mapping_copy_out(m, (uint64_t)page() + 1, buf, 4), -EIO);
	cr_expect_eq(mapping_copy_out(m, 0, buf, 4), 4, "the other page still reads");
	cr_expect_eq(memcmp(buf, "abcd", 4), 0);
	/* A copy that starts on a good page is short before the vanished one. */
	cr_expect_eq(mapping_copy_out(m, (uint64_t)page() - 2, buf, 4), 2, "across the edge");
	size_t e = (size_t)page() - 2;
	cr_expect(buf[0] == 'a' + (char)(e % 26) && buf[1] == 'a' + (char)((e + 1) % 26),
		  "the last bytes of page 0");
	mapping_unref(m);
}

/* data, stream and line: short up to the vanished page, then EIO there. */
Test(fault, reads_running_into_a_vanished_page_are_short)
{
	struct mapping *m = truncated_under();
	size_t p = (size_t)page();
	struct collected c = { 0 };
	cr_expect_eq(mapping_read_at(m, 10, 2 * p, collect, &c), 0);
	cr_expect_eq(c.n, p - 10, "read_at is short at the vanished page");
	collected_free(&c);
	cr_expect_eq(mapping_read_at(m, p, 10, collect, &c), -EIO, "then EIO at it");
	cr_expect_eq(c.calls, 0);
	seek_to(m, (int64_t)p - 5);
	cr_expect_eq(mapping_stream_read(m, 100, collect, &c), 0);
	cr_expect_eq(c.n, 5, "stream read is short");
	cr_expect_eq(pos_of(m), p, "pos advances by what was read");
	collected_free(&c);
	cr_expect_eq(mapping_stream_read(m, 100, collect, &c), -EIO);
	cr_expect_eq(pos_of(m), p, "a failed stream read keeps pos");
	seek_to(m, (int64_t)p - 7); /* the abc file has no newline */
	cr_expect_eq(mapping_readline(m, 4 * p, collect, &c), 0);
	cr_expect_eq(c.n, 7, "a line running into the vanished page is short");
	collected_free(&c);
	cr_expect_eq(mapping_readline(m, 4 * p, collect, &c), -EIO);
	cr_expect_eq(pos_of(m), p);
	mapping_unref(m);
}

/* A move whose source or destination runs into a vanished page is refused
 * before it changes a byte (a memmove that faults half way would not be). */
Test(fault, move_that_would_fault_changes_nothing)
{
	struct mapping *m = truncated_under();
	size_t p = (size_t)page();
	struct msg msg = { "" };
	char *before = slice(m, 0, p, NULL);
	expect_error(mapping_move(m, (int64_t)p - 1000, 0, 2000, &msg), EIO, msg,
		     "the mapping's memory is gone (was its file truncated?)");
	expect_error(mapping_move(m, 0, (int64_t)p - 1000, 2000, &msg), EIO, msg,
		     "the mapping's memory is gone (was its file truncated?)");
	char *after = slice(m, 0, p, NULL);
	cr_expect(memcmp(before, after, p) == 0, "page 0 is unchanged");
	free(before);
	free(after);
	mapping_unref(m);
}

/* Writes too (SPEC, Faults): short before the vanished page, and a write
 * that would grow the mapping grows nothing when it is short. */
Test(fault, writes_running_into_a_vanished_page_are_short)
{
	struct mapping *m = truncated_under();
	size_t p = (size_t)page();
	char *buf = malloc(3 * p);
	memset(buf, 'W', 3 * p);
	cr_expect_eq(mapping_write_at(m, p - 3, buf, 10, false, NULL), 3);
	cr_expect_eq(mapping_write_at(m, p - 3, buf, 3 * p, true, NULL), 3, "no growth");
	cr_expect_eq(len_of(m), 2 * p, "the mapping did not grow");
	cr_expect_eq(file_size(path_of_last), (int64_t)p, "nor did the file");
	seek_to(m, (int64_t)p - 4);
	cr_expect_eq(mapping_stream_write(m, buf, 10, NULL), 4);
	cr_expect_eq(pos_of(m), p);
	free(buf);
	mapping_unref(m);
}

Test(fault, write_to_a_vanished_page_is_eio)
{
	struct mapping *m = truncated_under();
	struct msg msg = { "" };
	expect_error(mapping_write_at(m, (uint64_t)page() + 1, "x", 1, false, &msg), EIO, msg,
		     "the mapping's memory is gone (was its file truncated?)");
	seek_to(m, page() + 1);
	expect_error(mapping_stream_write(m, "x", 1, &msg), EIO, msg,
		     "the mapping's memory is gone (was its file truncated?)");
	cr_expect_eq(pos_of(m), (size_t)page() + 1, "a failed stream write keeps pos");
	cr_expect_eq(mapping_write_at(m, 0, "XY", 2, false, NULL), 2);
	mapping_unref(m);
}

Test(fault, find_readline_and_move_over_a_vanished_page_are_eio)
{
	struct mapping *m = truncated_under();
	struct msg msg = { "" };
	int64_t at;
	expect_error(mapping_find(m, "zz", 2, NULL, NULL, false, &at, &msg), EIO, msg,
		     "the mapping's memory is gone (was its file truncated?)");
	expect_error(mapping_find(m, "zz", 2, NULL, NULL, true, &at, &msg), EIO, msg,
		     "the mapping's memory is gone (was its file truncated?)");
	expect_error(mapping_move(m, 0, page(), 2, &msg), EIO, msg,
		     "the mapping's memory is gone (was its file truncated?)");
	seek_to(m, page());
	struct collected c = { 0 };
	cr_expect_eq(mapping_readline(m, 100, collect, &c), -EIO);
	cr_expect_eq(c.calls, 0);
	cr_expect_eq(pos_of(m), (size_t)page());
	int64_t start = 0, end = 4;
	cr_expect_eq(mapping_find(m, "cd", 2, &start, &end, false, &at, NULL), 0);
	cr_expect_eq(at, 2, "the page that is left still searches");
	mapping_unref(m);
}

/* ---- many threads at once ----------------------------------------------------- */

#define CHUNK 4096

struct race {
	struct mapping *m;
	int rounds;
	int torn;	/* copies that saw two writes' bytes mixed */
	int errors;
};

/* Each write fills the first CHUNK bytes with one letter. */
static void *writer(void *arg)
{
	struct race *r = arg;
	char buf[CHUNK];
	for (int i = 0; i < r->rounds; i++) {
		memset(buf, 'A' + i % 26, sizeof buf);
		if (mapping_write_at(r->m, 0, buf, sizeof buf, false, NULL) != CHUNK)
			__atomic_add_fetch(&r->errors, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void *reader(void *arg)
{
	struct race *r = arg;
	char buf[CHUNK];
	for (int i = 0; i < r->rounds; i++) {
		ssize_t n = mapping_copy_out(r->m, 0, buf, sizeof buf);
		if (n != CHUNK) {
			__atomic_add_fetch(&r->errors, 1, __ATOMIC_RELAXED);
			continue;
		}
		for (size_t k = 1; k < CHUNK; k++) {
			if (buf[k] != buf[0]) {
				__atomic_add_fetch(&r->torn, 1, __ATOMIC_RELAXED);
				break;
			}
		}
	}
	return NULL;
}

/* Moves the mapping around (grow, shrink) while the others copy. */
static void *resizer(void *arg)
{
	struct race *r = arg;
	for (int i = 0; i < r->rounds; i++) {
		int64_t len = i % 2 ? CHUNK : 64 * CHUNK;
		if (mapping_resize(r->m, len, NULL) != 0)
			__atomic_add_fetch(&r->errors, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void race(struct mapping *m)
{
	struct race r = { m, 2000, 0, 0 };
	/* Start from one letter, or a reader that runs first sees "torn" bytes. */
	char first[CHUNK];
	memset(first, 'Z', sizeof first);
	cr_assert_eq(mapping_write_at(m, 0, first, sizeof first, false, NULL), CHUNK);
	pthread_t t[5];
	void *(*fn[5])(void *) = { writer, writer, reader, reader, resizer };
	for (int i = 0; i < 5; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, fn[i], &r), 0);
	for (int i = 0; i < 5; i++)
		pthread_join(t[i], NULL);
	cr_expect_eq(r.errors, 0, "%d operations failed", r.errors);
	cr_expect_eq(r.torn, 0, "%d copies saw a write half done", r.torn);
	mapping_unref(m);
}

Test(threads, copies_never_see_a_write_half_done_file)
{
	race(map_path(make_abc_file(CHUNK)));
}

Test(threads, copies_never_see_a_write_half_done_shared_anonymous)
{
	race(map_anon(CHUNK, MAP_SHARED));
}

Test(threads, copies_never_see_a_write_half_done_private_anonymous)
{
	race(map_anon(CHUNK, MAP_PRIVATE));
}

/* ---- user numbers at the limits of int64 (issue 9.15) ------------------ */

/* Every sum of user numbers is checked before it is made: run under UBSan
 * (./configure --enable-sanitizers), a signed overflow would abort. */
static const int64_t EXTREMES[] = { INT64_MIN, INT64_MIN + 1, -4096, -1, 0, 1, 4096,
				    INT64_MAX - 1, INT64_MAX };
#define N_EXTREMES (sizeof EXTREMES / sizeof EXTREMES[0])

Test(madvise, extreme_values_never_overflow)
{
	struct mapping *m = two_pages(ACCESS_DEFAULT);
	for (size_t i = 0; i < N_EXTREMES; i++) {
		for (size_t j = 0; j < N_EXTREMES; j++) {
			int rc = mapping_madvise(m, MADV_NORMAL, &EXTREMES[i], &EXTREMES[j], NULL);
			/* CPython: "madvise length too large" when start + length overflows. */
			bool ok = EXTREMES[i] >= 0 && EXTREMES[i] < 2 * page() && EXTREMES[j] >= 0 &&
				  EXTREMES[i] % page() == 0 && INT64_MAX - EXTREMES[i] >= EXTREMES[j];
			cr_expect_eq(rc == 0, ok, "madvise normal %lld %lld: %d", (long long)EXTREMES[i],
				     (long long)EXTREMES[j], rc);
		}
	}
	mapping_unref(m);
}

Test(move, extreme_values_never_overflow)
{
	struct mapping *m = two_pages(ACCESS_DEFAULT);
	int64_t len = 2 * page();
	for (size_t i = 0; i < N_EXTREMES; i++)
		for (size_t j = 0; j < N_EXTREMES; j++)
			for (size_t k = 0; k < N_EXTREMES; k++) {
				int64_t d = EXTREMES[i], s = EXTREMES[j], c = EXTREMES[k];
				bool ok = d >= 0 && s >= 0 && c >= 0 && d <= len && s <= len &&
					  c <= len - d && c <= len - s;
				cr_expect_eq(mapping_move(m, d, s, c, NULL) == 0, ok,
					     "move %lld %lld %lld", (long long)d, (long long)s,
					     (long long)c);
			}
	mapping_unref(m);
}

Test(find, extreme_values_never_overflow)
{
	struct mapping *m = two_pages(ACCESS_DEFAULT);
	for (size_t i = 0; i < N_EXTREMES; i++)
		for (size_t j = 0; j < N_EXTREMES; j++) {
			int64_t at = -2;
			cr_expect_eq(mapping_find(m, "zz", 2, &EXTREMES[i], &EXTREMES[j], i % 2, &at,
						  NULL), 0);
			cr_expect_eq(at, -1, "no 'zz' in the abc file");
			cr_expect_eq(mapping_find(m, "", 0, &EXTREMES[i], &EXTREMES[j], false, &at, NULL), 0);
			cr_expect(at >= -1 && at <= 2 * page());
		}
	mapping_unref(m);
}
