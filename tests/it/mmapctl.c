/* it_mmapctl.c - mmapctl, the shell client, run as a program against a real
 * mount: each command's output, stderr and exit status, quoting of awkward
 * arguments, finding the mount, the page map picture, and the man pages. */
#define _GNU_SOURCE
#include "config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/harness.h"

#define MAX_ARGS 32

#define PAGE page_size()

/* How to run mmapctl: where from, with which $MMAPFS_MOUNT, which stdin. */
struct how {
	const char *cwd;	/* NULL: the test's own */
	const char *env_mount;	/* NULL: the test mount; "": unset */
	const char *stdin_path;	/* NULL: /dev/null */
	const char *program;	/* NULL: mmapctl */
};

/* What came out. */
struct run {
	int status;		/* exit status, or -1 for a signal */
	char *out;
	char *err;
	size_t out_len;
};

TestSuite(mmapctl, .init = mnt_up, .fini = mnt_down, .timeout = 60);
TestSuite(offline, .timeout = 60);

static const char *mmapctl_binary(void)
{
	static char path[4096];
	/* make check names it; else it sits in ../mmapctl/ beside the server. MMAPFS_BIN may
	 * be a wrapper script elsewhere (the sanitizer builds use one). */
	const char *named = getenv("MMAPCTL_BIN");
	if (named && *named)
		return named;
	const char *bin = getenv("MMAPFS_BIN");
	char copy[4096];
	snprintf(copy, sizeof copy, "%s", bin ? bin : "src/server/mmapfs");
	snprintf(path, sizeof path, "%s/../mmapctl/mmapctl", dirname(copy));
	return path;
}

static const char *tmp_root(void)
{
	const char *t = getenv("TMPDIR");
	return t && *t ? t : "/tmp";
}

/* The environment of the child: ours, with MMAPFS_MOUNT as asked. */
static char **child_env(const char *mount)
{
	extern char **environ;
	size_t n = 0;
	while (environ[n])
		n++;
	char **env = calloc(n + 2, sizeof *env);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "MMAPFS_MOUNT=", 13) != 0)
			env[k++] = environ[i];
	if (mount && *mount) {
		char *var;
		cr_assert(asprintf(&var, "MMAPFS_MOUNT=%s", mount) > 0);
		env[k++] = var; /* freed with the test process */
	}
	env[k] = NULL;
	return env;
}

static void exec_child(const struct how *h, char **argv, int out, int err)
{
	int in = open(h->stdin_path ? h->stdin_path : "/dev/null", O_RDONLY);
	if (in < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(126);
	if (h->cwd && chdir(h->cwd) != 0)
		_exit(126);
	char **env = child_env(h->env_mount ? h->env_mount : M.dir);
	if (h->program)
		execvpe(h->program, argv, env);
	else
		execve(mmapctl_binary(), argv, env);
	_exit(127);
}

static int temp_file(const char *what)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s.XXXXXX", tmp_root(), what);
	int fd = mkstemp(path);
	cr_assert(fd >= 0, "mkstemp: %s", strerror(errno));
	unlink(path);
	return fd;
}

static char *slurp_fd(int fd, size_t *len)
{
	off_t size = lseek(fd, 0, SEEK_END);
	char *buf = calloc(1, (size_t)size + 1);
	cr_assert(pread(fd, buf, (size_t)size, 0) == size);
	close(fd);
	if (len)
		*len = (size_t)size;
	return buf;
}

/* Run the program with argv (argv[0] included), its output in files (so
 * a large output cannot block it), and wait for it. */
static void run_argv(struct run *r, const struct how *h, char **argv)
{
	int out = temp_file("out"), err = temp_file("err");
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0)
		exec_child(h, argv, out, err);
	int st = 0;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	r->out = slurp_fd(out, &r->out_len);
	r->err = slurp_fd(err, NULL);
}

static void run_va(struct run *r, const struct how *h, const char *first, va_list ap)
{
	char *argv[MAX_ARGS] = { (char *)(h->program ? h->program : "mmapctl") };
	size_t n = 1;
	for (const char *a = first; a && n < MAX_ARGS - 1; a = va_arg(ap, const char *))
		argv[n++] = (char *)a;
	argv[n] = NULL;
	run_argv(r, h, argv);
}

/* mmapctl ARGS... (NULL-terminated) with $MMAPFS_MOUNT set to the test mount. */
static void ctl(struct run *r, const char *first, ...)
{
	static const struct how plain = { 0 };
	va_list ap;
	va_start(ap, first);
	run_va(r, &plain, first, ap);
	va_end(ap);
}

