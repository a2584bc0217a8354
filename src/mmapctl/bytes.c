/* bytes.c - a mapping's bytes through its data file: read (to stdout, as
 * they are), write (stdin at an offset), dump (as hexdump -C shows them),
 * and tell (the position). None of them moves pos. */
#include "config.h"
#include "mmapctl/mmapctl.h"
#include "core/parse.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One FUSE request's worth (the server's max_write is 1 MiB), a multiple of
 * 16 so that dump's lines never straddle two reads. */
#define CHUNK (1024 * 1024)

/* OFFSET or LENGTH as the server reads numbers (decimal, 0x, K/M/G/T);
 * negative ones are refused. Returns 0 or EXIT_USAGE. */
static int byte_count(const char *text, const char *what, uint64_t *out)
{
	struct parse_token t = { (char *)text, strlen(text) };
	struct msg m;
	int64_t v;
	if (parse_number(&t, &v, &m) < 0)
		return usage_error("%s: %s", what, m.text);
	if (v < 0)
		return usage_error("%s must be 0 or more, not %s", what, text);
	*out = (uint64_t)v;
	return 0;
}

/* The range [*off, *off + *len) of NAME [OFFSET [LENGTH]]; *len is
 * UINT64_MAX without LENGTH. */
static int parse_range(const struct invocation *inv, uint64_t *off, uint64_t *len)
{
	*off = 0;
	*len = UINT64_MAX;
	if (inv->argc > 1 && byte_count(inv->argv[1], "OFFSET", off))
		return EXIT_USAGE;
	if (inv->argc > 2 && byte_count(inv->argv[2], "LENGTH", len))
		return EXIT_USAGE;
	return 0;
}

/* Say why verb NAME failed with errno err, then a hint; EXIT_FAIL. */
static int bytes_failed(const struct invocation *inv, const char *verb, int err)
{
	complain("%s %s: %s", verb, inv->argv[0], strerror(err));
	print_hint(inv, verb, "", err);
	return EXIT_FAIL;
}

/* Open NAME's data file; the fd, or -1 after saying why. */
static int open_data(const struct invocation *inv, const char *verb, int flags)
{
	if (mount_check_mapping(inv->mount, inv->argv[0]) < 0)
		return -1;
	char *path = mount_path(inv->mount, "maps/%s/data", inv->argv[0]);
	int fd = open(path, flags | O_CLOEXEC);
	int err = errno;
	free(path);
	if (fd < 0)
		bytes_failed(inv, verb, err);
	return fd;
}

