/* it_conf_io.c - the byte files against mm[...], mm.read, mm.write,
 * mm.readline, read_byte and write_byte: data, stream and line, through
 * system calls and through the shell tools the SPEC promises (head, dd,
 * cat, redirections); the position after a shrinking resize; mappings
 * whose prot lacks read or write; the log. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/harness.h"

TestSuite(conf_io, .init = conf_up, .fini = conf_down, .timeout = 60);

static int open_file(const char *name, const char *file, int flags)
{
	int fd = open(mp(&M, "maps/%s/%s", name, file), flags);
	cr_assert(fd >= 0, "open maps/%s/%s: %s", name, file, strerror(errno));
	return fd;
}

/* ---- data: mm[a:b] and mm[a:b] = bytes ------------------------------------- */

Test(conf_io, data_reads_are_slices)
{
	const char *f = conf_digits("f", 10);
	const char *n = conf_map("%s", f);
	int fd = open_file(n, "data", O_RDONLY);
	char buf[32];
	cr_expect_eq(pread(fd, buf, 3, 2), 3);
	cr_expect(memcmp(buf, "234", 3) == 0, "mm[2:5]");
	cr_expect_eq(pread(fd, buf, 32, 7), 3, "short at the end, as mm[7:39]");
	cr_expect(memcmp(buf, "789", 3) == 0);
	cr_expect_eq(pread(fd, buf, 32, 10), 0, "mm[10:] is empty");
	cr_expect_eq(pread(fd, buf, 32, 1000), 0, "and so is mm[1000:]");
	cr_expect_eq(pread(fd, buf, 1, 9), 1);
	cr_expect_eq(buf[0], '9', "mm[-1] is mm[9]");
	close(fd);
	/* reading data moves no position */
	expect_pos(n, 0);
}

Test(conf_io, data_writes_are_slice_assignments)
{
	const char *f = conf_digits("f", 10);
	const char *n = conf_map("%s", f);
	cr_expect_eq(pwrite_at(mp(&M, "maps/%s/data", n), "abc", 3, 4), 0);
	expect_data_str(n, "0123abc789");
	expect_bytes_str(f, "0123abc789");
	/* mm[0] = ord('Z') */
	cr_expect_eq(pwrite_at(mp(&M, "maps/%s/data", n), "Z", 1, 0), 0);
	expect_data_str(n, "Z123abc789");
	expect_pos(n, 0);
	expect_attr(n, "size", "10");
}

/* ---- stream: mm.read(n), mm.write(b) ------------------------------------------ */

Test(conf_io, stream_reads_at_pos_and_ignores_the_file_offset)
{
	const char *f = conf_digits("f", 10);
	const char *n = conf_map("%s", f);
	int fd = open_file(n, "stream", O_RDONLY);
	char buf[32];
	cr_expect_eq(read(fd, buf, 3), 3);
	cr_expect(memcmp(buf, "012", 3) == 0);
	expect_pos(n, 3);
	/* pread's offset means nothing to stream: it reads at pos */
	cr_expect_eq(pread(fd, buf, 2, 8), 2);
	cr_expect(memcmp(buf, "34", 2) == 0, "read at pos 3, not at offset 8");
	expect_pos(n, 5);
	/* a seek through pos moves where the same open file reads */
	expect_mcmd(n, 0, "ok", "seek 1");
	cr_expect_eq(read(fd, buf, 2), 2);
	cr_expect(memcmp(buf, "12", 2) == 0);
	/* read(n) past the end returns what is left, then nothing */
	cr_expect_eq(read(fd, buf, 32), 7);
	cr_expect(memcmp(buf, "3456789", 7) == 0);
	cr_expect_eq(read(fd, buf, 32), 0);
	expect_pos(n, 10);
	close(fd);
	/* two open files share the one position */
	expect_mcmd(n, 0, "ok", "seek 0");
	int a = open_file(n, "stream", O_RDONLY), b = open_file(n, "stream", O_RDONLY);
	cr_expect_eq(read(a, buf, 4), 4);
	cr_expect_eq(read(b, buf, 4), 4);
	cr_expect(memcmp(buf, "4567", 4) == 0);
	close(a);
	close(b);
}