static void ctl_how(struct run *r, const struct how *h, const char *first, ...)
{
	va_list ap;
	va_start(ap, first);
	run_va(r, h, first, ap);
	va_end(ap);
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

/* Exit 0, this stdout, nothing on stderr. */
static void expect_ok(struct run *r, const char *out)
{
	cr_expect_eq(r->status, 0, "exit %d, stderr: %s", r->status, r->err);
	cr_expect_str_eq(r->out, out);
	cr_expect_str_eq(r->err, "");
	run_free(r);
}

/* This exit status, nothing on stdout, this stderr. */
static void expect_fail(struct run *r, int status, const char *err)
{
	cr_expect_eq(r->status, status, "exit %d, stderr: %s", r->status, r->err);
	cr_expect_str_eq(r->out, "");
	cr_expect_str_eq(r->err, err);
	run_free(r);
}

/* expect_fail with the stderr made from a format. */
static void expect_failf(struct run *r, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void expect_failf(struct run *r, int status, const char *fmt, ...)
{
	char *want;
	va_list ap;
	va_start(ap, fmt);
	cr_assert(vasprintf(&want, fmt, ap) >= 0);
	va_end(ap);
	expect_fail(r, status, want);
	free(want);
}

/* A usage error: exit 2, a message naming the problem, and a usage line. */
static void expect_usage(struct run *r, const char *message)
{
	cr_expect_eq(r->status, 2, "exit %d, stderr: %s", r->status, r->err);
	cr_expect_str_eq(r->out, "");
	cr_expect(strstr(r->err, message), "stderr '%s' lacks '%s'", r->err, message);
	cr_expect(strncmp(r->err, "mmapctl: ", 9) == 0, "stderr: %s", r->err);
	run_free(r);
}

static const char *attr(const char *name, const char *which)
{
	static char value[8][4200];
	static unsigned next;
	char *v = value[next++ % 8];
	char *text = read_all(mp(&M, "maps/%s/%s", name, which), NULL);
	cr_assert(text, "read maps/%s/%s: %s", name, which, strerror(errno));
	snprintf(v, sizeof value[0], "%s", text);
	free(text);
	size_t len = strlen(v);
	if (len > 0 && v[len - 1] == '\n')
		v[len - 1] = '\0';
	return v;
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* A file of n bytes in the scratch directory, with text at the start. */
static const char *scratch_file(const char *name, const char *text, size_t n)
{
	char *buf = calloc(1, n + 1);
	memcpy(buf, text, strlen(text) < n ? strlen(text) : n);
	const char *path = sp(&M, "%s", name);
	make_file(path, buf, n);
	free(buf);
	return path;
}

/* ---- map and close --------------------------------------------------------- */

Test(mmapctl, map_prints_the_new_name)
{
	const char *f = scratch_file("f", "hello world\n", 12);
	struct run r;
	ctl(&r, "map", f, NULL);
	expect_ok(&r, "0\n");
	ctl(&r, "map", f, "access=copy", "name=second", NULL);
	expect_ok(&r, "second\n");
	ctl(&r, "map", "anon", "length=8K", NULL);
	expect_ok(&r, "1\n");
	cr_expect_str_eq(attr("second", "access"), "copy");
	cr_expect_str_eq(attr("1", "size"), "8192");
	cr_expect_str_eq(attr("1", "source"), "anonymous");
}

Test(mmapctl, map_takes_a_relative_path_from_the_current_directory)
{
	scratch_file("rel", "abc", 3);
	struct how h = { .cwd = M.scratch };
	struct run r;
	ctl_how(&r, &h, "map", "rel", NULL);
	expect_ok(&r, "0\n");
	cr_expect_str_eq(attr("0", "source"), sp(&M, "rel"));
}

Test(mmapctl, map_refusals_carry_the_servers_message)
{
	const char *f = scratch_file("f", "abc", 3);
	struct run r;
	ctl(&r, "map", f, "length=100", NULL);
	expect_failf(&r, 1, "mmapctl: map %s: mmap length is greater than file size\n"
		     "hint: %s has 3 bytes; from offset 0 at most 3 fit: give length=3 or less, "
		     "or length=0 for all of them\n", f, f);
	ctl(&r, "map", f, "access=copy", "flags=private", NULL);
	expect_failf(&r, 1, "mmapctl: map %s: mmap can't specify both access and flags, prot.\n"
		     "hint: give access= alone, or flags=/prot= alone (access=copy is "
		     "flags=private, access=read is prot=read)\n", f);
	ctl(&r, "map", f, "bogus=1", NULL);
	expect_failf(&r, 1, "mmapctl: map %s: unknown option 'bogus' (known: length, offset, "
		     "access, flags, prot, trackfd, name)\n", f);
	ctl(&r, "map", sp(&M, "missing"), NULL);
	expect_failf(&r, 1, "mmapctl: map %s: No such file or directory\n", sp(&M, "missing"));
	ctl(&r, "map", f, "name=x", NULL);
	expect_ok(&r, "x\n");
	ctl(&r, "map", f, "name=x", NULL);
	expect_failf(&r, 1, "mmapctl: map %s: a mapping named 'x' exists already\n", f);
	ctl(&r, "map", M.scratch, NULL);
	expect_failf(&r, 1, "mmapctl: map %s: source is not a regular file\n", M.scratch);
	char *stats = read_all(mp(&M, "stats"), NULL);
	cr_expect(strncmp(stats, "maps 1\nbytes 3\n", 15) == 0, "refusals left nothing: %s",
		  stats);
	free(stats);
}

Test(mmapctl, hints_name_the_option_or_the_range)
{
	const char *f = scratch_file("f", "abc", 3);
	char empty[4200];
	snprintf(empty, sizeof empty, "%s", scratch_file("empty", "", 0));
	struct run r;
	ctl(&r, "map", "anon", "length=99999999999999999999", NULL);
	expect_fail(&r, 1, "mmapctl: map anon: Python int too large to convert to C ssize_t\n"
		    "hint: length=99999999999999999999 is beyond the largest number a mapping "
		    "takes, 9223372036854775807 (2^63-1)\n");
	ctl(&r, "map", f, "offset=1", NULL);
	expect_failf(&r, 1, "mmapctl: map %s: Invalid argument\n"
		     "hint: offset= must be a multiple of the allocation granularity, %ld\n", f, PAGE);
	ctl(&r, "map", f, "offset=-1", NULL);
	expect_failf(&r, 1, "mmapctl: map %s: memory mapped offset must be positive\n"
		     "hint: offset= must be 0 or more\n", f);
	ctl(&r, "map", empty, NULL);
	expect_failf(&r, 1, "mmapctl: map %s: cannot mmap an empty file\n"
		     "hint: %s is empty: give it a size first (truncate -s 4K FILE), or map anon "
		     "length=N\n", empty, empty);
	const char *name = map_ok(&M, "%s", f);
	ctl(&r, "seek", name, "0x8000000000000000", NULL);
	expect_fail(&r, 1, "mmapctl: seek 0: Python int too large to convert to C ssize_t\n"
		    "hint: 0x8000000000000000 is beyond the largest number a mapping takes, "
		    "9223372036854775807 (2^63-1)\n");
	ctl(&r, "madvise", name, "willneed", "1", NULL);
	expect_failf(&r, 1, "mmapctl: madvise 0: Invalid argument\n"
		     "hint: madvise's START must be a multiple of the page size, %ld\n", PAGE);
	ctl(&r, "flush", name, "0", "100", NULL);
	expect_fail(&r, 1, "mmapctl: flush 0: flush values out of range\n"
		    "hint: 0 has 3 bytes: OFFSET+SIZE must be at most 3\n");
}

Test(mmapctl, close_unmaps_and_reports_unknown_names)
{
	const char *f = scratch_file("f", "abc", 3);
	map_ok(&M, "%s name=a", f);
	struct run r;
	ctl(&r, "close", "a", NULL);
	expect_ok(&r, "");
	cr_expect_not(exists(mp(&M, "maps/a")));
	ctl(&r, "close", "a", NULL);
	expect_fail(&r, 1, "mmapctl: close a: no mapping named 'a'\n");
	ctl(&r, "close", "../a b", NULL);
	expect_fail(&r, 1, "mmapctl: close ../a b: invalid mapping name '../a b'\n");
}

/* mmapctl checks names by the server's own rule (core/mapname.c): a name of
 * MAPNAME_MAX characters works end to end, one longer is refused by
 * mmapctl itself, before it asks the server. */
Test(mmapctl, names_follow_the_servers_length_limit)
{
	char longest[65], too_long[66], want[256];
	memset(longest, 'n', 64);
	longest[64] = '\0';
	memset(too_long, 'n', 65);
	too_long[65] = '\0';
	map_ok(&M, "anon length=1 name=%s", longest);
	struct run r;
	ctl(&r, "close", longest, NULL);
	expect_ok(&r, "");
	cr_expect_not(exists(mp(&M, "maps/%s", longest)));
	ctl(&r, "close", too_long, NULL);
	snprintf(want, sizeof want, "mmapctl: close %s: invalid mapping name '%s'\n", too_long,
		 too_long);
	expect_fail(&r, 1, want);
}

/* ---- quoting ------------------------------------------------------------------ */

Test(mmapctl, awkward_paths_reach_the_server_intact)
{
	const char *names[] = {
		"two words", "it's", "say \"hi\"", "back\\slash", "tab\there",
		"new\nline", "bell\a", "caf\xc3\xa9", "#hash", "semi;colon",
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		const char *f = scratch_file(names[i], "data", 4);
		struct run r;
		char want[16];
		ctl(&r, "map", f, NULL);
		snprintf(want, sizeof want, "%zu\n", i);
		expect_ok(&r, want);
		char n[16];
		snprintf(n, sizeof n, "%zu", i);
		cr_expect_str_eq(attr(n, "source"), f, "path %zu", i);
	}
}

Test(mmapctl, awkward_needles_are_found)
{
	const char text[] = "a b\"c'd\\e\tf\ng\x01h\xffi -x ";
	make_file(sp(&M, "f"), text, sizeof text - 1);
	const char *name = map_ok(&M, "%s", sp(&M, "f"));
	struct { const char *needle; const char *at; } cases[] = {
		{ " b", "1\n" },   { "\"c", "3\n" }, { "'d", "5\n" },   { "\\e", "7\n" },
		{ "\tf", "9\n" },  { "\ng", "11\n" }, { "\x01h", "13\n" }, { "\xffi", "15\n" },
		{ "zz", "-1\n" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct run r;
		ctl(&r, "find", name, cases[i].needle, NULL);
		expect_ok(&r, cases[i].at);
	}
	struct run r;
	ctl(&r, "find", "--", name, "-x", NULL);
	expect_ok(&r, "18\n");
	ctl(&r, "find", name, "-x", NULL);
	expect_usage(&r, "unknown option '-x'");
	/* A command longer than one write() may carry: the server's refusal. */
	char *huge = malloc(70001);
	memset(huge, 'a', 70000);
	huge[70000] = '\0';
	ctl(&r, "find", name, huge, NULL);
	expect_fail(&r, 1, "mmapctl: find 0: command too long (a write() carries at most 65536 bytes)\n");
	free(huge);
}

Test(mmapctl, find_escapes_give_binary_needles)
{
	const char bytes[] = "ab\0cd\0ab";
	make_file(sp(&M, "f"), bytes, sizeof bytes - 1);
	const char *name = map_ok(&M, "%s", sp(&M, "f"));
	struct run r;
	ctl(&r, "find", "-e", name, "\\0c", NULL);
	expect_ok(&r, "2\n");
	ctl(&r, "rfind", "--escapes", name, "\\x00", NULL);
	expect_ok(&r, "5\n");
	ctl(&r, "find", "-e", name, "\\x00\\x61\\x62", NULL);
	expect_ok(&r, "5\n");
	ctl(&r, "find", "-e", name, "\\q", NULL);
	expect_usage(&r, "bad escape");
}

/* ---- find, rfind, seek and the other mapping commands ------------------------- */

Test(mmapctl, find_and_rfind_follow_python)
{
	const char *f = scratch_file("f", "abcabcabc", 9);
	const char *name = map_ok(&M, "%s", f);
	struct run r;
	ctl(&r, "find", name, "bc", NULL);
	expect_ok(&r, "1\n");
	ctl(&r, "rfind", name, "bc", NULL);
	expect_ok(&r, "7\n");
	ctl(&r, "find", name, "bc", "2", NULL);
	expect_ok(&r, "4\n");
	ctl(&r, "find", name, "bc", "0", "4", NULL);
	expect_ok(&r, "1\n");
	ctl(&r, "rfind", name, "abc", "0", "-1", NULL);
	expect_ok(&r, "3\n");
	ctl(&r, "find", name, "", NULL);
	expect_ok(&r, "0\n");
	ctl(&r, "seek", name, "5", NULL);
	expect_ok(&r, "");
	ctl(&r, "find", name, "a", NULL); /* from the position, as mm.find */
	expect_ok(&r, "6\n");
	ctl(&r, "find", name, "a", "x", NULL);
	expect_fail(&r, 1, "mmapctl: find 0: invalid number: 'x'\n");
	ctl(&r, "find", "nosuch", "a", NULL);
	expect_fail(&r, 1, "mmapctl: no mapping named 'nosuch'\n");
}

Test(mmapctl, seek_moves_pos_or_is_refused)
{
	const char *name = map_ok(&M, "%s", scratch_file("f", "0123456789", 10));
	struct run r;
	ctl(&r, "seek", name, "4", NULL);
	expect_ok(&r, "");
	cr_expect_str_eq(attr(name, "pos"), "4");
	ctl(&r, "seek", name, "2", "cur", NULL);
	expect_ok(&r, "");
	cr_expect_str_eq(attr(name, "pos"), "6");
	ctl(&r, "seek", name, "-3", "end", NULL);
	expect_ok(&r, "");
	cr_expect_str_eq(attr(name, "pos"), "7");
	ctl(&r, "seek", name, "11", NULL);
	expect_fail(&r, 1, "mmapctl: seek 0: seek out of range\n"
		    "hint: 0 has 10 bytes: the new position must lie in 0..10 (cur counts from "
		    "the position, end from 10)\n");
	cr_expect_str_eq(attr(name, "pos"), "7");
	ctl(&r, "seek", name, "0", "9", NULL);
	expect_fail(&r, 1, "mmapctl: seek 0: unknown seek type\n"
		    "hint: WHENCE is set, cur or end (or 0, 1, 2)\n");
	ctl(&r, "seek", name, NULL);
	expect_usage(&r, "missing arguments");
	ctl(&r, "seek", name, "1", "set", "extra", NULL);
	expect_usage(&r, "too many arguments");
}

Test(mmapctl, resize_grows_the_file_or_is_refused)
{
	const char *f = scratch_file("f", "abc", 3);
	const char *name = map_ok(&M, "%s", f);
	const char *copy = map_ok(&M, "%s access=copy", f);
	struct run r;
	ctl(&r, "resize", name, "1K", NULL);
	expect_ok(&r, "");
	cr_expect_str_eq(attr(name, "size"), "1024");
	struct stat st;
	cr_assert_eq(stat(f, &st), 0);
	cr_expect_eq(st.st_size, 1024);
	ctl(&r, "resize", copy, "10", NULL);
	expect_fail(&r, 1, "mmapctl: resize 1: mmap can't resize a readonly or copy-on-write "
		    "memory map.\nhint: 1 has access=copy: map the file again with access=write "
		    "(or default) to resize it\n");
	ctl(&r, "resize", name, "-1", NULL);
	expect_fail(&r, 1, "mmapctl: resize 0: new size out of range\n"
		    "hint: SIZE must be 0 or more\n");
}

Test(mmapctl, flush_madvise_and_move)
{
	const char *f = scratch_file("f", "hello world", 11);
	const char *name = map_ok(&M, "%s", f);
	struct run r;
	ctl(&r, "move", name, "0", "6", "5", NULL);
	expect_ok(&r, "");
	ctl(&r, "flush", name, NULL);
	expect_ok(&r, "");
	char *text = read_all(f, NULL);
	cr_expect_str_eq(text, "world world");
	free(text);
	ctl(&r, "flush", name, "0", "11", NULL);
	expect_ok(&r, "");
	/* python3.13: SIZE defaults to the whole length, so OFFSET 1 alone is
	 * out of range; with a SIZE that fits, msync refuses the alignment. */
	ctl(&r, "flush", name, "1", NULL);
	expect_fail(&r, 1, "mmapctl: flush 0: flush values out of range\n"
		    "hint: 0 has 11 bytes: OFFSET+SIZE must be at most 11\n");
	ctl(&r, "flush", name, "1", "10", NULL);
	expect_failf(&r, 1, "mmapctl: flush 0: Invalid argument\n"
		     "hint: flush's OFFSET must be a multiple of the page size, %ld\n", PAGE);
	ctl(&r, "move", name, "0", "6", "50", NULL);
	expect_fail(&r, 1, "mmapctl: move 0: source, destination, or count out of range\n"
		    "hint: 0 has 11 bytes: DEST+COUNT and SRC+COUNT must both be at most 11\n");
	ctl(&r, "madvise", name, "willneed", NULL);
	expect_ok(&r, "");
	ctl(&r, "madvise", name, "MADV_DONTNEED", "0", "4096", NULL);
	expect_ok(&r, "");
	ctl(&r, "madvise", name, "hwpoison", NULL);
	expect_fail(&r, 1, "mmapctl: madvise 0: madvise 'hwpoison' acts on the machine's hardware pages "
		    "and is refused\n");
	ctl(&r, "madvise", name, "frob", NULL);
	expect_fail(&r, 1, "mmapctl: madvise 0: unknown madvise advice 'frob'\n");
	ctl(&r, "move", name, "0", "1", NULL);
	expect_usage(&r, "missing arguments");
}

/* ---- ls and info --------------------------------------------------------------- */

/* The fields of one line of output, split on blanks. */
static int fields(const char *line, char out[][256], int max)
{
	int n = 0;
	const char *p = line;
	while (n < max) {
		p += strspn(p, " ");
		if (!*p || *p == '\n')
			break;
		size_t len = strcspn(p, " \n");
		snprintf(out[n++], 256, "%.*s", (int)len, p);
		p += len;
	}
	return n;
}

static const char *line_of(const char *text, int index)
{
	for (int i = 0; i < index && text; i++) {
		text = strchr(text, '\n');
		text = text ? text + 1 : NULL;
	}
	return text && *text ? text : NULL;
}

/* Run a Python check on text given as stdin: the script sees the parsed
 * JSON as `d` and asserts on it. The check passes when Python exits 0. */
static void expect_json(const char *text, const char *script)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/json.XXXXXX", tmp_root());
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	char prog[8192];
	/* the script may parse stdin again itself (strictly), so d is read lazily */
	snprintf(prog, sizeof prog, "import json, re, sys\n%s%s\n",
		 strstr(script, "open(0") ? "" : "d = json.load(sys.stdin)\n", script);
	struct how py = { .program = "python3", .stdin_path = path };
	struct run r;
	ctl_how(&r, &py, "-c", prog, NULL);
	cr_expect_eq(r.status, 0, "python check failed:\n%s\non:\n%s", r.err, text);
	run_free(&r);
	unlink(path);
}

/* stdout of a run that must succeed (freed with the next 8 calls). */
static const char *out_of(struct run *r)
{
	static char *kept[8];
	static unsigned next;
	cr_expect_eq(r->status, 0, "exit %d, stderr: %s", r->status, r->err);
	cr_expect_str_eq(r->err, "");
	free(kept[next % 8]);
	kept[next++ % 8] = r->out;
	free(r->err);
	return r->out;
}

Test(mmapctl, ls_of_an_empty_table_prints_nothing_or_an_empty_list)
{
	struct run r;
	ctl(&r, "ls", NULL);
	expect_ok(&r, "");
	ctl(&r, "ls", "-J", NULL);
	expect_json(out_of(&r), "assert d == {'mappings': []}");
}

/* Four mappings: b (a file, 3 pages, pos 7), 0 (a copy from page 1), 1 and 10. */
static const char *four_mappings(void)
{
	const char *f = scratch_file("f", "x", 3 * (size_t)PAGE);
	map_ok(&M, "%s name=b", f);
	map_ok(&M, "%s access=copy offset=%ld", f, PAGE);
	map_ok(&M, "anon length=100");
	map_ok(&M, "anon length=1 name=10");
	cmd(&M, "maps/b/ctl", "seek 7", NULL, 0);
	return f;
}

Test(mmapctl, ls_lists_every_mapping_in_name_order)
{
	const char *f = four_mappings();
	struct run r;
	char want[8192];
	ctl(&r, "ls", "-r", "-b", "-o", "NAME,SOURCE,ACCESS,FLAGS,PROT,OFFSET,SIZE,POS", NULL);
	snprintf(want, sizeof want,
		 "NAME SOURCE ACCESS FLAGS PROT OFFSET SIZE POS\n"
		 "0 %s copy private read,write %ld %ld 0\n"
		 "1 anonymous default shared read,write 0 100 0\n"
		 "10 anonymous default shared read,write 0 1 0\n"
		 "b %s default shared read,write 0 %ld 7\n",
		 f, PAGE, 2 * PAGE, f, 3 * PAGE);
	expect_ok(&r, want);
	/* the default columns, human sizes, aligned as libsmartcols aligns */
	ctl(&r, "ls", "-o", "NAME,SIZE,POS", NULL);
	expect_ok(&r, "NAME SIZE POS\n"
		      "0      8K   0\n"
		      "1    100B   0\n"
		      "10     1B   0\n"
		      "b     12K   7\n");
	ctl(&r, "ls", "-n", "-o", "name", NULL);
	expect_ok(&r, "0\n1\n10\nb\n");
	ctl(&r, "ls", "-r", NULL);
	const char *out = out_of(&r);
	cr_expect(strncmp(out, "NAME SOURCE ACCESS FLAGS PROT OFFSET SIZE POS RES RES% DIRTY\n0 ",
			  63) == 0, "the default columns: %s", out);
	for (int i = 1; i <= 4; i++) {
		char cells[12][256];
		cr_expect_eq(fields(line_of(out, i), cells, 12), 11, "line %d: %s", i, out);
	}
	cr_expect_null(line_of(out, 5), "four mappings: %s", out);
}

Test(mmapctl, ls_shows_the_resident_share_from_pages)
{
	/* Needs the server's pages file (SPEC "Introspection"). Private
	 * anonymous memory: written pages are in memory, and dontneed frees
	 * them for good. */
	size_t len = 4 * (size_t)PAGE;
	char *bytes = malloc(len);
	memset(bytes, 'x', len);
	map_ok(&M, "anon length=%zu flags=private", len);
	cr_assert_eq(pwrite_at(mp(&M, "maps/0/data"), bytes, len, 0), 0);
	free(bytes);
	struct run r;
	char want[128];
	ctl(&r, "ls", "-rnb", "-o", "RES%,RES", NULL);
	snprintf(want, sizeof want, "100%% %zu\n", len);
	expect_ok(&r, want);
	cmd(&M, "maps/0/ctl", "madvise dontneed", NULL, 0);
	ctl(&r, "ls", "-rnb", "-o", "RES%,RES", NULL);
	expect_ok(&r, "0% 0\n");
	map_ok(&M, "anon length=%zu flags=private", len);
	cr_assert_eq(pwrite_at(mp(&M, "maps/1/data"), "y", 1, 0), 0);
	ctl(&r, "ls", "-rnb", "-o", "RES%,RES", NULL);
	snprintf(want, sizeof want, "0%% 0\n25%% %ld\n", PAGE);
	expect_ok(&r, want);
}


/* DIRTY: the pages `pages` shows as D, written but not yet written back
 * (a file on ext4, as the scratch directory in /tmp is; needs root for
 * /proc/kpageflags, as the tests run). */
Test(mmapctl, ls_dirty_counts_pages_not_yet_written_back)
{
	size_t len = 4 * (size_t)PAGE;
	const char *f = scratch_file("dirty", "", len);
	int fd = open(f, O_RDONLY); /* clean before the test writes */
	cr_assert(fd >= 0 && fsync(fd) == 0);
	close(fd);
	map_ok(&M, "%s name=d", f);
	cr_assert_eq(pwrite_at(mp(&M, "maps/d/data"), "w", 1, PAGE), 0);
	struct run r;
	ctl(&r, "ls", "-rnb", "-o", "DIRTY", NULL);
	/* Dirtiness is the kernel's, per folio: the written page, and the
	 * others of its folio where the page cache holds large ones. */
	long dirty = strtol(out_of(&r), NULL, 10);
	cr_expect(dirty >= PAGE && dirty <= (long)len && dirty % PAGE == 0, "DIRTY %s",
		  out_of(&r));
	cmd(&M, "maps/d/ctl", "flush", NULL, 0);
	ctl(&r, "ls", "-rnb", "-o", "NAME,DIRTY", NULL);
	expect_ok(&r, "d 0\n");
}

Test(mmapctl, ls_raw_escapes_blanks_so_awk_can_split)
{
	const char *f = scratch_file("two words\there", "abc", 3);
	map_ok(&M, "\"%s\"", f);
	struct run r;
	char want[8192];
	ctl(&r, "ls", "-r", "-n", "-o", "SOURCE,NAME", NULL);
	snprintf(want, sizeof want, "%s/two\\x20words\\x09here 0\n", M.scratch);
	expect_ok(&r, want);
}

Test(mmapctl, ls_output_columns_add_and_refuse)
{
	four_mappings();
	struct run r;
	ctl(&r, "ls", "-r", "-o", "+ADDR,FILESIZE", NULL);
	const char *out = out_of(&r);
	cr_expect(strncmp(out, "NAME SOURCE ACCESS FLAGS PROT OFFSET SIZE POS RES RES% DIRTY ADDR "
			       "FILESIZE\n", 72) == 0, "%s", out);
	ctl(&r, "ls", "-o", "NAME,BOGUS", NULL);
	expect_usage(&r, "-o: unknown column 'BOGUS' (see --list-columns)");
	ctl(&r, "ls", "-o", NULL);
	expect_usage(&r, "-o needs a LIST of columns");
	ctl(&r, "ls", "-o", "NAME,,SIZE", NULL);
	expect_usage(&r, "-o: empty column name");
	ctl(&r, "ls", "-o", "+", NULL);
	expect_usage(&r, "-o: no columns given");
}

Test(mmapctl, ls_addr_is_the_range_smaps_shows)
{
	map_ok(&M, "anon length=%ld name=a", 2 * PAGE);
	char *smaps = read_all(mp(&M, "maps/a/smaps"), NULL);
	cr_assert(smaps);
	unsigned long long lo, hi;
	cr_assert_eq(sscanf(smaps, "%llx-%llx", &lo, &hi), 2, "%s", smaps);
	free(smaps);
	char want[128];
	snprintf(want, sizeof want, "%llx-%llx\n", lo, hi);
	cr_expect_eq(hi - lo, 2 * (unsigned long long)PAGE);
	struct run r;
	ctl(&r, "ls", "-n", "-o", "ADDR", NULL);
	expect_ok(&r, want);
}

Test(mmapctl, ls_bytes_and_human_sizes)
{
	map_ok(&M, "anon length=1536 name=a");
	map_ok(&M, "anon length=3M name=b");
	map_ok(&M, "anon length=%ld name=c", 5 * PAGE + 1);
	cr_assert_eq(pwrite_at(mp(&M, "maps/b/data"), "y", 1, 0), 0); /* one page in memory */
	struct run r;
	char want[512];
	ctl(&r, "ls", "-rn", "-o", "SIZE,RES", NULL);
	snprintf(want, sizeof want, "1.5K 0B\n3M %ldK\n%s 0B\n", PAGE / 1024,
		 PAGE == 4096 ? "20K" : "?");
	expect_ok(&r, want);
	ctl(&r, "ls", "-rnb", "-o", "SIZE,RES", NULL);
	snprintf(want, sizeof want, "1536 0\n3145728 %ld\n%ld 0\n", PAGE, 5 * PAGE + 1);
	expect_ok(&r, want);
	ctl(&r, "ls", "--raw", "--noheadings", "--bytes", "--output=name,res%", NULL);
	expect_ok(&r, "a 0%\nb 1%\nc 0%\n");
}

Test(mmapctl, ls_json_has_every_field_typed_as_lsblk_does)
{
	const char *f = four_mappings();
	cmd(&M, "ctl", "map anon length=1 name=z", NULL, 0);
	cmd(&M, "maps/z/ctl", "resize 0", NULL, 0); /* no pages: RES% and ADDR are null */
	struct run r;
	char script[8192];
	ctl(&r, "ls", "-J", "-o", "+ADDR,FILESIZE,PAGES", NULL);
	snprintf(script, sizeof script,
		 "m = d['mappings']\n"
		 "assert [x['name'] for x in m] == ['0', '1', '10', 'b', 'z'], m\n"
		 "b = m[3]\n"
		 "assert b['source'] == '%s', b\n"
		 "assert (b['access'], b['flags'], b['prot']) == ('default', 'shared', 'read,write')\n"
		 "assert b['offset'] == 0 and b['pos'] == 7, b\n"
		 "assert b['size'] == '12K' and b['filesize'] == '12K', b\n"
		 "assert b['pages'] == 3 and isinstance(b['res'], str), b\n"
		 "assert re.fullmatch('[0-9]+%%', b['res%%']), b\n"
		 "assert re.fullmatch('[0-9a-f]+-[0-9a-f]+', b['addr']), b\n"
		 "assert m[0]['offset'] == %ld and m[0]['access'] == 'copy', m[0]\n"
		 "z = m[4]\n"
		 "assert z['size'] == '0B' and z['pages'] == 0, z\n"
		 "assert z['res%%'] is None and z['addr'] is None, z\n"
		 "assert sorted(b) == sorted(['name', 'source', 'access', 'flags', 'prot', 'offset',"
		 " 'size', 'pos', 'res', 'res%%', 'dirty', 'addr', 'filesize', 'pages']), b\n"
		 "assert b['dirty'] == '0B', b\n",
		 f, PAGE);
	expect_json(out_of(&r), script);
	ctl(&r, "ls", "--json", "-b", "-o", "NAME,SIZE,RES,FILESIZE", NULL);
	expect_json(out_of(&r),
		    "m = d['mappings']\n"
		    "assert m[3]['size'] == 3 * 4096 and m[3]['filesize'] == 3 * 4096, m\n"
		    "assert all(isinstance(x['res'], int) for x in m), m\n"
		    "assert m[1]['size'] == 100 and m[4]['size'] == 0, m\n");
}

Test(mmapctl, ls_json_stays_valid_utf8_for_any_path)
{
	const char *f = scratch_file("caf\xe9 \"q\"\n", "abc", 3);
	struct run r;
	ctl(&r, "map", f, NULL); /* mmapctl quotes the path for the server */
	expect_ok(&r, "0\n");
	ctl(&r, "ls", "-J", "-o", "SOURCE", NULL);
	char script[8192];
	/* strict UTF-8 (not Python's surrogateescape), then the text \xe9 for the byte */
	snprintf(script, sizeof script,
		 "d = json.loads(open(0, 'rb').read().decode('utf-8'))\n"
		 "assert d == {'mappings': [{'source': '%s/caf\\\\xe9 \"q\"\\n'}]}, d\n", M.scratch);
	expect_json(out_of(&r), script);
}

Test(mmapctl, list_columns_and_help_name_every_column)
{
	const char *cols[] = { "NAME", "SOURCE", "ACCESS", "FLAGS", "PROT", "OFFSET", "SIZE",
			       "FILESIZE", "POS", "PAGES", "RES", "RES%", "DIRTY", "ADDR" };
	struct run r;
	ctl(&r, "ls", "--list-columns", NULL);
	const char *list = out_of(&r);
	char *help = NULL;
	ctl(&r, "ls", "--help", NULL);
	help = strdup(out_of(&r));
	for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
		char line[64];
		snprintf(line, sizeof line, "\n  %-9s ", cols[i]);
		cr_expect(strstr(list, line), "--list-columns lists %s:\n%s", cols[i], list);
		cr_expect(strstr(help, line), "--help lists %s", cols[i]);
	}
	free(help);
	ctl(&r, "info", "-H", NULL);
	cr_expect(strstr(out_of(&r), "\n  ADDR      "), "info -H needs no NAME");
}

Test(mmapctl, info_shows_every_attribute)
{
	const char *f = scratch_file("f", "0123456789", 10);
	const char *name = map_ok(&M, "%s access=copy name=i", f);
	cmd(&M, "maps/i/ctl", "seek 3", NULL, 0);
	struct run r;
	char want[8192];
	ctl(&r, "info", name, NULL);
	snprintf(want, sizeof want,
		 "name     i\nsource   %s\naccess   copy\nflags    private\n"
		 "prot     read,write\noffset   0\nsize     10B\nfilesize 10B\npos      3\n"
		 "pages    1\nres      ", f);
	const char *out = out_of(&r);
	cr_expect(strncmp(out, want, strlen(want)) == 0, "info:\n%s\nwanted:\n%s", out, want);
	cr_expect(strstr(out, "\nres%     "), "%s", out);
	cr_expect(strstr(out, "\naddr     "), "%s", out);
	ctl(&r, "info", "-b", "-o", "size,pos,offset", name, NULL);
	expect_ok(&r, "size   10\npos    3\noffset 0\n");
	ctl(&r, "info", "-r", "-b", "-o", "NAME,SIZE", name, NULL);
	expect_ok(&r, "NAME SIZE\ni 10\n");
	ctl(&r, "info", "-J", "-b", name, NULL);
	char script[4096];
	snprintf(script, sizeof script,
		 "m = d['mappings']\n"
		 "assert len(m) == 1, m\n"
		 "i = m[0]\n"
		 "assert (i['name'], i['source'], i['access'], i['flags']) == "
		 "('i', '%s', 'copy', 'private'), i\n"
		 "assert (i['size'], i['filesize'], i['pos'], i['offset'], i['pages']) == "
		 "(10, 10, 3, 0, 1), i\n"
		 "assert isinstance(i['res'], int) and i['prot'] == 'read,write', i\n"
		 "assert i['dirty'] == 0, i\n"
		 "assert len(i) == 14, i\n", f);
	expect_json(out_of(&r), script);
	ctl(&r, "info", "nosuch", NULL);
	expect_fail(&r, 1, "mmapctl: no mapping named 'nosuch'\n");
	ctl(&r, "info", "..", NULL);
	expect_fail(&r, 1, "mmapctl: invalid mapping name '..'\n");
}

Test(mmapctl, info_counts_pages)
{
	/* Needs the server's pages file (SPEC "Introspection"). */
	const char *f = scratch_file("f", "x", 2 * (size_t)PAGE);
	map_ok(&M, "%s", f);
	free(read_all(mp(&M, "maps/0/data"), NULL));
	struct run r;
	char want[128];
	ctl(&r, "info", "-b", "-o", "PAGES,RES,RES%", "0", NULL);
	snprintf(want, sizeof want, "pages 2\nres   %ld\nres%%  100%%\n", 2 * PAGE);
	expect_ok(&r, want);
}

Test(mmapctl, info_shows_unreadable_values_as_a_dash)
{
	const char *name = map_ok(&M, "%s trackfd=no", scratch_file("f", "abc", 3));
	struct run r;
	ctl(&r, "info", "-o", "filesize,size", name, NULL);
	expect_ok(&r, "filesize - (Bad file descriptor)\nsize     3B\n");
	ctl(&r, "info", "-J", "-o", "filesize,size", name, NULL);
	expect_json(out_of(&r), "assert d == {'mappings': [{'filesize': None, 'size': '3B'}]}");
}

/* ---- the page map ---------------------------------------------------------------- */

Test(mmapctl, pages_draws_the_mapping_plain_when_piped)
{
	/* Needs the server's pages file (SPEC "Introspection"). */
	const char *f = scratch_file("f", "x", 4 * (size_t)PAGE);
	int fd = open(f, O_RDONLY);
	cr_assert(fd >= 0 && fdatasync(fd) == 0, "written back, or its pages show D");
	close(fd);
	map_ok(&M, "%s name=s", f);
	map_ok(&M, "%s access=copy name=c", f);
	free(read_all(mp(&M, "maps/s/data"), NULL));
	cr_assert_eq(pwrite_at(mp(&M, "maps/c/data"), "y", 1, 0), 0);
	struct run r;
	ctl(&r, "pages", "s", NULL);
	cr_expect_eq(r.status, 0, "%s", r.err);
	cr_expect(strstr(r.out, "\n0 MMMM\n"), "%s", r.out);
	cr_expect_null(strchr(r.out, '\033'), "no colour when piped");
	run_free(&r);
	ctl(&r, "pages", "c", NULL);
	cr_expect_eq(r.status, 0, "%s", r.err);
	cr_expect(strstr(r.out, "\n0 C"), "first page a private copy: %s", r.out);
	cr_expect(strstr(r.out, "  C  mapped here as a private copy (copy-on-write)      1   25.0%\n"),
		  "%s", r.out);
	run_free(&r);
	ctl(&r, "pages", "nosuch", NULL);
	expect_fail(&r, 1, "mmapctl: no mapping named 'nosuch'\n");
}

Test(offline, pages_draws_a_saved_map_with_its_legend)
{
	char path[4096];
	/* one file per test: Criterion runs the tests of a suite in parallel */
	snprintf(path, sizeof path, "%s/map-legend", tmp_root());
	make_file(path, "MMMCC.....RS\n", 13);
	struct run r;
	ctl(&r, "pages", "-f", path, NULL);
	char want[8192];
	snprintf(want, sizeof want,
		 "%s: 12 pages of %ld bytes, 1 page per cell\n"
		 " 0 MMMCC.....RS\n"
		 "\n"
		 "  G  guard page (madvise guard_install)                  0    0.0%%\n"
		 "  S  swapped out                                         1    8.3%%\n"
		 "  .  not in memory                                       5   41.7%%\n"
		 "  Z  the kernel's zero page (read, never written)        0    0.0%%\n"
		 "  C  mapped here as a private copy (copy-on-write)       2   16.7%%\n"
		 "  D  mapped here, shared, dirty (not yet written back)   0    0.0%%\n"
		 "  M  mapped here, shared with the backing object         3   25.0%%\n"
		 "  R  in memory, not mapped here                          1    8.3%%\n"
		 "     total                                              12  100.0%%\n",
		 path, PAGE);
	expect_ok(&r, want);
}

Test(offline, pages_wraps_rows_and_groups_pages_into_cells)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/map-wrap", tmp_root());
	char map[202];
	memset(map, '.', 200);
	memset(map, 'M', 70);
	map[200] = '\n';
	make_file(path, map, 201);
	struct run r;
	struct how h = { .stdin_path = path };
	ctl_how(&r, &h, "pages", "-w", "64", "-f", "-", NULL);
	cr_expect_eq(r.status, 0, "%s", r.err);
	cr_expect(strstr(r.out, "-: 200 pages of"), "%s", r.out);
	cr_expect(strstr(r.out, "\n  0 MMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMM\n"
				 " 64 MMMMMM..........................................................\n"
				 "128 ................................................................\n"
				 "192 ........\n"),
		  "%s", r.out);
	run_free(&r);
	/* 4 cells a row and 32 rows at most: 128 cells, so 2 pages a cell. */
	ctl(&r, "pages", "--width=4", "--file", path, NULL);
	cr_expect(strstr(r.out, "200 pages of"), "%s", r.out);
	cr_expect(strstr(r.out, ", 2 pages per cell\n"), "4x32 cells for 200 pages: %s", r.out);
	cr_expect(strstr(r.out, "\n  0 MMMM\n"), "%s", r.out);
	cr_expect(strstr(r.out, "\n 56 MMMM\n 64 MMM.\n 72 ....\n"),
		  "cells of 2 pages, pages 70 and 71 not in memory: %s", r.out);
	run_free(&r);
	ctl(&r, "pages", "-a", "-w", "4", "-f", path, NULL);
	cr_expect(strstr(r.out, ", 1 page per cell\n"), "%s", r.out);
	cr_expect(strstr(r.out, "\n196 ....\n"), "%s", r.out);
	run_free(&r);
}

Test(offline, pages_colours_on_request_only)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/map-colour", tmp_root());
	make_file(path, "MC.\n", 4);
	struct run r;
	ctl(&r, "pages", "--color=always", "-f", path, NULL);
	cr_expect_eq(r.status, 0);
	cr_expect(strstr(r.out, "\033[0;30;42mM\033[0;30;43mC\033[0;2m.\033[0m\n"), "%s", r.out);
	run_free(&r);
	ctl(&r, "pages", "--color=never", "-f", path, NULL);
	cr_expect_null(strchr(r.out, '\033'));
	run_free(&r);
	ctl(&r, "pages", "--color=sometimes", "-f", path, NULL);
	expect_usage(&r, "--color takes auto, always or never");
	ctl(&r, "pages", "-f", path, "0", NULL);
	expect_usage(&r, "-f takes the place of NAME");
}

