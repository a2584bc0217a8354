/* it_log.c - the `log` file through a real mount: the exact line format,
 * every kind of change logged as the command it stands for, text escaped
 * once, each user's own lines under allow_other, and bounded memory (the
 * log's and the control files' result queues). Also: a second mmapfs on
 * the same directory is refused. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/harness.h"

TestSuite(log, .init = mnt_up, .fini = mnt_down, .timeout = 120);

static char *the_log(void)
{
	char *text = slurp(mp(&M, "log"), NULL);
	cr_assert(text, "log readable");
	return text;
}

/* Whether the log has the line "TIME " + rest, rest ending in "\n". */
static bool has_line(const char *rest)
{
	char *log = the_log();
	char want[8192];
	snprintf(want, sizeof want, "Z %s", rest);
	bool found = false;
	for (char *at = log; (at = strstr(at, want)); at++) {
		/* the match must start a line: "...HH:MM:SS.mmmZ pid ..." */
		char *bol = at;
		while (bol > log && bol[-1] != '\n')
			bol--;
		if (at - bol == 23) {
			found = true;
			break;
		}
	}
	if (!found)
		cr_log_info("log:\n%s", log);
	free(log);
	return found;
}

static int count_of(const char *needle)
{
	char *log = the_log();
	int n = 0;
	for (char *at = log; (at = strstr(at, needle)); at += strlen(needle))
		n++;
	free(log);
	return n;
}

#define expect_line(...)                                                         \
	do {                                                                     \
		char line_[8192];                                                \
		snprintf(line_, sizeof line_, __VA_ARGS__);                      \
		cr_expect(has_line(line_), "log line: %s", line_);               \
	} while (0)

/* ---- the format ------------------------------------------------------------ */

Test(log, every_line_has_the_spec_format)
{
	char out[256];
	map_ok(&M, "anon length=4K name=f");
	/* cmd() writes from this process, so the lines carry our pid. */
	cr_expect_eq(cmd(&M, "maps/f/ctl", "seek 1", out, sizeof out), 0);
	cr_expect_eq(cmd(&M, "ctl", "close nosuch", out, sizeof out), -ENOENT);
	time_t before = time(NULL);
	cr_expect_eq(cmd(&M, "maps/f/ctl", "resize 8K", out, sizeof out), 0);
	time_t after = time(NULL);
	regex_t re;
	cr_assert_eq(regcomp(&re,
			     "^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
			     "\\.[0-9]{3}Z pid ([0-9]+) uid ([0-9]+) [^ :]+: .* => .*$",
			     REG_EXTENDED | REG_NEWLINE),
		     0);
	char *log = the_log();
	int lines = 0;
	for (char *line = strtok(log, "\n"); line; line = strtok(NULL, "\n"), lines++) {
		regmatch_t g[9];
		cr_assert_eq(regexec(&re, line, 9, g, 0), 0, "line: %s", line);
		cr_expect_eq(atoi(line + g[7].rm_so), (int)getpid(), "pid: %s", line);
		cr_expect_eq((unsigned)atoi(line + g[8].rm_so), getuid(), "uid: %s", line);
		if (strstr(line, "resize 8K")) {
			struct tm tm = { 0 };
			cr_assert(strptime(line, "%Y-%m-%dT%H:%M:%S", &tm));
			time_t t = timegm(&tm);
			cr_expect(t >= before && t <= after, "the time is UTC now: %s", line);
		}
	}
	cr_expect_eq(lines, 4);
	free(log);
	regfree(&re);
	expect_line("pid %d uid %u ctl: map anon length=4K name=f => f\n", getpid(), getuid());
	expect_line("pid %d uid %u maps/f/ctl: seek 1 => ok\n", getpid(), getuid());
	expect_line("pid %d uid %u ctl: close nosuch => error: no mapping named 'nosuch'\n",
		    getpid(), getuid());
	expect_line("pid %d uid %u maps/f/ctl: resize 8K => ok\n", getpid(), getuid());
}

/* ---- every change, as the command it stands for ---------------------------- */