Test(conf_io, stream_writes_at_pos)
{
	const char *f = conf_digits("f", 10);
	const char *n = conf_map("%s", f);
	int fd = open_file(n, "stream", O_RDWR);
	cr_expect_eq(write(fd, "ab", 2), 2);
	expect_pos(n, 2);
	cr_expect_eq(pwrite(fd, "cd", 2, 7), 2, "pwrite's offset means nothing to stream");
	expect_pos(n, 4);
	expect_data_str(n, "abcd456789");
	/* mm.write(b) up to the end exactly */
	expect_mcmd(n, 0, "ok", "seek 7");
	cr_expect_eq(write(fd, "XYZ", 3), 3);
	expect_pos(n, 10);
	expect_bytes_str(f, "abcd456XYZ");
	close(fd);
}

/* mm.write past the end: "data out of range"; here EFBIG, nothing written,
 * pos unchanged, even where data could grow. */
Test(conf_io, stream_write_past_the_end_writes_nothing)
{
	const char *f = conf_digits("f", 10);
	const char *n = conf_map("%s", f);
	int fd = open_file(n, "stream", O_WRONLY);
	expect_mcmd(n, 0, "ok", "seek 8");
	cr_expect_eq(write(fd, "abc", 3), -1);
	cr_expect_eq(errno, EFBIG);
	expect_pos(n, 8);
	expect_data_str(n, "0123456789");
	expect_attr(n, "size", "10");
	expect_mcmd(n, 0, "ok", "seek 0 end");
	cr_expect_eq(write(fd, "a", 1), -1, "write_byte at the end");
	cr_expect_eq(errno, EFBIG);
	expect_pos(n, 10);
	close(fd);
	expect_bytes_str(f, "0123456789");
	/* the same on a copy mapping, which cannot grow */
	const char *c = conf_map("%s access=copy", f);
	fd = open_file(c, "stream", O_WRONLY);
	expect_mcmd(c, 0, "ok", "seek 9");
	cr_expect_eq(write(fd, "ab", 2), -1);
	cr_expect_eq(errno, EFBIG);
	cr_expect_eq(write(fd, "b", 1), 1);
	close(fd);
	expect_data_str(c, "012345678b");
	expect_pos(c, 10);
}

/* ---- line: mm.readline() -------------------------------------------------------- */

Test(conf_io, line_reads_one_line_at_pos)
{
	const char *f = conf_file("f", "first\nsecond\n\nlast", 18);
	const char *n = conf_map("%s", f);
	int fd = open_file(n, "line", O_RDONLY);
	char buf[64];
	cr_expect_eq(read(fd, buf, sizeof buf), 6);
	cr_expect(memcmp(buf, "first\n", 6) == 0);
	expect_pos(n, 6);
	/* the file offset means nothing: pread at 0 reads the next line */
	cr_expect_eq(pread(fd, buf, sizeof buf, 0), 7);
	cr_expect(memcmp(buf, "second\n", 7) == 0);
	cr_expect_eq(read(fd, buf, sizeof buf), 1, "an empty line is its newline");
	cr_expect_eq(buf[0], '\n');
	cr_expect_eq(read(fd, buf, sizeof buf), 4, "the last line has no newline");
	cr_expect(memcmp(buf, "last", 4) == 0);
	cr_expect_eq(read(fd, buf, sizeof buf), 0, "at the end: b''");
	expect_pos(n, 18);
	/* readline from the middle of a line */
	expect_mcmd(n, 0, "ok", "seek 2");
	cr_expect_eq(read(fd, buf, sizeof buf), 4);
	cr_expect(memcmp(buf, "rst\n", 4) == 0);
	close(fd);
}

