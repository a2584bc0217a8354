/* unit_cmdlog.c - the log file: one line per command with its sender's
 * pid, control bytes escaped, the most recent CMDLOG_LINES oldest first. */
#include "lib/unit_util.h"

#include "control/cmdlog.h"

static struct cmdlog L;

static void up(void)
{
	cmdlog_init(&L);
}

static void down(void)
{
	cmdlog_destroy(&L);
}

TestSuite(cmdlog, .init = up, .fini = down);

static void add(pid_t pid, const char *file, const char *cmd, const char *result)
{
	cmdlog_add(&L, pid, file, cmd, strlen(cmd), result);
}

/* The rendered log; its length is authoritative, so compare with it. */
static void expect_log(const char *want)
{
	char *text = NULL;
	size_t len = 99;
	cr_assert_eq(cmdlog_render(&L, &text, &len), 0);
	cr_expect_eq(len, strlen(want), "log is %zu bytes, wanted %zu", len, strlen(want));
	cr_expect_eq(memcmp(text, want, len < strlen(want) ? len : strlen(want)), 0,
		     "log [%.*s], wanted [%s]", (int)len, text, want);
	free(text);
}

Test(cmdlog, starts_empty)
{
	expect_log("");
}

Test(cmdlog, one_line_per_command)
{
	add(42, "maps/a/ctl", "resize 10", "ok");
	add(7, "ctl", "map /tmp/f", "0");
	add(7, "ctl", "close zz", "error: no mapping named 'zz'");
	expect_log("pid 42 maps/a/ctl: resize 10 => ok\n"
		   "pid 7 ctl: map /tmp/f => 0\n"
		   "pid 7 ctl: close zz => error: no mapping named 'zz'\n");
}

Test(cmdlog, control_bytes_and_backslashes_are_escaped)
{
	const char cmd[] = "find \"a\nb\tc\\\x7f\x01\"";
	cmdlog_add(&L, 1, "ctl", cmd, sizeof cmd - 1, "-1");
	expect_log("pid 1 ctl: find \"a\\x0ab\\x09c\\x5c\\x7f\\x01\" => -1\n");
}

Test(cmdlog, nul_bytes_are_escaped_and_kept)
{
	cmdlog_add(&L, 1, "ctl", "a\0b", 3, "ok");
	expect_log("pid 1 ctl: a\\x00b => ok\n");
}

Test(cmdlog, other_bytes_stay_as_they_are)
{
	add(1, "ctl", "map /tmp/caf\xc3\xa9 name=x", "x");
	expect_log("pid 1 ctl: map /tmp/caf\xc3\xa9 name=x => x\n");
}

Test(cmdlog, command_length_is_authoritative)
{
	cmdlog_add(&L, 1, "ctl", "close a\nclose b", 7, "ok");
	expect_log("pid 1 ctl: close a => ok\n");
}

Test(cmdlog, empty_command)
{
	cmdlog_add(&L, 3, "ctl", "", 0, "error: empty command");
	expect_log("pid 3 ctl:  => error: empty command\n");
}

Test(cmdlog, keeps_the_most_recent_lines_oldest_first)
{
	int extra = 5;
	for (int i = 0; i < CMDLOG_LINES + extra; i++) {
		char cmd[32];
		snprintf(cmd, sizeof cmd, "seek %d", i);
		add(100, "maps/m/ctl", cmd, "ok");
	}
	char *text;
	size_t len;
	cr_assert_eq(cmdlog_render(&L, &text, &len), 0);
	size_t lines = 0;
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	cr_expect_eq(lines, CMDLOG_LINES);
	char first[64], last[64];
	snprintf(first, sizeof first, "pid 100 maps/m/ctl: seek %d => ok\n", extra);
	snprintf(last, sizeof last, "pid 100 maps/m/ctl: seek %d => ok\n", CMDLOG_LINES + extra - 1);
	cr_expect_eq(strncmp(text, first, strlen(first)), 0, "oldest kept line first");
	cr_expect_eq(memcmp(text + len - strlen(last), last, strlen(last)), 0, "newest last");
	free(text);
	cr_expect_eq(L.seq, (unsigned long long)(CMDLOG_LINES + extra));
}

Test(cmdlog, exactly_full)
{
	for (int i = 0; i < CMDLOG_LINES; i++)
		add(1, "ctl", "x", "ok");
	char *text;
	size_t len;
	cr_assert_eq(cmdlog_render(&L, &text, &len), 0);
	cr_expect_eq(len, (size_t)CMDLOG_LINES * strlen("pid 1 ctl: x => ok\n"));
	free(text);
}