Test(log, changes_through_files_are_logged_as_commands)
{
	int me = getpid();
	unsigned uid = getuid();
	make_file(sp(&M, "f"), "0123456789", 10);
	map_ok(&M, "%s name=g", sp(&M, "f"));
	cr_expect_eq(write_raw(mp(&M, "maps/g/size"), "20\n", 3, O_WRONLY | O_TRUNC), 0);
	expect_line("pid %d uid %u maps/g/size: resize 20 => ok\n", me, uid);
	cr_expect_eq(write_raw(mp(&M, "maps/g/size"), "abc", 3, O_WRONLY | O_TRUNC), -EINVAL);
	cr_expect(count_of(" maps/g/size: resize abc => error: ") == 1, "a refused resize too");
	cr_expect_eq(write_raw(mp(&M, "maps/g/pos"), "4\n", 2, O_WRONLY | O_TRUNC), 0);
	expect_line("pid %d uid %u maps/g/pos: seek 4 => ok\n", me, uid);
	cr_expect_eq(write_raw(mp(&M, "maps/g/pos"), "-2 end", 6, O_WRONLY), 0);
	expect_line("pid %d uid %u maps/g/pos: seek -2 end => ok\n", me, uid);
	cr_expect_eq(write_raw(mp(&M, "maps/g/pos"), "99", 2, O_WRONLY), -EINVAL);
	expect_line("pid %d uid %u maps/g/pos: seek 99 => error: seek out of range\n", me, uid);
	cr_expect_eq(truncate(mp(&M, "maps/g/data"), 30), 0);
	expect_line("pid %d uid %u maps/g/data: resize 30 => ok\n", me, uid);
	int fd = open(mp(&M, "maps/g/data"), O_RDWR);
	cr_assert(fd >= 0);
	cr_expect_eq(ftruncate(fd, 12), 0);
	expect_line("pid %d uid %u maps/g/data: resize 12 => ok\n", me, uid);
	/* A write inside the mapping is no change of size: not logged. */
	int resizes = count_of(" maps/g/data: resize ");
	cr_expect_eq(pwrite(fd, "ab", 2, 3), 2);
	cr_expect_eq(count_of(" maps/g/data: resize "), resizes);
	/* A write past the end grows it: logged as the resize it is. */
	cr_expect_eq(pwrite(fd, "xyz", 3, 40), 3);
	expect_line("pid %d uid %u maps/g/data: resize 43 => ok\n", me, uid);
	close(fd);
	fd = open(mp(&M, "maps/g/data"), O_WRONLY | O_TRUNC);
	cr_assert(fd >= 0);
	expect_line("pid %d uid %u maps/g/data: resize 0 => ok\n", me, uid);
	close(fd);
	fd = open(mp(&M, "maps/g/data"), O_WRONLY | O_APPEND);
	cr_assert(fd >= 0);
	cr_expect_eq(write(fd, "hello", 5), 5);
	expect_line("pid %d uid %u maps/g/data: resize 5 => ok\n", me, uid);
	close(fd);
	/* Truncating ctl, size or pos (as `>` does) changes nothing: no line. */
	int all = count_of("\n");
	fd = open(mp(&M, "maps/g/size"), O_WRONLY | O_TRUNC);
	cr_assert(fd >= 0);
	close(fd);
	cr_expect_eq(count_of("\n"), all);
	char out[64];
	cr_expect_eq(cmd(&M, "maps/g/ctl", "seek 1", out, sizeof out), 0);
	expect_line("pid %d uid %u maps/g/ctl: seek 1 => ok\n", me, uid);
	cr_expect_eq(rmdir(mp(&M, "maps/g")), 0);
	expect_line("pid %d uid %u maps/g: close g => ok\n", me, uid);
	/* (rmdir of a name that is gone fails in the kernel's lookup: the
	 * server never sees it.) */
	cr_expect_eq(rmdir(mp(&M, "maps/g")), -1);
	map_ok(&M, "anon length=4K name=h");
	cr_expect_eq(cmd(&M, "ctl", "close h", out, sizeof out), 0);
	expect_line("pid %d uid %u ctl: close h => ok\n", me, uid);
}

Test(log, a_shell_redirect_logs_the_shells_pid)
{
	map_ok(&M, "anon length=4K name=s");
	char line[512];
	snprintf(line, sizeof line, "echo 4096 > '%s'; echo $$", mp(&M, "maps/s/size"));
	FILE *p = popen(line, "r");
	cr_assert(p);
	int shell = 0;
	cr_expect_eq(fscanf(p, "%d", &shell), 1);
	pclose(p);
	expect_line("pid %d uid %u maps/s/size: resize 4096 => ok\n", shell, getuid());
}

/* ---- escaping once --------------------------------------------------------- */

