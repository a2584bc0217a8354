/* unit_table.c - the table of mappings: given and numbered names, lookups
 * by name and id, max_maps, listing, and entries reserved but not yet
 * published. */
#include "lib/unit_util.h"

#include "core/table.h"

static struct table T;

static void table_up(void)
{
	cr_assert_eq(table_init(&T, 1000, UINT64_MAX), 0);
}

static void table_down(void)
{
	table_destroy(&T);
	remove_made_files();
}

TestSuite(names, .init = table_up, .fini = table_down);
TestSuite(numbers, .init = table_up, .fini = table_down);
TestSuite(lookup, .init = table_up, .fini = table_down);
TestSuite(limits);
TestSuite(listing, .init = table_up, .fini = table_down);

/* Reserve a mapping under a name (NULL: the next number); the table keeps
 * the only reference. Returns NULL and fills msg when refused. */
static struct mapping *reserve_in(struct table *t, const char *name, struct msg *msg)
{
	struct mapping *m = mapping_new();
	cr_assert_not_null(m);
	int rc = table_reserve(t, m, name, name ? strlen(name) : 0, msg);
	mapping_unref(m);
	return rc == 0 ? m : NULL;
}

static struct mapping *reserve(const char *name)
{
	struct msg msg = { "" };
	struct mapping *m = reserve_in(&T, name, &msg);
	cr_assert_not_null(m, "reserve %s: %s", name ? name : "(auto)", msg.text);
	return m;
}

static struct mapping *add(const char *name)
{
	struct mapping *m = reserve(name);
	table_publish(&T, m);
	return m;
}

static bool visible(const char *name)
{
	struct mapping *m = table_find(&T, name, strlen(name));
	mapping_unref(m);
	return m != NULL;
}

/* The listing as "a,b,c". */
static char *listing(void)
{
	struct table_entry *v;
	size_t n;
	cr_assert_eq(table_list(&T, &v, &n), 0);
	char *out = calloc(1, n * (MAPNAME_MAX + 1) + 1);
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(out, ",");
		strcat(out, v[i].name);
		if (i)
			cr_expect_lt(v[i - 1].id, v[i].id, "listed in id order");
	}
	free(v);
	return out;
}

static void expect_listing(const char *want)
{
	char *got = listing();
	cr_expect_str_eq(got, want);
	free(got);
}

/* ---- names --------------------------------------------------------------- */

Test(names, given_name_is_used)
{
	struct mapping *m = add("alpha");
	cr_expect_str_eq(m->name, "alpha");
	cr_expect(visible("alpha"));
}

Test(names, valid_names)
{
	const char *good[] = { "a", "Z", "9", "a.b", "a-b", "a_b", "-x", "_", "x.",
			       "0123456789012345678901234567890123456789012345678901234567890123" };
	for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
		cr_expect(mapname_valid(good[i], strlen(good[i])), "[%s]", good[i]);
		struct msg msg = { "" };
		cr_expect_not_null(reserve_in(&T, good[i], &msg), "[%s]: %s", good[i], msg.text);
	}
}

Test(names, invalid_names_are_einval)
{
	const char *bad[] = { "", ".", "..", ".hidden", "a/b", "a b", "a*", "caf\xc3\xa9",
			      "a\nb", "01234567890123456789012345678901234567890123456789012345678901234" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		cr_expect_not(mapname_valid(bad[i], strlen(bad[i])), "[%s]", bad[i]);
		struct msg msg = { "" };
		cr_expect_null(reserve_in(&T, bad[i], &msg), "[%s] is refused", bad[i]);
		/* Messages are one line: control bytes in them read as \xHH. */
		const char *shown = strcmp(bad[i], "a\nb") == 0 ? "a\\x0ab" : bad[i];
		char want[256];
		snprintf(want, sizeof want, "invalid mapping name '%s' (1-64 of A-Z a-z 0-9 . _ -, "
			 "not starting with '.')", shown);
		cr_expect_str_eq(msg.text, want);
	}
	expect_listing("");
	struct table_stats s;
	table_stats(&T, &s);
	cr_expect_eq(s.maps, 0);
}

Test(names, nul_byte_makes_a_name_invalid)
{
	cr_expect_not(mapname_valid("a\0b", 3));
	struct mapping *m = mapping_new();
	struct msg msg = { "" };
	cr_expect_eq(table_reserve(&T, m, "a\0b", 3, &msg), -EINVAL);
	mapping_unref(m);
}

