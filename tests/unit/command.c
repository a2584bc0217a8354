/* unit_command.c - the commands of the root ctl (map, close) and of a
 * mapping's ctl (flush, madvise, move, resize, seek, find, rfind, close):
 * their results, each refusal's errno and message, and that a refused
 * command leaves the table and the mapping exactly as they were. */
#include "lib/unit_util.h"

#include <stdarg.h>

#include "control/command.h"
#include "core/table.h"

#define MAX_MAPS 4
#define MAX_PAGES 64

static struct table T;
static struct command_env env;

static void up(void)
{
	cr_assert_eq(table_init(&T, MAX_MAPS, MAX_PAGES * (uint64_t)page()), 0);
	env = (struct command_env){ .table = &T, .mountpoint = "/mnt/mmapfs-unit",
				    .own_dev = 0, .uid = 1234, .gid = 5678 };
}

static void down(void)
{
	table_destroy(&T);
	remove_made_files();
}

TestSuite(map, .init = up, .fini = down);
TestSuite(close_cmd, .init = up, .fini = down);
TestSuite(root, .init = up, .fini = down);
TestSuite(mapping_ctl, .init = up, .fini = down);
TestSuite(text_files, .init = up, .fini = down);

/* ---- snapshots: what a refused command must leave alone ---------------- */

struct table_snap {
	struct table_stats stats;
	char names[1024];
};

static void snap_table(struct table_snap *s)
{
	table_stats(&T, &s->stats);
	struct table_entry *v;
	size_t n;
	cr_assert_eq(table_list(&T, &v, &n), 0);
	s->names[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		strcat(s->names, v[i].name);
		strcat(s->names, ",");
	}
	free(v);
}

static void expect_same_table(const struct table_snap *a, const char *what)
{
	struct table_snap b;
	snap_table(&b);
	cr_expect_eq(a->stats.maps, b.stats.maps, "[%s] changed stats maps", what);
	cr_expect_eq(a->stats.bytes, b.stats.bytes, "[%s] changed stats bytes", what);
	cr_expect_str_eq(a->names, b.names, "[%s] changed the table", what);
}

struct mapping_snap {
	struct mapping_info info;
	char bytes[64];
	ssize_t nbytes;
	int64_t file_size;
	struct table_snap table;
};

static void snap_mapping(struct mapping *m, struct mapping_snap *s)
{
	mapping_info(m, &s->info);
	memset(s->bytes, 0, sizeof s->bytes);
	s->nbytes = s->info.closed ? -1 : mapping_copy_out(m, 0, s->bytes, sizeof s->bytes);
	s->file_size = -1;
	struct stat st;
	if (!s->info.anonymous && m->source && stat(m->source, &st) == 0)
		s->file_size = st.st_size;
	snap_table(&s->table);
}

static void expect_same_mapping(struct mapping *m, const struct mapping_snap *a, const char *what)
{
	struct mapping_snap b;
	snap_mapping(m, &b);
	cr_expect_eq(a->info.len, b.info.len, "[%s] changed the length", what);
	cr_expect_eq(a->info.pos, b.info.pos, "[%s] changed pos", what);
	cr_expect_eq(a->info.closed, b.info.closed, "[%s] changed closed", what);
	cr_expect_eq(a->nbytes, b.nbytes, "[%s] changed the bytes", what);
	cr_expect_eq(memcmp(a->bytes, b.bytes, sizeof a->bytes), 0, "[%s] changed the bytes", what);
	cr_expect_eq(a->file_size, b.file_size, "[%s] changed the file's size", what);
	expect_same_table(&a->table, what);
}

/* ---- running commands ------------------------------------------------------ */

static int root(const char *line, char result[COMMAND_RESULT_MAX], struct msg *msg)
{
	return command_root(&env, line, strlen(line), result, msg);
}

static void root_ok(const char *line, const char *want)
{
	char result[COMMAND_RESULT_MAX] = "";
	struct msg msg = { "" };
	int rc = root(line, result, &msg);
	cr_expect_eq(rc, 0, "[%s] refused: %d %s", line, rc, msg.text);
	cr_expect_str_eq(result, want, "result of [%s]", line);
}

