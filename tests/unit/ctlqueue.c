/* unit_ctlqueue.c - one open control file: the usage until the first
 * write, one result line per command run, in order, partial reads, the
 * stop at the first failing command, E2BIG over 64 KiB, the optional
 * trailing newline and the refused blank line. */
#include "lib/unit_util.h"

#include "control/command.h"
#include "control/ctlqueue.h"
#include "core/table.h"

static struct ctl_queue Q;

/* A runner that records the lines it was given: "fail..." fails with
 * EINVAL, anything else succeeds with "did LINE". */
struct script {
	char lines[64][128];
	int n;		/* lines recorded (at most 64) */
	int total;	/* commands run */
};

static struct script S;

static int scripted(void *ctx, const char *line, size_t len, char *result, size_t cap,
		    struct msg *msg)
{
	struct script *s = ctx;
	s->total++;
	if (s->n < 64)
		snprintf(s->lines[s->n++], sizeof s->lines[0], "%.*s", (int)len, line);
	if (len == 0)
		return msg_fail(msg, EINVAL, "empty command");
	if (len >= 4 && memcmp(line, "fail", 4) == 0)
		return msg_fail(msg, EINVAL, "refused %.*s", (int)len, line);
	snprintf(result, cap, "did %.*s", (int)len, line);
	return 0;
}

static const char USAGE[] = "# usage line one\n# usage line two\n";

static void up(void)
{
	memset(&S, 0, sizeof S);
	cr_assert_eq(ctl_queue_init(&Q, USAGE), 0);
}

static void down(void)
{
	ctl_queue_destroy(&Q);
}

TestSuite(queue, .init = up, .fini = down);

static ssize_t put(const char *text)
{
	return ctl_queue_write(&Q, text, strlen(text), scripted, &S);
}

/* Everything left in the queue, as a string. */
static char *drain(struct ctl_queue *q)
{
	size_t cap = 1 << 20, n = 0, got;
	char *out = malloc(cap + 1);
	while ((got = ctl_queue_read(q, out + n, 7)) > 0)
		n += got;
	out[n] = '\0';
	return out;
}

static void expect_queue(const char *want)
{
	char *got = drain(&Q);
	cr_expect_str_eq(got, want);
	free(got);
}

Test(queue, holds_the_usage_before_any_write)
{
	expect_queue(USAGE);
	char c;
	cr_expect_eq(ctl_queue_read(&Q, &c, 1), 0, "then end of file");
}

Test(queue, usage_in_partial_reads)
{
	char buf[8] = "";
	cr_expect_eq(ctl_queue_read(&Q, buf, 5), 5);
	cr_expect_eq(memcmp(buf, "# usa", 5), 0);
	cr_expect_eq(ctl_queue_read(&Q, buf, 3), 3);
	cr_expect_eq(memcmp(buf, "ge ", 3), 0);
	expect_queue(USAGE + 8);
}

Test(queue, the_first_write_drops_the_usage)
{
	cr_expect_eq(put("a"), 1);
	expect_queue("did a\n");
}

Test(queue, a_partly_read_usage_is_dropped_too)
{
	char buf[4];
	cr_assert_eq(ctl_queue_read(&Q, buf, 4), 4);
	cr_expect_eq(put("a\n"), 2);
	expect_queue("did a\n");
}

Test(queue, a_refused_first_write_drops_the_usage)
{
	cr_expect_eq(put("fail now"), -EINVAL);
	expect_queue("error: refused fail now\n");
}

Test(queue, an_oversized_first_write_drops_the_usage)
{
	size_t n = CTL_WRITE_MAX + 1;
	char *big = malloc(n);
	memset(big, 'x', n);
	cr_expect_eq(ctl_queue_write(&Q, big, n, scripted, &S), -E2BIG);
	free(big);
	expect_queue("error: command too long (a write() carries at most 65536 bytes)\n");
	cr_expect_eq(S.n, 0, "nothing in it ran");
}