Test(log, text_is_escaped_once_as_written)
{
	/* A file named a<0xc3>\b: written escaped inside double quotes. */
	char path[sizeof M.scratch + 8];
	snprintf(path, sizeof path, "%s/a\xc3\\b", M.scratch);
	make_file(path, "data", 4);
	char command[4200], out[256];
	snprintf(command, sizeof command, "map \"%s/a\\xc3\\\\b\" name=e", M.scratch);
	cr_assert_eq(cmd(&M, "ctl", command, out, sizeof out), 0, "%s", out);
	cr_expect_str_eq(out, "e");
	expect_line("pid %d uid %u ctl: %s => e\n", getpid(), getuid(), command);
	cr_expect_eq(count_of("\\x5c"), 0, "no backslash escaped a second time");
	/* The same path in raw bytes: the byte 0xc3 shows as \xc3, once. */
	snprintf(command, sizeof command, "map '%s' name=r", path);
	cr_assert_eq(cmd(&M, "ctl", command, out, sizeof out), 0, "%s", out);
	expect_line("pid %d uid %u ctl: map '%s/a\\xc3\\b' name=r => r\n", getpid(), getuid(),
		    M.scratch);
	/* Control bytes never break a line. */
	const char raw[] = "find \"\x01\x02\x1b\"";
	cr_expect_eq(cmd(&M, "maps/e/ctl", raw, out, sizeof out), 0);
	expect_line("pid %d uid %u maps/e/ctl: find \"\\x01\\x02\\x1b\" => -1\n", getpid(),
		    getuid());
	char *log = the_log();
	for (char *c = log; *c; c++)
		cr_assert((*c >= 0x20 && *c < 0x7f) || *c == '\n', "only printable ASCII");
	free(log);
}

static const char *mmapctl_bin(void)
{
	static char path[4096];
	const char *named = getenv("MMAPCTL_BIN");
	if (named && *named)
		return named;
	const char *bin = getenv("MMAPFS_SERVER_BIN");
	if (!bin || !*bin)
		bin = getenv("MMAPFS_BIN");
	snprintf(path, sizeof path, "%s", bin && *bin ? bin : "src/server/mmapfs");
	char *slash = strrchr(path, '/');
	snprintf(slash ? slash : path, sizeof path - (size_t)(slash ? slash - path : 0),
		 "%s../mmapctl/mmapctl", slash ? "/" : "");
	return path;
}

struct ctl_run {
	const char *mount, *path;
};

static int run_mmapctl_map(void *p, int out_fd)
{
	struct ctl_run *r = p;
	dup2(out_fd, 1);
	dup2(out_fd, 2);
	execl(mmapctl_bin(), "mmapctl", "-m", r->mount, "map", r->path, "name=via", (char *)NULL);
	return 127;
}

Test(log, a_path_mmapctl_escaped_is_logged_as_it_sent_it)
{
	if (access(mmapctl_bin(), X_OK) != 0)
		cr_skip_test("no mmapctl at %s", mmapctl_bin());
	char path[sizeof M.scratch + 16];
	snprintf(path, sizeof path, "%s/b%c\\c", M.scratch, 0xc3);
	make_file(path, "data", 4);
	struct ctl_run r = { M.dir, path };
	char out[1024];
	size_t got = 0;
	int rc = run_limited(OP_TIMEOUT_MS, run_mmapctl_map, &r, out, sizeof out - 1, &got);
	out[got] = '\0';
	cr_assert_eq(rc, 0, "mmapctl map: %s", out);
	cr_expect_eq(count_of("\\x5c"), 0, "no backslash escaped a second time");
	char want[4200];
	snprintf(want, sizeof want, "%s/b\\xc3\\\\c", M.scratch);
	cr_expect_gt(count_of(want), 0, "the path as mmapctl wrote it, escaped once: %s", want);
}

/* ---- bounded memory -------------------------------------------------------- */

static long rss_kib(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	char *s = slurp(path, NULL);
	cr_assert(s);
	char *v = strstr(s, "VmRSS:");
	cr_assert(v);
	long kib = atol(v + 6);
	free(s);
	return kib;
}

/* What the log and its readers may add to the server's RSS, on top of
 * libfuse's per-thread request buffers: the log keeps CMDLOG_BYTES (256 KiB),
 * each open of `log` a few KiB. */
#define LOG_RSS_BOUND_KIB (16 * 1024)

/* A sanitizer build's server keeps freed memory in quarantine (256 MiB by
 * default), so its RSS says nothing about what the server holds: there the
 * bound is not checked, only the log's own size. */