static void root_refused(const char *line, int errnum, const char *message)
{
	struct table_snap before;
	snap_table(&before);
	char result[COMMAND_RESULT_MAX] = "";
	struct msg msg = { "" };
	int rc = root(line, result, &msg);
	cr_expect_eq(rc, -errnum, "[%s] returned %d, wanted %d", line, rc, -errnum);
	cr_expect_str_eq(msg.text, message, "message of [%s]", line);
	expect_same_table(&before, line);
}

/* root_ok/root_refused with a line built by printf. */
static const char *line_of(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static const char *line_of(const char *fmt, ...)
{
	static char buf[4][1024];
	static int next;
	char *b = buf[next++ % 4];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b, sizeof buf[0], fmt, ap);
	va_end(ap);
	return b;
}

static struct mapping *get(const char *name)
{
	struct mapping *m = table_find(&T, name, strlen(name));
	cr_assert_not_null(m, "no mapping %s", name);
	mapping_unref(m); /* the table keeps it alive */
	return m;
}

static int cmd(struct mapping *m, const char *line, char result[COMMAND_RESULT_MAX], struct msg *msg)
{
	return command_mapping(&env, m, line, strlen(line), result, msg);
}

static void cmd_ok(struct mapping *m, const char *line, const char *want)
{
	char result[COMMAND_RESULT_MAX] = "";
	struct msg msg = { "" };
	int rc = cmd(m, line, result, &msg);
	cr_expect_eq(rc, 0, "[%s] refused: %d %s", line, rc, msg.text);
	cr_expect_str_eq(result, want, "result of [%s]", line);
}

static void cmd_refused(struct mapping *m, const char *line, int errnum, const char *message)
{
	struct mapping_snap before;
	snap_mapping(m, &before);
	char result[COMMAND_RESULT_MAX] = "";
	struct msg msg = { "" };
	int rc = cmd(m, line, result, &msg);
	cr_expect_eq(rc, -errnum, "[%s] returned %d, wanted %d", line, rc, -errnum);
	cr_expect_str_eq(msg.text, message, "message of [%s]", line);
	expect_same_mapping(m, &before, line);
}

static struct mapping *mapped_digits(void)
{
	const char *path = make_file("0123456789", 10);
	root_ok(line_of("map %s name=d", path), "d");
	return get("d");
}

static size_t pos_of(struct mapping *m)
{
	struct mapping_info i;
	mapping_info(m, &i);
	return i.pos;
}

static size_t len_of(struct mapping *m)
{
	struct mapping_info i;
	mapping_info(m, &i);
	return i.len;
}

/* ---- map ------------------------------------------------------------------- */

Test(map, prints_the_smallest_free_number)
{
	const char *path = make_abc_file(100);
	root_ok(line_of("map %s", path), "0");
	root_ok(line_of("map %s", path), "1");
	struct mapping *m = get("0");
	cr_expect_eq(len_of(m), 100);
	cr_expect_eq(m->uid, 1234, "the sender's uid is recorded");
	cr_expect_eq(m->gid, 5678);
	struct table_stats s;
	table_stats(&T, &s);
	cr_expect_eq(s.maps, 2);
	cr_expect_eq(s.bytes, 200);
}

Test(map, every_option)
{
	const char *path = make_abc_file(3 * (size_t)page());
	root_ok(line_of("map %s length=10 offset=%ld access=write trackfd=yes name=w", path, page()),
		"w");
	struct mapping_info i;
	mapping_info(get("w"), &i);
	cr_expect_eq(i.len, 10);
	cr_expect_eq(i.offset, page());
	cr_expect_eq(i.access, ACCESS_WRITE);
	cr_expect(i.trackfd);
}

