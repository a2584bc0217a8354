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
	expect_fail(&r, 1, "mmapctl: mmap length is greater than file size\n");
	ctl(&r, "map", f, "access=copy", "flags=private", NULL);
	expect_fail(&r, 1, "mmapctl: mmap can't specify both access and flags, prot.\n");
	ctl(&r, "map", f, "bogus=1", NULL);
	expect_fail(&r, 1, "mmapctl: unknown option 'bogus' (known: length, offset, access, "
		    "flags, prot, trackfd, name)\n");
	ctl(&r, "map", sp(&M, "missing"), NULL);
	expect_fail(&r, 1, "mmapctl: No such file or directory\n");
	ctl(&r, "map", f, "name=x", NULL);
	expect_ok(&r, "x\n");
	ctl(&r, "map", f, "name=x", NULL);
	expect_fail(&r, 1, "mmapctl: a mapping named 'x' exists already\n");
	ctl(&r, "map", M.scratch, NULL);
	expect_fail(&r, 1, "mmapctl: source is not a regular file\n");
	char *stats = read_all(mp(&M, "stats"), NULL);
	cr_expect(strncmp(stats, "maps 1\nbytes 3\n", 15) == 0, "refusals left nothing: %s",
		  stats);
	free(stats);
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
	expect_fail(&r, 1, "mmapctl: no mapping named 'a'\n");
	ctl(&r, "close", "../a b", NULL);
	expect_fail(&r, 1, "mmapctl: invalid mapping name '../a b'\n");
}

/* mmapctl checks names by the server's own rule (core/mapname.c): a name of
 * MAPPING_NAME_MAX characters works end to end, one longer is refused by
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
	snprintf(want, sizeof want, "mmapctl: invalid mapping name '%s'\n", too_long);
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
	expect_fail(&r, 1, "mmapctl: command too long (a write() carries at most 65536 bytes)\n");
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
	expect_fail(&r, 1, "mmapctl: invalid number: 'x'\n");
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
	expect_fail(&r, 1, "mmapctl: seek out of range\n");
	cr_expect_str_eq(attr(name, "pos"), "7");
	ctl(&r, "seek", name, "0", "9", NULL);
	expect_fail(&r, 1, "mmapctl: unknown seek type\n");
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
	expect_fail(&r, 1, "mmapctl: mmap can't resize a readonly or copy-on-write memory map.\n");
	ctl(&r, "resize", name, "-1", NULL);
	expect_fail(&r, 1, "mmapctl: new size out of range\n");
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
	ctl(&r, "flush", name, "1", NULL);
	expect_fail(&r, 1, "mmapctl: Invalid argument\n");
	ctl(&r, "move", name, "0", "6", "50", NULL);
	expect_fail(&r, 1, "mmapctl: source, destination, or count out of range\n");
	ctl(&r, "madvise", name, "willneed", NULL);
	expect_ok(&r, "");
	ctl(&r, "madvise", name, "MADV_DONTNEED", "0", "4096", NULL);
	expect_ok(&r, "");
	ctl(&r, "madvise", name, "hwpoison", NULL);
	expect_fail(&r, 1, "mmapctl: madvise 'hwpoison' acts on the machine's hardware pages "
		    "and is refused\n");
	ctl(&r, "madvise", name, "frob", NULL);
	expect_fail(&r, 1, "mmapctl: unknown madvise advice 'frob'\n");
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

Test(mmapctl, ls_of_an_empty_table_is_its_header)
{
	struct run r;
	ctl(&r, "ls", NULL);
	expect_ok(&r, "NAME  SOURCE  ACCESS  FLAGS  OFFSET  LENGTH  POS  RESIDENT\n");
}

Test(mmapctl, ls_lists_every_mapping_in_name_order)
{
	const char *f = scratch_file("f", "x", 3 * (size_t)PAGE);
	map_ok(&M, "%s name=b", f);
	map_ok(&M, "%s access=copy offset=%ld", f, PAGE);
	map_ok(&M, "anon length=100");
	map_ok(&M, "anon length=1 name=10");
	cmd(&M, "maps/b/ctl", "seek 7", NULL, 0);
	struct run r;
	ctl(&r, "ls", NULL);
	cr_expect_eq(r.status, 0);
	cr_expect_str_eq(r.err, "");
	const char *want[][7] = {
		{ "NAME", "SOURCE", "ACCESS", "FLAGS", "OFFSET", "LENGTH", "POS" },
		{ "0", f, "copy", "private", "4096", "8192", "0" },
		{ "1", "anonymous", "default", "shared", "0", "100", "0" },
		{ "10", "anonymous", "default", "shared", "0", "1", "0" },
		{ "b", f, "default", "shared", "0", "12288", "7" },
	};
	char off[32], len[32];
	snprintf(off, sizeof off, "%ld", PAGE);
	snprintf(len, sizeof len, "%ld", 2 * PAGE);
	want[1][4] = off;
	want[1][5] = len;
	char blen[32];
	snprintf(blen, sizeof blen, "%ld", 3 * PAGE);
	want[4][5] = blen;
	for (int i = 0; i < 5; i++) {
		const char *line = line_of(r.out, i);
		cr_assert(line, "line %d missing in:\n%s", i, r.out);
		char got[8][256];
		int n = fields(line, got, 8);
		cr_expect_eq(n, 8, "line %d: %s", i, line);
		for (int k = 0; k < 7 && k < n; k++)
			cr_expect_str_eq(got[k], want[i][k], "line %d field %d", i, k);
	}
	cr_expect_null(line_of(r.out, 5), "only four mappings");
	run_free(&r);
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
	char got[8][256];
	ctl(&r, "ls", NULL);
	cr_expect_eq(r.status, 0);
	cr_assert_eq(fields(line_of(r.out, 1), got, 8), 8, "%s", r.out);
	cr_expect_str_eq(got[7], "100%", "all written: %s", r.out);
	run_free(&r);
	cmd(&M, "maps/0/ctl", "madvise dontneed", NULL, 0);
	ctl(&r, "ls", NULL);
	cr_assert_eq(fields(line_of(r.out, 1), got, 8), 8, "%s", r.out);
	cr_expect_str_eq(got[7], "0%", "after dontneed: %s", r.out);
	run_free(&r);
	map_ok(&M, "anon length=%zu flags=private", len);
	cr_assert_eq(pwrite_at(mp(&M, "maps/1/data"), "y", 1, 0), 0);
	ctl(&r, "ls", NULL);
	cr_assert_eq(fields(line_of(r.out, 2), got, 8), 8, "%s", r.out);
	cr_expect_str_eq(got[7], "25%", "one page of four written: %s", r.out);
	run_free(&r);
}

Test(mmapctl, info_shows_every_attribute)
{
	const char *f = scratch_file("f", "0123456789", 10);
	const char *name = map_ok(&M, "%s access=copy name=i", f);
	cmd(&M, "maps/i/ctl", "seek 3", NULL, 0);
	struct run r;
	ctl(&r, "info", name, NULL);
	cr_expect_eq(r.status, 0);
	cr_expect_str_eq(r.err, "");
	char want[8192];
	snprintf(want, sizeof want,
		 "name      i\nsource    %s\naccess    copy\nflags     private\n"
		 "prot      read,write\noffset    0\nsize      10\nfilesize  10\npos       3\n", f);
	cr_assert(strncmp(r.out, want, strlen(want)) == 0, "info:\n%s\nwanted:\n%s", r.out, want);
	const char *rest = r.out + strlen(want);
	cr_expect(strncmp(rest, "pages     ", 10) == 0, "then pages: %s", rest);
	run_free(&r);
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
	ctl(&r, "info", "0", NULL);
	cr_expect(strstr(r.out, "\npages     2\nresident  100% (2 of 2 pages)\n"), "%s", r.out);
	run_free(&r);
}

Test(mmapctl, info_shows_unreadable_values_as_a_dash)
{
	const char *name = map_ok(&M, "%s trackfd=no", scratch_file("f", "abc", 3));
	struct run r;
	ctl(&r, "info", name, NULL);
	cr_expect_eq(r.status, 0);
	cr_expect(strstr(r.out, "\nfilesize  - (Bad file descriptor)\n"), "%s", r.out);
	run_free(&r);
}

/* ---- the page map ---------------------------------------------------------------- */