Test(names, name_in_use_is_eexist)
{
	add("x");
	struct msg msg = { "" };
	cr_expect_null(reserve_in(&T, "x", &msg));
	cr_expect_str_eq(msg.text, "a mapping named 'x' exists already");
	struct mapping *m = mapping_new();
	cr_expect_eq(table_reserve(&T, m, "x", 1, NULL), -EEXIST);
	mapping_unref(m);
}

Test(names, reserved_name_is_in_use_too)
{
	reserve("pending");
	struct mapping *m = mapping_new();
	struct msg msg = { "" };
	expect_error(table_reserve(&T, m, "pending", 7, &msg), EEXIST, msg,
		     "a mapping named 'pending' exists already");
	mapping_unref(m);
}

Test(names, names_are_case_sensitive)
{
	add("map");
	add("MAP");
	cr_expect(visible("map"));
	cr_expect(visible("MAP"));
	cr_expect_not(visible("Map"));
}

Test(names, dropped_name_can_be_given_again)
{
	struct mapping *m = add("again");
	table_drop(&T, m);
	cr_expect_not(visible("again"));
	add("again");
	cr_expect(visible("again"));
}

/* ---- numbered names ------------------------------------------------------ */

Test(numbers, count_from_zero)
{
	cr_expect_str_eq(add(NULL)->name, "0");
	cr_expect_str_eq(add(NULL)->name, "1");
	cr_expect_str_eq(add(NULL)->name, "2");
}

Test(numbers, smallest_free_number_is_reused)
{
	add(NULL);
	struct mapping *one = add(NULL);
	add(NULL);
	table_drop(&T, one);
	cr_expect_str_eq(add(NULL)->name, "1");
	cr_expect_str_eq(add(NULL)->name, "3");
}

Test(numbers, lowest_of_several_freed)
{
	struct mapping *v[6];
	for (int i = 0; i < 6; i++)
		v[i] = add(NULL);
	table_drop(&T, v[4]);
	table_drop(&T, v[1]);
	table_drop(&T, v[3]);
	cr_expect_str_eq(add(NULL)->name, "1");
	cr_expect_str_eq(add(NULL)->name, "3");
	cr_expect_str_eq(add(NULL)->name, "4");
	cr_expect_str_eq(add(NULL)->name, "6");
}

Test(numbers, given_numbers_are_skipped)
{
	add("0");
	add("2");
	cr_expect_str_eq(add(NULL)->name, "1");
	cr_expect_str_eq(add(NULL)->name, "3");
}

Test(numbers, reserved_numbers_are_skipped)
{
	reserve(NULL);
	cr_expect_str_eq(reserve(NULL)->name, "1");
}

Test(numbers, given_number_that_is_taken)
{
	add(NULL);
	struct msg msg = { "" };
	cr_expect_null(reserve_in(&T, "0", &msg));
	cr_expect_str_eq(msg.text, "a mapping named '0' exists already");
}

Test(numbers, other_spellings_are_other_names)
{
	add("00");
	add("01");
	cr_expect_str_eq(add(NULL)->name, "0");
	cr_expect_str_eq(add(NULL)->name, "1");
}

Test(numbers, a_freed_given_number_is_reused)
{
	add(NULL);
	struct mapping *one = add("1");
	table_drop(&T, one);
	cr_expect_str_eq(add(NULL)->name, "1");
}

Test(numbers, refused_reservations_take_no_number)
{
	struct msg msg = { "" };
	cr_expect_null(reserve_in(&T, "bad/name", &msg));
	cr_expect_str_eq(add(NULL)->name, "0");
}

Test(numbers, past_a_word_of_the_bitmap)
{
	for (int i = 0; i < 150; i++) {
		char want[8];
		snprintf(want, sizeof want, "%d", i);
		cr_expect_str_eq(add(NULL)->name, want);
	}
	struct mapping *m = table_find(&T, "70", 2);
	cr_assert_not_null(m);
	table_drop(&T, m);
	mapping_unref(m);
	cr_expect_str_eq(add(NULL)->name, "70");
	cr_expect_str_eq(add(NULL)->name, "150");
}

