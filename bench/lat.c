/* lat.c - the benchmark's small-operation driver: per-op latency of reads,
 * opens and lookups, the control-plane rate, and filling a mount with
 * mappings. Each measuring command runs ROUNDS rounds of COUNT operations
 * and prints the best round's figure (one number) on stdout.
 *
 *   lat pread FILE COUNT ROUNDS        ns per 8-byte pread at scattered offsets
 *   lat orc FILE COUNT ROUNDS          ns per open + read + close of FILE
 *   lat orcat DIR FILE COUNT ROUNDS    the same with openat() from DIR opened once,
 *                                      so no lookup of DIR's own name
 *   lat stat MOUNT N COUNT ROUNDS      ns per stat of MOUNT/maps/NAME
 *   lat size MOUNT N COUNT ROUNDS      ns per open + read + close of maps/NAME/size
 *   lat list MOUNT COUNT ROUNDS        ns per entry to list MOUNT/maps/ (all of it)
 *   lat ctl MOUNT COUNT ROUNDS         map + close pairs per second, one ctl file
 *   lat fill MOUNT N [COMMAND]         run COMMAND (default: map anon length=4096)
 *                                      until N mappings are live
 *
 * stat and size visit 10 names spread evenly over 0..N-1 in turn, so every
 * table size is probed at names of the same kind. */
#define _GNU_SOURCE

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PROBES 10
#define BATCH (60 * 1024) /* a ctl write carries at most 64 KiB */

