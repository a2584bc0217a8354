/* trace.c - the debug trace (-d, -o debug): one line per request on the
 * server's stderr, naming the caller, the operation, the file as a path,
 * the command of a ctl write, and the result. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/harness.h"

TestSuite(trace, .fini = mnt_down, .timeout = 60);

struct job {
	const char *path;
	const char *command;
};

/* In a child: report our pid, then run the command, so the test knows
 * which pid the trace must name. */
static int command_child(void *p, int out_fd)
{
	struct job *j = p;
	int pid = (int)getpid();
	if (write(out_fd, &pid, sizeof pid) != sizeof pid)
		return 1;
	return -ctl_raw(j->path, j->command, strlen(j->command), NULL, 0) & 0xff;
}

/* Run command on the root ctl; returns the pid that sent it and, in *err,
 * the errno of its write (0: success). */
static int sent_by(const char *command, int *err)
{
	struct job j = { mp(&M, "ctl"), command };
	int pid = 0;
	size_t got = 0;
	int rc = run_limited(OP_TIMEOUT_MS, command_child, &j, &pid, sizeof pid, &got);
	cr_assert(rc >= 0 && got == sizeof pid, "'%s' did not run in time (%d)", command, rc);
	*err = rc;
	return pid;
}

static char *server_stderr(void)
{
	const char *path = mnt_stderr(&M);
	cr_assert(path, "the harness keeps the server's stderr");
	char *text = read_all(path, NULL);
	cr_assert(text, "read %s: %s", path, strerror(errno));
	return text;
}

/* The trace holds a line that starts with "mmapfs: pid PID " and has
 * want after that prefix (pid 0: any pid). */
static bool has_line(const char *trace, int pid, const char *want)
{
	for (const char *l = trace; *l;) {
		const char *end = strchrnul(l, '\n');
		int line_pid, at = 0;
		if (sscanf(l, "mmapfs: pid %d %n", &line_pid, &at) == 1 && at > 0 &&
		    (pid == 0 || line_pid == pid) && (size_t)(end - l - at) == strlen(want) &&
		    strncmp(l + at, want, strlen(want)) == 0)
			return true;
		l = *end ? end + 1 : end;
	}
	return false;
}

#define expect_line(trace, pid, want) \
	cr_expect(has_line((trace), (pid), (want)), "no trace line '%s' (pid %d) in:\n%s", (want), \
		  (pid), (trace))

Test(trace, shows_a_map_a_read_and_a_close)
{
	mnt_start_logged(&M, "debug");
	make_file(sp(&M, "f"), "hello", 5);
	char command[4300], want[4400];
	snprintf(command, sizeof command, "map %s name=t\nmap anon length=1 name=u", sp(&M, "f"));
	int err, pid = sent_by(command, &err);
	cr_assert_eq(err, 0, "map: %s", strerror(err));

	char buf[16];
	cr_assert_eq(pread_timed(mp(&M, "maps/t/data"), buf, sizeof buf, 1), 4);
	int closer = sent_by("close t", &err);
	cr_assert_eq(err, 0, "close: %s", strerror(err));
	/* Refusals show their errno. */
	int failer = sent_by("close t", &err);
	cr_assert_eq(err, ENOENT, "close of a closed name: %d", err);
	cr_assert_eq(size_of(mp(&M, "maps/t")), -ENOENT);

	char *trace = server_stderr();
	/* The command as written, a newline between two shown as \x0a. */
	snprintf(want, sizeof want,
		 "write ctl \"map %s name=t\\x0amap anon length=1 name=u\" -> %zu bytes",
		 sp(&M, "f"), strlen(command));
	expect_line(trace, pid, want);
	expect_line(trace, pid, "open ctl rdwr -> ok");
	/* The file as a path, and what the read returned. */
	expect_line(trace, 0, "open maps/t/data rdonly -> ok");
	cr_expect(strstr(trace, " read maps/t/data off 1 size ") &&
			  strstr(trace, " -> 4 bytes\n"), "the read:\n%s", trace);
	expect_line(trace, closer, "write ctl \"close t\" -> 7 bytes");
	expect_line(trace, failer, "write ctl \"close t\" -> ENOENT");
	expect_line(trace, 0, "lookup maps/t -> ENOENT");
	free(trace);
}

Test(trace, shows_rmdir_and_attribute_writes)
{
	mnt_start_logged(&M, "debug");
	map_ok(&M, "anon length=4096 name=r");
	cr_assert_eq(write_all(mp(&M, "maps/r/pos"), "12", 2, O_TRUNC), 0);
	cr_assert_eq(rmdir(mp(&M, "maps/r")), 0);
	char *trace = server_stderr();
	int me = (int)getpid();
	expect_line(trace, me, "write maps/r/pos \"12\" -> 2 bytes");
	expect_line(trace, me, "rmdir maps/r -> ok");
	free(trace);
}

Test(trace, is_off_without_debug)
{
	mnt_start_logged(&M, NULL);
	map_ok(&M, "anon length=4096 name=q");
	cr_assert_eq(rmdir(mp(&M, "maps/q")), 0);
	char *trace = server_stderr();
	cr_expect_null(strstr(trace, "mmapfs: pid "), "no trace without -d:\n%s", trace);
	free(trace);
}