static long rss_bound_kib(void)
{
	const char *logs = getenv("MMAPFS_SERVER_LOGS");
	return logs && *logs ? 1L << 40 : LOG_RSS_BOUND_KIB;
}

Test(log, memory_stays_bounded_under_maximal_commands_and_many_readers)
{
	long base = rss_kib(M.pid);
	size_t n = 64 * 1024;
	char *big = malloc(n);
	memset(big, '\x01', n);
	int fd = open(mp(&M, "ctl"), O_RDWR);
	cr_assert(fd >= 0);
	char out[4096];
	for (int i = 0; i < 1000; i++) {
		cr_assert_eq(write(fd, big, n), -1);
		cr_assert_eq(errno, EINVAL);
		cr_assert_gt(read(fd, out, sizeof out), 0);
	}
	close(fd);
	free(big);
	long after_writes = rss_kib(M.pid);
	cr_expect_lt(after_writes - base, rss_bound_kib(),
		     "1000 maximal commands: RSS %ld -> %ld KiB", base, after_writes);
	size_t len;
	char *log = slurp(mp(&M, "log"), &len);
	cr_assert(log);
	cr_expect_leq(len, 256 * 1024, "the log holds at most its byte budget: %zu", len);
	cr_expect(strstr(log, " [cut: 65536 bytes] => error: "), "a cut command says its length");
	free(log);
	/* 8, then 100, readers at once, each read to the end while all are open. */
	int counts[] = { 8, 100 };
	for (int k = 0; k < 2; k++) {
		int fds[100];
		for (int i = 0; i < counts[k]; i++) {
			fds[i] = open(mp(&M, "log"), O_RDONLY);
			cr_assert(fds[i] >= 0);
		}
		char buf[65536];
		for (int i = 0; i < counts[k]; i++) {
			size_t total = 0;
			ssize_t r;
			while ((r = read(fds[i], buf, sizeof buf)) > 0)
				total += (size_t)r;
			cr_expect_eq(total, len, "each reader sees the whole log");
		}
		long now = rss_kib(M.pid);
		cr_log_info("RSS: %ld KiB at start, %ld after the writes, %ld with %d readers", base,
			    after_writes, now, counts[k]);
		cr_expect_lt(now - base, rss_bound_kib(), "%d readers: RSS %ld -> %ld KiB",
			     counts[k], base, now);
		for (int i = 0; i < counts[k]; i++)
			close(fds[i]);
	}
}

Test(log, one_open_is_one_snapshot)
{
	char out[64];
	map_ok(&M, "anon length=4K name=a");
	int fd = open(mp(&M, "log"), O_RDONLY);
	cr_assert(fd >= 0);
	cr_expect_eq(map_cmd(&M, "a", "seek 2", out, sizeof out), 0);
	char buf[65536];
	ssize_t n = read(fd, buf, sizeof buf - 1);
	cr_assert_geq(n, 0);
	buf[n] = '\0';
	cr_expect(strstr(buf, "name=a => a\n"), "%s", buf);
	cr_expect(!strstr(buf, "seek 2"), "a later command is not in an earlier open's view");
	cr_expect_eq(pread(fd, buf, 10, 0), 10, "rereading from 0 gives the same text");
	close(fd);
}

/* ---- the control files' queues --------------------------------------------- */

