/* it_badinput.c - malformed commands and attribute writes, table-driven.
 *
 * Each case is one write() to one file of a real mount. It must be refused
 * with the SPEC's errno, a control file must answer with exactly one
 * "error: ..." line, and the table and every mapping must be exactly as
 * before: stats, the maps/ listing, each mapping's attributes and bytes,
 * and the backing file. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/harness.h"


#define FILE_SIZE 16384

static void up(void)
{
	mnt_up();
	char *buf = malloc(FILE_SIZE);
	for (int i = 0; i < FILE_SIZE; i++)
		buf[i] = (char)('a' + i % 23);
	make_file(sp(&M, "f"), buf, FILE_SIZE);
	free(buf);
	map_ok(&M, "%s name=keep", sp(&M, "f"));
	map_ok(&M, "anon length=8192 name=an");
	map_ok(&M, "%s access=copy name=cp", sp(&M, "f"));
	map_ok(&M, "%s access=read name=ro", sp(&M, "f"));
	map_ok(&M, "%s trackfd=no name=un", sp(&M, "f"));
	cr_assert_eq(pwrite_at(mp(&M, "maps/an/data"), "anon", 4, 0), 0);
	cr_assert_eq(pwrite_at(mp(&M, "maps/cp/data"), "COPY", 4, 0), 0);
	cr_assert_eq(write_all(mp(&M, "maps/keep/pos"), "5", 1, O_TRUNC), 0);
	cr_assert_eq(write_all(mp(&M, "maps/an/pos"), "7", 1, O_TRUNC), 0);
}

TestSuite(badinput, .init = up, .fini = mnt_down, .timeout = 120);

/* ---- the state that must not change ------------------------------------ */

static const char *const NAMES[] = { "keep", "an", "cp", "ro", "un" };
static const char *const ATTRS[] = { "size", "pos", "access", "filesize", "offset",
				     "flags", "prot", "source" };
#define NNAMES (sizeof NAMES / sizeof NAMES[0])
#define NATTRS (sizeof ATTRS / sizeof ATTRS[0])

struct snapshot {
	char *stats;
	char listing[1024];
	char attrs[NNAMES][NATTRS][256];
	char *data[NNAMES];
	size_t data_len[NNAMES];
	char *file;
	size_t file_len;
};

static void take(struct snapshot *s)
{
	memset(s, 0, sizeof *s);
	s->stats = slurp(mp(&M, "stats"), NULL);
	cr_assert(s->stats, "read stats");
	/* resident follows what the kernel keeps in memory, not the table. */
	char *resident = strstr(s->stats, "resident ");
	if (resident)
		*resident = '\0';
	DIR *d = opendir(mp(&M, "maps"));
	cr_assert(d);
	/* The listing in id order is stable; keep it as it comes. */
	for (struct dirent *e; (e = readdir(d));) {
		strncat(s->listing, e->d_name, sizeof s->listing - strlen(s->listing) - 2);
		strcat(s->listing, " ");
	}
	closedir(d);
	for (size_t n = 0; n < NNAMES; n++) {
		for (size_t a = 0; a < NATTRS; a++) {
			int rc = attr_text(&M, NAMES[n], ATTRS[a], s->attrs[n][a],
					   sizeof s->attrs[n][a]);
			if (rc < 0)
				snprintf(s->attrs[n][a], sizeof s->attrs[n][a], "(%s)", strerror(-rc));
		}
		s->data[n] = slurp(mp(&M, "maps/%s/data", NAMES[n]), &s->data_len[n]);
		cr_assert(s->data[n], "read maps/%s/data", NAMES[n]);
	}
	s->file = slurp(sp(&M, "f"), &s->file_len);
	cr_assert(s->file);
}

static void drop(struct snapshot *s)
{
	free(s->stats);
	for (size_t n = 0; n < NNAMES; n++)
		free(s->data[n]);
	free(s->file);
}

