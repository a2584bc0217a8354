/* unit_names.c - the words for access modes, MAP_ flags, PROT_ bits and
 * MADV_ advice, both ways. */
#include "lib/unit_util.h"

#include "core/names.h"

TestSuite(access);
TestSuite(flags);
TestSuite(prot);
TestSuite(advice);

static int parse_access(const char *w, enum access_mode *a, struct msg *m)
{
	return names_access_parse(w, strlen(w), a, m);
}

static int parse_flags(const char *w, int *f, struct msg *m)
{
	return names_flags_parse(w, strlen(w), f, m);
}

static int parse_prot(const char *w, int *p, struct msg *m)
{
	return names_prot_parse(w, strlen(w), p, m);
}

static int parse_advice(const char *w, int *a, struct msg *m)
{
	return names_advice_parse(w, strlen(w), a, m);
}

/* ---- access ----------------------------------------------------------- */

Test(access, every_word_round_trips)
{
	const char *words[] = { "default", "read", "write", "copy" };
	enum access_mode modes[] = { ACCESS_DEFAULT, ACCESS_READ, ACCESS_WRITE, ACCESS_COPY };
	for (int i = 0; i < 4; i++) {
		struct msg m = { "" };
		enum access_mode a = (enum access_mode)-1;
		cr_expect_eq(parse_access(words[i], &a, &m), 0, "%s", words[i]);
		cr_expect_eq(a, modes[i], "%s", words[i]);
		cr_expect_str_eq(names_access_name(modes[i]), words[i]);
	}
}

Test(access, unknown_word_is_cpythons_error)
{
	const char *bad[] = { "", "rw", "READ", "readonly", "writ" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct msg m = { "" };
		enum access_mode a = ACCESS_COPY;
		expect_error(parse_access(bad[i], &a, &m), EINVAL, m,
			     "mmap invalid access parameter.");
		cr_expect_eq(a, ACCESS_COPY, "[%s] leaves the output alone", bad[i]);
	}
}

Test(access, length_is_authoritative)
{
	struct msg m = { "" };
	enum access_mode a;
	cr_expect_eq(names_access_parse("readx", 4, &a, &m), 0);
	cr_expect_eq(a, ACCESS_READ);
	cr_expect_eq(names_access_parse("read", 3, &a, &m), -EINVAL);
}

/* ---- flags ------------------------------------------------------------ */

Test(flags, map_types)
{
	struct msg m = { "" };
	int f = -1;
	cr_expect_eq(parse_flags("shared", &f, &m), 0);
	cr_expect_eq(f, MAP_SHARED);
	cr_expect_eq(parse_flags("private", &f, &m), 0);
	cr_expect_eq(f, MAP_PRIVATE);
#ifdef MAP_SHARED_VALIDATE
	cr_expect_eq(parse_flags("shared_validate", &f, &m), 0);
	cr_expect_eq(f, MAP_SHARED_VALIDATE);
#endif
}

Test(flags, type_plus_extra_flags)
{
	struct msg m = { "" };
	int f = -1;
	cr_expect_eq(parse_flags("shared,populate,noreserve", &f, &m), 0, "%s", m.text);
	cr_expect_eq(f, MAP_SHARED | MAP_POPULATE | MAP_NORESERVE);
	cr_expect_eq(parse_flags("private,stack,locked,nonblock", &f, &m), 0, "%s", m.text);
	cr_expect_eq(f, MAP_PRIVATE | MAP_STACK | MAP_LOCKED | MAP_NONBLOCK);
}

Test(flags, every_extra_flag_by_name)
{
	const struct {
		const char *name;
		int value;
	} all[] = {
		{ "populate", MAP_POPULATE },	{ "noreserve", MAP_NORESERVE },
		{ "stack", MAP_STACK },		{ "locked", MAP_LOCKED },
		{ "nonblock", MAP_NONBLOCK },	{ "hugetlb", MAP_HUGETLB },
		{ "growsdown", MAP_GROWSDOWN }, { "32bit", MAP_32BIT },
#ifdef MAP_SYNC
		{ "sync", MAP_SYNC },
#endif
	};
	for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
		char list[64];
		snprintf(list, sizeof list, "shared,%s", all[i].name);
		struct msg m = { "" };
		int f = -1;
		cr_expect_eq(parse_flags(list, &f, &m), 0, "%s: %s", list, m.text);
		cr_expect_eq(f, MAP_SHARED | all[i].value, "%s", list);
		char shown[128];
		names_flags_format(f, shown, sizeof shown);
		cr_expect_str_eq(shown, list);
	}
}