Test(log, a_full_result_queue_refuses_with_enobufs)
{
	int fd = open(mp(&M, "ctl"), O_RDWR);
	cr_assert(fd >= 0);
	char name[65], line[256];
	memset(name, 'n', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	snprintf(line, sizeof line, "close %s", name);
	int writes = 0;
	errno = 0;
	while (writes < 10000 && write(fd, line, strlen(line)) < 0 && errno == ENOENT)
		writes++;
	cr_assert_eq(errno, ENOBUFS, "a write fails with ENOBUFS once results pile up");
	cr_expect_gt(writes, 100);
	const char *m = "map anon length=4K name=late";
	cr_expect_eq(write(fd, m, strlen(m)), -1);
	cr_expect_eq(errno, ENOBUFS);
	cr_expect_eq(access(mp(&M, "maps/late"), F_OK), -1, "the refused command did not run");
	static char buf[128 * 1024];
	size_t got = 0;
	ssize_t r;
	while ((r = read(fd, buf + got, sizeof buf - got)) > 0)
		got += (size_t)r;
	cr_expect_leq(got, 64 * 1024, "at most 64 KiB of unread results: %zu", got);
	buf[got] = '\0';
	const char *full = "error: too many unread results: read them before writing more "
			   "(at most 65536 bytes wait)\n";
	cr_expect(got > strlen(full) && strcmp(buf + got - strlen(full), full) == 0,
		  "the queue ends with the refusal");
	int lines = 0;
	for (size_t i = 0; i < got; i++)
		lines += buf[i] == '\n';
	cr_expect_geq(lines, writes + 1, "every result before the refusal is kept");
	/* read: room again */
	cr_expect_eq(write(fd, m, strlen(m)), (ssize_t)strlen(m));
	r = read(fd, buf, sizeof buf);
	cr_expect(r == 5 && memcmp(buf, "late\n", 5) == 0);
	close(fd);
	cr_expect(server_answers(&M));
}

/* ---- per-user lines under allow_other ------------------------------------- */

#define ALICE 41011
#define BOB 41012

struct as_user {
	uid_t uid;
	const char *ctl, *log, *cmd;
};

/* In the child: become uid, run one command, print the log's text. */
static int as_user_run(void *p, int out_fd)
{
	struct as_user *u = p;
	if (setgroups(0, NULL) || setresgid(u->uid, u->uid, u->uid) ||
	    setresuid(u->uid, u->uid, u->uid))
		return 99;
	if (u->cmd) {
		char out[256];
		/* A refused command is logged too: its errno does not matter. */
		(void)ctl_raw(u->ctl, u->cmd, strlen(u->cmd), out, sizeof out);
	}
	size_t len;
	char *text = slurp(u->log, &len);
	if (!text)
		return 97;
	ssize_t w = write(out_fd, text, len);
	free(text);
	return w == (ssize_t)len ? 0 : 96;
}

static char *log_as(uid_t uid, const char *command)
{
	static char out[256 * 1024];
	struct as_user u = { uid, mp(&M, "ctl"), mp(&M, "log"), command };
	size_t got = 0;
	int rc = run_limited(OP_TIMEOUT_MS, as_user_run, &u, out, sizeof out - 1, &got);
	cr_assert_eq(rc, 0, "as uid %u: status %d", (unsigned)uid, rc);
	out[got] = '\0';
	return out;
}

static void only_uid(const char *text, uid_t uid)
{
	char want[32];
	snprintf(want, sizeof want, " uid %u ", (unsigned)uid);
	char *copy = strdup(text);
	for (char *line = strtok(copy, "\n"); line; line = strtok(NULL, "\n"))
		cr_expect(strstr(line, want), "uid %u sees another's line: %s", (unsigned)uid, line);
	free(copy);
}

static void up_users(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to act as other users");
	mnt_start(&M, "allow_other");
	/* Other users must reach the mount (run-test.sh's TMPDIR is 0700). */
	char parent[sizeof M.dir];
	snprintf(parent, sizeof parent, "%s", M.dir);
	*strrchr(parent, '/') = '\0';
	cr_assert(chmod(parent, 0755) == 0);
}

TestSuite(log_users, .init = up_users, .fini = mnt_down, .timeout = 120);

Test(log_users, with_allow_other_each_user_sees_only_their_lines)
{
	map_ok(&M, "anon length=4K name=root_map");
	char *a = log_as(ALICE, "map anon length=4K name=alice_map");
	cr_expect(strstr(a, "ctl: map anon length=4K name=alice_map => alice_map\n"), "%s", a);
	only_uid(a, ALICE);
	char *b = log_as(BOB, "close alice_map");
	cr_expect(strstr(b, "ctl: close alice_map => error: "), "bob's refused close: %s", b);
	cr_expect(!strstr(b, "alice_map => alice_map"), "bob does not see alice's map");
	cr_expect(!strstr(b, "root_map"), "bob does not see root's map");
	only_uid(b, BOB);
	/* Alice's close of her mapping, and the pos she wrote, are hers too. */
	char line[512];
	snprintf(line, sizeof line, "setpriv --reuid=%d --regid=%d --clear-groups sh -c "
		 "'echo 1 > %s'", ALICE, ALICE, mp(&M, "maps/alice_map/pos"));
	cr_expect_eq(system(line), 0, "alice seeks her mapping");
	a = log_as(ALICE, "close alice_map");
	cr_expect(strstr(a, "maps/alice_map/pos: seek 1 => ok\n"), "%s", a);
	cr_expect(strstr(a, "ctl: close alice_map => ok\n"), "%s", a);
	only_uid(a, ALICE);
	char *all = the_log();
	char want[64];
	snprintf(want, sizeof want, " uid %d ctl: map anon length=4K name=alice_map", ALICE);
	cr_expect(strstr(all, want), "root sees alice's lines");
	snprintf(want, sizeof want, " uid %d ctl: close alice_map", BOB);
	cr_expect(strstr(all, want), "root sees bob's lines");
	cr_expect(strstr(all, " uid 0 ctl: map anon length=4K name=root_map"), "and its own");
	free(all);
}

/* ---- a second mount on the same directory ------------------------------------ */

static const char *server_bin(void)
{
	/* The sanitizer builds wrap the server to keep its stderr: run the
	 * binary itself, whose message we read. */
	const char *b = getenv("MMAPFS_SERVER_BIN");
	if (!b || !*b)
		b = getenv("MMAPFS_BIN");
	return b && *b ? b : "src/server/mmapfs";
}

static int second_server(void *dir, int out_fd)
{
	dup2(out_fd, 1);
	dup2(out_fd, 2);
	execl(server_bin(), "mmapfs", (const char *)dir, (char *)NULL);
	return 127;
}

static int mounts_at(const char *dir)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[8192], esc[4096];
	size_t w = 0;
	for (const char *c = dir; *c && w + 5 < sizeof esc; c++) {
		if (*c == ' ') {
			memcpy(esc + w, "\\040", 4);
			w += 4;
		} else
			esc[w++] = *c;
	}
	esc[w] = '\0';
	int n = 0;
	while (f && fgets(line, sizeof line, f)) {
		char point[4096];
		if (sscanf(line, "%*d %*d %*s %*s %4095s", point) == 1 && strcmp(point, esc) == 0)
			n++;
	}
	if (f)
		fclose(f);
	return n;
}

