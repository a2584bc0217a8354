/* unit/introspect.c - the page flags: which character each combination
 * shows (the SPEC's precedence G S . Z C D M R), how pagemap spells them,
 * and the memory-lock rule. */
#include "lib/unit_util.h"


#include "view/introspect.h"

TestSuite(page_char);
TestSuite(page_flags);

/* The precedence, from the SPEC: the first that is true of the page. */
static char by_the_spec(unsigned f)
{
	bool in_memory = (f & PGF_PRESENT) || (f & PGF_INCORE);
	if (f & PGF_GUARD)
		return 'G';
	if (f & PGF_SWAPPED)
		return 'S';
	if (!in_memory)
		return '.';
	if ((f & PGF_PRESENT) && (f & PGF_ZERO))
		return 'Z';
	if ((f & PGF_PRESENT) && (f & PGF_COPY))
		return 'C';
	if ((f & PGF_PRESENT) && (f & PGF_DIRTY))
		return 'D';
	if (f & PGF_PRESENT)
		return 'M';
	return 'R';
}

Test(page_char, every_combination_follows_the_precedence)
{
	/* Every set of the facts that decide (the others change nothing). */
	const unsigned facts[] = { PGF_GUARD, PGF_SWAPPED, PGF_PRESENT, PGF_INCORE,
				   PGF_ZERO, PGF_COPY, PGF_DIRTY };
	const unsigned n = sizeof facts / sizeof facts[0];
	for (unsigned set = 0; set < 1u << n; set++) {
		unsigned f = 0;
		for (unsigned i = 0; i < n; i++)
			if (set & (1u << i))
				f |= facts[i];
		cr_expect_eq(page_char(f), by_the_spec(f), "flags %#x", f);
		cr_expect_eq(page_char(f | PGF_FILE | PGF_SHARED | PGF_HUGE | PGF_LOCKED | PGF_ANON),
			     by_the_spec(f), "flags %#x with the flags that do not decide", f);
	}
}

Test(page_char, the_states_by_name)
{
	cr_expect_eq(page_char(PGF_GUARD | PGF_SWAPPED | PGF_PRESENT), 'G');
	cr_expect_eq(page_char(PGF_SWAPPED | PGF_ANON), 'S');
	cr_expect_eq(page_char(0), '.');
	cr_expect_eq(page_char(PGF_PRESENT | PGF_ZERO), 'Z');
	cr_expect_eq(page_char(PGF_PRESENT | PGF_ANON | PGF_COPY), 'C');
	cr_expect_eq(page_char(PGF_PRESENT | PGF_FILE | PGF_SHARED | PGF_DIRTY), 'D');
	cr_expect_eq(page_char(PGF_PRESENT | PGF_FILE | PGF_SHARED), 'M');
	cr_expect_eq(page_char(PGF_INCORE), 'R');
}

Test(page_flags, names_in_order_or_none)
{
	char buf[256];
	cr_expect_eq(page_flags_format(0, buf, sizeof buf), 4);
	cr_expect_str_eq(buf, "none");
	page_flags_format(PGF_GUARD | PGF_PRESENT | PGF_LOCKED, buf, sizeof buf);
	cr_expect_str_eq(buf, "present,locked,guard");
	unsigned all = (1u << PGF_NAMED) - 1;
	size_t n = page_flags_format(all | PGF_INCORE, buf, sizeof buf);
	cr_expect_str_eq(buf, "present,swapped,file,anon,shared,copy,zero,dirty,huge,locked,guard",
			 "every name, and incore (pages only) is not one");
	cr_expect_eq(n, strlen(buf));
	char small[8];
	n = page_flags_format(all, small, sizeof small);
	cr_expect_eq(n, strlen(small), "truncated but terminated");
	cr_expect_lt(n, sizeof small);
}