Test(flags, fixed_is_not_offered)
{
	struct msg m = { "" };
	int f;
	cr_expect_eq(parse_flags("shared,fixed", &f, &m), -EINVAL);
	cr_expect_eq(parse_flags("fixed_noreplace", &f, &m), -EINVAL);
	cr_expect_eq(parse_flags("anonymous", &f, &m), -EINVAL);
}

Test(flags, unknown_flag_names_it)
{
	struct msg m = { "" };
	int f;
	cr_expect_eq(parse_flags("shared,bogus", &f, &m), -EINVAL);
	cr_expect(strncmp(m.text, "unknown flag 'bogus' (known: shared, private", 44) == 0,
		  "message: %s", m.text);
}

Test(flags, names_are_case_sensitive)
{
	struct msg m = { "" };
	int f;
	cr_expect_eq(parse_flags("SHARED", &f, &m), -EINVAL);
}

Test(flags, empty_items_are_refused)
{
	const char *bad[] = { "", ",", "shared,", ",shared", "shared,,populate" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct msg m = { "" };
		int f;
		cr_expect_eq(parse_flags(bad[i], &f, &m), -EINVAL, "[%s]", bad[i]);
		cr_expect(strncmp(m.text, "unknown flag ''", 15) == 0, "[%s]: %s", bad[i],
			  m.text);
	}
}

Test(flags, format_shows_type_then_extras)
{
	char buf[128];
	names_flags_format(MAP_SHARED, buf, sizeof buf);
	cr_expect_str_eq(buf, "shared");
	names_flags_format(MAP_PRIVATE, buf, sizeof buf);
	cr_expect_str_eq(buf, "private");
	names_flags_format(MAP_PRIVATE | MAP_NORESERVE, buf, sizeof buf);
	cr_expect_str_eq(buf, "private,noreserve");
	names_flags_format(MAP_SHARED | MAP_POPULATE | MAP_STACK, buf, sizeof buf);
	cr_expect_str_eq(buf, "shared,populate,stack");
}

Test(flags, format_fits_a_small_buffer)
{
	char buf[10];
	memset(buf, 'x', sizeof buf);
	names_flags_format(MAP_SHARED | MAP_POPULATE | MAP_NORESERVE, buf, sizeof buf);
	cr_expect_eq(strnlen(buf, sizeof buf), sizeof buf - 1, "truncated, NUL-terminated");
	cr_expect_str_eq(buf, "shared,po");
}

/* ---- prot ------------------------------------------------------------- */

Test(prot, single_bits_and_combinations)
{
	struct msg m = { "" };
	int p = -1;
	cr_expect_eq(parse_prot("read", &p, &m), 0);
	cr_expect_eq(p, PROT_READ);
	cr_expect_eq(parse_prot("write", &p, &m), 0);
	cr_expect_eq(p, PROT_WRITE);
	cr_expect_eq(parse_prot("exec", &p, &m), 0);
	cr_expect_eq(p, PROT_EXEC);
	cr_expect_eq(parse_prot("read,write", &p, &m), 0);
	cr_expect_eq(p, PROT_READ | PROT_WRITE);
	cr_expect_eq(parse_prot("write,read,exec", &p, &m), 0);
	cr_expect_eq(p, PROT_READ | PROT_WRITE | PROT_EXEC);
}

Test(prot, none_alone_is_prot_none)
{
	struct msg m = { "" };
	int p = -1;
	cr_expect_eq(parse_prot("none", &p, &m), 0);
	cr_expect_eq(p, PROT_NONE);
}