/* Compare, naming the case that changed something. */
static void same(const struct snapshot *a, const struct snapshot *b, const char *what)
{
	cr_expect_str_eq(b->stats, a->stats, "[%s] stats changed", what);
	cr_expect_str_eq(b->listing, a->listing, "[%s] maps/ changed", what);
	for (size_t n = 0; n < NNAMES; n++) {
		for (size_t a2 = 0; a2 < NATTRS; a2++)
			cr_expect_str_eq(b->attrs[n][a2], a->attrs[n][a2], "[%s] maps/%s/%s changed",
					 what, NAMES[n], ATTRS[a2]);
		cr_expect(a->data_len[n] == b->data_len[n] &&
				  memcmp(a->data[n], b->data[n], a->data_len[n]) == 0,
			  "[%s] maps/%s/data changed", what, NAMES[n]);
	}
	cr_expect(a->file_len == b->file_len && memcmp(a->file, b->file, a->file_len) == 0,
		  "[%s] the backing file changed", what);
}

/* ---- cases ---------------------------------------------------------------- */

struct bad {
	const char *file;	/* below the mount */
	const char *text;	/* "@F" stands for the backing file's path */
	size_t len;
	int err;
	long long off;		/* pwrite offset for data files; 0 otherwise */
};

/* Literal bytes, NULs included. */
#define B(file, lit, err) { file, lit, sizeof(lit) - 1, err, 0 }
#define BOFF(file, lit, err, off) { file, lit, sizeof(lit) - 1, err, off }

static const char NAME65[] = "map @F name="
			     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

/* Expand "@F" into the backing file's path. */
static char *expand(const struct bad *c, size_t *len)
{
	const char *f = sp(&M, "f");
	size_t flen = strlen(f);
	char *out = malloc(c->len * (flen + 1) + 1);
	size_t n = 0;
	for (size_t i = 0; i < c->len; i++) {
		if (c->text[i] == '@' && i + 1 < c->len && c->text[i + 1] == 'F') {
			memcpy(out + n, f, flen);
			n += flen;
			i++;
		} else {
			out[n++] = c->text[i];
		}
	}
	*len = n;
	return out;
}

static void printable(const char *s, size_t len, char *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < len && n + 5 < cap; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch < 0x20 || ch >= 0x7f)
			n += (size_t)snprintf(out + n, cap - n, "\\x%02x", ch);
		else
			out[n++] = (char)ch;
	}
	if (len > 60 && cap > 4)
		strcpy(out + (n < cap - 4 ? n : cap - 4), "...");
	else
		out[n] = '\0';
}

static bool is_ctl(const char *file)
{
	size_t n = strlen(file);
	return n >= 3 && strcmp(file + n - 3, "ctl") == 0;
}

static void run_case(const struct bad *c, struct snapshot *before)
{
	size_t len;
	char *text = expand(c, &len);
	char what[160], out[4096];
	snprintf(what, 40, "%s: ", c->file);
	printable(text, len < 60 ? len : 60, what + strlen(what), sizeof what - strlen(what));
	int rc;
	if (is_ctl(c->file)) {
		rc = ctl_timed(mp(&M, "%s", c->file), text, len, out, sizeof out, OP_TIMEOUT_MS);
		/* One command, one result line: "error: MESSAGE\n". */
		size_t olen = strlen(out);
		char shown[300];
		printable(out, olen, shown, sizeof shown);
		cr_expect(strncmp(out, "error: ", 7) == 0 && olen > 7 && out[olen - 1] == '\n' &&
				  memchr(out, '\n', olen - 1) == NULL,
			  "[%s] wanted exactly one 'error: ...' line, got '%s'", what, shown);
	} else {
		ssize_t r = pwrite_timed(mp(&M, "%s", c->file), text, len, (off_t)c->off);
		rc = r < 0 ? (int)r : 0;
	}
	cr_expect_eq(rc, -c->err, "[%s] got %s, wanted %s", what,
		     rc == 0 ? "success" : rc == -ETIMEDOUT ? "no answer (hang)" : strerror(-rc),
		     strerror(c->err));
	free(text);
	struct snapshot after;
	take(&after);
	same(before, &after, what);
	drop(&after);
}