Test(map, flags_and_prot)
{
	const char *path = make_abc_file(100);
	root_ok(line_of("map %s flags=private,populate prot=read name=p", path), "p");
	struct mapping_info i;
	mapping_info(get("p"), &i);
	cr_expect_eq(i.access, ACCESS_READ);
	cr_expect_eq(i.flags, MAP_PRIVATE | MAP_POPULATE);
	cr_expect_eq(i.prot, PROT_READ);
}

Test(map, number_suffixes)
{
	const char *path = make_abc_file(3 * (size_t)page());
	root_ok(line_of("map %s length=%ldK offset=0x%lx", path, page() / 1024, page()), "0");
	struct mapping_info i;
	mapping_info(get("0"), &i);
	cr_expect_eq(i.len, (size_t)page());
	cr_expect_eq(i.offset, page());
}

Test(map, trackfd_words)
{
	const char *path = make_abc_file(10);
	const char *yes[] = { "yes", "true", "1" }, *no[] = { "no", "false", "0" };
	for (int k = 0; k < 3; k++) {
		struct mapping_info i;
		root_ok(line_of("map %s trackfd=%s name=y", path, yes[k]), "y");
		mapping_info(get("y"), &i);
		cr_expect(i.trackfd, "trackfd=%s", yes[k]);
		root_ok("close y", "ok");
		root_ok(line_of("map %s trackfd=%s name=n", path, no[k]), "n");
		mapping_info(get("n"), &i);
		cr_expect_not(i.trackfd, "trackfd=%s", no[k]);
		root_ok("close n", "ok");
	}
}

Test(map, anonymous_memory)
{
	root_ok("map anon length=8K", "0");
	root_ok("map anon length=4096 flags=private name=priv", "priv");
	struct mapping_info i;
	mapping_info(get("0"), &i);
	cr_expect(i.anonymous);
	cr_expect_eq(i.len, 8192);
	cr_expect_eq(i.flags, MAP_SHARED);
	mapping_info(get("priv"), &i);
	cr_expect_eq(i.flags, MAP_PRIVATE);
	struct table_stats s;
	table_stats(&T, &s);
	cr_expect_eq(s.bytes, 8192 + 4096);
}

Test(map, quoted_path_with_blanks)
{
	char name[64];
	snprintf(name, sizeof name, "with space %d", (int)getpid());
	const char *path = make_named_file(name, "xyz", 3);
	root_ok(line_of("map \"%s\"", path), "0");
	root_ok(line_of("map '%s'", path), "1");
	char escaped[PATH_MAX];
	snprintf(escaped, sizeof escaped, "%s/with\\x20space\\x20%d", tmp_dir(), (int)getpid());
	root_ok(line_of("map \"%s\"", escaped), "2");
	char real[PATH_MAX];
	cr_assert_not_null(realpath(path, real));
	cr_expect_str_eq(get("2")->source, real);
}

Test(map, quoted_anon_is_anonymous_memory_too)
{
	root_ok("map 'anon' length=4K", "0");
	cr_expect(get("0")->anonymous);
}