/* ---- read, write, dump, tell ------------------------------------------------------- */

/* A scratch file of n bytes, every byte value in turn. */
static const char *all_bytes_file(const char *name, size_t n, unsigned char *bytes)
{
	for (size_t i = 0; i < n; i++)
		bytes[i] = (unsigned char)(i * 7 + i / 256);
	const char *path = sp(&M, "%s", name);
	make_file(path, bytes, n);
	return path;
}

Test(mmapctl, read_and_write_are_binary_safe)
{
	enum { N = 3 * 256 };
	unsigned char bytes[N];
	const char *in = all_bytes_file("in", N, bytes);
	map_ok(&M, "anon length=%d name=a", N);
	cmd(&M, "maps/a/ctl", "seek 5", NULL, 0);
	struct how h = { .stdin_path = in };
	struct run r;
	ctl_how(&r, &h, "write", "a", "0", NULL);
	expect_ok(&r, "");
	size_t got;
	char *back = read_all(mp(&M, "maps/a/data"), &got);
	cr_assert_eq(got, (size_t)N);
	cr_expect_eq(memcmp(back, bytes, N), 0, "every byte value went in unchanged");
	free(back);
	ctl(&r, "read", "a", NULL);
	cr_expect_eq(r.status, 0, "%s", r.err);
	cr_expect_eq(r.out_len, (size_t)N);
	cr_expect_eq(memcmp(r.out, bytes, N), 0, "every byte value came out unchanged");
	run_free(&r);
	ctl(&r, "read", "a", "0x100", "3", NULL);
	cr_expect_eq(r.out_len, 3u);
	cr_expect_eq(memcmp(r.out, bytes + 256, 3), 0);
	run_free(&r);
	ctl(&r, "read", "a", "760", NULL);
	cr_expect_eq(r.out_len, 8u, "the rest, short at the end");
	run_free(&r);
	ctl(&r, "read", "a", "1K", NULL);
	expect_ok(&r, ""); /* past the end: nothing, as mm[1024:] */
	ctl(&r, "tell", "a", NULL);
	expect_ok(&r, "5\n"); /* read and write leave pos alone */
	ctl(&r, "read", "a", "-1", NULL);
	expect_usage(&r, "OFFSET must be 0 or more, not -1");
	ctl(&r, "read", "a", "0", "x", NULL);
	expect_usage(&r, "LENGTH: invalid number: 'x'");
	ctl(&r, "read", "nosuch", NULL);
	expect_fail(&r, 1, "mmapctl: no mapping named 'nosuch'\n");
}