static void run_table(const struct bad *cases, size_t n)
{
	struct snapshot before;
	take(&before);
	for (size_t i = 0; i < n; i++)
		run_case(&cases[i], &before);
	drop(&before);
	cr_expect(server_answers(&M));
}

#define RUN(table) run_table(table, sizeof table / sizeof table[0])

/* ---- the root ctl ---------------------------------------------------------- */

static const struct bad ROOT_CASES[] = {
	/* blank lines and unknown commands */
	B("ctl", "\n", EINVAL),
	B("ctl", "   ", EINVAL),
	B("ctl", "\t\n", EINVAL),
	B("ctl", "\n\n", EINVAL),
	B("ctl", "bogus", EINVAL),
	B("ctl", "MAP @F", EINVAL),
	B("ctl", "map\0 @F", EINVAL),
	B("ctl", "\0", EINVAL),
	/* wrong argument counts */
	B("ctl", "map", EINVAL),
	B("ctl", "close", EINVAL),
	B("ctl", "close keep an", EINVAL),
	/* sources */
	B("ctl", "map relative/f", EINVAL),
	B("ctl", "map @F\0", EINVAL),
	B("ctl", "map \"@F\\x00\"", EINVAL),
	B("ctl", "map \"@F\\0\"", EINVAL),
	B("ctl", "map /dev/null", ENODEV),
	B("ctl", "map /no/such/file", ENOENT),
	/* numbers */
	B("ctl", "map @F length=-1", EINVAL),
	B("ctl", "map @F offset=-4096", EINVAL),
	B("ctl", "map @F length=1Q", EINVAL),
	B("ctl", "map @F length=1KK", EINVAL),
	B("ctl", "map @F length=99999999999999999999", EINVAL),
	B("ctl", "map @F length=0x8000000000000000", EINVAL),
	B("ctl", "map @F length=16E", EINVAL),
	B("ctl", "map @F length=0x", EINVAL),
	B("ctl", "map @F length=-", EINVAL),
	B("ctl", "map @F length=", EINVAL),
	B("ctl", "map @F length= 5", EINVAL),
	B("ctl", "map @F length=1T", EINVAL),
	B("ctl", "map @F length=16385", EINVAL),
	B("ctl", "map @F offset=1M", EINVAL),
	B("ctl", "map @F offset=1", EINVAL),
	B("ctl", "map @F offset=100 length=10", EINVAL),
	/* keys */
	B("ctl", "map @F colour=blue", EINVAL),
	B("ctl", "map @F length", EINVAL),
	B("ctl", "map @F =5", EINVAL),
	B("ctl", "map @F LENGTH=5", EINVAL),
	B("ctl", "map @F length=1 length=2", EINVAL),
	B("ctl", "map @F name=a name=b", EINVAL),
	B("ctl", "map @F access=read access=read", EINVAL),
	/* access, flags, prot, trackfd */
	B("ctl", "map @F access=bogus", EINVAL),
	B("ctl", "map @F access=READ", EINVAL),
	B("ctl", "map @F access=", EINVAL),
	B("ctl", "map @F flags=shared,bogus", EINVAL),
	B("ctl", "map @F flags=", EINVAL),
	B("ctl", "map @F flags=shared,,private", EINVAL),
	B("ctl", "map @F flags=fixed", EINVAL),
	B("ctl", "map @F prot=none,read", EINVAL),
	B("ctl", "map @F prot=bogus", EINVAL),
	B("ctl", "map @F prot=", EINVAL),
	B("ctl", "map @F access=read flags=private", EINVAL),
	B("ctl", "map @F access=write prot=read", EINVAL),
	B("ctl", "map @F trackfd=maybe", EINVAL),
	B("ctl", "map anon length=4096 flags=hugetlb", EINVAL),
	/* anonymous memory */
	B("ctl", "map anon", EINVAL),
	B("ctl", "map anon length=0", EINVAL),
	B("ctl", "map anon length=-4096", EINVAL),
	B("ctl", "map anon length=4096 offset=1", EINVAL),
	/* names */
	B("ctl", "map @F name=", EINVAL),
	B("ctl", "map @F name=.hidden", EINVAL),
	B("ctl", "map @F name=a/b", EINVAL),
	B("ctl", "map @F name=\"a b\"", EINVAL),
	B("ctl", "map @F name=caf\xc3\xa9", EINVAL),
	B("ctl", "map @F name=a\0b", EINVAL),
	{ "ctl", NAME65, sizeof NAME65 - 1, EINVAL, 0 },
	B("ctl", "map @F name=keep", EEXIST),
	B("ctl", "close ../keep", EINVAL),
	B("ctl", "close .keep", EINVAL),
	B("ctl", "close kee\0p", EINVAL),
	B("ctl", "close \"\"", EINVAL),
	B("ctl", "close nosuch", ENOENT),
	/* quotes and escapes */
	B("ctl", "map 'unterminated", EINVAL),
	B("ctl", "map \"unterminated", EINVAL),
	B("ctl", "map \"@F\\q\"", EINVAL),
	B("ctl", "map \"@F\\x4\"", EINVAL),
	B("ctl", "map \"@F\\xzz\"", EINVAL),
	B("ctl", "map \"@F\\", EINVAL),
	/* the commands after a failure do not run */
	B("ctl", "bogus\nclose keep", EINVAL),
	B("ctl", "close nosuch\nclose keep", ENOENT),
	B("ctl", "\nclose keep", EINVAL),
};

