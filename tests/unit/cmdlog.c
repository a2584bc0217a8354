/* unit_cmdlog.c - the log file: one line per command with its time, its
 * sender's pid and uid, text escaped once, the most recent entries oldest
 * first, bounded in lines and bytes, read through snapshots. */
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

/* 2026-12-01T07:06:05.123Z */
#define T0 1796108765
#define STAMP "2026-12-01T07:06:05.123Z"

static void add_as(pid_t pid, uid_t uid, const char *file, const char *cmd, size_t len,
		   const char *result)
{
	struct cmdlog_origin o = { { T0, 123456789 }, pid, uid };
	cmdlog_add(&L, &o, file, cmd, len, result);
}

static void add(pid_t pid, const char *file, const char *cmd, const char *result)
{
	add_as(pid, 0, file, cmd, strlen(cmd), result);
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
	add_as(7, 65534, "ctl", "map /tmp/f", 10, "0");
	add(7, "ctl", "close zz", "error: no mapping named 'zz'");
	expect_log(STAMP " pid 42 uid 0 maps/a/ctl: resize 10 => ok\n"
		   STAMP " pid 7 uid 65534 ctl: map /tmp/f => 0\n"
		   STAMP " pid 7 uid 0 ctl: close zz => error: no mapping named 'zz'\n");
}

Test(cmdlog, time_is_utc_with_milliseconds)
{
	struct cmdlog_origin o = { { T0 + 86400 * 31 + 3600 + 1, 999999999 }, 1, 2 };
	cmdlog_add(&L, &o, "ctl", "x", 1, "ok");
	struct cmdlog_origin z = { { T0, 0 }, 1, 2 };
	cmdlog_add(&L, &z, "ctl", "y", 1, "ok");
	struct cmdlog_origin f = { { T0, 5000000 }, 1, 2 };
	cmdlog_add(&L, &f, "ctl", "z", 1, "ok");
	expect_log("2027-01-01T08:06:06.999Z pid 1 uid 2 ctl: x => ok\n"
		   "2026-12-01T07:06:05.000Z pid 1 uid 2 ctl: y => ok\n"
		   "2026-12-01T07:06:05.005Z pid 1 uid 2 ctl: z => ok\n");
}

Test(cmdlog, control_bytes_are_escaped_backslashes_are_not)
{
	const char cmd[] = "find \"a\nb\tc\\x41\\\\\x7f\x01\"";
	add_as(1, 0, "ctl", cmd, sizeof cmd - 1, "-1");
	expect_log(STAMP " pid 1 uid 0 ctl: find \"a\\x0ab\\x09c\\x41\\\\\\x7f\\x01\" => -1\n");
}

Test(cmdlog, a_command_written_escaped_is_logged_as_written)
{
	/* What mmapctl sends for a path with a byte 0xc3 and a backslash. */
	add(1, "ctl", "map \"/tmp/a\\xc3\\\\b\" name=x", "x");
	expect_log(STAMP " pid 1 uid 0 ctl: map \"/tmp/a\\xc3\\\\b\" name=x => x\n");
}

Test(cmdlog, nul_bytes_are_escaped_and_kept)
{
	add_as(1, 0, "ctl", "a\0b", 3, "ok");
	expect_log(STAMP " pid 1 uid 0 ctl: a\\x00b => ok\n");
}

Test(cmdlog, bytes_past_ascii_are_escaped)
{
	add(1, "ctl", "map /tmp/caf\xc3\xa9 name=x", "x");
	expect_log(STAMP " pid 1 uid 0 ctl: map /tmp/caf\\xc3\\xa9 name=x => x\n");
}

Test(cmdlog, file_and_result_are_escaped_too)
{
	add(1, "maps/a\nb", "close a\nb", "error: bad \x1b[31mname");
	expect_log(STAMP " pid 1 uid 0 maps/a\\x0ab: close a\\x0ab => error: bad \\x1b[31mname\n");
}

Test(cmdlog, command_length_is_authoritative)
{
	add_as(1, 0, "ctl", "close a\nclose b", 7, "ok");
	expect_log(STAMP " pid 1 uid 0 ctl: close a => ok\n");
}

Test(cmdlog, empty_command)
{
	add_as(3, 0, "ctl", "", 0, "error: empty command");
	expect_log(STAMP " pid 3 uid 0 ctl:  => error: empty command\n");
}

Test(cmdlog, escape_never_splits_an_escape)
{
	char out[8];
	size_t used;
	cr_expect_eq(cmdlog_escape(out, sizeof out, "ab\x01\x02", 4, &used), 6);
	cr_expect_str_eq(out, "ab\\x01");
	cr_expect_eq(used, 3);
	cr_expect_eq(cmdlog_escape(out, sizeof out, "abcdefghij", 10, &used), 7);
	cr_expect_eq(used, 7);
	cr_expect_eq(cmdlog_escape(out, sizeof out, "ab", 2, &used), 2);
	cr_expect_eq(used, 2);
}