/* ---- lookups --------------------------------------------------------------- */

Test(lookup, reserved_but_unpublished_is_invisible)
{
	struct mapping *m = reserve("hidden");
	struct msg msg = { "" };
	struct mapping *out = NULL;
	cr_expect_null(table_find(&T, "hidden", 6));
	cr_expect_null(table_find_id(&T, m->id));
	expect_error(table_lookup(&T, "hidden", 6, &out, &msg), ENOENT, msg,
		     "no mapping named 'hidden'");
	expect_listing("");
	table_publish(&T, m);
	struct mapping *f = table_find(&T, "hidden", 6);
	cr_expect_eq(f, m);
	mapping_unref(f);
	expect_listing("hidden");
}

Test(lookup, by_name_and_by_id)
{
	struct mapping *a = add("a"), *b = add("b");
	cr_expect_neq(a->id, b->id);
	struct mapping *f = table_find_id(&T, b->id);
	cr_expect_eq(f, b);
	mapping_unref(f);
	f = table_find(&T, "a", 1);
	cr_expect_eq(f, a);
	mapping_unref(f);
	cr_expect_null(table_find_id(&T, 0));
	cr_expect_null(table_find_id(&T, b->id + 100));
	cr_expect_null(table_find(&T, "c", 1));
}

Test(lookup, name_length_is_authoritative)
{
	add("ab");
	struct mapping *f = table_find(&T, "abc", 2);
	cr_expect_not_null(f);
	mapping_unref(f);
	cr_expect_null(table_find(&T, "ab", 1));
}

Test(lookup, ids_are_never_reused)
{
	struct mapping *a = add("a");
	uint64_t id = a->id;
	table_drop(&T, a);
	cr_expect_null(table_find_id(&T, id));
	struct mapping *b = add("a");
	cr_expect_gt(b->id, id);
	cr_expect_null(table_find_id(&T, id));
}

Test(lookup, lookup_errors_like_close)
{
	add("there");
	struct msg msg = { "" };
	struct mapping *out = NULL;
	expect_error(table_lookup(&T, "a/b", 3, &out, &msg), EINVAL, msg,
		     "invalid mapping name 'a/b'");
	expect_error(table_lookup(&T, "", 0, &out, &msg), EINVAL, msg, "invalid mapping name ''");
	expect_error(table_lookup(&T, "zz", 2, &out, &msg), ENOENT, msg,
		     "no mapping named 'zz'");
	cr_expect_eq(table_lookup(&T, "there", 5, &out, &msg), 0);
	cr_expect_str_eq(out->name, "there");
	mapping_unref(out);
}

Test(lookup, found_mapping_outlives_its_drop)
{
	add("keep");
	struct mapping *m = table_find(&T, "keep", 4);
	cr_assert_not_null(m);
	table_drop(&T, m);
	table_drop(&T, m); /* a second drop is harmless */
	cr_expect_not(visible("keep"));
	cr_expect_str_eq(m->name, "keep", "the finder's reference keeps it alive");
	mapping_unref(m);
}

Test(lookup, many_mappings_stay_findable)
{
	uint64_t ids[300];
	for (int i = 0; i < 300; i++)
		ids[i] = add(NULL)->id;
	for (int i = 0; i < 300; i++) {
		char name[8];
		snprintf(name, sizeof name, "%d", i);
		struct mapping *m = table_find(&T, name, strlen(name));
		cr_expect_not_null(m, "%s", name);
		if (!m)
			continue;
		cr_expect_eq(m->id, ids[i]);
		mapping_unref(m);
		m = table_find_id(&T, ids[i]);
		cr_expect_not_null(m, "id %llu", (unsigned long long)ids[i]);
		mapping_unref(m);
	}
}

/* ---- limits ----------------------------------------------------------------- */

Test(limits, max_maps_is_enospc)
{
	struct table t;
	cr_assert_eq(table_init(&t, 2, UINT64_MAX), 0);
	struct msg msg = { "" };
	struct mapping *a = reserve_in(&t, NULL, &msg);
	cr_assert_not_null(a);
	cr_assert_not_null(reserve_in(&t, "b", &msg));
	cr_expect_null(reserve_in(&t, NULL, &msg));
	cr_expect_str_eq(msg.text, "max_maps reached: 2 mappings");
	struct mapping *m = mapping_new();
	cr_expect_eq(table_reserve(&t, m, "c", 1, NULL), -ENOSPC);
	mapping_unref(m);
	table_drop(&t, a);
	cr_expect_not_null(reserve_in(&t, NULL, &msg), "room again after a drop: %s", msg.text);
	table_destroy(&t);
}

