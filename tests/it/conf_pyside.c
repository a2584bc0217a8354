/* it_conf_pyside.c - side by side with Python: tests/pyside/side_by_side.py
 * runs the same calls on Python's own mmap.mmap and on mmapfs through this
 * test's mount, and compares results, bytes, positions and errors. One
 * Criterion test per scenario of the script, so a difference names its
 * scenario; the script prints a DIFF line for each call that differs. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/it_conf.h"

#ifndef PYSIDE_SCRIPT
#define PYSIDE_SCRIPT "tests/pyside/side_by_side.py"
#endif

static const char *script(void)
{
	const char *s = getenv("MMAPFS_PYSIDE");
	return s && *s ? s : PYSIDE_SCRIPT;
}

static void need_python(void)
{
	int st;
	free(sh_out(&st, NULL, "python3 -c 'import mmap, sys; sys.exit(sys.version_info < (3, 8))' "
			       "2>/dev/null"));
	if (st != 0)
		cr_skip_test("python3 (3.8 or later) is not available");
}

/* Every scenario the script knows, in its order (one SCENARIO() below each). */
static const char *const SCENARIOS[] = {
	"constructor", "stream", "readline", "seek", "find", "move", "flush",
	"flush_read_copy", "flush_copy", "madvise", "resize",
	"offset", "offset_and_length", "slices", "access_read", "access_write", "access_copy",
	"private_default", "prot_read", "anonymous", "anonymous_private", "anonymous_copy", "close",
};
#define N_SCENARIOS (sizeof SCENARIOS / sizeof SCENARIOS[0])

/* The DIFF lines of the script's output, for the failure message. */
static char *diff_lines(const char *out)
{
	size_t cap = strlen(out) + 1, n = 0;
	char *d = malloc(cap);
	d[0] = '\0';
	for (const char *line = out; *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) + 1 : strlen(line);
		if (strncmp(line, "DIFF ", 5) == 0 || strncmp(line, "Traceback", 9) == 0 ||
		    strncmp(line, "  ", 2) == 0 || strstr(line, "Error")) {
			memcpy(d + n, line, len);
			n += len;
			d[n] = '\0';
		}
		line += len;
	}
	return d;
}

TestSuite(conf_pyside, .init = conf_up, .fini = conf_down, .timeout = 120);

static void run_scenario(const char *name)
{
	need_python();
	int st;
	size_t len;
	char *out = sh_out(&st, &len, "python3 '%s' '%s' '%s' '%s' 2>&1", script(), M.dir,
			   M.scratch, name);
	char *diffs = diff_lines(out);
	cr_log_info("side_by_side.py %s:\n%s", name, out);
	cr_expect_eq(st, 0, "scenario %s: python and mmapfs differ (exit %d):\n%s", name, st,
		     diffs);
	cr_expect(strstr(out, " calls compared, ") != NULL, "scenario %s did not run to its end", name);
	free(diffs);
	free(out);
}

#define SCENARIO(name)                        \
	Test(conf_pyside, name)               \
	{                                     \
		run_scenario(#name);          \
	}

SCENARIO(constructor)
SCENARIO(stream)
SCENARIO(readline)
SCENARIO(seek)
SCENARIO(find)
SCENARIO(move)
SCENARIO(flush)
SCENARIO(flush_read_copy)
SCENARIO(flush_copy)
SCENARIO(madvise)
SCENARIO(resize)
SCENARIO(offset)
SCENARIO(offset_and_length)
SCENARIO(slices)
SCENARIO(access_read)
SCENARIO(access_write)
SCENARIO(access_copy)
SCENARIO(private_default)
SCENARIO(prot_read)
SCENARIO(anonymous)
SCENARIO(anonymous_private)
SCENARIO(anonymous_copy)
SCENARIO(close)

/* The list above and the script's own list are the same. */
Test(conf_pyside, every_scenario_is_run)
{
	need_python();
	int st;
	char *out = sh_out(&st, NULL, "python3 '%s' --list", script());
	cr_assert_eq(st, 0, "%s --list failed", script());
	char want[4096] = "";
	for (size_t i = 0; i < N_SCENARIOS; i++) {
		strcat(want, SCENARIOS[i]);
		strcat(want, "\n");
	}
	cr_expect_str_eq(out, want);
	free(out);
}