/* A read() smaller than the line returns part of it and advances by that. */
Test(conf_io, line_read_shorter_than_the_line)
{
	const char *f = conf_file("f", "abcdef\nxy\n", 10);
	const char *n = conf_map("%s", f);
	int fd = open_file(n, "line", O_RDONLY);
	char buf[8];
	cr_expect_eq(read(fd, buf, 4), 4);
	cr_expect(memcmp(buf, "abcd", 4) == 0);
	expect_pos(n, 4);
	cr_expect_eq(read(fd, buf, 8), 3);
	cr_expect(memcmp(buf, "ef\n", 3) == 0);
	close(fd);
}

/* ---- the shell ------------------------------------------------------------------ */

Test(conf_io, head_c_reads_at_pos_and_advances_it)
{
	const char *f = conf_digits("f", 100);
	const char *n = conf_map("%s", f);
	expect_mcmd(n, 0, "ok", "seek 5");
	size_t len;
	int st;
	char *out = sh_out(&st, &len, "head -c 10 '%s'", mp(&M, "maps/%s/stream", n));
	cr_expect_eq(st, 0);
	cr_expect_eq(len, 10);
	cr_expect_str_eq(out, "5678901234");
	free(out);
	expect_pos(n, 15);
	/* read_byte: head -c 1 */
	out = sh_out(&st, &len, "head -c 1 '%s'", mp(&M, "maps/%s/stream", n));
	cr_expect_str_eq(out, "5");
	free(out);
	expect_pos(n, 16);
	/* cat reads the rest, as mm.read() */
	out = sh_out(&st, &len, "cat '%s'", mp(&M, "maps/%s/stream", n));
	cr_expect_eq(len, 84);
	cr_expect(strncmp(out, "6789", 4) == 0);
	free(out);
	expect_pos(n, 100);
}

Test(conf_io, head_n_1_is_readline)
{
	const char *f = conf_file("f", "one\ntwo\nthree\n", 14);
	const char *n = conf_map("%s", f);
	const char *line = mp(&M, "maps/%s/line", n);
	int st;
	char *out = sh_out(&st, NULL, "head -n 1 '%s'", line);
	cr_expect_eq(st, 0);
	cr_expect_str_eq(out, "one\n");
	free(out);
	expect_pos(n, 4);
	out = sh_out(&st, NULL, "head -n 1 '%s'; head -n 1 '%s'", line, line);
	cr_expect_str_eq(out, "two\nthree\n");
	free(out);
	expect_pos(n, 14);
	out = sh_out(&st, NULL, "head -n 1 '%s'", line);
	cr_expect_str_eq(out, "");
	free(out);
	/* `read -r` from a shell: one line per command */
	expect_mcmd(n, 0, "ok", "seek 0");
	out = sh_out(&st, NULL, "read -r a < '%s'; read -r b < '%s'; echo \"$b,$a\"", line, line);
	cr_expect_str_eq(out, "two,one\n");
	free(out);
}

Test(conf_io, dd_reads_and_writes_bytes)
{
	const char *f = conf_digits("f", 10);
	const char *n = conf_map("%s", f);
	const char *data = mp(&M, "maps/%s/data", n), *stream = mp(&M, "maps/%s/stream", n);
	int st;
	/* mm[3:5] */
	char *out = sh_out(&st, NULL, "dd if='%s' bs=1 skip=3 count=2 status=none", data);
	cr_expect_eq(st, 0);
	cr_expect_str_eq(out, "34");
	free(out);
	/* mm[6:8] = b'AB' */
	out = sh_out(&st, NULL, "printf AB | dd of='%s' bs=1 seek=6 conv=notrunc status=none",
		     data);
	cr_expect_eq(st, 0);
	free(out);
	expect_data_str(n, "012345AB89");
	/* read_byte and write_byte at pos */
	expect_mcmd(n, 0, "ok", "seek 6");
	out = sh_out(&st, NULL, "dd if='%s' bs=1 count=1 status=none", stream);
	cr_expect_str_eq(out, "A");
	free(out);
	expect_pos(n, 7);
	out = sh_out(&st, NULL, "printf Q | dd of='%s' conv=notrunc status=none", stream);
	cr_expect_eq(st, 0);
	free(out);
	expect_pos(n, 8);
	expect_data_str(n, "012345AQ89");
	/* a redirection into stream (O_TRUNC) writes at pos and resizes nothing */
	out = sh_out(&st, NULL, "printf W > '%s'", stream);
	cr_expect_eq(st, 0);
	free(out);
	expect_data_str(n, "012345AQW9");
	expect_pos(n, 9);
	/* and past the end it fails with nothing written */
	out = sh_out(&st, NULL, "printf 'too long' > '%s' 2>/dev/null", stream);
	cr_expect_neq(st, 0);
	free(out);
	expect_data_str(n, "012345AQW9");
	expect_bytes_str(f, "012345AQW9");
	expect_pos(n, 9);
	/* cat a file into data: slice assignment from 0 */
	const char *src = conf_file("src", "xyz", 3);
	out = sh_out(&st, NULL, "dd if='%s' of='%s' conv=notrunc status=none", src, data);
	cr_expect_eq(st, 0);
	free(out);
	expect_data_str(n, "xyz345AQW9");
}