Test(map, refusals_leave_the_table_alone)
{
	const char *path = make_abc_file(100), *empty = make_file("", 0);
	root_ok(line_of("map %s name=keep", path), "keep");
	root_refused("map", EINVAL, "usage: map SOURCE [length=N] [offset=N] [access=MODE] "
		     "[flags=F,...] [prot=P,...] [trackfd=yes|no] [name=NAME]");
	root_refused("map relative/path", EINVAL, "source must be an absolute path or 'anon'");
	root_refused("map \"\"", EINVAL, "source must be an absolute path or 'anon'");
	root_refused("map \"/tmp/a\\x00b\"", EINVAL, "source path contains a NUL byte");
	root_refused(line_of("map %s bogus", path), EINVAL,
		     "expected key=value after the source, not 'bogus'");
	root_refused(line_of("map %s color=red", path), EINVAL,
		     "unknown option 'color' (known: length, offset, access, flags, prot, trackfd, name)");
	root_refused(line_of("map %s length=1 length=2", path), EINVAL, "option 'length' given twice");
	root_refused(line_of("map %s name=a name=b", path), EINVAL, "option 'name' given twice");
	root_refused(line_of("map %s length=abc", path), EINVAL, "invalid number: 'abc'");
	root_refused(line_of("map %s length=", path), EINVAL, "invalid number: ''");
	root_refused(line_of("map %s length=99999999999999999999", path), EINVAL,
		     "Python int too large to convert to C ssize_t");
	root_refused(line_of("map %s length=-1", path), EINVAL, "memory mapped length must be positive");
	root_refused(line_of("map %s offset=-4K", path), EINVAL, "memory mapped offset must be positive");
	root_refused(line_of("map %s offset=1 length=1", path), EINVAL, "Invalid argument");
	root_refused(line_of("map %s length=101", path), EINVAL, "mmap length is greater than file size");
	root_refused(line_of("map %s offset=%ld", path, page()), EINVAL,
		     "mmap offset is greater than file size");
	root_refused(line_of("map %s", empty), EINVAL, "cannot mmap an empty file");
	root_refused(line_of("map %s access=bogus", path), EINVAL, "mmap invalid access parameter.");
	root_refused(line_of("map %s access=read flags=private", path), EINVAL,
		     "mmap can't specify both access and flags, prot.");
	root_refused(line_of("map %s access=copy prot=read", path), EINVAL,
		     "mmap can't specify both access and flags, prot.");
	root_refused(line_of("map %s flags=bogus", path), EINVAL,
		     "unknown flag 'bogus' (known: shared, private, populate, noreserve, stack, "
		     "locked, nonblock, hugetlb, ...)");
	root_refused(line_of("map %s prot=bogus", path), EINVAL,
		     "unknown prot 'bogus' (known: read, write, exec, none)");
	root_refused(line_of("map %s trackfd=maybe", path), EINVAL,
		     "trackfd must be yes or no, not 'maybe'");
	root_refused(line_of("map %s name=bad/name", path), EINVAL,
		     "invalid mapping name 'bad/name' (1-64 of A-Z a-z 0-9 . _ -, not starting with '.')");
	root_refused(line_of("map %s name=", path), EINVAL,
		     "invalid mapping name '' (1-64 of A-Z a-z 0-9 . _ -, not starting with '.')");
	root_refused(line_of("map %s name=.dot", path), EINVAL,
		     "invalid mapping name '.dot' (1-64 of A-Z a-z 0-9 . _ -, not starting with '.')");
	root_refused(line_of("map %s name=keep", path), EEXIST, "a mapping named 'keep' exists already");
	root_refused("map anon", EINVAL, "Invalid argument");
	root_refused("map anon length=0", EINVAL, "Invalid argument");
	root_refused("map anon length=4K offset=1", EINVAL, "Invalid argument");
	root_refused("map /nonexistent/mmapfs-unit", ENOENT, "No such file or directory");
	root_refused(line_of("map %s", tmp_dir()), ENODEV, "source is not a regular file");
	root_refused("map /dev/null length=1", ENODEV, "source is not a regular file");
	root_refused("map /mnt/mmapfs-unit/maps/keep/data", EDEADLK,
		     "cannot map a file inside this mount (it would deadlock)");
	root_refused("map anon length=1M", ENOSPC,
		     line_of("max_bytes reached: 100 bytes mapped, limit %llu",
			     MAX_PAGES * (unsigned long long)page()));
	/* No refusal used up a number. */
	root_ok(line_of("map %s", path), "0");
}

Test(map, max_maps_is_enospc)
{
	for (int i = 0; i < MAX_MAPS; i++)
		root_ok("map anon length=4K", line_of("%d", i));
	root_refused("map anon length=4K", ENOSPC, "max_maps reached: 4 mappings");
	root_refused("map anon length=4K name=extra", ENOSPC, "max_maps reached: 4 mappings");
}

Test(map, unclosed_quote)
{
	root_refused("map \"/tmp/x", EINVAL, "unterminated quote");
}

/* ---- close ----------------------------------------------------------------- */