Test(badinput, root_ctl)
{
	RUN(ROOT_CASES);
}

/* Error lines that echo what was typed must stay one line, even when a
 * quoted token holds a newline ("\n" inside double quotes). */
static const struct bad NEWLINE_CASES[] = {
	B("ctl", "\"bo\\ngus\"", EINVAL),
	B("ctl", "map @F \"length=1\\n2\"", EINVAL),
	B("ctl", "map @F \"colour\\n=blue\"", EINVAL),
	B("ctl", "map @F \"flags=shared\\n\"", EINVAL),
	B("ctl", "map @F \"prot=read\\n\"", EINVAL),
	B("ctl", "close \"a\\nb\"", EINVAL),
	B("ctl", "map @F \"name=a\\nb\"", EINVAL),
	B("maps/keep/ctl", "\"flu\\nsh\"", EINVAL),
	B("maps/keep/ctl", "madvise \"dont\\nneed\"", EINVAL),
	B("maps/keep/ctl", "resize \"1\\n\"", EINVAL),
};

Test(badinput, error_lines_echoing_a_newline_stay_one_line)
{
	RUN(NEWLINE_CASES);
}

Test(badinput, overlong_writes_are_e2big_and_run_nothing)
{
	size_t len = 64 * 1024 + 1;
	char *big = malloc(len);
	struct snapshot before;
	take(&before);
	static const char *const files[] = { "ctl", "maps/keep/ctl" };
	static const char *const first[] = { "close keep\n", "seek 0\n" };
	for (int i = 0; i < 2; i++) {
		size_t n = strlen(first[i]);
		memcpy(big, first[i], n);
		memset(big + n, ' ', len - n);
		char out[512];
		int rc = ctl_timed(mp(&M, "%s", files[i]), big, len, out, sizeof out, OP_TIMEOUT_MS);
		cr_expect_eq(rc, -E2BIG, "%s: a write of 64 KiB + 1: %s", files[i], strerror(-rc));
		cr_expect(strncmp(out, "error: ", 7) == 0 && strchr(out, '\n') == out + strlen(out) - 1,
			  "%s: one error line: %s", files[i], out);
		struct snapshot after;
		take(&after);
		same(&before, &after, files[i]);
		drop(&after);
	}
	drop(&before);
	free(big);
}