Test(queue, the_usage_does_not_come_back)
{
	cr_assert_eq(put("a"), 1);
	expect_queue("did a\n");
	cr_assert_eq(put("b"), 1);
	expect_queue("did b\n");
}

Test(queue, results_in_order)
{
	cr_expect_eq(put("one\ntwo\nthree"), 13);
	expect_queue("did one\ndid two\ndid three\n");
	cr_expect_eq(S.n, 3);
	cr_expect_str_eq(S.lines[0], "one");
	cr_expect_str_eq(S.lines[2], "three");
}

Test(queue, results_of_several_writes_accumulate_until_read)
{
	cr_assert_eq(put("a"), 1);
	cr_assert_eq(put("b\nc\n"), 4);
	cr_assert_eq(put("fail x"), -EINVAL);
	expect_queue("did a\ndid b\ndid c\nerror: refused fail x\n");
}

Test(queue, partial_reads_take_from_the_front)
{
	cr_assert_eq(put("alpha\nbeta"), 10);
	char buf[32] = "";
	cr_expect_eq(ctl_queue_read(&Q, buf, 4), 4);
	cr_expect_eq(memcmp(buf, "did ", 4), 0);
	cr_assert_eq(put("gamma"), 5);
	expect_queue("alpha\ndid beta\ndid gamma\n");
}

Test(queue, trailing_newline_is_optional)
{
	cr_expect_eq(put("a\n"), 2);
	cr_expect_eq(put("b"), 1);
	cr_expect_eq(S.n, 2, "a trailing newline does not make a blank command");
	expect_queue("did a\ndid b\n");
}

Test(queue, stops_at_the_first_failing_command)
{
	cr_expect_eq(put("a\nfail here\nc\nd"), -EINVAL);
	cr_expect_eq(S.n, 2, "the commands after the failure do not run");
	expect_queue("did a\nerror: refused fail here\n");
}

Test(queue, blank_line_alone_is_refused)
{
	cr_expect_eq(put("\n"), -EINVAL);
	cr_expect_eq(S.n, 1);
	cr_expect_str_eq(S.lines[0], "");
	expect_queue("error: empty command\n");
}

Test(queue, blank_line_in_the_middle_stops_the_write)
{
	cr_expect_eq(put("a\n\nb"), -EINVAL);
	cr_expect_eq(S.n, 2);
	expect_queue("did a\nerror: empty command\n");
}

Test(queue, second_trailing_newline_is_a_blank_line)
{
	cr_expect_eq(put("a\n\n"), -EINVAL);
	expect_queue("did a\nerror: empty command\n");
}

Test(queue, leading_newline_is_a_blank_line)
{
	cr_expect_eq(put("\na"), -EINVAL);
	cr_expect_eq(S.n, 1);
	expect_queue("error: empty command\n");
}

Test(queue, exactly_64_kib_runs)
{
	size_t n = CTL_WRITE_MAX;
	char *big = malloc(n);
	memset(big, 'x', n);
	big[n - 1] = '\n';
	memcpy(big, "first\n", 6);
	cr_expect_eq(ctl_queue_write(&Q, big, n, scripted, &S), (ssize_t)n);
	free(big);
	cr_expect_eq(S.n, 2);
	cr_expect_str_eq(S.lines[0], "first");
}

Test(queue, more_than_64_kib_runs_nothing)
{
	cr_assert_eq(put("a"), 1);
	size_t n = CTL_WRITE_MAX + 1;
	char *big = malloc(n);
	memset(big, '\n', n);
	memcpy(big, "b\nc\n", 4);
	cr_expect_eq(ctl_queue_write(&Q, big, n, scripted, &S), -E2BIG);
	free(big);
	cr_expect_eq(S.n, 1, "only the earlier write's command ran");
	expect_queue("did a\nerror: command too long (a write() carries at most 65536 bytes)\n");
}