Test(close_cmd, forgets_the_mapping_and_its_bytes)
{
	root_ok("map anon length=4K", "0");
	root_ok("map anon length=8K", "1");
	struct mapping *m = table_find(&T, "0", 1);
	root_ok("close 0", "ok");
	cr_expect(m->closed);
	mapping_unref(m);
	cr_expect_null(table_find(&T, "0", 1));
	struct table_stats s;
	table_stats(&T, &s);
	cr_expect_eq(s.maps, 1);
	cr_expect_eq(s.bytes, 8192);
	root_ok("map anon length=4K", "0");
}

Test(close_cmd, flushes_what_was_written)
{
	const char *path = make_file("0123456789", 10);
	root_ok(line_of("map %s", path), "0");
	cr_assert_eq(mapping_write_at(get("0"), 0, "AB", 2, false, NULL), 2);
	root_ok("close 0", "ok");
	char buf[11] = "";
	file_read(path, 0, buf, 10);
	cr_expect_str_eq(buf, "AB23456789");
}

Test(close_cmd, refusals)
{
	root_ok("map anon length=4K name=a", "a");
	root_refused("close", EINVAL, "usage: close NAME");
	root_refused("close a b", EINVAL, "usage: close NAME");
	root_refused("close zz", ENOENT, "no mapping named 'zz'");
	root_refused("close a/b", EINVAL, "invalid mapping name 'a/b'");
	root_refused("close .a", EINVAL, "invalid mapping name '.a'");
	root_refused("close \"\"", EINVAL, "invalid mapping name ''");
	cr_expect_not(get("a")->closed);
}

/* ---- the root ctl in general ---------------------------------------------------- */

Test(root, empty_and_blank_lines)
{
	root_refused("", EINVAL, "empty command");
	root_refused(" \t ", EINVAL, "empty command");
}

Test(root, unknown_commands)
{
	root_refused("frob", EINVAL, "unknown command 'frob' (commands: map, close)");
	root_refused("MAP /tmp/x", EINVAL, "unknown command 'MAP' (commands: map, close)");
	root_refused("flush", EINVAL, "unknown command 'flush' (commands: map, close)");
}

Test(root, result_is_ok_unless_a_value)
{
	char result[COMMAND_RESULT_MAX] = "garbage";
	struct msg msg = { "" };
	cr_expect_eq(root("map anon length=4K name=a", result, &msg), 0);
	cr_expect_str_eq(result, "a");
	cr_expect_eq(root("close a", result, &msg), 0);
	cr_expect_str_eq(result, "ok");
}

/* ---- a mapping's ctl ----------------------------------------------------------- */

Test(mapping_ctl, flush)
{
	struct mapping *m = mapped_digits();
	cmd_ok(m, "flush", "ok");
	cmd_ok(m, "flush 0", "ok");
	cmd_ok(m, "flush 0 10", "ok");
	cmd_refused(m, "flush 0 1 2", EINVAL, "usage: flush [OFFSET [SIZE]]");
	cmd_refused(m, "flush x", EINVAL, "invalid number: 'x'");
	cmd_refused(m, "flush 0 x", EINVAL, "invalid number: 'x'");
	cmd_refused(m, "flush 0 11", EINVAL, "flush values out of range");
	cmd_refused(m, "flush -1", EINVAL, "flush values out of range");
	cmd_refused(m, "flush 1 1", EINVAL, "Invalid argument");
}

Test(mapping_ctl, madvise)
{
	struct mapping *m = mapped_digits();
	cmd_ok(m, "madvise normal", "ok");
	cmd_ok(m, "madvise MADV_WILLNEED 0 1M", "ok");
	cmd_ok(m, "madvise 0", "ok");
	cmd_refused(m, "madvise", EINVAL, "usage: madvise ADVICE [START [LENGTH]]");
	cmd_refused(m, "madvise normal 0 1 2", EINVAL, "usage: madvise ADVICE [START [LENGTH]]");
	cmd_refused(m, "madvise bogus", EINVAL, "unknown madvise advice 'bogus'");
	cmd_refused(m, "madvise normal x", EINVAL, "invalid number: 'x'");
	cmd_refused(m, "madvise normal 10", EINVAL, "madvise start out of bounds");
	cmd_refused(m, "madvise normal -1", EINVAL, "madvise start out of bounds");
	cmd_refused(m, "madvise normal 0 -1", EINVAL, "madvise length invalid");
	cmd_refused(m, "madvise normal 1", EINVAL, "Invalid argument");
}