/* A control file driven from the shell as the SPEC shows it. */
Test(conf_io, shell_ctl_round_trip)
{
	const char *f = conf_file("f", "abcabc", 6);
	const char *n = conf_map("%s", f);
	int st;
	char *out = sh_out(&st, NULL,
			   "exec 3<>'%s'; echo 'find c 3' >&3; read -r r <&3; echo \"$r\";"
			   "echo 'seek 9' >&3 2>/dev/null; read -r r <&3; echo \"$r\"",
			   mp(&M, "maps/%s/ctl", n));
	cr_expect_eq(st, 0);
	cr_expect_str_eq(out, "5\nerror: seek out of range\n");
	free(out);
	out = sh_out(&st, NULL, "echo 'seek 4' > '%s' && cat '%s'", mp(&M, "maps/%s/ctl", n),
		     mp(&M, "maps/%s/pos", n));
	cr_expect_eq(st, 0);
	cr_expect_str_eq(out, "4\n");
	free(out);
	out = sh_out(&st, NULL, "echo 'seek 40' > '%s' 2>/dev/null", mp(&M, "maps/%s/ctl", n));
	cr_expect_neq(st, 0, "a refused command makes echo fail");
	free(out);
	expect_pos(n, 4);
}

/* ---- the position after a shrinking resize ---------------------------------------- */

Test(conf_io, position_past_the_end_after_shrinking)
{
	const char *f = conf_file("f", "line one\nline two\n", 18);
	const char *n = conf_map("%s", f);
	expect_mcmd(n, 0, "ok", "seek 12");
	expect_mcmd(n, 0, "ok", "resize 5");
	expect_pos(n, 12); /* tell() after a shrinking resize, as in Python */
	expect_attr(n, "size", "5");
	char buf[16];
	cr_expect_eq(read_once(mp(&M, "maps/%s/stream", n), buf, sizeof buf), 0, "read() -> b''");
	cr_expect_eq(read_once(mp(&M, "maps/%s/line", n), buf, sizeof buf), 0,
		     "readline() -> b''");
	cr_expect_eq(write_once(mp(&M, "maps/%s/stream", n), "x", 1), -EFBIG,
		     "write() -> data out of range");
	expect_pos(n, 12);
	/* find's default START is pos, clamped to the length */
	expect_mcmd(n, 0, "5", "find \"\"");
	expect_mcmd(n, 0, "-1", "find l");
	expect_mcmd(n, 0, "0", "find l 0");
	/* seek relative to a pos past the end */
	expect_mcmd(n, EINVAL, "error: seek out of range", "seek 0 cur");
	expect_mcmd(n, 0, "ok", "seek -8 cur");
	expect_pos(n, 4);
	expect_data_str(n, "line ");
	expect_bytes_str(f, "line ");
}

/* ---- prot without read, prot without write --------------------------------------- */