Test(prot, none_with_others_is_refused)
{
	struct msg m = { "" };
	int p;
	expect_error(parse_prot("none,read", &p, &m), EINVAL, m,
		     "unknown prot 'none' (known: read, write, exec, none)");
	cr_expect_eq(parse_prot("read,none", &p, &m), -EINVAL);
}

Test(prot, unknown_and_empty_are_refused)
{
	struct msg m = { "" };
	int p;
	expect_error(parse_prot("rw", &p, &m), EINVAL, m,
		     "unknown prot 'rw' (known: read, write, exec, none)");
	expect_error(parse_prot("", &p, &m), EINVAL, m,
		     "unknown prot '' (known: read, write, exec, none)");
	expect_error(parse_prot("read,", &p, &m), EINVAL, m,
		     "unknown prot '' (known: read, write, exec, none)");
}

Test(prot, format)
{
	char buf[64];
	names_prot_format(PROT_NONE, buf, sizeof buf);
	cr_expect_str_eq(buf, "none");
	names_prot_format(PROT_READ, buf, sizeof buf);
	cr_expect_str_eq(buf, "read");
	names_prot_format(PROT_READ | PROT_WRITE, buf, sizeof buf);
	cr_expect_str_eq(buf, "read,write");
	names_prot_format(PROT_READ | PROT_WRITE | PROT_EXEC, buf, sizeof buf);
	cr_expect_str_eq(buf, "read,write,exec");
	names_prot_format(PROT_WRITE, buf, sizeof buf);
	cr_expect_str_eq(buf, "write");
}

/* ---- advice ----------------------------------------------------------- */

struct advice_case {
	const char *name;
	int value;
};

/* Every MADV_ constant this machine's headers define. */
static const struct advice_case known_advice[] = {
	{ "normal", MADV_NORMAL },	   { "random", MADV_RANDOM },
	{ "sequential", MADV_SEQUENTIAL }, { "willneed", MADV_WILLNEED },
	{ "dontneed", MADV_DONTNEED },
#ifdef MADV_FREE
	{ "free", MADV_FREE },
#endif
	{ "remove", MADV_REMOVE },	   { "dontfork", MADV_DONTFORK },
	{ "dofork", MADV_DOFORK },	   { "mergeable", MADV_MERGEABLE },
	{ "unmergeable", MADV_UNMERGEABLE }, { "hugepage", MADV_HUGEPAGE },
	{ "nohugepage", MADV_NOHUGEPAGE }, { "dontdump", MADV_DONTDUMP },
	{ "dodump", MADV_DODUMP },
#ifdef MADV_WIPEONFORK
	{ "wipeonfork", MADV_WIPEONFORK }, { "keeponfork", MADV_KEEPONFORK },
#endif
#ifdef MADV_COLD
	{ "cold", MADV_COLD },		   { "pageout", MADV_PAGEOUT },
#endif
#ifdef MADV_POPULATE_READ
	{ "populate_read", MADV_POPULATE_READ }, { "populate_write", MADV_POPULATE_WRITE },
#endif
#ifdef MADV_DONTNEED_LOCKED
	{ "dontneed_locked", MADV_DONTNEED_LOCKED },
#endif
#ifdef MADV_COLLAPSE
	{ "collapse", MADV_COLLAPSE },
#endif
	{ "hwpoison", MADV_HWPOISON },
#ifdef MADV_SOFT_OFFLINE
	{ "soft_offline", MADV_SOFT_OFFLINE },
#endif
#ifdef MADV_GUARD_INSTALL
	{ "guard_install", MADV_GUARD_INSTALL }, { "guard_remove", MADV_GUARD_REMOVE },
#endif
};

Test(advice, every_constant_by_its_name)
{
	for (size_t i = 0; i < sizeof known_advice / sizeof *known_advice; i++) {
		struct msg m = { "" };
		int a = -1;
		cr_expect_eq(parse_advice(known_advice[i].name, &a, &m), 0, "%s: %s",
			     known_advice[i].name, m.text);
		cr_expect_eq(a, known_advice[i].value, "%s", known_advice[i].name);
	}
}