Test(mmapctl, write_grows_where_the_mapping_can_grow)
{
	const char *f = scratch_file("f", "abc", 3);
	const char *in = scratch_file("in", "hello", 5);
	map_ok(&M, "%s name=g", f);
	struct how h = { .stdin_path = in };
	struct run r;
	ctl_how(&r, &h, "write", "g", "6", NULL);
	expect_ok(&r, "");
	map_ok(&M, "%s access=copy name=c", f);
	map_ok(&M, "%s access=read name=ro", f);
	cr_expect_eq(attr_num(&M, "g", "size"), 11);
	size_t len;
	char *text = read_all(f, &len);
	cr_expect_eq(len, 11u);
	cr_expect_eq(memcmp(text, "abc\0\0\0hello", 11), 0, "zeros fill the gap, as in a file");
	free(text);
	ctl_how(&r, &h, "write", "c", "0", NULL);
	expect_ok(&r, ""); /* within the copy: fine */
	ctl_how(&r, &h, "write", "c", "9", NULL);
	expect_fail(&r, 1, "mmapctl: write c: File too large\n"
		    "hint: c has 11 bytes and cannot grow (access=copy): at most 2 bytes fit from "
		    "offset 9\n");
	ctl_how(&r, &h, "write", "ro", "0", NULL);
	expect_fail(&r, 1, "mmapctl: write ro: Permission denied\n"
		    "hint: ro has access=read: map the file again with access=write (or default) "
		    "to change its bytes\n");
	map_ok(&M, "%s prot=none name=pn", f);
	ctl(&r, "read", "pn", NULL);
	expect_fail(&r, 1, "mmapctl: read pn: Permission denied\n"
		    "hint: pn has prot=none: map the file again with a prot that has read to read "
		    "its bytes\n");
	ctl(&r, "write", "g", NULL);
	expect_usage(&r, "missing arguments");
}

