/* unit_writeback.c - write-back happens, not just "the bytes are visible".
 *
 * Reading a file back through the page cache shows written bytes with or
 * without msync, so tests through the mount cannot tell whether the server
 * wrote anything back. This program is linked with -Wl,--wrap=msync and
 * records every msync the core makes: `flush`, `close`, `close NAME` (the
 * path rmdir takes) and the table's destruction (the path every shutdown
 * takes) must each make exactly one MS_SYNC of the whole range of every
 * shared writable mapping, and `close` and shutdown none for read, copy and
 * private mappings (which have nothing to write back). */
#include "lib/unit_util.h"

#include "control/command.h"
#include "core/table.h"

#define MAX_CALLS 64

struct msync_call {
	void *addr;
	size_t len;
	int flags;
};

static struct msync_call calls[MAX_CALLS];
static int n_calls;
/* When set, the first msync counts as a write made meanwhile. */
static struct mapping *written_during;

int __wrap_msync(void *addr, size_t len, int flags);
int __real_msync(void *addr, size_t len, int flags);

int __wrap_msync(void *addr, size_t len, int flags)
{
	if (n_calls < MAX_CALLS)
		calls[n_calls] = (struct msync_call){ addr, len, flags };
	n_calls++;
	if (written_during) {
		written_during->changes++;
		written_during = NULL;
	}
	return __real_msync(addr, len, flags);
}

static void reset(void)
{
	n_calls = 0;
}

TestSuite(writeback, .init = reset, .fini = remove_made_files);

/* The MS_SYNC calls that covered exactly m's whole range. */
static int syncs_of(void *data, size_t len)
{
	int k = 0;
	for (int i = 0; i < n_calls && i < MAX_CALLS; i++)
		if (calls[i].addr == data && calls[i].len == len && (calls[i].flags & MS_SYNC) &&
		    !(calls[i].flags & MS_ASYNC))
			k++;
	return k;
}

static struct mapping *map_as(const char *access_word, int flags)
{
	struct mapping_request r;
	mapping_request_init(&r);
	r.source = make_abc_file(2 * (size_t)page());
	if (access_word) {
		cr_assert_eq(names_access_parse(access_word, strlen(access_word), &r.access, NULL), 0);
	}
	if (flags)
		r.flags = flags;
	return must_map(&r);
}

static struct mapping *map_shared_anon(void)
{
	return map_anon(2 * page(), MAP_SHARED);
}

Test(writeback, flush_syncs_a_shared_writable_mapping_once)
{
	struct mapping *ms[] = { map_as(NULL, 0), map_as("write", 0), map_shared_anon() };
	for (int i = 0; i < 3; i++) {
		reset();
		cr_assert_eq(mapping_write_at(ms[i], 0, "dirty", 5, false, NULL), 5);
		cr_expect_eq(mapping_flush(ms[i], NULL, NULL, NULL), 0);
		cr_expect_eq(n_calls, 1, "mapping %d: one msync, got %d", i, n_calls);
		cr_expect_eq(syncs_of(ms[i]->data, ms[i]->len), 1, "mapping %d: MS_SYNC of it all", i);
		mapping_unref(ms[i]);
	}
}

Test(writeback, flush_of_read_and_copy_writes_nothing_back)
{
	struct mapping *ms[] = { map_as("read", 0), map_as("copy", 0) };
	for (int i = 0; i < 2; i++) {
		reset();
		cr_expect_eq(mapping_flush(ms[i], NULL, NULL, NULL), 0);
		cr_expect_eq(n_calls, 0, "mapping %d: no msync", i);
		mapping_unref(ms[i]);
	}
}

Test(writeback, flush_of_a_range_syncs_that_range)
{
	struct mapping *m = map_as(NULL, 0);
	int64_t off = page(), size = 10;
	reset();
	cr_expect_eq(mapping_flush(m, &off, &size, NULL), 0);
	cr_expect_eq(n_calls, 1);
	cr_expect_eq(syncs_of(m->data + page(), 10), 1, "MS_SYNC of [PAGE, PAGE+10)");
	mapping_unref(m);
}