Test(conf_io, prot_without_read_refuses_reading_bytes)
{
	const char *f = conf_digits("f", 10);
	const char *n = conf_map("%s prot=write", f);
	char buf[16];
	cr_expect_eq(read_once(mp(&M, "maps/%s/data", n), buf, sizeof buf), -EACCES);
	cr_expect_eq(read_once(mp(&M, "maps/%s/stream", n), buf, sizeof buf), -EACCES);
	cr_expect_eq(read_once(mp(&M, "maps/%s/line", n), buf, sizeof buf), -EACCES);
	expect_mcmd(n, EACCES, NULL, "find 1");
	expect_mcmd(n, EACCES, NULL, "rfind 1");
	expect_mcmd(n, EACCES, NULL, "find \"\"");
	expect_mcmd(n, EACCES, NULL, "move 0 1 1");
	expect_pos(n, 0);
	/* writing works, and so do the attribute and control files */
	cr_expect_eq(write_once(mp(&M, "maps/%s/stream", n), "ab", 2), 2);
	expect_pos(n, 2);
	cr_expect_eq(pwrite_at(mp(&M, "maps/%s/data", n), "Z", 1, 9), 0);
	expect_bytes_str(f, "ab2345678Z");
	expect_attr(n, "size", "10");
	expect_attr(n, "prot", "write");
	expect_mcmd(n, 0, "ok", "seek 3");
	expect_mcmd(n, 0, "ok", "flush");
	expect_mcmd(n, 0, "ok", "madvise willneed");
	expect_mcmd(n, 0, "ok", "resize 12");
	expect_bytes(f, "ab2345678Z\0\0", 12);
	/* prot=none: nothing at all */
	const char *z = conf_map("%s prot=none", f);
	cr_expect_eq(read_once(mp(&M, "maps/%s/line", z), buf, sizeof buf), -EACCES);
	expect_mcmd(z, EACCES, NULL, "find a");
	expect_mcmd(z, EACCES, NULL, "rfind a 0 5");
	cr_expect_eq(open_errno(mp(&M, "maps/%s/stream", z), O_WRONLY), -EACCES);
	int st;
	char *out = sh_out(&st, NULL, "head -c 1 '%s' 2>/dev/null", mp(&M, "maps/%s/stream", n));
	cr_expect_neq(st, 0, "head fails");
	cr_expect_str_eq(out, "");
	free(out);
}

Test(conf_io, prot_without_write_refuses_opening_for_writing)
{
	const char *f = conf_digits("f", 10);
	const char *modes[] = { "prot=read", "access=read", "prot=none", "prot=read,exec",
				"flags=private prot=read" };
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		const char *n = conf_map("%s %s", f, modes[i]);
		const char *files[] = { "data", "stream" };
		for (int k = 0; k < 2; k++) {
			const char *p = mp(&M, "maps/%s/%s", n, files[k]);
			cr_expect_eq(open_errno(p, O_WRONLY), -EACCES, "%s %s", modes[i], files[k]);
			cr_expect_eq(open_errno(p, O_RDWR), -EACCES, "%s %s", modes[i], files[k]);
			cr_expect_eq(open_errno(p, O_WRONLY | O_TRUNC), -EACCES, "%s %s O_TRUNC",
				     modes[i], files[k]);
		}
		expect_mcmd(n, EACCES, NULL, "move 0 1 1");
		expect_attr(n, "size", "10");
		/* attribute and control files work as usual */
		expect_mcmd(n, 0, "ok", "seek 2");
		cr_expect_eq(write_all(mp(&M, "maps/%s/pos", n), "3", 1, O_TRUNC), 0);
		expect_pos(n, 3);
	}
	/* the shell sees it too */
	const char *r = conf_map("%s prot=read", f);
	int st;
	free(sh_out(&st, NULL, "printf x > '%s' 2>/dev/null", mp(&M, "maps/%s/data", r)));
	cr_expect_neq(st, 0);
	expect_bytes_str(f, "0123456789");
	expect_data_str(r, "0123456789");
}