/* mmapctl dump NAME ARGS... and hexdump -C [-s O [-n L]] on its data file. */
static void expect_like_hexdump(const char *name, const char *off, const char *len)
{
	struct run mine, theirs;
	ctl(&mine, "dump", name, off, len, NULL);
	struct how hd = { .program = "hexdump" };
	const char *path = mp(&M, "maps/%s/data", name);
	if (!off)
		ctl_how(&theirs, &hd, "-C", path, NULL);
	else if (!len)
		ctl_how(&theirs, &hd, "-C", "-s", off, path, NULL);
	else
		ctl_how(&theirs, &hd, "-C", "-s", off, "-n", len, path, NULL);
	cr_assert_eq(theirs.status, 0, "hexdump: %s", theirs.err);
	cr_expect_eq(mine.status, 0, "%s", mine.err);
	cr_expect_str_eq(mine.err, "");
	cr_expect_str_eq(mine.out, theirs.out, "dump %s %s %s", name, off ? off : "",
			 len ? len : "");
	run_free(&mine);
	run_free(&theirs);
}

Test(mmapctl, dump_is_hexdump_C_byte_for_byte)
{
	/* text, then 80 zero bytes (a '*'), a changed line, a partial zero line */
	unsigned char bytes[200];
	for (int i = 0; i < 40; i++)
		bytes[i] = (unsigned char)(i < 20 ? 'a' + i : i * 9);
	memset(bytes + 40, 0, sizeof bytes - 40);
	bytes[150] = 'x';
	make_file(sp(&M, "f"), bytes, sizeof bytes);
	map_ok(&M, "%s name=d", sp(&M, "f"));
	unsigned char all[256 * 5];
	all_bytes_file("all", sizeof all, all);
	map_ok(&M, "%s name=all", sp(&M, "all"));
	map_ok(&M, "anon length=100 name=z"); /* all zeros: one line, '*', the end */
	map_ok(&M, "anon length=1 name=e");
	cmd(&M, "maps/e/ctl", "resize 0", NULL, 0);
	expect_like_hexdump("d", NULL, NULL);
	expect_like_hexdump("d", "7", "20");
	expect_like_hexdump("d", "0x30", NULL);
	expect_like_hexdump("d", "190", "100");
	expect_like_hexdump("d", "300", NULL);  /* past the end: the end offset */
	expect_like_hexdump("d", "3", "0");     /* nothing at all */
	expect_like_hexdump("all", NULL, NULL);
	expect_like_hexdump("all", "1000", "33");
	expect_like_hexdump("z", NULL, NULL);
	expect_like_hexdump("e", NULL, NULL);   /* empty: nothing */
	struct run r;
	ctl(&r, "dump", "d", "0", "16", NULL);
	expect_ok(&r, "00000000  61 62 63 64 65 66 67 68  69 6a 6b 6c 6d 6e 6f 70  |abcdefghijklmnop|\n"
		      "00000010\n");
}

