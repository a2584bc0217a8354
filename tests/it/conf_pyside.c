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

#include "lib/harness.h"

#ifndef PYSIDE_SCRIPT
#define PYSIDE_SCRIPT "tests/pyside/side_by_side.py"
#endif

static const char *script(void)
{
	const char *s = getenv("MMAPFS_PYSIDE");
	return s && *s ? s : PYSIDE_SCRIPT;
}

/* The Python that decides: $MMAPFS_PYTHON, else python3.13 (on PATH, in
 * pyenv's versions, or /usr/local/bin), else python3. The SPEC follows CPython 3.13, so a
 * python3 older than that is used only outside CI, and says so. */
static char python[4096];

static void need_python(void)
{
	int st;
	char *found = sh_out(&st, NULL,
			     "for p in \"$MMAPFS_PYTHON\" python3.13 "
			     "\"$(pyenv root 2>/dev/null || echo /nonexistent)\"/versions/3.13*/bin/python3.13 "
			     "\"$HOME\"/.pyenv/versions/3.13*/bin/python3.13 "
			     "/root/.pyenv/versions/3.13*/bin/python3.13 /usr/local/bin/python3.13 "
			     "python3; do [ -n \"$p\" ] && \"$p\" -c 'import mmap' 2>/dev/null && "
			     "{ command -v \"$p\"; exit 0; }; done; exit 1");
	if (st != 0) {
		free(found);
		cr_skip_test("python3 is not available");
	}
	found[strcspn(found, "\n")] = '\0';
	snprintf(python, sizeof python, "%s", found);
	free(found);
	free(sh_out(&st, NULL, "'%s' -c 'import sys; sys.exit(sys.version_info < (3, 13))'",
		    python));
	if (st != 0) {
		const char *ci = getenv("CI");
		if (ci && strcmp(ci, "true") == 0)
			cr_assert_fail("%s is older than 3.13, the Python the SPEC follows (CI=true)",
				       python);
		cr_log_warn("%s is older than 3.13: comparing against it anyway", python);
	}
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
	char *out = sh_out(&st, &len, "'%s' '%s' '%s' '%s' '%s' 2>&1", python, script(), M.dir,
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
	char *out = sh_out(&st, NULL, "'%s' '%s' --list", python, script());
	cr_assert_eq(st, 0, "%s --list failed", script());
	char want[4096] = "";
	for (size_t i = 0; i < N_SCENARIOS; i++) {
		strcat(want, SCENARIOS[i]);
		strcat(want, "\n");
	}
	cr_expect_str_eq(out, want);
	free(out);
}