Test(mapping_ctl, madvise_on_hardware_pages_is_eperm)
{
	struct mapping *m = mapped_digits();
	const char *words[] = { "hwpoison", "MADV_HWPOISON", "soft_offline", "Madv_Soft_Offline",
				"100", "101", "0x64" };
	for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
		char line[64], want[160];
		snprintf(line, sizeof line, "madvise %s", words[i]);
		snprintf(want, sizeof want, "madvise '%s' acts on the machine's hardware pages "
			 "and is refused", words[i]);
		cmd_refused(m, line, EPERM, want);
	}
}

Test(mapping_ctl, move)
{
	struct mapping *m = mapped_digits();
	cmd_ok(m, "move 0 5 3", "ok");
	expect_slice(m, 0, "5673456789");
	cmd_refused(m, "move 0 5", EINVAL, "usage: move DEST SRC COUNT");
	cmd_refused(m, "move 0 5 1 1", EINVAL, "usage: move DEST SRC COUNT");
	cmd_refused(m, "move 0 5 6", EINVAL, "source, destination, or count out of range");
	cmd_refused(m, "move -1 0 1", EINVAL, "source, destination, or count out of range");
	cmd_refused(m, "move a 0 1", EINVAL, "invalid number: 'a'");
}

Test(mapping_ctl, move_on_read_access)
{
	const char *path = make_file("0123456789", 10);
	root_ok(line_of("map %s access=read name=r", path), "r");
	cmd_refused(get("r"), "move 0 5 3", EACCES, "mmap can't modify a readonly memory map.");
}

Test(mapping_ctl, resize)
{
	struct mapping *m = mapped_digits();
	cmd_ok(m, "resize 4", "ok");
	cr_expect_eq(len_of(m), 4);
	cmd_ok(m, "resize 1K", "ok");
	cr_expect_eq(len_of(m), 1024);
	cmd_ok(m, "resize 0", "ok");
	cr_expect_eq(len_of(m), 0);
	cmd_refused(m, "resize", EINVAL, "usage: resize NEWSIZE");
	cmd_refused(m, "resize 1 2", EINVAL, "usage: resize NEWSIZE");
	cmd_refused(m, "resize -1", EINVAL, "new size out of range");
	cmd_refused(m, "resize ten", EINVAL, "invalid number: 'ten'");
}

Test(mapping_ctl, resize_refusals_of_read_and_trackfd_no)
{
	const char *path = make_file("0123456789", 10);
	root_ok(line_of("map %s access=copy name=c", path), "c");
	root_ok(line_of("map %s trackfd=no name=t", path), "t");
	cmd_refused(get("c"), "resize 20", EPERM,
		    "mmap can't resize a readonly or copy-on-write memory map.");
	cmd_refused(get("t"), "resize 20", EINVAL, "mmap can't resize with trackfd=False.");
}

Test(mapping_ctl, resize_past_max_bytes)
{
	struct mapping *m = mapped_digits();
	cmd_refused(m, line_of("resize %ld", (MAX_PAGES + 1) * page()), ENOSPC,
		    line_of("max_bytes reached: 10 bytes mapped, limit %llu",
			    MAX_PAGES * (unsigned long long)page()));
}