/* Try a second server on dir, where one runs: it must refuse, saying why. */
static void expect_second_refused(const char *dir)
{
	char out[2048] = "";
	size_t got = 0;
	int before = mounts_at(dir);
	int rc = run_limited(OP_TIMEOUT_MS, second_server, (void *)dir, out, sizeof out - 1, &got);
	out[got] = '\0';
	int after = mounts_at(dir);
	if (after > before) /* the regression: take the second one down */
		umount2(dir, MNT_DETACH);
	cr_expect_neq(rc, 0, "the second server fails (status %d)", rc);
	cr_expect_eq(after, before, "and mounts nothing");
	cr_expect(strstr(out, "already mounted"), "saying why: %s", out);
	cr_expect(strstr(out, dir), "naming the directory: %s", out);
}

Test(log, a_second_mount_on_the_same_directory_is_refused)
{
	map_ok(&M, "anon length=4K name=keep");
	expect_second_refused(M.dir);
	cr_expect_eq(access(mp(&M, "maps/keep/data"), F_OK), 0, "the first keeps its mappings");
	cr_expect(server_answers(&M));
	char out[64];
	cr_expect_eq(map_cmd(&M, "keep", "seek 1", out, sizeof out), 0);
}

Test(log, a_second_mount_is_refused_on_a_path_with_a_space)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s", sp(&M, "with space"));
	cr_assert_eq(mkdir(dir, 0755), 0);
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		execl(server_bin(), "mmapfs", "-f", dir, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 1000 && mounts_at(dir) == 0; i++)
		usleep(10000);
	cr_expect_eq(mounts_at(dir), 1, "the first server mounted");
	if (mounts_at(dir) == 1)
		expect_second_refused(dir);
	kill(pid, SIGTERM);
	int st;
	waitpid(pid, &st, 0);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the first server exits cleanly");
	cr_expect_eq(mounts_at(dir), 0);
}

Test(log, a_mount_on_a_plain_directory_or_below_a_mount_is_not_refused)
{
	/* The harness's own mount shows a plain directory works; a directory
	 * whose path merely starts with a mount point's is not that mount. */
	char dir[sizeof M.dir + 2];
	snprintf(dir, sizeof dir, "%s2", M.dir);
	cr_assert_eq(mkdir(dir, 0755), 0);
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		execl(server_bin(), "mmapfs", "-f", dir, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 1000 && mounts_at(dir) == 0; i++)
		usleep(10000);
	cr_expect_eq(mounts_at(dir), 1, "a server mounts on %s", dir);
	kill(pid, SIGTERM);
	int st;
	waitpid(pid, &st, 0);
	rmdir(dir);
}