Test(limits, max_maps_is_checked_before_the_name)
{
	struct table t;
	cr_assert_eq(table_init(&t, 1, UINT64_MAX), 0);
	struct msg msg = { "" };
	cr_assert_not_null(reserve_in(&t, "a", &msg));
	cr_expect_null(reserve_in(&t, "a", &msg));
	cr_expect_str_eq(msg.text, "max_maps reached: 1 mappings");
	table_destroy(&t);
}

Test(limits, stats_count_mappings_and_bytes)
{
	struct table t;
	cr_assert_eq(table_init(&t, 7, 1 << 20), 0);
	struct table_stats s;
	table_stats(&t, &s);
	cr_expect_eq(s.maps, 0);
	cr_expect_eq(s.bytes, 0);
	cr_expect_eq(s.max_maps, 7);
	cr_expect_eq(s.max_bytes, 1 << 20);
	struct mapping *m = mapping_new();
	struct msg msg = { "" };
	cr_assert_eq(table_reserve(&t, m, NULL, 0, &msg), 0);
	struct mapping_request r;
	mapping_request_init(&r);
	r.length = 3 * page();
	cr_assert_eq(mapping_establish(m, &r, &t.budget, &msg), 0, "%s", msg.text);
	table_publish(&t, m);
	table_stats(&t, &s);
	cr_expect_eq(s.maps, 1);
	cr_expect_eq(s.bytes, 3 * (uint64_t)page());
	cr_expect_eq(mapping_close(m, false, NULL), 0);
	table_drop(&t, m);
	mapping_unref(m);
	table_stats(&t, &s);
	cr_expect_eq(s.maps, 0);
	cr_expect_eq(s.bytes, 0);
	table_destroy(&t);
}

Test(limits, destroy_closes_and_flushes_every_mapping)
{
	struct table t;
	cr_assert_eq(table_init(&t, 10, UINT64_MAX), 0);
	const char *path = make_file("0123456789", 10);
	struct mapping *m = mapping_new();
	struct msg msg = { "" };
	cr_assert_eq(table_reserve(&t, m, "f", 1, &msg), 0);
	struct mapping_request r;
	mapping_request_init(&r);
	r.source = path;
	cr_assert_eq(mapping_establish(m, &r, &t.budget, &msg), 0, "%s", msg.text);
	table_publish(&t, m);
	cr_assert_eq(mapping_write_at(m, 0, "AB", 2, false, NULL), 2);
	struct mapping *pending = mapping_new();
	cr_assert_eq(table_reserve(&t, pending, NULL, 0, &msg), 0);
	mapping_unref(pending);
	table_destroy(&t);
	cr_expect(m->closed, "destroy closed the mapping a reference still points at");
	mapping_unref(m);
	char buf[11] = "";
	file_read(path, 0, buf, 10);
	cr_expect_str_eq(buf, "AB23456789");
	remove_made_files();
}

/* ---- listing ----------------------------------------------------------------- */

Test(listing, empty_table)
{
	struct table_entry *v = NULL;
	size_t n = 99;
	cr_expect_eq(table_list(&T, &v, &n), 0);
	cr_expect_eq(n, 0);
	free(v);
}

Test(listing, in_id_order_not_name_order)
{
	add("c");
	add("a");
	add("b");
	expect_listing("c,a,b");
}

Test(listing, readded_names_go_last)
{
	add(NULL);
	struct mapping *one = add(NULL);
	add(NULL);
	table_drop(&T, one);
	add(NULL);
	expect_listing("0,2,1");
}

Test(listing, leaves_out_reserved_entries)
{
	add("a");
	reserve("b");
	add("c");
	expect_listing("a,c");
}

Test(listing, many_entries_in_order)
{
	for (int i = 0; i < 200; i++)
		add(NULL);
	struct table_entry *v;
	size_t n;
	cr_assert_eq(table_list(&T, &v, &n), 0);
	cr_assert_eq(n, 200);
	for (size_t i = 0; i < n; i++) {
		char want[24];
		snprintf(want, sizeof want, "%zu", i);
		cr_expect_str_eq(v[i].name, want);
	}
	free(v);
}