Test(advice, every_constant_by_its_c_name_in_any_case)
{
	for (size_t i = 0; i < sizeof known_advice / sizeof *known_advice; i++) {
		char upper[64], mixed[80];
		size_t k = 0;
		for (const char *c = known_advice[i].name; *c; c++, k++)
			upper[k] = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
		upper[k] = '\0';
		snprintf(mixed, sizeof mixed, "MADV_%s", upper);
		int a = -1;
		cr_expect_eq(parse_advice(mixed, &a, NULL), 0, "%s", mixed);
		cr_expect_eq(a, known_advice[i].value, "%s", mixed);
		cr_expect_eq(parse_advice(upper, &a, NULL), 0, "%s", upper);
		snprintf(mixed, sizeof mixed, "madv_%s", known_advice[i].name);
		cr_expect_eq(parse_advice(mixed, &a, NULL), 0, "%s", mixed);
		cr_expect_eq(a, known_advice[i].value, "%s", mixed);
	}
}

Test(advice, mixed_case_name)
{
	int a = -1;
	cr_expect_eq(parse_advice("Madv_DontNeed", &a, NULL), 0);
	cr_expect_eq(a, MADV_DONTNEED);
}

Test(advice, decimal_and_hex_numbers)
{
	int a = -1;
	cr_expect_eq(parse_advice("4", &a, NULL), 0);
	cr_expect_eq(a, 4);
	cr_expect_eq(parse_advice("0x4", &a, NULL), 0);
	cr_expect_eq(a, 4);
	cr_expect_eq(parse_advice("0", &a, NULL), 0);
	cr_expect_eq(a, 0);
	cr_expect_eq(parse_advice("2147483647", &a, NULL), 0);
	cr_expect_eq(a, 2147483647);
}

/* Numbers in the command language are decimal or 0x-hex (SPEC): a leading
 * zero does not make octal. */
Test(advice, leading_zero_is_still_decimal)
{
	int a = -1;
	cr_expect_eq(parse_advice("010", &a, NULL), 0);
	cr_expect_eq(a, 10, "010 is MADV_DONTFORK (10), got %d", a);
	a = -1;
	cr_expect_eq(parse_advice("08", &a, NULL), 0, "08 is decimal 8");
	cr_expect_eq(a, 8);
}

Test(advice, bad_words_and_numbers_are_refused)
{
	const char *bad[] = { "bogus", "", "MADV_", "madv_", "dont need", "4x",
			      "2147483648", "-2147483649", "0x", "MADV_4" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct msg m = { "" };
		int a = 77;
		char want[96];
		snprintf(want, sizeof want, "unknown madvise advice '%s'", bad[i]);
		expect_error(parse_advice(bad[i], &a, &m), EINVAL, m, want);
		cr_expect_eq(a, 77, "[%s] leaves the output alone", bad[i]);
	}
}

Test(advice, negative_numbers_go_to_the_kernel)
{
	/* mmap.madvise(-1) passes -1 to madvise(2), which says EINVAL. */
	int a = 0;
	cr_expect_eq(parse_advice("-1", &a, NULL), 0);
	cr_expect_eq(a, -1);
	cr_expect_eq(parse_advice("-2147483648", &a, NULL), 0);
	cr_expect_eq(a, INT32_MIN);
}

Test(advice, name_length_is_authoritative)
{
	int a = -1;
	cr_expect_eq(names_advice_parse("dontneedXYZ", 8, &a, NULL), 0);
	cr_expect_eq(a, MADV_DONTNEED);
	cr_expect_eq(names_advice_parse("dontneed", 4, &a, NULL), -EINVAL);
}

Test(advice, only_hwpoison_and_soft_offline_are_hardware)
{
	cr_expect(names_advice_is_hardware(MADV_HWPOISON));
	cr_expect(names_advice_is_hardware(101));
	for (size_t i = 0; i < sizeof known_advice / sizeof *known_advice; i++) {
		int v = known_advice[i].value;
		if (v != 100 && v != 101)
			cr_expect_not(names_advice_is_hardware(v), "%s", known_advice[i].name);
	}
}