Test(writeback, close_syncs_a_shared_writable_mapping_once)
{
	struct mapping *ms[] = { map_as(NULL, 0), map_as("write", 0), map_shared_anon() };
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(mapping_write_at(ms[i], 0, "dirty", 5, false, NULL), 5);
		void *data = ms[i]->data;
		size_t len = ms[i]->len;
		reset();
		cr_expect_eq(mapping_close(ms[i], false, NULL), 0);
		cr_expect_eq(n_calls, 1, "mapping %d: one msync on close, got %d", i, n_calls);
		cr_expect_eq(syncs_of(data, len), 1, "mapping %d: MS_SYNC of it all", i);
		mapping_unref(ms[i]);
	}
}

Test(writeback, close_of_read_copy_and_private_writes_nothing_back)
{
	struct mapping *ms[] = { map_as("read", 0), map_as("copy", 0), map_as(NULL, MAP_PRIVATE),
				 map_anon(page(), MAP_PRIVATE) };
	for (int i = 0; i < 4; i++) {
		reset();
		cr_expect_eq(mapping_close(ms[i], false, NULL), 0);
		cr_expect_eq(n_calls, 0, "mapping %d: no msync on close", i);
		mapping_unref(ms[i]);
	}
}

static struct table T;

static struct mapping *table_map(const char *name, const char *access_word, int flags)
{
	struct mapping *m = mapping_new();
	cr_assert_not_null(m);
	cr_assert_eq(table_reserve(&T, m, name, strlen(name), NULL), 0);
	struct mapping_request r;
	mapping_request_init(&r);
	r.source = make_abc_file(2 * (size_t)page());
	if (access_word)
		cr_assert_eq(names_access_parse(access_word, strlen(access_word), &r.access, NULL), 0);
	if (flags)
		r.flags = flags;
	struct msg msg = { "" };
	cr_assert_eq(mapping_establish(m, &r, &T.budget, &msg), 0, "%s", msg.text);
	table_publish(&T, m);
	mapping_unref(m);
	return m;
}

/* rmdir maps/NAME runs command_close_name, as `close NAME` does. */
Test(writeback, close_name_the_path_of_rmdir_syncs_once)
{
	cr_assert_eq(table_init(&T, 16, UINT64_MAX), 0);
	struct mapping *m = table_map("a", NULL, 0);
	cr_assert_eq(mapping_write_at(m, 0, "dirty", 5, false, NULL), 5);
	void *data = m->data;
	size_t len = m->len;
	struct command_env env = { .table = &T, .mountpoint = "/nonexistent", .uid = 0 };
	reset();
	struct msg msg = { "" };
	cr_expect_eq(command_close_name(&env, "a", 1, &msg), 0, "%s", msg.text);
	cr_expect_eq(n_calls, 1, "one msync, got %d", n_calls);
	cr_expect_eq(syncs_of(data, len), 1);
	table_destroy(&T);
}

/* Every shutdown (unmount, SIGINT/TERM/HUP) ends in table_destroy. */
Test(writeback, shutdown_syncs_each_shared_writable_mapping_once)
{
	cr_assert_eq(table_init(&T, 16, UINT64_MAX), 0);
	struct mapping *w1 = table_map("w1", NULL, 0), *w2 = table_map("w2", "write", 0);
	(void)table_map("r", "read", 0);
	(void)table_map("c", "copy", 0);
	(void)table_map("p", NULL, MAP_PRIVATE);
	struct msync_call want[] = { { w1->data, w1->len, 0 }, { w2->data, w2->len, 0 } };
	reset();
	table_destroy(&T);
	cr_expect_eq(n_calls, 2, "one msync per shared writable mapping, got %d", n_calls);
	for (int i = 0; i < 2; i++)
		cr_expect_eq(syncs_of(want[i].addr, want[i].len), 1, "mapping w%d", i + 1);
}

/* close writes back under the shared lock (reads go on meanwhile); bytes
 * written in that time must be written back too, under the exclusive one. */
Test(writeback, close_writes_back_what_was_written_during_it)
{
	struct mapping *m = map_as(NULL, 0);
	void *data = m->data;
	size_t len = m->len;
	reset();
	written_during = m;
	cr_expect_eq(mapping_close(m, false, NULL), 0);
	cr_expect_eq(syncs_of(data, len), 2, "written meanwhile: synced again, got %d", n_calls);
	mapping_unref(m);
}
