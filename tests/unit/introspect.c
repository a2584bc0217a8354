/* unit/introspect.c - the page flags: which character each combination
 * shows (the SPEC's precedence G S . Z C D M R), how pagemap spells them,
 * and the memory-lock rule. */
#include "lib/unit_util.h"

#include <sys/resource.h>

#include "core/memlock.h"
#include "view/introspect.h"

TestSuite(page_char);
TestSuite(page_flags);
TestSuite(memlock);

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

Test(memlock, the_rlimit_rule)
{
	struct msg m;
	struct memlock_caller zero = { 0, false }, four = { 4 * 4096, false };
	struct memlock_caller capable = { 0, true }, unlimited = { UINT64_MAX, false };
	expect_error(memlock_allowed(&zero, 0, 4096, &m), EPERM, m,
		     "locking memory needs CAP_IPC_LOCK or a RLIMIT_MEMLOCK above 0 (ulimit -l)");
	cr_expect_eq(memlock_allowed(&four, 0, 4 * 4096, &m), 0, "up to the limit");
	cr_expect_eq(memlock_allowed(&four, 3 * 4096, 4096, &m), 0);
	expect_error(memlock_allowed(&four, 3 * 4096, 2 * 4096, &m), ENOMEM, m,
		     "lock would exceed your RLIMIT_MEMLOCK: 12288 bytes locked, 8192 more asked, "
		     "limit 16384 (ulimit -l)");
	cr_expect_eq(memlock_allowed(&four, 5 * 4096, 0, &m), 0, "nothing more: always allowed");
	cr_expect_eq(memlock_allowed(&four, UINT64_MAX, 1, &m), -ENOMEM, "no overflow");
	cr_expect_eq(memlock_allowed(&capable, 0, UINT64_MAX, &m), 0, "CAP_IPC_LOCK: no limit");
	cr_expect_eq(memlock_allowed(&unlimited, UINT64_MAX - 1, UINT64_MAX, &m), 0);
}

Test(memlock, a_process_s_limit_and_capability)
{
	struct memlock_caller c;
	struct msg m;
	cr_assert_eq(memlock_caller_of(getpid(), &c, &m), 0, "%s", m.text);
	struct rlimit rl;
	getrlimit(RLIMIT_MEMLOCK, &rl);
	cr_expect_eq(c.limit, rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : rl.rlim_cur);
	expect_error(memlock_caller_of(0, &c, &m), EPERM, m,
		     "cannot learn the caller's RLIMIT_MEMLOCK (no process id)");
}