Test(queue, many_results_survive_growth_and_partial_reads)
{
	char want[20000] = "", line[32];
	char buf[64];
	size_t taken = 0;
	for (int i = 0; i < 500; i++) {
		snprintf(line, sizeof line, "c%d", i);
		cr_assert_eq(put(line), (ssize_t)strlen(line));
		S.n = 0;
		strcat(want, "did ");
		strcat(want, line);
		strcat(want, "\n");
		if (i % 3 == 0) {
			/* Read a little as we go, so the queue reclaims and grows. */
			size_t got = ctl_queue_read(&Q, buf, 10);
			cr_assert_eq(memcmp(buf, want + taken, got), 0, "at %zu", taken);
			taken += got;
		}
	}
	expect_queue(want + taken);
}

Test(queue, two_queues_are_independent)
{
	struct ctl_queue other;
	cr_assert_eq(ctl_queue_init(&other, "# other\n"), 0);
	cr_assert_eq(put("a"), 1);
	char *got = drain(&other);
	cr_expect_str_eq(got, "# other\n");
	free(got);
	expect_queue("did a\n");
	ctl_queue_destroy(&other);
}

Test(queue, empty_write_runs_nothing)
{
	cr_expect_eq(ctl_queue_write(&Q, "", 0, scripted, &S), 0);
	cr_expect_eq(S.n, 0);
}

/* ---- the bound on unread results ------------------------------------------ */

static size_t unread_of(struct ctl_queue *q)
{
	return q->len - q->head;
}

static const char FULL[] = "error: too many unread results: read them before writing more "
			   "(at most 65536 bytes wait)\n";

/* Fill the queue with single-command writes until one is refused. */
static int fill(int *ran)
{
	char line[200];
	memset(line, 'r', sizeof line - 1);
	line[sizeof line - 1] = '\0';
	for (int i = 0; i < 10000; i++) {
		size_t before = unread_of(&Q);
		int n = S.total;
		ssize_t rc = put(line);
		cr_assert_leq(unread_of(&Q), CTL_QUEUE_MAX);
		if (rc == -ENOBUFS) {
			cr_expect_eq(S.total, n, "the refused command did not run");
			cr_expect_gt(before + CTL_QUEUE_RESERVE, CTL_QUEUE_MAX,
				     "refused only when the reserve was not free (%zu unread)", before);
			*ran = i;
			return 0;
		}
		cr_assert_eq(rc, (ssize_t)strlen(line));
		S.total = 0;
	}
	return -1;
}

Test(queue, unread_results_are_bounded)
{
	int ran;
	cr_assert_eq(fill(&ran), 0, "a write was refused once the queue was full");
	cr_expect_gt(ran, (CTL_QUEUE_MAX - CTL_QUEUE_RESERVE) / 210, "it ran until near the bound");
	char *got = drain(&Q);
	size_t len = strlen(got);
	cr_expect_leq(len, CTL_QUEUE_MAX);
	cr_expect_geq(len, sizeof FULL - 1);
	cr_expect_str_eq(got + len - (sizeof FULL - 1), FULL, "the last line says why");
	cr_expect_eq(strncmp(got, "did rrr", 7), 0, "the oldest results are all kept");
	/* every result before the refusal is there, in order */
	size_t lines = 0;
	for (size_t i = 0; i < len; i++)
		lines += got[i] == '\n';
	cr_expect_eq(lines, (size_t)ran + 1);
	free(got);
	/* once read, commands run again */
	cr_expect_eq(put("after"), 5);
	expect_queue("did after\n");
}