/* O_TRUNC asks for write access even with O_RDONLY (Linux's open(2) checks
 * MAY_WRITE for it, and truncates a regular file): "open with O_TRUNC"
 * resizes data to 0 where the mapping can be resized, and fails as every
 * other way of resizing does where it cannot. */
Test(conf_io, o_rdonly_with_o_trunc_truncates)
{
	const char *f = conf_digits("f", 10);
	const char *r = conf_map("%s access=read", f);
	int rc = open_errno(mp(&M, "maps/%s/data", r), O_RDONLY | O_TRUNC);
	cr_expect(rc == -EPERM || rc == -EACCES, "read mapping, O_RDONLY|O_TRUNC: %s",
		  rc ? strerror(-rc) : "opened");
	expect_attr(r, "size", "10");
	const char *n = conf_map("%s", f);
	cr_expect_eq(open_errno(mp(&M, "maps/%s/data", n), O_RDONLY | O_TRUNC), 0);
	expect_attr(n, "size", "0");
	expect_bytes_str(f, "");
}

/* ---- the log ------------------------------------------------------------------------ */

static bool log_has(const char *line)
{
	char *log = read_all(mp(&M, "log"), NULL);
	cr_assert(log);
	bool found = strstr(log, line) != NULL;
	if (!found)
		cr_log_info("log:\n%s", log);
	free(log);
	return found;
}

Test(conf_io, log_lines)
{
	const char *f = conf_digits("f", 10);
	const char *n = conf_map("%s name=logged", f);
	expect_mcmd(n, 0, "ok", "seek 3");
	expect_mcmd(n, EINVAL, NULL, "seek 30");
	expect_mcmd(n, 0, "-1", "find x");
	char want[512];
	int me = (int)getpid();
	snprintf(want, sizeof want, "pid %d uid %u ctl: map %s name=logged => logged\n", me,
		 getuid(), f);
	cr_expect(log_has(want), "%s", want);
	snprintf(want, sizeof want, "pid %d uid %u maps/logged/ctl: seek 3 => ok\n", me, getuid());
	cr_expect(log_has(want), "%s", want);
	snprintf(want, sizeof want,
		 "pid %d uid %u maps/logged/ctl: seek 30 => error: seek out of range\n", me, getuid());
	cr_expect(log_has(want), "%s", want);
	snprintf(want, sizeof want, "pid %d uid %u maps/logged/ctl: find x => -1\n", me, getuid());
	cr_expect(log_has(want), "%s", want);
	/* several commands in one write: one line each, none after a failure */
	int fd = open(mp(&M, "maps/logged/ctl"), O_RDWR);
	cr_assert(fd >= 0);
	const char *batch = "seek 1\nmove 0 1 100\nseek 2";
	cr_expect_eq(write(fd, batch, strlen(batch)), -1);
	cr_expect_eq(errno, EINVAL);
	close(fd);
	snprintf(want, sizeof want, "pid %d uid %u maps/logged/ctl: seek 1 => ok\n", me, getuid());
	cr_expect(log_has(want), "%s", want);
	snprintf(want, sizeof want, "pid %d uid %u maps/logged/ctl: "
		 "move 0 1 100 => error: source, destination, or count out of range\n", me, getuid());
	cr_expect(log_has(want), "%s", want);
	cr_expect(!log_has("maps/logged/ctl: seek 2 =>"), "the command after the failure ran");
	expect_pos(n, 1);
	/* a shell's command carries the shell's pid */
	int st;
	char *out = sh_out(&st, NULL, "echo 'seek 5' > '%s'; echo $$", mp(&M, "maps/logged/ctl"));
	int shell = atoi(out);
	free(out);
	snprintf(want, sizeof want, "pid %d uid %u maps/logged/ctl: seek 5 => ok\n", shell, getuid());
	cr_expect(log_has(want), "%s", want);
	/* the log's last lines are the latest commands */
	char *log = read_all(mp(&M, "log"), NULL);
	size_t len = strlen(log);
	cr_expect(len >= strlen(want) && strcmp(log + len - strlen(want), want) == 0,
		  "last log line: %s", log);
	free(log);
}