Test(mmapctl, tell_prints_the_position)
{
	map_ok(&M, "anon length=100 name=t");
	struct run r;
	ctl(&r, "tell", "t", NULL);
	expect_ok(&r, "0\n");
	ctl(&r, "seek", "t", "42", NULL);
	expect_ok(&r, "");
	ctl(&r, "tell", "t", NULL);
	expect_ok(&r, "42\n");
	ctl(&r, "tell", "nosuch", NULL);
	expect_fail(&r, 1, "mmapctl: no mapping named 'nosuch'\n");
}

/* ---- stats and log ------------------------------------------------------------------- */

Test(mmapctl, stats_as_lines_and_json)
{
	map_ok(&M, "anon length=1536 name=a");
	struct run r;
	ctl(&r, "stats", NULL);
	expect_ok(&r, "maps           1\n"
		      "bytes       1.5K\n"
		      "max_maps  100000\n"
		      "max_bytes     1T\n"
		      "resident      0B\n");
	ctl(&r, "stats", "-b", NULL);
	expect_ok(&r, "maps                  1\n"
		      "bytes              1536\n"
		      "max_maps         100000\n"
		      "max_bytes 1099511627776\n"
		      "resident              0\n");
	ctl(&r, "stats", "-J", "-b", NULL);
	expect_json(out_of(&r), "assert d == {'stats': [{'maps': 1, 'bytes': 1536, "
				"'max_maps': 100000, 'max_bytes': 1 << 40, 'resident': 0}]}, d");
	ctl(&r, "stats", "--json", NULL);
	expect_json(out_of(&r), "s = d['stats'][0]\n"
				"assert (s['maps'], s['bytes'], s['max_bytes']) == (1, '1.5K', '1T'), s");
}

/* The pattern of a log line, old form or the SPEC's. */
#define LOG_LINE_RE "(?:\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z )?pid \\d+ (?:uid \\d+ )?"

Test(mmapctl, log_prints_the_servers_lines)
{
	map_ok(&M, "anon length=1 name=q");
	cmd(&M, "maps/q/ctl", "seek 1", NULL, 0);
	cmd(&M, "maps/q/ctl", "seek 9", NULL, 0);
	struct run r;
	ctl(&r, "log", NULL);
	char *text = read_all(mp(&M, "log"), NULL);
	cr_assert(text);
	expect_ok(&r, text);
	free(text);
	ctl(&r, "log", "-n", "1", NULL);
	const char *last = out_of(&r);
	cr_expect(strstr(last, "maps/q/ctl: seek 9 => error: seek out of range\n") && !strchr(last, '\n')[1],
		  "only the last line: %s", last);
	ctl(&r, "log", "--lines=0", NULL);
	expect_ok(&r, "");
	ctl(&r, "log", "-n", "x", NULL);
	expect_usage(&r, "-n takes a number of lines");
	ctl(&r, "log", "-J", "-n", "3", NULL);
	expect_json(out_of(&r),
		    "l = d['log']\n"
		    "assert [(e['file'], e['command'], e['result']) for e in l] == ["
		    "('ctl', 'map anon length=1 name=q', 'q'), ('maps/q/ctl', 'seek 1', 'ok'), "
		    "('maps/q/ctl', 'seek 9', 'error: seek out of range')], l\n"
		    "assert all(isinstance(e['pid'], int) and e['pid'] > 0 for e in l), l\n"
		    "assert all(e['uid'] is None or e['uid'] == 0 for e in l), l\n"
		    "assert all(e['time'] is None or re.fullmatch(r'\\d{4}-\\d\\d-\\d\\dT\\d\\d:"
		    "\\d\\d:\\d\\d\\.\\d{3}Z', e['time']) for e in l), l\n"
		    "assert sorted(l[0]) == ['command', 'file', 'pid', 'result', 'time', 'uid']\n");
}

Test(offline, log_reads_both_line_forms)
{
	/* A directory with a log file stands in for a mount: the SPEC's form and
	 * the older one, and a command holding ": " and " => ". */
	char dir[4096], path[4200];
	snprintf(dir, sizeof dir, "%s/fake.XXXXXX", tmp_root());
	cr_assert(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/log", dir);
	const char log[] =
		"2026-12-01T07:06:05.123Z pid 42 uid 1000 ctl: map \"/a: b => c\" => 0\n"
		"pid 7 maps/0/ctl: seek 99 => error: seek out of range\n"
		"2026-12-01T07:06:06.000Z pid 43 uid 0 maps/0/size: resize 5 => ok\n";
	make_file(path, log, sizeof log - 1);
	struct how h = { .env_mount = dir };
	struct run r;
	ctl_how(&r, &h, "log", "--json", NULL);
	expect_json(out_of(&r),
		    "assert d == {'log': ["
		    "{'time': '2026-12-01T07:06:05.123Z', 'pid': 42, 'uid': 1000, 'file': 'ctl', "
		    "'command': 'map \"/a: b => c\"', 'result': '0'}, "
		    "{'time': None, 'pid': 7, 'uid': None, 'file': 'maps/0/ctl', 'command': 'seek 99',"
		    " 'result': 'error: seek out of range'}, "
		    "{'time': '2026-12-01T07:06:06.000Z', 'pid': 43, 'uid': 0, 'file': 'maps/0/size',"
		    " 'command': 'resize 5', 'result': 'ok'}]}, d");
	ctl_how(&r, &h, "log", "-n", "2", NULL);
	expect_ok(&r, log + strlen("2026-12-01T07:06:05.123Z pid 42 uid 1000 ctl: map \"/a: b => c\" => 0\n"));
	unlink(path);
	rmdir(dir);
}

/* CPU ticks (user + system) the process has used. */
static long cpu_ticks(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY);
	cr_assert(fd >= 0);
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	cr_assert(n > 0);
	buf[n] = '\0';
	long ut = 0, st = 0;
	/* fields 14 and 15, after the ")" that ends the command name */
	cr_assert(sscanf(strrchr(buf, ')') + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld",
			 &ut, &st) == 2);
	return ut + st;
}