Test(queue, refused_writes_do_not_grow_the_queue)
{
	int ran;
	cr_assert_eq(fill(&ran), 0);
	size_t full = unread_of(&Q);
	for (int i = 0; i < 1000; i++) {
		cr_expect_eq(put("x"), -ENOBUFS);
		cr_assert_leq(unread_of(&Q), CTL_QUEUE_MAX);
	}
	cr_expect_leq(unread_of(&Q), full + CTL_QUEUE_RESERVE);
	cr_expect_eq(S.total, 0, "no refused command ran");
	/* an oversized write is still E2BIG, and queues nothing past the bound */
	size_t n = CTL_WRITE_MAX + 1;
	char *big = malloc(n);
	memset(big, 'x', n);
	cr_expect_eq(ctl_queue_write(&Q, big, n, scripted, &S), -E2BIG);
	free(big);
	cr_expect_leq(unread_of(&Q), CTL_QUEUE_MAX);
}

Test(queue, a_write_that_fills_the_queue_stops_there)
{
	/* One 64 KiB write of short commands: results longer than the commands. */
	size_t n = CTL_WRITE_MAX, at = 0;
	char *batch = malloc(n);
	int cmds = 0;
	while (at + 3 <= n) {
		memcpy(batch + at, "aa\n", 3);
		at += 3;
		cmds++;
	}
	cr_expect_eq(ctl_queue_write(&Q, batch, at, scripted, &S), -ENOBUFS);
	cr_expect_lt(S.total, cmds, "the commands past the bound did not run");
	cr_expect_gt(S.total, 0, "those before it did");
	int ran = S.total;
	char *got = drain(&Q);
	size_t len = strlen(got), lines = 0;
	for (size_t i = 0; i < len; i++)
		lines += got[i] == '\n';
	cr_expect_eq(lines, (size_t)ran + 1, "one result per command run, then the refusal");
	cr_expect_str_eq(got + len - (sizeof FULL - 1), FULL);
	cr_expect_leq(len, CTL_QUEUE_MAX);
	free(got);
	free(batch);
}

Test(queue, partial_reads_make_room)
{
	int ran;
	cr_assert_eq(fill(&ran), 0);
	char buf[1024];
	cr_assert_eq(ctl_queue_read(&Q, buf, sizeof buf), sizeof buf);
	cr_expect_eq(put("again"), 5, "room was made by reading");
	cr_expect_leq(unread_of(&Q), CTL_QUEUE_MAX);
}

/* ---- with the real commands behind it --------------------------------------- */

static int run_root(void *ctx, const char *line, size_t len, char *result, size_t cap,
		    struct msg *msg)
{
	cr_assert_geq(cap, COMMAND_RESULT_MAX);
	return command_root(ctx, line, len, result, msg);
}

Test(queue, root_commands_through_a_queue)
{
	struct table t;
	cr_assert_eq(table_init(&t, 10, UINT64_MAX), 0);
	struct command_env env = { .table = &t, .mountpoint = "/mnt/none" };
	struct ctl_queue q;
	cr_assert_eq(ctl_queue_init(&q, COMMAND_ROOT_USAGE), 0);
	char *usage = drain(&q);
	cr_expect_str_eq(usage, COMMAND_ROOT_USAGE);
	free(usage);
	const char text[] = "map anon length=4K\nmap anon length=4K name=x\nclose 0\n";
	cr_expect_eq(ctl_queue_write(&q, text, sizeof text - 1, run_root, &env),
		     (ssize_t)(sizeof text - 1));
	const char bad[] = "close x\nclose x\nmap anon length=4K";
	cr_expect_eq(ctl_queue_write(&q, bad, sizeof bad - 1, run_root, &env), -ENOENT);
	cr_expect_eq(ctl_queue_write(&q, "\n", 1, run_root, &env), -EINVAL);
	char *got = drain(&q);
	cr_expect_str_eq(got, "0\nx\nok\nok\nerror: no mapping named 'x'\nerror: empty command\n");
	free(got);
	struct table_stats s;
	table_stats(&t, &s);
	cr_expect_eq(s.maps, 0, "the map after the failed close did not run");
	ctl_queue_destroy(&q);
	table_destroy(&t);
}