/* The "COMMAND => " part of the only line. */
static char *only_command(void)
{
	char *text;
	size_t len;
	cr_assert_eq(cmdlog_render(&L, &text, &len), 0);
	char *c = strstr(text, "ctl: ");
	cr_assert(c);
	char *end = strstr(c, " => ok\n");
	cr_assert(end, "%s", text);
	*end = '\0';
	char *out = strdup(c + 5);
	free(text);
	return out;
}

Test(cmdlog, a_long_command_is_cut_with_its_full_length)
{
	size_t n = 65536;
	char *big = malloc(n);
	memset(big, '\x01', n);
	add_as(1, 0, "ctl", big, n, "ok");
	free(big);
	char *c = only_command();
	const char *marker = " [cut: 65536 bytes]";
	size_t kept = strlen(c) - strlen(marker);
	cr_expect_leq(kept, CMDLOG_TEXT_MAX);
	cr_expect_eq(kept % 4, 0, "whole escapes only");
	cr_expect_gt(kept, CMDLOG_TEXT_MAX - 4);
	cr_expect_str_eq(c + kept, marker);
	for (size_t i = 0; i < kept; i += 4)
		cr_assert_eq(memcmp(c + i, "\\x01", 4), 0, "at %zu", i);
	free(c);
}

Test(cmdlog, a_command_of_the_limit_is_whole)
{
	char cmd[CMDLOG_TEXT_MAX + 1];
	memset(cmd, 'a', CMDLOG_TEXT_MAX);
	cmd[CMDLOG_TEXT_MAX] = '\0';
	add(1, "ctl", cmd, "ok");
	char *c = only_command();
	cr_expect_str_eq(c, cmd);
	free(c);
	cmdlog_destroy(&L);
	cmdlog_init(&L);
	char longer[CMDLOG_TEXT_MAX + 2];
	memset(longer, 'a', CMDLOG_TEXT_MAX + 1);
	longer[CMDLOG_TEXT_MAX + 1] = '\0';
	add(1, "ctl", longer, "ok");
	c = only_command();
	char want[CMDLOG_TEXT_MAX + 64];
	snprintf(want, sizeof want, "%s [cut: %d bytes]", cmd, CMDLOG_TEXT_MAX + 1);
	cr_expect_str_eq(c, want);
	free(c);
}

static size_t count_lines(const char *text, size_t len)
{
	size_t lines = 0;
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	return lines;
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
	cr_expect_eq(count_lines(text, len), CMDLOG_LINES);
	char first[96], last[96];
	snprintf(first, sizeof first, STAMP " pid 100 uid 0 maps/m/ctl: seek %d => ok\n", extra);
	snprintf(last, sizeof last, STAMP " pid 100 uid 0 maps/m/ctl: seek %d => ok\n",
		 CMDLOG_LINES + extra - 1);
	cr_expect_eq(strncmp(text, first, strlen(first)), 0, "oldest kept line first");
	cr_expect_eq(memcmp(text + len - strlen(last), last, strlen(last)), 0, "newest last");
	free(text);
	cr_expect_eq(L.seq, (unsigned long long)(CMDLOG_LINES + extra));
	cr_expect_eq(L.count, CMDLOG_LINES);
}

Test(cmdlog, exactly_full)
{
	for (int i = 0; i < CMDLOG_LINES; i++)
		add(1, "ctl", "x", "ok");
	char *text;
	size_t len;
	cr_assert_eq(cmdlog_render(&L, &text, &len), 0);
	cr_expect_eq(len, (size_t)CMDLOG_LINES * strlen(STAMP " pid 1 uid 0 ctl: x => ok\n"));
	free(text);
}

Test(cmdlog, the_byte_budget_holds_for_maximal_entries)
{
	size_t n = 65536;
	char *big = malloc(n);
	memset(big, '\x7f', n);
	char result[300];
	memset(result, '\x02', sizeof result - 1);
	result[sizeof result - 1] = '\0';
	for (int i = 0; i < CMDLOG_LINES; i++) {
		snprintf(big, 16, "w%d", i); /* tell the entries apart */
		add_as(1, 0, "maps/some-long-mapping-name/ctl", big, n, result);
		cr_assert_leq(L.bytes, CMDLOG_BYTES);
	}
	free(big);
	char *text;
	size_t len;
	cr_assert_eq(cmdlog_render(&L, &text, &len), 0);
	cr_expect_leq(len, CMDLOG_BYTES);
	size_t lines = count_lines(text, len);
	cr_expect_gt(lines, 100, "the budget keeps a useful number of maximal lines: %zu", lines);
	cr_expect_lt(lines, CMDLOG_LINES);
	char newest[32];
	snprintf(newest, sizeof newest, ": w%d", CMDLOG_LINES - 1);
	cr_expect(strstr(text, newest), "the newest entry is kept");
	cr_expect(!strstr(text, ": w0\\x"), "the oldest went first");
	free(text);
}