/* Wait (up to 5 s) until the file at path holds n lines. */
static char *wait_lines(const char *path, int n)
{
	for (int i = 0; i < 100; i++) {
		char *text = read_all(path, NULL);
		int lines = 0;
		for (const char *p = text; p && (p = strchr(p, '\n')); p++)
			lines++;
		if (lines >= n)
			return text;
		free(text);
		usleep(50 * 1000);
	}
	return read_all(path, NULL);
}

Test(mmapctl, log_follow_prints_each_new_line_once_without_spinning)
{
	map_ok(&M, "anon length=100 name=f");
	char out[4200];
	snprintf(out, sizeof out, "%s", sp(&M, "follow.out")); /* sp's buffers are reused */
	int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert(fd >= 0);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		struct how h = { 0 };
		char *argv[] = { "mmapctl", "log", "-f", "-n", "1", NULL };
		exec_child(&h, argv, fd, 2);
	}
	close(fd);
	/* the last line before it started (the map) shows that it has read the
	 * log once: only then do the new lines begin */
	free(wait_lines(out, 1));
	for (int i = 1; i <= 30; i++) {
		char c[32];
		snprintf(c, sizeof c, "seek %d", i);
		cmd(&M, "maps/f/ctl", c, NULL, 0);
		if (i % 10 == 0)
			usleep(250 * 1000); /* lines in batches, across several polls */
	}
	char *text = wait_lines(out, 31);
	long before = cpu_ticks(pid);
	sleep(1);
	long idle = cpu_ticks(pid) - before;
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	char *first = strndup(text, strcspn(text, "\n"));
	cr_expect(strstr(first, " ctl: map anon length=100 name=f => f"), "-n 1 first:\n%s", text);
	free(first);
	const char *p = text;
	for (int i = 1; i <= 30; i++) {
		char want[64];
		snprintf(want, sizeof want, " maps/f/ctl: seek %d => ok\n", i);
		const char *at = strstr(p, want);
		cr_expect(at, "line %d once, in order:\n%s", i, text);
		if (at)
			p = at + strlen(want);
	}
	int lines = 0;
	for (const char *q = text; (q = strchr(q, '\n')); q++)
		lines++;
	cr_expect_eq(lines, 31, "no line twice, nothing older than -n 1 asked for:\n%s", text);
	long hz = sysconf(_SC_CLK_TCK);
	cr_expect(idle <= hz / 10, "idle for 1 s, it used %ld of %ld ticks", idle, hz);
	free(text);
}

Test(mmapctl, log_follow_json_is_a_stream_of_batches)
{
	map_ok(&M, "anon length=100 name=j");
	char out[4200];
	snprintf(out, sizeof out, "%s", sp(&M, "follow.json"));
	int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert(fd >= 0);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		struct how h = { 0 };
		char *argv[] = { "mmapctl", "log", "--follow", "--json", "-n", "1", NULL };
		exec_child(&h, argv, fd, 2);
	}
	close(fd);
	for (int i = 0; i < 100; i++) { /* until it has printed the first batch */
		char *first = read_all(out, NULL);
		bool printed = first && strstr(first, "name=j");
		free(first);
		if (printed)
			break;
		usleep(50 * 1000);
	}
	cmd(&M, "maps/j/ctl", "seek 1", NULL, 0);
	usleep(300 * 1000);
	cmd(&M, "maps/j/ctl", "seek 2", NULL, 0);
	char *text = NULL;
	for (int i = 0; i < 100; i++) { /* until the second batch is there */
		free(text);
		text = read_all(out, NULL);
		if (text && strstr(text, "\"seek 2\""))
			break;
		usleep(50 * 1000);
	}
	usleep(100 * 1000);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	free(text);
	text = read_all(out, NULL);
	char script[8192];
	snprintf(script, sizeof script,
		 "text, at, batches = open(0).read(), 0, []\n"
		 "dec = json.JSONDecoder()\n"
		 "while text[at:].strip():\n"
		 "    obj, at = dec.raw_decode(text, at + len(text[at:]) - len(text[at:].lstrip()))\n"
		 "    batches.append([e['command'] for e in obj['log']])\n"
		 "assert batches[0] == ['map anon length=100 name=j'], batches\n"
		 "assert sum(batches[1:], []) == ['seek 1', 'seek 2'], batches\n");
	expect_json(text, script);
	free(text);
}

/* ---- allow_other: another user's mappings ------------------------------------------ */

static struct mnt shared;

static void shared_up(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to act as another user");
	mnt_start(&shared, "allow_other");
	char parent[sizeof shared.dir];
	snprintf(parent, sizeof parent, "%s", shared.dir);
	*strrchr(parent, '/') = '\0';
	cr_assert(chmod(parent, 0755) == 0);
}

static void shared_down(void)
{
	mnt_stop(&shared);
}

TestSuite(allow_other, .init = shared_up, .fini = shared_down, .timeout = 60);

Test(allow_other, ls_skips_other_users_mappings)
{
	map_ok(&shared, "anon length=1 name=roots");
	struct how nobody = { .program = "setpriv", .env_mount = shared.dir };
	struct run r;
	const char *me = mmapctl_binary();
	ctl_how(&r, &nobody, "--reuid=65534", "--regid=65534", "--clear-groups", me, "map", "anon",
		"length=2", "name=mine", NULL);
	expect_ok(&r, "mine\n");
	map_ok(&shared, "anon length=3 name=zroot");
	ctl_how(&r, &nobody, "--reuid=65534", "--regid=65534", "--clear-groups", me, "ls", "-r",
		"-b", "-o", "NAME,SIZE", NULL);
	expect_ok(&r, "NAME SIZE\nmine 2\n");
	ctl_how(&r, &nobody, "--reuid=65534", "--regid=65534", "--clear-groups", me, "ls", "-J",
		"-o", "NAME", NULL);
	expect_json(out_of(&r), "assert d == {'mappings': [{'name': 'mine'}]}, d");
	ctl_how(&r, &nobody, "--reuid=65534", "--regid=65534", "--clear-groups", me, "info",
		"roots", NULL);
	expect_fail(&r, 1, "mmapctl: info roots: Permission denied\n");
	struct how root = { .env_mount = shared.dir };
	ctl_how(&r, &root, "ls", "-rn", "-o", "NAME", NULL);
	expect_ok(&r, "mine\nroots\nzroot\n"); /* root sees them all */
}

/* ---- finding the mount ------------------------------------------------------------ */

Test(mmapctl, the_mount_comes_from_m_or_the_environment)
{
	scratch_file("f", "abc", 3);
	struct how unset = { .env_mount = "" };
	struct how bogus = { .env_mount = "/nonexistent" };
	struct run r;
	ctl_how(&r, &unset, "-m", M.dir, "map", sp(&M, "f"), NULL);
	expect_ok(&r, "0\n");
	ctl_how(&r, &unset, "--mount", M.dir, "info", "0", NULL);
	cr_expect_eq(r.status, 0);
	run_free(&r);
	char opt[4200];
	snprintf(opt, sizeof opt, "--mount=%s", M.dir);
	ctl_how(&r, &bogus, opt, "close", "0", NULL);
	expect_ok(&r, "");
	ctl_how(&r, &unset, "ls", "-m", M.dir, "-o", "NAME", NULL);
	expect_ok(&r, "");
	ctl_how(&r, &unset, "ls", NULL);
	expect_usage(&r, "no mount point: give -m MOUNT or set MMAPFS_MOUNT");
	ctl_how(&r, &bogus, "ls", NULL);
	expect_fail(&r, 1, "mmapctl: /nonexistent: not an mmapfs mount (it has no ctl file)\n");
	struct how elsewhere = { .env_mount = M.scratch };
	ctl_how(&r, &elsewhere, "map", "anon", "length=1", NULL);
	char want[4200];
	snprintf(want, sizeof want, "mmapctl: %s: not an mmapfs mount (it has no ctl file)\n",
		 M.scratch);
	expect_fail(&r, 1, want);
}

/* ---- usage, help and version -------------------------------------------------------- */

Test(offline, usage_errors_exit_2)
{
	struct run r;
	ctl(&r, NULL);
	expect_usage(&r, "no command given");
	ctl(&r, "frobnicate", NULL);
	expect_usage(&r, "unknown command 'frobnicate'");
	ctl(&r, "--frob", NULL);
	expect_usage(&r, "unknown option '--frob'");
	ctl(&r, "close", NULL);
	expect_usage(&r, "missing arguments");
	ctl(&r, "close", "a", "b", NULL);
	expect_usage(&r, "too many arguments");
	ctl(&r, "ls", "--long", NULL);
	expect_usage(&r, "unknown option '--long'");
	ctl(&r, "-m", NULL);
	expect_usage(&r, "-m needs a MOUNT");
	ctl(&r, "help", "frob", NULL);
	expect_usage(&r, "no command 'frob'");
	ctl(&r, "find", "0", NULL);
	cr_expect_eq(r.status, 2);
	cr_expect(strstr(r.err, "usage: mmapctl [-m MOUNT] find [-e] NAME NEEDLE [START [END]]\n"),
		  "%s", r.err);
	run_free(&r);
}