static int write_out(int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

/* pread until n bytes or the end; the count or -errno. */
static ssize_t read_at(int fd, char *buf, size_t n, uint64_t off)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = pread(fd, buf + got, n - got, (off_t)(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* Feed [off, off+len) of the data file to fn, a chunk at a time; fn gets
 * each chunk and its offset. An exit status. */
static int each_chunk(const struct invocation *inv, const char *verb, uint64_t off,
		      uint64_t len, int (*fn)(const char *buf, size_t n, uint64_t at, void *ctx),
		      void *ctx)
{
	int fd = open_data(inv, verb, O_RDONLY);
	if (fd < 0)
		return EXIT_FAIL;
	char *buf = malloc(CHUNK);
	int status = buf ? EXIT_OK : complain("out of memory");
	while (status == EXIT_OK && len > 0) {
		size_t want = len < CHUNK ? (size_t)len : CHUNK;
		ssize_t got = read_at(fd, buf, want, off);
		if (got < 0) {
			status = bytes_failed(inv, verb, (int)-got);
			break;
		}
		if (got == 0)
			break;
		int rc = fn(buf, (size_t)got, off, ctx);
		if (rc < 0)
			status = complain("%s %s: write error: %s", verb, inv->argv[0], strerror(-rc));
		off += (uint64_t)got;
		len -= (uint64_t)got;
		if ((size_t)got < want)
			break;
	}
	free(buf);
	close(fd);
	return status;
}

static int to_stdout(const char *buf, size_t n, uint64_t at, void *ctx)
{
	(void)at;
	(void)ctx;
	return write_out(STDOUT_FILENO, buf, n);
}

int cmd_read(const struct invocation *inv)
{
	uint64_t off, len;
	if (parse_range(inv, &off, &len))
		return EXIT_USAGE;
	fflush(stdout); /* the bytes go straight to fd 1 */
	return each_chunk(inv, "read", off, len, to_stdout, NULL);
}

/* ---- write ------------------------------------------------------------------ */

int cmd_write(const struct invocation *inv)
{
	uint64_t off;
	if (byte_count(inv->argv[1], "OFFSET", &off))
		return EXIT_USAGE;
	int fd = open_data(inv, "write", O_WRONLY);
	if (fd < 0)
		return EXIT_FAIL;
	char *buf = malloc(CHUNK);
	int status = buf ? EXIT_OK : complain("out of memory");
	for (;;) {
		ssize_t n = buf ? read(STDIN_FILENO, buf, CHUNK) : 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			status = complain("write %s: reading stdin: %s", inv->argv[0], strerror(errno));
		if (n <= 0)
			break;
		/* one pwrite per chunk: a chunk the mapping cannot take is refused whole
		 * (EFBIG), the chunks before it stay written, as with dd */
		const char *p = buf;
		while (n > 0) {
			ssize_t w = pwrite(fd, p, (size_t)n, (off_t)off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				status = bytes_failed(inv, "write", w < 0 ? errno : EIO);
				break;
			}
			p += w;
			n -= w;
			off += (uint64_t)w;
		}
		if (status)
			break;
	}
	free(buf);
	if (close(fd) != 0 && status == EXIT_OK)
		status = bytes_failed(inv, "write", errno);
	return status;
}

/* ---- dump: hexdump -C, byte for byte ------------------------------------------ */

struct dumper {
	unsigned char prev[16];
	bool have_prev;		/* a full line was printed or squeezed before */
	bool squeezing;		/* a '*' stands for the lines since */
	uint64_t end;		/* the offset after the last byte shown */
	char carry[16];		/* bytes of a line not yet complete */
	size_t ncarry;
	uint64_t carry_at;
};

static void dump_line(const unsigned char *b, size_t n, uint64_t at)
{
	printf("%08" PRIx64 " ", at);
	for (size_t i = 0; i < 16; i++) {
		if (i % 8 == 0)
			putchar(' ');
		if (i < n)
			printf("%02x ", b[i]);
		else
			fputs("   ", stdout);
	}
	fputs(" |", stdout);
	for (size_t i = 0; i < n; i++)
		putchar(b[i] >= 0x20 && b[i] < 0x7f ? b[i] : '.');
	fputs("|\n", stdout);
}

/* A full line identical to the one before becomes one '*' for the run. */
static void dump_full_line(struct dumper *d, const unsigned char *b, uint64_t at)
{
	if (d->have_prev && memcmp(d->prev, b, 16) == 0) {
		if (!d->squeezing)
			puts("*");
		d->squeezing = true;
		return;
	}
	dump_line(b, 16, at);
	memcpy(d->prev, b, 16);
	d->have_prev = true;
	d->squeezing = false;
}

static int dump_chunk(const char *buf, size_t n, uint64_t at, void *ctx)
{
	struct dumper *d = ctx;
	const unsigned char *b = (const unsigned char *)buf;
	/* each_chunk gives whole chunks (multiples of 16) but the last */
	size_t i = 0;
	for (; i + 16 <= n; i += 16)
		dump_full_line(d, b + i, at + i);
	if (i < n) {
		memcpy(d->carry, b + i, n - i);
		d->ncarry = n - i;
		d->carry_at = at + i;
	}
	d->end = at + n;
	return ferror(stdout) ? -EIO : 0;
}

int cmd_dump(const struct invocation *inv)
{
	uint64_t off, len;
	if (parse_range(inv, &off, &len))
		return EXIT_USAGE;
	if (len == 0)
		return EXIT_OK; /* hexdump -n 0 prints nothing at all */
	int fd = open_data(inv, "dump", O_RDONLY);
	struct stat st;
	if (fd < 0)
		return EXIT_FAIL;
	int rc = fstat(fd, &st);
	close(fd);
	if (rc != 0)
		return bytes_failed(inv, "dump", errno);
	/* As hexdump -s: a skip past the end stops at the end. */
	struct dumper d = { .end = off < (uint64_t)st.st_size ? off : (uint64_t)st.st_size };
	int status = each_chunk(inv, "dump", d.end, len, dump_chunk, &d);
	if (d.ncarry)
		dump_line((const unsigned char *)d.carry, d.ncarry, d.carry_at);
	if (d.end) /* the offset after the last byte, unless nothing was ever there */
		printf("%08" PRIx64 "\n", d.end);
	return status;
}

/* ---- tell ---------------------------------------------------------------------- */

int cmd_tell(const struct invocation *inv)
{
	char *pos = NULL;
	if (mount_check_mapping(inv->mount, inv->argv[0]) < 0)
		return EXIT_FAIL;
	int rc = mount_read_attr(inv->mount, inv->argv[0], "pos", &pos);
	if (rc < 0)
		return bytes_failed(inv, "tell", -rc);
	printf("%s\n", pos);
	free(pos);
	return EXIT_OK;
}