Test(mapping_ctl, seek)
{
	struct mapping *m = mapped_digits();
	cmd_ok(m, "seek 3", "ok");
	cr_expect_eq(pos_of(m), 3);
	cmd_ok(m, "seek 2 cur", "ok");
	cr_expect_eq(pos_of(m), 5);
	cmd_ok(m, "seek -1 end", "ok");
	cr_expect_eq(pos_of(m), 9);
	cmd_ok(m, "seek 1 set", "ok");
	cr_expect_eq(pos_of(m), 1);
	cmd_ok(m, "seek 1 1", "ok");
	cr_expect_eq(pos_of(m), 2);
	cmd_ok(m, "seek 0 2", "ok");
	cr_expect_eq(pos_of(m), 10);
	cmd_ok(m, "seek 0x4 0", "ok");
	cr_expect_eq(pos_of(m), 4);
	cmd_refused(m, "seek", EINVAL, "usage: seek OFFSET [WHENCE]");
	cmd_refused(m, "seek 1 2 3", EINVAL, "usage: seek OFFSET [WHENCE]");
	cmd_refused(m, "seek x", EINVAL, "invalid number: 'x'");
	cmd_refused(m, "seek 0 3", EINVAL, "unknown seek type");
	cmd_refused(m, "seek 0 -1", EINVAL, "unknown seek type");
	cmd_refused(m, "seek 0 bogus", EINVAL, "unknown seek type");
	cmd_refused(m, "seek 0 SET", EINVAL, "unknown seek type");
	cmd_refused(m, "seek 11", EINVAL, "seek out of range");
	cmd_refused(m, "seek -1", EINVAL, "seek out of range");
	cmd_refused(m, "seek 7 cur", EINVAL, "seek out of range");
}

Test(mapping_ctl, find_and_rfind)
{
	struct mapping *m = mapped_digits();
	cmd_ok(m, "find 345", "3");
	cmd_ok(m, "find x", "-1");
	cmd_ok(m, "find 9 -1", "9");
	cmd_ok(m, "find 3 4", "-1");
	cmd_ok(m, "find 3 0 3", "-1");
	cmd_ok(m, "find 3 0 4", "3");
	cmd_ok(m, "find \"\\x35\\x36\"", "5");
	cmd_ok(m, "find '' 4", "4");
	cmd_ok(m, "rfind \"\"", "10");
	cmd_ok(m, "rfind \"\" 0 -2", "8");
	cmd_ok(m, "find 5 7 2", "-1");
	cmd_ok(m, "seek 6", "ok");
	cmd_ok(m, "find 5", "-1");
	cmd_ok(m, "find \"\"", "6");
	cmd_ok(m, "rfind 5", "-1");
	cmd_ok(m, "rfind 7", "7");
	cr_expect_eq(pos_of(m), 6, "find leaves pos alone");
	cmd_refused(m, "find", EINVAL, "usage: find NEEDLE [START [END]]");
	cmd_refused(m, "rfind", EINVAL, "usage: rfind NEEDLE [START [END]]");
	cmd_refused(m, "find 1 2 3 4", EINVAL, "usage: find NEEDLE [START [END]]");
	cmd_refused(m, "find 1 x", EINVAL, "invalid number: 'x'");
	cmd_refused(m, "rfind 1 0 x", EINVAL, "invalid number: 'x'");
	cmd_refused(m, "find \"1", EINVAL, "unterminated quote");
}

Test(mapping_ctl, find_binary_needle)
{
	root_ok("map anon length=16 name=a", "a");
	struct mapping *m = get("a");
	cr_assert_eq(mapping_write_at(m, 4, "\x01\x00\xff", 3, false, NULL), 3);
	cmd_ok(m, "find \"\\x00\\xff\"", "5");
	cmd_ok(m, "rfind \"\\x00\"", "15");
	cmd_ok(m, "find \"\\x01\\x00\"", "4");
}

Test(mapping_ctl, close_then_everything_is_enxio)
{
	struct mapping *m = mapped_digits();
	mapping_ref(m);
	cmd_refused(m, "close now", EINVAL, "usage: close");
	cmd_ok(m, "close", "ok");
	cr_expect_null(table_find(&T, "d", 1), "close took it out of the table");
	const char *lines[] = { "close", "flush", "madvise normal", "move 0 1 1", "resize 5",
				"seek 0", "find 1", "rfind 1" };
	for (size_t i = 0; i < sizeof lines / sizeof *lines; i++)
		cmd_refused(m, lines[i], ENXIO, "mmap closed or invalid");
	mapping_unref(m);
}