Test(mmapctl, pages_draws_the_mapping_plain_when_piped)
{
	/* Needs the server's pages file (SPEC "Introspection"). */
	const char *f = scratch_file("f", "x", 4 * (size_t)PAGE);
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
	cr_expect(strstr(r.out, "  C  mapped here as a private copy (copy-on-write)  1   25.0%\n"),
		  "%s", r.out);
	run_free(&r);
	ctl(&r, "pages", "nosuch", NULL);
	expect_fail(&r, 1, "mmapctl: no mapping named 'nosuch'\n");
}

Test(offline, pages_draws_a_saved_map_with_its_legend)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/map", tmp_root());
	make_file(path, "MMMCC.....RS\n", 13);
	struct run r;
	ctl(&r, "pages", "-f", path, NULL);
	char want[8192];
	snprintf(want, sizeof want,
		 "%s: 12 pages of %ld bytes, 1 page per cell\n"
		 " 0 MMMCC.....RS\n"
		 "\n"
		 "  M  mapped here, shared with the backing object     3   25.0%%\n"
		 "  C  mapped here as a private copy (copy-on-write)   2   16.7%%\n"
		 "  R  in memory, not mapped here                      1    8.3%%\n"
		 "  S  swapped out                                     1    8.3%%\n"
		 "  .  not in memory                                   5   41.7%%\n"
		 "     total                                          12  100.0%%\n",
		 path, PAGE);
	expect_ok(&r, want);
}

Test(offline, pages_wraps_rows_and_groups_pages_into_cells)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/map", tmp_root());
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
	snprintf(path, sizeof path, "%s/map", tmp_root());
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
	ctl_how(&r, &unset, "ls", "-m", M.dir, NULL);
	expect_ok(&r, "NAME  SOURCE  ACCESS  FLAGS  OFFSET  LENGTH  POS  RESIDENT\n");
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
	const char *cmds[] = { "map", "close", "ls", "info", "find", "rfind", "seek", "resize",
			       "flush", "madvise", "move", "pages", "help" };
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
	char line[4200];
	snprintf(line, sizeof line, "mmapctl -m %s close b", M.dir);
	expect_completion(line, "beta\n");
}