Test(offline, help_and_version)
{
	struct run r;
	ctl(&r, "--help", NULL);
	cr_expect_eq(r.status, 0);
	cr_expect(strncmp(r.out, "usage: mmapctl [-m MOUNT] COMMAND [ARGS...]\n", 44) == 0);
	const char *cmds[] = { "map", "close", "ls", "info", "read", "write", "dump", "tell",
			       "find", "rfind", "seek", "resize", "flush", "madvise", "move",
			       "pages", "stats", "log", "help" };
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		char word[32];
		snprintf(word, sizeof word, "\n  %s ", cmds[i]);
		cr_expect(strstr(r.out, word), "--help lists %s", cmds[i]);
	}
	char *overall = strdup(r.out);
	run_free(&r);
	ctl(&r, "help", NULL);
	expect_ok(&r, overall);
	free(overall);
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		ctl(&r, "help", cmds[i], NULL);
		cr_expect_eq(r.status, 0);
		char head[64];
		snprintf(head, sizeof head, "usage: mmapctl [-m MOUNT] %s ", cmds[i]);
		cr_expect(strncmp(r.out, head, strlen(head)) == 0, "%s", r.out);
		char *text = strdup(r.out);
		run_free(&r);
		ctl(&r, cmds[i], "--help", NULL);
		expect_ok(&r, text);
		free(text);
	}
	ctl(&r, "--version", NULL);
	expect_ok(&r, "mmapctl (mmapfs) " PACKAGE_VERSION "\n");
	ctl(&r, "-V", NULL);
	expect_ok(&r, "mmapctl (mmapfs) " PACKAGE_VERSION "\n");
}

/* ---- the man pages ------------------------------------------------------------------- */

static void expect_man_page(const char *page, const char *name_line)
{
	const char *src = getenv("MMAPFS_SRCDIR");
	cr_assert(src, "MMAPFS_SRCDIR is not set (make check sets it)");
	char path[4096];
	snprintf(path, sizeof path, "%s/doc/%s", src, page);
	struct how man = { .program = "man" };
	struct run r;
	ctl_how(&r, &man, "-l", path, NULL);
	cr_expect_eq(r.status, 0, "man -l %s: %s", path, r.err);
	cr_expect(strstr(r.out, "NAME"), "%s has a NAME section", page);
	cr_expect(strstr(r.out, name_line), "%s: NAME says '%s'", page, name_line);
	cr_expect(strstr(r.out, "SYNOPSIS") && strstr(r.out, "EXIT STATUS") &&
		  strstr(r.out, "EXAMPLES"), "%s has its sections", page);
	run_free(&r);
	struct how groff = { .program = "groff" };
	ctl_how(&r, &groff, "-man", "-Tutf8", "-ww", "-z", path, NULL);
	expect_ok(&r, "");
}

Test(offline, man_pages_render)
{
	expect_man_page("mmapctl.1", "mmapctl - ");
	expect_man_page("mmapfs.1", "mmapfs - ");
}

/* The rendered text of a section of mmapctl(1), from its heading to the next. */
static char *man_section(const char *text, const char *heading)
{
	char head[64];
	snprintf(head, sizeof head, "\n%s\n", heading);
	const char *at = strstr(text, head);
	cr_assert(at, "mmapctl(1) has a %s section", heading);
	at += strlen(head) - 1; /* keep the newline before the first item */
	const char *end = at;
	while ((end = strchr(end, '\n')) && end[1] && (end[1] == ' ' || end[1] == '\n'))
		end++;
	return strndup(at, end ? (size_t)(end - at) : strlen(at));
}

Test(offline, man_page_lists_every_command_option_and_column)
{
	const char *src = getenv("MMAPFS_SRCDIR");
	cr_assert(src, "MMAPFS_SRCDIR is not set (make check sets it)");
	char path[4096];
	snprintf(path, sizeof path, "%s/doc/mmapctl.1", src);
	struct how man = { .program = "man" };
	struct run r;
	ctl_how(&r, &man, "-l", path, NULL);
	cr_assert_eq(r.status, 0);
	char *commands = man_section(r.out, "COMMANDS");
	const char *cmds[] = { "map", "close", "ls", "info", "read", "write", "dump", "tell",
			       "find", "rfind", "seek", "resize", "flush", "madvise", "move",
			       "pages", "stats", "log", "help" };
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		char item[32];
		snprintf(item, sizeof item, "\n       %s ", cmds[i]);
		cr_expect(strstr(commands, item) || (snprintf(item, sizeof item, "\n       %s\n",
						      cmds[i]), strstr(commands, item)),
			  "COMMANDS has %s", cmds[i]);
	}
	char *columns = man_section(r.out, "COLUMNS");
	const char *cols[] = { "NAME", "SOURCE", "ACCESS", "FLAGS", "PROT", "OFFSET", "SIZE",
			       "FILESIZE", "POS", "PAGES", "RES", "RES%", "DIRTY", "ADDR" };
	for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
		char item[32];
		snprintf(item, sizeof item, "\n       %s ", cols[i]);
		cr_expect(strstr(columns, item), "COLUMNS has %s:\n%s", cols[i], columns);
	}
	char *options = man_section(r.out, "LISTING OPTIONS");
	const char *opts[] = { "-o, --output=LIST", "-J, --json", "-r, --raw", "-n, --noheadings",
			       "-b, --bytes", "-H, --list-columns" };
	for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
		cr_expect(strstr(options, opts[i]), "LISTING OPTIONS has %s", opts[i]);
	cr_expect(strstr(commands, "-f, --follow") && strstr(commands, "-n, --lines=N"),
		  "log's options");
	free(commands);
	free(columns);
	free(options);
	run_free(&r);
}

/* ---- bash completion ------------------------------------------------------------------ */

/* What the completion offers for a command line typed up to its end. */
static char *complete(const char *line)
{
	const char *src = getenv("MMAPFS_SRCDIR");
	cr_assert(src, "MMAPFS_SRCDIR is not set (make check sets it)");
	char script[8192];
	snprintf(script, sizeof script,
		 "source '%s/contrib/bash-completion/mmapctl' || exit 9\n"
		 "COMP_LINE=\"$1\"; COMP_POINT=${#1}; _mmapctl\n"
		 "if ((${#COMPREPLY[@]})); then printf '%%s\\n' \"${COMPREPLY[@]}\"; fi\n",
		 src);
	struct how bash = { .program = "bash" };
	struct run r;
	ctl_how(&r, &bash, "--norc", "-c", script, "bash", line, NULL);
	cr_expect_eq(r.status, 0, "bash: %s", r.err);
	cr_expect_str_eq(r.err, "");
	free(r.err);
	return r.out;
}

static void expect_completion(const char *line, const char *want)
{
	char *got = complete(line);
	cr_expect_str_eq(got, want, "completing '%s'", line);
	free(got);
}

Test(mmapctl, bash_completes_commands_names_and_options)
{
	map_ok(&M, "anon length=1 name=alpha");
	map_ok(&M, "anon length=1 name=beta");
	expect_completion("mmapctl m", "map\nmadvise\nmove\n");
	expect_completion("mmapctl info ", "alpha\nbeta\n");
	expect_completion("mmapctl find -e a", "alpha\n");
	expect_completion("mmapctl seek beta 0 ", "set\ncur\nend\n");
	expect_completion("mmapctl madvise alpha willn", "willneed\n");
	expect_completion("mmapctl map /x acc", "access=\n");
	expect_completion("mmapctl map /x access=c", "copy\n");
	expect_completion("mmapctl map /x flags=private,pop", "private,populate\n");
	expect_completion("mmapctl pages --color=n", "never\n");
	expect_completion("mmapctl info alpha ", "");
	expect_completion("mmapctl t", "tell\ntouch\n");
	expect_completion("mmapctl ev", "evict\n");
	expect_completion("mmapctl unlock a", "alpha\n");
	expect_completion("mmapctl lock alpha ", "");
	expect_completion("mmapctl pages --wa", "--watch\n");
	expect_completion("mmapctl pages --j", "--json\n");
	expect_completion("mmapctl s", "seek\nstats\n");
	expect_completion("mmapctl dump a", "alpha\n");
	expect_completion("mmapctl read beta 0 ", "");
	expect_completion("mmapctl write alpha ", "");
	expect_completion("mmapctl log -", "-n\n--lines\n-f\n--follow\n-J\n--json\n-m\n--mount\n"
					   "--help\n");
	expect_completion("mmapctl log -n ", "");
	expect_completion("mmapctl stats --", "--json\n--bytes\n--mount\n--help\n");
	expect_completion("mmapctl ls --n", "--noheadings\n");
	expect_completion("mmapctl info -o NAME alpha -", "-o\n--output\n-J\n--json\n-r\n--raw\n"
			  "-n\n--noheadings\n-b\n--bytes\n-H\n--list-columns\n-m\n--mount\n--help\n");
	expect_completion("mmapctl info -o NAME ", "alpha\nbeta\n");
	char line[4200];
	snprintf(line, sizeof line, "mmapctl -m %s close b", M.dir);
	expect_completion(line, "beta\n");
}

Test(mmapctl, bash_completes_comma_lists_without_repeats)
{
	expect_completion("mmapctl map /x flags=private,", "private,populate\nprivate,noreserve\n"
			  "private,stack\nprivate,locked\nprivate,nonblock\nprivate,hugetlb\n"
			  "private,growsdown\nprivate,denywrite\nprivate,executable\nprivate,32bit\n"
			  "private,sync\n");
	expect_completion("mmapctl map /x flags=populate,locked,s", "populate,locked,shared\n"
			  "populate,locked,shared_validate\npopulate,locked,stack\n"
			  "populate,locked,sync\n");
	expect_completion("mmapctl map /x prot=", "read\nwrite\nexec\nnone\n");
	expect_completion("mmapctl map /x prot=read,", "read,write\nread,exec\n");
	expect_completion("mmapctl map /x prot=read,write,", "read,write,exec\n");
	expect_completion("mmapctl map /x prot=none,", "");
	expect_completion("mmapctl ls -o NAME,S", "NAME,SOURCE\nNAME,SIZE\n");
	expect_completion("mmapctl ls -o +A", "+ACCESS\n+ADDR\n");
	expect_completion("mmapctl ls --output=NAME,PO", "NAME,POS\n");
	expect_completion("mmapctl info -o RES", "RES\nRES%\n");
}