Test(mapping_ctl, closed_by_the_root_ctl)
{
	struct mapping *m = mapped_digits();
	mapping_ref(m);
	root_ok("close d", "ok");
	cmd_refused(m, "close", ENXIO, "mmap closed or invalid");
	cmd_refused(m, "seek 1", ENXIO, "mmap closed or invalid");
	mapping_unref(m);
}

Test(mapping_ctl, unknown_and_empty)
{
	struct mapping *m = mapped_digits();
	cmd_refused(m, "frob", EINVAL, "unknown command 'frob' (commands: flush, madvise, move, "
		    "resize, seek, find, rfind, lock, unlock, touch, evict, close)");
	cmd_refused(m, "map /tmp/x", EINVAL, "unknown command 'map' (commands: flush, madvise, "
		    "move, resize, seek, find, rfind, lock, unlock, touch, evict, close)");
	cmd_refused(m, "", EINVAL, "empty command");
	cmd_refused(m, "  ", EINVAL, "empty command");
}

/* ---- the pos and size files ------------------------------------------------------ */

static void seek_text_refused(struct mapping *m, const char *text, const char *message)
{
	struct mapping_snap before;
	snap_mapping(m, &before);
	struct msg msg = { "" };
	expect_error(command_seek_text(m, text, strlen(text), &msg), EINVAL, msg, message);
	expect_same_mapping(m, &before, text);
}

static void resize_text_refused(struct mapping *m, const char *text, int errnum,
				const char *message)
{
	struct mapping_snap before;
	snap_mapping(m, &before);
	struct msg msg = { "" };
	int rc = command_resize_text(m, text, strlen(text), &msg);
	cr_expect_eq(rc, -errnum, "[%s] returned %d", text, rc);
	cr_expect_str_eq(msg.text, message);
	expect_same_mapping(m, &before, text);
}

Test(text_files, pos_takes_offset_and_whence)
{
	struct mapping *m = mapped_digits();
	cr_expect_eq(command_seek_text(m, "3\n", 2, NULL), 0);
	cr_expect_eq(pos_of(m), 3);
	cr_expect_eq(command_seek_text(m, "2 cur", 5, NULL), 0);
	cr_expect_eq(pos_of(m), 5);
	cr_expect_eq(command_seek_text(m, "-2 end\n", 7, NULL), 0);
	cr_expect_eq(pos_of(m), 8);
}

Test(text_files, pos_refusals)
{
	struct mapping *m = mapped_digits();
	seek_text_refused(m, "", "expected OFFSET [WHENCE]");
	seek_text_refused(m, "\n", "expected OFFSET [WHENCE]");
	seek_text_refused(m, "1 2 3\n", "expected OFFSET [WHENCE]");
	seek_text_refused(m, "x\n", "invalid number: 'x'");
	seek_text_refused(m, "11\n", "seek out of range");
	seek_text_refused(m, "0 9\n", "unknown seek type");
}

Test(text_files, size_resizes)
{
	struct mapping *m = mapped_digits();
	cr_expect_eq(command_resize_text(m, "4\n", 2, NULL), 0);
	cr_expect_eq(len_of(m), 4);
	cr_expect_eq(command_resize_text(m, "12", 2, NULL), 0);
	cr_expect_eq(len_of(m), 12);
}

Test(text_files, size_refusals)
{
	struct mapping *m = mapped_digits();
	resize_text_refused(m, "", EINVAL, "expected a size");
	resize_text_refused(m, "1 2\n", EINVAL, "expected a size");
	resize_text_refused(m, "abc\n", EINVAL, "invalid number: 'abc'");
	resize_text_refused(m, "-1\n", EINVAL, "new size out of range");
	const char *path = make_file("0123456789", 10);
	root_ok(line_of("map %s access=read name=r", path), "r");
	resize_text_refused(get("r"), "4\n", EPERM,
			    "mmap can't resize a readonly or copy-on-write memory map.");
}
