/* it_conf_common.c - helpers shared by the conformance tests. */
#define _GNU_SOURCE
#include "lib/it_conf.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct mnt M;

void conf_up(void)
{
	mnt_start(&M, NULL);
}

void conf_down(void)
{
	bool alive = mnt_alive(&M);
	int rc = mnt_stop(&M);
	cr_expect(alive, "the server died during the test");
	cr_expect_eq(rc, 0, "the server did not exit cleanly (status %d)", rc);
}

long conf_pagesize(void)
{
	return sysconf(_SC_PAGESIZE);
}

const char *conf_file(const char *name, const void *data, size_t len)
{
	/* Not mp()/sp()'s ring: a test keeps its files' paths all along. */
	static char paths[32][4200];
	static unsigned next;
	char *path = paths[next++ % 32];
	snprintf(path, sizeof paths[0], "%s/%s", M.scratch, name);
	make_file(path, data, len);
	return path;
}

const char *conf_digits(const char *name, size_t n)
{
	char *buf = malloc(n ? n : 1);
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)('0' + i % 10);
	const char *path = conf_file(name, buf, n);
	free(buf);
	return path;
}

static void vexpect_ctl(const char *ctl, int err, const char *line, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

static void vexpect_ctl(const char *ctl, int err, const char *line, const char *fmt, va_list ap)
{
	char command[8192], out[4096];
	vsnprintf(command, sizeof command, fmt, ap);
	int rc = cmd(&M, ctl, command, out, sizeof out);
	cr_expect_eq(rc, -err, "%s: '%s' returned %s, wanted %s (result line '%s')", ctl, command,
		     rc ? strerror(-rc) : "success", err ? strerror(err) : "success", out);
	if (line)
		cr_expect_str_eq(out, line, "%s: '%s' result line", ctl, command);
	else if (err)
		cr_expect(strncmp(out, "error: ", 7) == 0, "%s: '%s' result line '%s'", ctl,
			  command, out);
}

void expect_ctl(const char *ctl, int err, const char *line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vexpect_ctl(ctl, err, line, fmt, ap);
	va_end(ap);
}

void expect_mcmd(const char *name, int err, const char *line, const char *fmt, ...)
{
	char ctl[256];
	snprintf(ctl, sizeof ctl, "maps/%s/ctl", name);
	va_list ap;
	va_start(ap, fmt);
	vexpect_ctl(ctl, err, line, fmt, ap);
	va_end(ap);
}

void expect_map_fails(int err, const char *message, const char *fmt, ...)
{
	char command[8192], want[4096];
	int n = snprintf(command, sizeof command, "map ");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(command + n, sizeof command - (size_t)n, fmt, ap);
	va_end(ap);
	if (message)
		snprintf(want, sizeof want, "error: %s", message);
	expect_ctl("ctl", err, message ? want : NULL, "%s", command);
}

void expect_bytes(const char *path, const void *want, size_t len)
{
	size_t got_len = 0;
	char *got = read_all(path, &got_len);
	cr_assert(got, "read %s: %s", path, strerror(errno));
	cr_expect_eq(got_len, len, "%s: %zu bytes, wanted %zu", path, got_len, len);
	if (got_len == len)
		cr_expect(memcmp(got, want, len) == 0, "%s: bytes differ: '%.*s', wanted '%.*s'",
			  path, (int)got_len, got, (int)len, (const char *)want);
	free(got);
}

void expect_data(const char *name, const void *want, size_t len)
{
	expect_bytes(mp(&M, "maps/%s/data", name), want, len);
}

void expect_attr(const char *name, const char *attr, const char *want)
{
	size_t len = 0;
	char *got = read_all(mp(&M, "maps/%s/%s", name, attr), &len);
	cr_assert(got, "read maps/%s/%s: %s", name, attr, strerror(errno));
	char w[4096];
	snprintf(w, sizeof w, "%s\n", want);
	cr_expect_str_eq(got, w, "maps/%s/%s", name, attr);
	free(got);
}

void expect_pos(const char *name, long long want)
{
	char w[64];
	snprintf(w, sizeof w, "%lld", want);
	expect_attr(name, "pos", w);
}

int open_errno(const char *path, int flags)
{
	int fd = open(path, flags);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

ssize_t read_once(const char *path, void *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, cap);
	if (n < 0)
		n = -errno;
	close(fd);
	return n;
}

ssize_t write_once(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, buf, len);
	if (n < 0)
		n = -errno;
	close(fd);
	return n;
}

char *sh_out(int *status, size_t *len, const char *fmt, ...)
{
	char line[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	fflush(NULL);
	FILE *p = popen(line, "r");
	cr_assert(p, "popen '%s': %s", line, strerror(errno));
	size_t cap = 4096, n = 0;
	char *out = malloc(cap + 1);
	for (size_t r; (r = fread(out + n, 1, cap - n, p)) > 0;) {
		n += r;
		if (n == cap)
			out = realloc(out, (cap *= 2) + 1);
	}
	out[n] = '\0';
	int st = pclose(p);
	if (status)
		*status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	if (len)
		*len = n;
	return out;
}

void expect_stats_head(const char *want)
{
	char *got = read_all(mp(&M, "stats"), NULL);
	cr_assert(got, "read stats: %s", strerror(errno));
	cr_expect(strncmp(got, want, strlen(want)) == 0, "stats:\n%s\nwanted first:\n%s", got, want);
	free(got);
}