/* ---- a mapping's ctl ------------------------------------------------------- */

#define K "maps/keep/ctl"
static const struct bad MAPPING_CASES[] = {
	B(K, "\n", EINVAL),
	B(K, " \t ", EINVAL),
	B(K, "bogus", EINVAL),
	B(K, "FLUSH", EINVAL),
	B(K, "flush\0", EINVAL),
	B(K, "map @F", EINVAL),
	B(K, "close extra", EINVAL),
	/* flush */
	B(K, "flush 1", EINVAL),
	B(K, "flush 0 99999", EINVAL),
	B(K, "flush -1", EINVAL),
	B(K, "flush 0 -5", EINVAL),
	B(K, "flush x", EINVAL),
	B(K, "flush 0 0 0", EINVAL),
	/* madvise */
	B(K, "madvise", EINVAL),
	B(K, "madvise bogus", EINVAL),
	B(K, "madvise ''", EINVAL),
	B(K, "madvise MADV_", EINVAL),
	B(K, "madvise -4", EINVAL),
	B(K, "madvise 9999", EINVAL),
	B(K, "madvise hwpoison", EPERM),
	B(K, "madvise MADV_SOFT_OFFLINE", EPERM),
	B(K, "madvise 100", EPERM),
	B(K, "madvise normal -1", EINVAL),
	B(K, "madvise normal 0 -1", EINVAL),
	B(K, "madvise normal 99999", EINVAL),
	B(K, "madvise normal 16384", EINVAL),
	B(K, "madvise normal 1", EINVAL),
	B(K, "madvise normal 0 1 2", EINVAL),
	B(K, "madvise normal x", EINVAL),
	/* move */
	B(K, "move", EINVAL),
	B(K, "move 0 0", EINVAL),
	B(K, "move 0 0 -1", EINVAL),
	B(K, "move 0 1 99999", EINVAL),
	B(K, "move -1 0 1", EINVAL),
	B(K, "move 0 -1 1", EINVAL),
	B(K, "move 16384 0 1", EINVAL),
	B(K, "move 0 16380 5", EINVAL),
	B(K, "move 0 0 1 1", EINVAL),
	B(K, "move a b c", EINVAL),
	/* resize */
	B(K, "resize", EINVAL),
	B(K, "resize -1", EINVAL),
	B(K, "resize 1 2", EINVAL),
	B(K, "resize 1Q", EINVAL),
	B(K, "resize 9223372036854775808", EINVAL),
	B(K, "resize 2T", ENOSPC),
	/* seek */
	B(K, "seek", EINVAL),
	B(K, "seek 1 4", EINVAL),
	B(K, "seek 1 -1", EINVAL),
	B(K, "seek 1 bogus", EINVAL),
	B(K, "seek 1 SET", EINVAL),
	B(K, "seek 99999", EINVAL),
	B(K, "seek -1", EINVAL),
	B(K, "seek -99999 end", EINVAL),
	B(K, "seek 16380 cur", EINVAL),
	B(K, "seek 1 set extra", EINVAL),
	B(K, "seek 0x", EINVAL),
	/* find, rfind */
	B(K, "find", EINVAL),
	B(K, "rfind", EINVAL),
	B(K, "find a 1 2 3", EINVAL),
	B(K, "find a x", EINVAL),
	B(K, "find a 0 x", EINVAL),
	B(K, "find \"\\xZZ\"", EINVAL),
	B(K, "rfind 'a", EINVAL),
	/* the commands after a failure do not run */
	B(K, "bogus\nseek 0", EINVAL),
	B(K, "seek 99999\nseek 0\nresize 1", EINVAL),
	/* what the other mappings refuse */
	B("maps/cp/ctl", "resize 100", EPERM),
	B("maps/cp/ctl", "resize 0", EPERM),
	B("maps/ro/ctl", "resize 100", EPERM),
	B("maps/ro/ctl", "move 0 1 1", EACCES),
	B("maps/un/ctl", "resize 100", EINVAL),
	B("maps/an/ctl", "seek 8193", EINVAL),
	B("maps/an/ctl", "madvise hwpoison 0 4096", EPERM),
};
#undef K