/* ---- per-user accounts -------------------------------------------------- */

TestSuite(per_user);

static struct mapping *reserve_as(struct table *t, uid_t uid, struct msg *msg)
{
	struct mapping *m = mapping_new();
	cr_assert_not_null(m);
	m->uid = uid;
	int rc = table_reserve(t, m, NULL, 0, msg);
	mapping_unref(m);
	return rc == 0 ? m : NULL;
}

Test(per_user, user_max_maps_is_enospc_for_that_user_only)
{
	struct table t;
	cr_assert_eq(table_init(&t, 100, UINT64_MAX), 0);
	table_set_user_limits(&t, 2, UINT64_MAX, 0);
	struct msg msg = { "" };
	struct mapping *a = reserve_as(&t, 1000, &msg);
	cr_assert_not_null(a);
	cr_assert_not_null(reserve_as(&t, 1000, &msg));
	cr_expect_null(reserve_as(&t, 1000, &msg));
	cr_expect_str_eq(msg.text, "user_max_maps reached: uid 1000 holds 2 mappings");
	cr_expect_not_null(reserve_as(&t, 1001, &msg), "another user: %s", msg.text);
	for (int i = 0; i < 5; i++)
		cr_expect_not_null(reserve_as(&t, 0, &msg), "the exempt uid: %s", msg.text);
	table_drop(&t, a);
	cr_expect_not_null(reserve_as(&t, 1000, &msg), "room after a drop: %s", msg.text);
	table_destroy(&t);
}

Test(per_user, a_users_budget_takes_from_the_total_too)
{
	struct table t;
	cr_assert_eq(table_init(&t, 100, 10000), 0);
	table_set_user_limits(&t, 100, 6000, 0);
	struct msg msg = { "" };
	struct mapping *a = reserve_as(&t, 7, &msg), *b = reserve_as(&t, 8, &msg);
	cr_assert(a && b);
	struct user_account *ua = table_account(&t, a), *ub = table_account(&t, b);
	cr_assert(ua && ub && ua != ub);
	cr_expect_null(table_account(&t, reserve_as(&t, 0, &msg)), "the exempt uid has none");
	cr_expect_eq(mapping_budget_take(&ua->bytes, 6001, &msg), -ENOSPC);
	cr_expect_str_eq(msg.text, "user_max_bytes reached: 0 bytes mapped, limit 6000");
	cr_expect_eq(mapping_budget_take(&ua->bytes, 6000, &msg), 0);
	/* b's share has room, the total has not: neither budget is charged. */
	cr_expect_eq(mapping_budget_take(&ub->bytes, 5000, &msg), -ENOSPC);
	cr_expect_str_eq(msg.text, "max_bytes reached: 6000 bytes mapped, limit 10000");
	cr_expect_eq(atomic_load(&ub->bytes.used), 0);
	cr_expect_eq(atomic_load(&t.budget.used), 6000);
	mapping_budget_give(&ua->bytes, 6000);
	cr_expect_eq(atomic_load(&t.budget.used), 0, "giving back gives to the total");
	cr_expect_eq(mapping_budget_take(&ub->bytes, 5000, &msg), 0, "%s", msg.text);
	mapping_budget_give(&ub->bytes, 5000);
	table_destroy(&t);
}

Test(per_user, one_locked_counter_per_user)
{
	struct table t;
	cr_assert_eq(table_init(&t, 100, UINT64_MAX), 0);
	table_set_user_limits(&t, 100, UINT64_MAX, 0);
	struct msg msg = { "" };
	_Atomic uint64_t *a = table_locked_counter(&t, 1000), *b = table_locked_counter(&t, 1001);
	cr_assert(a && b && a != b);
	cr_expect_eq(table_locked_counter(&t, 1000), a, "the same user, the same counter");
	cr_expect_eq(table_locked_counter(&t, 0), &t.locked, "the exempt uid's own");
	struct mapping *m = reserve_as(&t, 1000, &msg);
	cr_assert_not_null(m);
	cr_expect_eq(&table_account(&t, m)->locked, a, "a map counts where the user's lock does");
	table_destroy(&t);
}