static void die(const char *what)
{
	fprintf(stderr, "lat: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static long arg_long(const char *s)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v <= 0) {
		fprintf(stderr, "lat: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* One round of COUNT ops; returns ns per op. */
typedef double (*round_fn)(void *ctx, long count);

static double best_of(round_fn fn, void *ctx, long count, long rounds)
{
	double best = 0;
	for (long r = 0; r < rounds; r++) {
		double t = fn(ctx, count);
		if (r == 0 || t < best)
			best = t;
	}
	return best;
}

/* ---- pread, open+read+close ------------------------------------------- */

struct file_ctx {
	const char *path;
	int fd;
	uint64_t size;
	int dir;	/* orcat: path is relative to this */
};

static double pread_round(void *p, long count)
{
	struct file_ctx *c = p;
	char buf[8];
	double t0 = now_ns();
	for (long i = 0; i < count; i++) {
		off_t off = (off_t)(next_random() % (c->size - sizeof buf));
		if (pread(c->fd, buf, sizeof buf, off) != (ssize_t)sizeof buf)
			die("pread");
	}
	return (now_ns() - t0) / (double)count;
}

static double orc_round(void *p, long count)
{
	struct file_ctx *c = p;
	char buf[64];
	double t0 = now_ns();
	for (long i = 0; i < count; i++) {
		int fd = openat(c->dir, c->path, O_RDONLY);
		if (fd < 0)
			die(c->path);
		if (read(fd, buf, sizeof buf) <= 0)
			die("read");
		close(fd);
	}
	return (now_ns() - t0) / (double)count;
}

/* ---- lookups in maps/ ------------------------------------------------- */

struct probe_ctx {
	char paths[PROBES][4096];
	int stat_only;
};

static double probe_round(void *p, long count)
{
	struct probe_ctx *c = p;
	char buf[64];
	struct stat st;
	double t0 = now_ns();
	for (long i = 0; i < count; i++) {
		const char *path = c->paths[i % PROBES];
		if (c->stat_only) {
			if (stat(path, &st) < 0)
				die(path);
			continue;
		}
		int fd = open(path, O_RDONLY);
		if (fd < 0)
			die(path);
		if (read(fd, buf, sizeof buf) <= 0)
			die("read size");
		close(fd);
	}
	return (now_ns() - t0) / (double)count;
}

static void probe_paths(struct probe_ctx *c, const char *mount, long n, const char *leaf)
{
	for (long k = 0; k < PROBES; k++) {
		long name = n <= PROBES ? k % n : k * (n / PROBES) + n / (2 * PROBES);
		snprintf(c->paths[k], sizeof c->paths[k], "%s/maps/%ld%s", mount, name, leaf);
	}
}

struct list_ctx {
	char path[4096];
	long entries;
};

static double list_round(void *p, long count)
{
	struct list_ctx *c = p;
	long seen = 0;
	double t0 = now_ns();
	for (long i = 0; i < count; i++) {
		DIR *d = opendir(c->path);
		if (!d)
			die(c->path);
		while (readdir(d))
			seen++;
		closedir(d);
	}
	double t = now_ns() - t0;
	c->entries = seen / count - 2; /* without . and .. */
	return t / (double)seen;
}

/* ---- the control file ------------------------------------------------- */

static int open_ctl(const char *mount)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/ctl", mount);
	int fd = open(path, O_RDWR);
	if (fd < 0)
		die(path);
	return fd;
}

/* Send one write of commands; read back `lines` result lines into out. */
static void command(int fd, const char *text, size_t len, char *out, size_t cap, long lines)
{
	if (write(fd, text, len) != (ssize_t)len)
		die("write ctl");
	size_t got = 0;
	long seen = 0;
	while (seen < lines) {
		ssize_t n = read(fd, out + got, cap - got - 1);
		if (n <= 0) {
			out[got] = '\0';
			fprintf(stderr, "lat: ctl gave %ld of %ld result lines: %.200s\n", seen,
				lines, out);
			exit(1);
		}
		for (ssize_t i = 0; i < n; i++)
			seen += out[got + i] == '\n';
		got += (size_t)n;
	}
	out[got] = '\0';
	if (strstr(out, "error:")) {
		fprintf(stderr, "lat: ctl: %.200s\n", strstr(out, "error:"));
		exit(1);
	}
}

struct ctl_ctx {
	int fd;
};

static double ctl_round(void *p, long count)
{
	struct ctl_ctx *c = p;
	char name[128], cmd[160];
	double t0 = now_ns();
	for (long i = 0; i < count; i++) {
		static const char map[] = "map anon length=4096\n";
		command(c->fd, map, sizeof map - 1, name, sizeof name, 1);
		int n = snprintf(cmd, sizeof cmd, "close %s", name); /* name ends in \n */
		command(c->fd, cmd, (size_t)n, name, sizeof name, 1);
	}
	return (now_ns() - t0) / (double)count;
}

static void fill(const char *mount, long n, const char *command_text)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/maps", mount);
	long live = 0;
	DIR *d = opendir(path);
	if (!d)
		die(path);
	for (struct dirent *e; (e = readdir(d));)
		live += e->d_name[0] != '.';
	closedir(d);

	int fd = open_ctl(mount);
	char map[512];
	size_t len = (size_t)snprintf(map, sizeof map, "%s\n", command_text);
	if (len >= sizeof map) {
		fprintf(stderr, "lat: command too long\n");
		exit(2);
	}
	const long per_write = BATCH / (long)len;
	const size_t cap = (size_t)per_write * 80 + 4096;
	char *text = malloc(BATCH), *out = malloc(cap);
	if (!text || !out)
		die("malloc");
	for (long k = 0; k < per_write; k++)
		memcpy(text + (size_t)k * len, map, len);
	while (live < n) {
		long batch = n - live < per_write ? n - live : per_write;
		command(fd, text, (size_t)batch * len, out, cap, batch);
		live += batch;
	}
	free(text);
	free(out);
	close(fd);
}

static void usage(void)
{
	fprintf(stderr, "usage: lat pread|orc FILE COUNT ROUNDS\n"
			"       lat orcat DIR FILE COUNT ROUNDS\n"
			"       lat stat|size MOUNT N COUNT ROUNDS\n"
			"       lat list|ctl MOUNT COUNT ROUNDS\n"
			"       lat fill MOUNT N [COMMAND]\n");
	exit(2);
}

int main(int argc, char *argv[])
{
	if (argc < 4)
		usage();
	const char *cmd = argv[1], *target = argv[2];
	if (!strcmp(cmd, "fill") && (argc == 4 || argc == 5)) {
		fill(target, arg_long(argv[3]), argc == 5 ? argv[4] : "map anon length=4096");
		return 0;
	}
	if ((!strcmp(cmd, "stat") || !strcmp(cmd, "size")) && argc == 6) {
		static struct probe_ctx c;
		long n = arg_long(argv[3]);
		c.stat_only = !strcmp(cmd, "stat");
		probe_paths(&c, target, n, c.stat_only ? "" : "/size");
		probe_round(&c, PROBES); /* warm the dentries */
		printf("%.0f\n", best_of(probe_round, &c, arg_long(argv[4]), arg_long(argv[5])));
		return 0;
	}
	if (!strcmp(cmd, "orcat") && argc == 6) {
		struct file_ctx c = { argv[3], -1, 0, open(target, O_RDONLY | O_DIRECTORY) };
		if (c.dir < 0)
			die(target);
		orc_round(&c, arg_long(argv[4]) / 10 + 1);
		printf("%.0f\n", best_of(orc_round, &c, arg_long(argv[4]), arg_long(argv[5])));
		return 0;
	}
	if (argc != 5)
		usage();
	long count = arg_long(argv[3]), rounds = arg_long(argv[4]);
	if (!strcmp(cmd, "pread") || !strcmp(cmd, "orc")) {
		struct file_ctx c = { target, -1, 0, AT_FDCWD };
		struct stat st;
		c.fd = open(target, O_RDONLY);
		if (c.fd < 0 || fstat(c.fd, &st) < 0)
			die(target);
		c.size = (uint64_t)st.st_size;
		if (!strcmp(cmd, "pread") && c.size < 16) {
			fprintf(stderr, "lat: %s is too small\n", target);
			return 1;
		}
		round_fn fn = !strcmp(cmd, "pread") ? pread_round : orc_round;
		fn(&c, count / 10 + 1); /* warm up */
		printf("%.0f\n", best_of(fn, &c, count, rounds));
		close(c.fd);
	} else if (!strcmp(cmd, "list")) {
		static struct list_ctx c;
		snprintf(c.path, sizeof c.path, "%s/maps", target);
		list_round(&c, 1);
		double ns = best_of(list_round, &c, count, rounds);
		printf("%.0f %ld\n", ns, c.entries);
	} else if (!strcmp(cmd, "ctl")) {
		struct ctl_ctx c = { open_ctl(target) };
		ctl_round(&c, 1); /* the first write drops the usage text; warm up */
		double ns = best_of(ctl_round, &c, count, rounds);
		printf("%.0f\n", 1e9 / ns);
		close(c.fd);
	} else {
		usage();
	}
	return 0;
}