Test(badinput, mapping_ctl)
{
	RUN(MAPPING_CASES);
}

/* ---- size, pos and the files that take no writes ----------------------- */

#define S "maps/keep/size"
#define P "maps/keep/pos"
static const struct bad ATTR_CASES[] = {
	B(S, "\n", EINVAL),
	B(S, " ", EINVAL),
	B(S, "-1", EINVAL),
	B(S, "-0x10", EINVAL),
	B(S, "abc", EINVAL),
	B(S, "1 2", EINVAL),
	B(S, "1K2", EINVAL),
	B(S, "0x", EINVAL),
	B(S, "99999999999999999999", EINVAL),
	B(S, "1\n\n", EINVAL),
	B(S, "'1", EINVAL),
	B(S, "1\0", EINVAL),
	B(S, "2T", ENOSPC),
	B("maps/cp/size", "100", EPERM),
	B("maps/ro/size", "100", EPERM),
	B("maps/un/size", "100", EINVAL),
	B(P, "\n", EINVAL),
	B(P, "-1", EINVAL),
	B(P, "99999", EINVAL),
	B(P, "16385", EINVAL),
	B(P, "1 4", EINVAL),
	B(P, "1 bogus", EINVAL),
	B(P, "1 2 3", EINVAL),
	B(P, "x", EINVAL),
	B(P, "0x", EINVAL),
	B(P, "1 set\n\n", EINVAL),
	B(P, "-99999 end", EINVAL),
	B(P, "1\0", EINVAL),
	B("maps/an/pos", "8193", EINVAL),
	/* files that take no writes */
	B("maps/keep/access", "write", EACCES),
	B("maps/keep/flags", "private", EACCES),
	B("maps/keep/prot", "read", EACCES),
	B("maps/keep/source", "/etc/passwd", EACCES),
	B("maps/keep/offset", "4096", EACCES),
	B("maps/keep/filesize", "1", EACCES),
	B("maps/keep/line", "x", EACCES),
	B("stats", "maps 0", EACCES),
	B("pagesize", "1", EACCES),
	B("log", "x", EACCES),
	B("maps/ro/data", "x", EACCES),
	B("maps/ro/stream", "x", EACCES),
	/* data that cannot grow */
	BOFF("maps/cp/data", "xyz", EFBIG, FILE_SIZE - 1),
	BOFF("maps/un/data", "xyz", EFBIG, FILE_SIZE - 1),
	BOFF("maps/cp/data", "x", EFBIG, FILE_SIZE),
};
#undef S
#undef P

Test(badinput, attribute_files)
{
	RUN(ATTR_CASES);
}

Test(badinput, the_tree_takes_no_new_names)
{
	struct snapshot before;
	take(&before);
	cr_expect_eq(mkdir(mp(&M, "maps/new"), 0755), -1);
	cr_expect_eq(errno, EACCES, "mkdir: %s", strerror(errno));
	cr_expect_eq(open(mp(&M, "maps/keep/new"), O_CREAT | O_WRONLY, 0644), -1);
	cr_expect_eq(errno, EACCES, "create: %s", strerror(errno));
	cr_expect_eq(rmdir(mp(&M, "maps/.keep")), -1);
	cr_expect_eq(errno, ENOENT, "rmdir of a bad name: %s", strerror(errno));
	cr_expect_eq(rmdir(mp(&M, "maps/nosuch")), -1);
	cr_expect_eq(errno, ENOENT, "rmdir of an unknown name: %s", strerror(errno));
	cr_expect_eq(rmdir(mp(&M, "maps")), -1);
	struct snapshot after;
	take(&after);
	same(&before, &after, "tree");
	drop(&after);
	drop(&before);
}