Test(cmdlog, one_entry_larger_than_nothing_is_still_kept)
{
	add(1, "ctl", "x", "ok");
	cr_expect_eq(L.count, 1);
	cr_expect_gt(L.bytes, 0);
}

/* ---- snapshots ----------------------------------------------------------- */

static char *snap_text(struct cmdlog_snap *s, size_t step)
{
	size_t size = cmdlog_snap_size(s), got = 0, n;
	char *out = malloc(size + 1);
	while ((n = cmdlog_snap_read(s, got, out + got, step)) > 0)
		got += n;
	cr_expect_eq(got, size);
	out[got] = '\0';
	return out;
}

Test(cmdlog, a_snapshot_stays_as_it_was_taken)
{
	add(1, "ctl", "first", "ok");
	add(1, "ctl", "second", "ok");
	struct cmdlog_snap *s;
	cr_assert_eq(cmdlog_snapshot(&L, true, 0, &s), 0);
	/* Push every entry it holds out of the log. */
	for (int i = 0; i < CMDLOG_LINES + 10; i++)
		add(2, "ctl", "later", "ok");
	char *t = snap_text(s, 1 << 20);
	cr_expect_str_eq(t, STAMP " pid 1 uid 0 ctl: first => ok\n"
			    STAMP " pid 1 uid 0 ctl: second => ok\n");
	free(t);
	cmdlog_snap_free(s);
}

Test(cmdlog, snapshot_reads_at_any_offset)
{
	for (int i = 0; i < 50; i++) {
		char cmd[32];
		snprintf(cmd, sizeof cmd, "seek %d", i * 7919);
		add(i, "maps/a/ctl", cmd, "ok");
	}
	char *whole;
	size_t len;
	cr_assert_eq(cmdlog_render(&L, &whole, &len), 0);
	struct cmdlog_snap *s;
	cr_assert_eq(cmdlog_snapshot(&L, true, 0, &s), 0);
	cr_expect_eq(cmdlog_snap_size(s), len);
	size_t steps[] = { 1, 3, 17, 64, 4096 };
	for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
		char *t = snap_text(s, steps[k]);
		cr_expect_str_eq(t, whole, "reads of %zu", steps[k]);
		free(t);
	}
	char c;
	cr_expect_eq(cmdlog_snap_read(s, len, &c, 1), 0, "end of file");
	cr_expect_eq(cmdlog_snap_read(s, len + 100, &c, 1), 0, "past the end");
	char mid[10];
	cr_expect_eq(cmdlog_snap_read(s, 100, mid, sizeof mid), sizeof mid);
	cr_expect_eq(memcmp(mid, whole + 100, sizeof mid), 0);
	cmdlog_snap_free(s);
	free(whole);
}

Test(cmdlog, a_snapshot_for_one_uid_holds_only_its_lines)
{
	add_as(1, 1000, "ctl", "a", 1, "ok");
	add_as(2, 0, "ctl", "b", 1, "ok");
	add_as(3, 1001, "ctl", "c", 1, "ok");
	add_as(4, 1000, "ctl", "d", 1, "ok");
	struct cmdlog_snap *s;
	cr_assert_eq(cmdlog_snapshot(&L, false, 1000, &s), 0);
	char *t = snap_text(s, 5);
	cr_expect_str_eq(t, STAMP " pid 1 uid 1000 ctl: a => ok\n"
			    STAMP " pid 4 uid 1000 ctl: d => ok\n");
	free(t);
	cmdlog_snap_free(s);
	cr_assert_eq(cmdlog_snapshot(&L, false, 7, &s), 0);
	cr_expect_eq(cmdlog_snap_size(s), 0);
	cmdlog_snap_free(s);
	cr_assert_eq(cmdlog_snapshot(&L, true, 7, &s), 0);
	t = snap_text(s, 100);
	cr_expect_eq(count_lines(t, strlen(t)), 4);
	free(t);
	cmdlog_snap_free(s);
}

Test(cmdlog, an_empty_snapshot)
{
	struct cmdlog_snap *s;
	cr_assert_eq(cmdlog_snapshot(&L, true, 0, &s), 0);
	char c;
	cr_expect_eq(cmdlog_snap_size(s), 0);
	cr_expect_eq(cmdlog_snap_read(s, 0, &c, 1), 0);
	cmdlog_snap_free(s);
}
