/* it_stress.c - many processes at once on a few mappings, for a bounded time.
 *
 * Seven worker processes share one mount for RUN_MS (8 s; MMAPFS_STRESS_MS
 * changes it) while the SPEC's promise is checked: reads, writes, resizes
 * and closes from many processes never crash the server nor return torn
 * results.
 *
 *   A  a file mapping cut into 16 regions of 4 KiB. Two writers own half
 *      the regions each and stamp a region with one 32-bit word repeated
 *      (the region's number in the top byte, a sequence number below). A
 *      reader checks that every region it reads holds one whole stamp of
 *      the right region, never a mix. At the end each region must hold the
 *      last stamp its owner wrote, and data must equal the backing file.
 *   B  a file mapping whose every 4 KiB block holds one byte value. One
 *      process writes whole blocks (growing it), resizes it in every way
 *      (resize, size, ftruncate, O_TRUNC) to whole blocks and moves whole
 *      blocks; another reads it through data and stream and checks that
 *      every block is uniform.
 *   C  shared anonymous memory that one process treats without mercy:
 *      stream and line reads and writes, seeks and resizes in and out of
 *      range, find, madvise, move, flush; it also reads the churner's
 *      mappings while they come and go.
 *   t0..t3  mapped, used and closed over and over by a churner.
 *
 * Each operation may fail only with the errnos its arguments call for
 * (EINVAL for an out-of-range seek, ENXIO/ENOENT for a churned mapping...);
 * any other result is a failure, reported with what was done. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/harness.h"

#define REGION 4096
#define NREG 16
#define BLK 4096
#define BMAX 48		/* B never grows past BMAX blocks */
#define CMAX (128 * 1024)
#define NCHURN 4
#define NMSG 16


struct shared {
	atomic_uint failures;
	atomic_ulong ops;
	atomic_uint nmsg;
	uint32_t last[NREG];	/* last stamp written to each region, by its owner only */
	char msg[NMSG][300];
};

static struct shared *SH;
static long long deadline_ms;

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool running(void)
{
	return now_ms() < deadline_ms;
}

__attribute__((format(printf, 1, 2))) static void failure(const char *fmt, ...)
{
	atomic_fetch_add(&SH->failures, 1);
	unsigned k = atomic_fetch_add(&SH->nmsg, 1);
	if (k >= NMSG)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = snprintf(SH->msg[k], sizeof SH->msg[k], "[pid %d] ", (int)getpid());
	vsnprintf(SH->msg[k] + n, sizeof SH->msg[k] - (size_t)n, fmt, ap);
	va_end(ap);
}

/* xorshift: each worker its own sequence. */
static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static unsigned pick(unsigned n)
{
	return (unsigned)(rnd() % n);
}

/* Whether err is one of the allowed errnos (0-terminated list). */
static bool allowed(int err, const int *ok)
{
	for (; ok && *ok; ok++)
		if (*ok == err)
			return true;
	return false;
}

static const int NONE[] = { 0 };
static const int RANGE[] = { EINVAL, 0 };
static const int PAST_END[] = { EINVAL, EFBIG, 0 };
static const int CHURNED[] = { ENOENT, ENXIO, 0 };

/* Run one control command; a result that is neither success nor allowed
 * is a failure. Returns 0 or -errno. */
static int command(const char *file, const int *ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int command(const char *file, const int *ok, const char *fmt, ...)
{
	char text[256], out[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	int rc = ctl_raw(file, text, strlen(text), out, sizeof out);
	atomic_fetch_add(&SH->ops, 1);
	if (rc < 0 && !allowed(-rc, ok))
		failure("'%s' on %s: %s (%s)", text, file + strlen(M.dir), strerror(-rc), out);
	return rc;
}

static void check_rc(ssize_t r, const int *ok, const char *what)
{
	atomic_fetch_add(&SH->ops, 1);
	if (r < 0 && !allowed(errno, ok))
		failure("%s: %s", what, strerror(errno));
}

static int set_text(const char *path, const int *ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int set_text(const char *path, const int *ok, const char *fmt, ...)
{
	char text[64];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	int rc = write_raw(path, text, (size_t)n, O_TRUNC);
	atomic_fetch_add(&SH->ops, 1);
	if (rc < 0 && !allowed(-rc, ok))
		failure("write '%s' to %s: %s", text, path + strlen(M.dir), strerror(-rc));
	return rc;
}

/* ---- mapping A: stamped regions -------------------------------------- */

static void stamp(uint32_t *words, uint32_t s)
{
	for (size_t i = 0; i < REGION / 4; i++)
		words[i] = s;
}

/* Every region in buf (starting at region r0) must be one whole stamp of
 * its own region. */
static void check_regions(const uint32_t *words, size_t bytes, unsigned r0, const char *how)
{
	for (size_t k = 0; k < bytes / REGION; k++) {
		const uint32_t *w = words + k * (REGION / 4);
		unsigned r = r0 + (unsigned)k;
		if (w[0] >> 24 != r) {
			failure("%s: region %u holds a stamp of region %u", how, r, w[0] >> 24);
			return;
		}
		for (size_t i = 1; i < REGION / 4; i++) {
			if (w[i] != w[0]) {
				failure("%s: region %u is torn: word 0 is %08x, word %zu is %08x", how, r,
					w[0], i, w[i]);
				return;
			}
		}
	}
}

static void writer_a(int k)
{
	char path[4200], ctl[4200];
	snprintf(path, sizeof path, "%s", mp(&M, "maps/A/data"));
	snprintf(ctl, sizeof ctl, "%s", mp(&M, "maps/A/ctl"));
	int fd = open(path, O_RDWR);
	uint32_t *buf = malloc(REGION);
	uint32_t seq = 0;
	while (running()) {
		unsigned r = 2 * pick(NREG / 2) + (unsigned)k;
		uint32_t s = r << 24 | (++seq & 0xffffff);
		stamp(buf, s);
		ssize_t w;
		if (pick(4) == 0) {
			int fd2 = open(path, O_WRONLY);
			w = pwrite(fd2, buf, REGION, (off_t)r * REGION);
			close(fd2);
		} else {
			w = pwrite(fd, buf, REGION, (off_t)r * REGION);
		}
		check_rc(w, NONE, "write a region of A");
		if (w == REGION)
			__atomic_store_n(&SH->last[r], s, __ATOMIC_RELEASE);
		else if (w >= 0)
			failure("short write to A: %zd", w);
		switch (pick(16)) {
		case 0:
			check_rc(fsync(fd), NONE, "fsync A");
			break;
		case 1:
			command(ctl, NONE, "flush %u %u", r * REGION, REGION);
			break;
		case 2:
			command(ctl, NONE, "madvise willneed");
			break;
		}
	}
	free(buf);
	close(fd);
}

static void reader_a(void)
{
	char path[4200], ctl[4200];
	snprintf(path, sizeof path, "%s", mp(&M, "maps/A/data"));
	snprintf(ctl, sizeof ctl, "%s", mp(&M, "maps/A/ctl"));
	int fd = open(path, O_RDONLY);
	uint32_t *buf = malloc(NREG * REGION);
	while (running()) {
		unsigned r = pick(NREG), n = 1 + pick(3);
		if (pick(8) == 0) {
			r = 0;
			n = NREG;
		}
		if (r + n > NREG)
			n = NREG - r;
		ssize_t got = pread(fd, buf, (size_t)n * REGION, (off_t)r * REGION);
		check_rc(got, NONE, "read regions of A");
		if (got >= 0 && got != (ssize_t)n * REGION)
			failure("short read of A: %zd of %u", got, n * REGION);
		else if (got > 0)
			check_regions(buf, (size_t)got, r, "read A");
		switch (pick(8)) {
		case 0: {
			uint32_t s = __atomic_load_n(&SH->last[r], __ATOMIC_ACQUIRE);
			const unsigned char *b = (const unsigned char *)&s;
			command(ctl, NONE, "find \"\\x%02x\\x%02x\\x%02x\\x%02x\" 0", b[0], b[1], b[2],
				b[3]);
			break;
		}
		case 1:
			command(ctl, NONE, "rfind \"\\x%02x\" 0", r);
			break;
		case 2: {
			char *t = slurp(mp(&M, "maps/A/size"), NULL);
			if (!t || atoi(t) != NREG * REGION)
				failure("A's size reads '%s'", t ? t : strerror(errno));
			free(t);
			break;
		}
		}
	}
	free(buf);
	close(fd);
}

/* ---- mapping B: uniform blocks under resizes -------------------------- */

static void check_blocks(const unsigned char *b, ssize_t got, off_t off, const char *how)
{
	if (got % BLK != 0) {
		failure("%s at %lld: %zd bytes, not whole blocks", how, (long long)off, got);
		return;
	}
	for (ssize_t k = 0; k < got / BLK; k++) {
		const unsigned char *p = b + k * BLK;
		for (size_t i = 1; i < BLK; i++) {
			if (p[i] != p[0]) {
				failure("%s: block %lld is torn: byte 0 is %u, byte %zu is %u", how,
					(long long)(off / BLK + k), p[0], i, p[i]);
				return;
			}
		}
	}
}

static void mutator_b(void)
{
	char path[4200], ctl[4200], size[4200];
	snprintf(path, sizeof path, "%s", mp(&M, "maps/B/data"));
	snprintf(ctl, sizeof ctl, "%s", mp(&M, "maps/B/ctl"));
	snprintf(size, sizeof size, "%s", mp(&M, "maps/B/size"));
	int fd = open(path, O_RDWR);
	unsigned char *buf = malloc(BLK);
	while (running()) {
		unsigned op = pick(20), nb = pick(BMAX + 1);
		if (op < 10) {
			memset(buf, 1 + (int)pick(255), BLK);
			check_rc(pwrite(fd, buf, BLK, (off_t)pick(BMAX) * BLK), NONE,
				 "write a block of B");
		} else if (op < 12) {
			command(ctl, NONE, "resize %u", nb * BLK);
		} else if (op < 14) {
			set_text(size, NONE, "%u\n", nb * BLK);
		} else if (op == 14) {
			check_rc(ftruncate(fd, (off_t)nb * BLK), NONE, "ftruncate B");
		} else if (op == 15 && pick(4) == 0) {
			int t = open(path, O_WRONLY | O_TRUNC);
			check_rc(t, NONE, "open B with O_TRUNC");
			if (t >= 0)
				close(t);
		} else if (op < 19) {
			command(ctl, RANGE, "move %u %u %u", pick(BMAX) * BLK, pick(BMAX) * BLK, BLK);
		} else {
			command(ctl, NONE, "flush");
		}
	}
	free(buf);
	close(fd);
}

static void reader_b(void)
{
	char path[4200], stream[4200], pos[4200], line[4200], ctl[4200];
	snprintf(path, sizeof path, "%s", mp(&M, "maps/B/data"));
	snprintf(stream, sizeof stream, "%s", mp(&M, "maps/B/stream"));
	snprintf(pos, sizeof pos, "%s", mp(&M, "maps/B/pos"));
	snprintf(line, sizeof line, "%s", mp(&M, "maps/B/line"));
	snprintf(ctl, sizeof ctl, "%s", mp(&M, "maps/B/ctl"));
	int fd = open(path, O_RDONLY);
	int sfd = open(stream, O_RDONLY);
	unsigned char *buf = malloc(8 * BLK);
	while (running()) {
		unsigned op = pick(10);
		if (op < 6) {
			off_t off = (off_t)pick(BMAX) * BLK;
			size_t n = (1 + pick(8)) * BLK;
			ssize_t got = pread(fd, buf, n, off);
			check_rc(got, NONE, "read blocks of B");
			if (got > 0)
				check_blocks(buf, got, off, "read B");
		} else if (op < 9) {
			/* Only this process moves B's pos. */
			off_t off = (off_t)pick(BMAX) * BLK;
			if (set_text(pos, RANGE, "%lld", (long long)off) == 0) {
				ssize_t got = read(sfd, buf, BLK);
				check_rc(got, NONE, "read B's stream");
				if (got > 0)
					check_blocks(buf, got, off, "stream B");
			}
			if (op == 8) {
				int lfd = open(line, O_RDONLY);
				check_rc(lfd, NONE, "open B's line");
				check_rc(read(lfd, buf, 8 * BLK), NONE, "read B's line");
				close(lfd);
			}
		} else {
			command(ctl, NONE, "find \"\\x%02x\" 0", pick(256));
		}
	}
	free(buf);
	close(fd);
	close(sfd);
}

/* ---- mapping C and the churned mappings -------------------------------- */

static void chaos_c(void)
{
	char data[4200], stream[4200], line[4200], pos[4200], size[4200], ctl[4200];
	snprintf(data, sizeof data, "%s", mp(&M, "maps/C/data"));
	snprintf(stream, sizeof stream, "%s", mp(&M, "maps/C/stream"));
	snprintf(line, sizeof line, "%s", mp(&M, "maps/C/line"));
	snprintf(pos, sizeof pos, "%s", mp(&M, "maps/C/pos"));
	snprintf(size, sizeof size, "%s", mp(&M, "maps/C/size"));
	snprintf(ctl, sizeof ctl, "%s", mp(&M, "maps/C/ctl"));
	/* Advice that changes a VMA's flags splits it when given for part of the
	 * mapping, and then mremap (so resize) fails with EFAULT, in CPython as
	 * here: that advice goes to the whole mapping only. */
	static const char *const advice[] = { "willneed", "dontneed", "cold", "pageout",
					      "MADV_FREE", "populate_read", "populate_write",
					      "dontneed" };
	static const char *const whole[] = { "normal", "random", "sequential" };
	int sfd = open(stream, O_RDWR), lfd = open(line, O_RDONLY), dfd = open(data, O_RDWR);
	int held = -1; /* a churned mapping's data, kept open while it may close */
	char *buf = malloc(CMAX);
	for (size_t i = 0; i < CMAX; i++)
		buf[i] = (i % 61 == 60) ? '\n' : (char)('a' + i % 26);
	while (running()) {
		unsigned op = pick(16), n = pick(CMAX);
		switch (op) {
		case 0:
		case 1:
			check_rc(write(sfd, buf, 1 + pick(8192)), PAST_END, "write C's stream");
			break;
		case 2:
			check_rc(read(sfd, buf + CMAX / 2, 1 + pick(8192)), NONE, "read C's stream");
			break;
		case 3:
			check_rc(read(lfd, buf + CMAX / 2, 1 + pick(8192)), NONE, "read C's line");
			break;
		case 4:
			set_text(pos, RANGE, "%d %s", (int)pick(CMAX) - 1000,
				 (const char *[]){ "set", "cur", "end" }[pick(3)]);
			break;
		case 5:
			set_text(size, NONE, "%u", n);
			break;
		case 6:
			check_rc(pwrite(dfd, buf, 1 + pick(4096), pick(CMAX - 4096)), NONE,
				 "write C's data");
			break;
		case 7:
			check_rc(pread(dfd, buf + CMAX / 2, 1 + pick(CMAX / 2 - 1), pick(CMAX)), NONE,
				 "read C's data");
			break;
		case 8:
			command(ctl, NONE, "%s %c%c %d", pick(2) ? "find" : "rfind", 'a' + pick(26),
				'a' + pick(26), (int)pick(CMAX) - CMAX / 2);
			break;
		case 9:
			if (pick(4) == 0)
				command(ctl, RANGE, "madvise %s", whole[pick(3)]);
			else
				command(ctl, RANGE, "madvise %s %u %u", advice[pick(8)],
					pick(32) * 4096, pick(CMAX));
			break;
		case 10:
			command(ctl, RANGE, "move %u %u %u", pick(CMAX), pick(CMAX), pick(8192));
			break;
		case 11:
			command(ctl, RANGE, "seek %d %u", (int)pick(CMAX) - CMAX / 2, pick(3));
			break;
		case 12:
			command(ctl, NONE, "flush");
			break;
		case 13: {
			/* Read a churned mapping: it may be gone or going. */
			char p[4200];
			snprintf(p, sizeof p, "%s", mp(&M, "maps/t%u/data", pick(NCHURN)));
			int fd = open(p, O_RDWR);
			check_rc(fd, CHURNED, "open a churned mapping");
			if (fd >= 0) {
				check_rc(pread(fd, buf + CMAX / 2, 4096, 0), CHURNED,
					 "read a churned mapping");
				if (held < 0)
					held = fd;
				else
					close(fd);
			}
			break;
		}
		case 14:
			if (held >= 0) {
				check_rc(pread(held, buf + CMAX / 2, 4096, 0), CHURNED,
					 "read a held churned mapping");
				check_rc(pwrite(held, "x", 1, 5000), CHURNED,
					 "write a held churned mapping");
				close(held);
				held = -1;
			}
			break;
		default: {
			char *t = slurp(size, NULL);
			if (!t)
				failure("read C's size: %s", strerror(errno));
			free(t);
		}
		}
	}
	if (held >= 0)
		close(held);
	free(buf);
	close(sfd);
	close(lfd);
	close(dfd);
}

static void churner(void)
{
	bool mapped[NCHURN] = { false };
	char root[4200];
	snprintf(root, sizeof root, "%s", mp(&M, "ctl"));
	char *buf = malloc(8192), *back = malloc(8192);
	while (running()) {
		unsigned i = pick(NCHURN);
		if (!mapped[i]) {
			if (pick(2))
				command(root, NONE, "map %s name=t%u", sp(&M, "churn%u", i), i);
			else
				command(root, NONE, "map anon length=%u name=t%u flags=%s",
					4096 * (1 + pick(2)), i, pick(2) ? "shared" : "private");
			mapped[i] = true;
			/* The name is taken now. */
			static const int TAKEN[] = { EEXIST, 0 };
			int rc = command(root, TAKEN, "map anon length=1 name=t%u", i);
			if (rc != -EEXIST)
				failure("mapping the taken name t%u: %s", i, rc ? strerror(-rc) : "done");
			continue;
		}
		char data[4200];
		snprintf(data, sizeof data, "%s", mp(&M, "maps/t%u/data", i));
		memset(buf, 'A' + (int)pick(26), 4096);
		int fd = open(data, O_RDWR);
		check_rc(fd, NONE, "open a churn mapping");
		if (fd >= 0) {
			check_rc(pwrite(fd, buf, 4096, 0), NONE, "write a churn mapping");
			ssize_t got = pread(fd, back, 4096, 0);
			check_rc(got, NONE, "read a churn mapping");
			if (got == 4096 && memcmp(buf, back, 4096) != 0)
				failure("t%u reads back other bytes than were written", i);
			close(fd);
		}
		switch (pick(3)) {
		case 0:
			command(root, NONE, "close t%u", i);
			break;
		case 1: {
			char ctl[4200];
			snprintf(ctl, sizeof ctl, "%s", mp(&M, "maps/t%u/ctl", i));
			command(ctl, NONE, "flush\nclose");
			break;
		}
		default:
			atomic_fetch_add(&SH->ops, 1);
			if (rmdir(mp(&M, "maps/t%u", i)) < 0)
				failure("rmdir t%u: %s", i, strerror(errno));
		}
		mapped[i] = false;
	}
	for (unsigned i = 0; i < NCHURN; i++)
		if (mapped[i])
			command(root, NONE, "close t%u", i);
	free(buf);
	free(back);
}

/* ---- the run ------------------------------------------------------------- */

TestSuite(stress, .init = mnt_up, .fini = mnt_down, .timeout = 120);

static void worker(int kind, uint64_t seed)
{
	rng_state = seed * 0x9e3779b97f4a7c15ull | 1;
	switch (kind) {
	case 0:
	case 1:
		writer_a(kind);
		break;
	case 2:
		reader_a();
		break;
	case 3:
		mutator_b();
		break;
	case 4:
		reader_b();
		break;
	case 5:
		chaos_c();
		break;
	default:
		churner();
	}
	_exit(0);
}

#define NWORKERS 7

Test(stress, many_processes_many_operations)
{
	/* Mapping A: every region stamped with sequence 0. */
	uint32_t *a = malloc(NREG * REGION);
	for (unsigned r = 0; r < NREG; r++)
		stamp(a + r * (REGION / 4), r << 24);
	make_file(sp(&M, "a"), a, NREG * REGION);
	free(a);
	unsigned char *b = malloc(16 * BLK);
	for (int k = 0; k < 16; k++)
		memset(b + k * BLK, k, BLK);
	make_file(sp(&M, "b"), b, 16 * BLK);
	free(b);
	for (unsigned i = 0; i < NCHURN; i++)
		make_file(sp(&M, "churn%u", i), "churn", 5);
	map_ok(&M, "%s name=A", sp(&M, "a"));
	map_ok(&M, "%s name=B", sp(&M, "b"));
	map_ok(&M, "anon length=64K name=C");

	SH = mmap(NULL, sizeof *SH, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert(SH != MAP_FAILED);
	memset(SH, 0, sizeof *SH);
	for (unsigned r = 0; r < NREG; r++)
		SH->last[r] = r << 24;

	const char *env = getenv("MMAPFS_STRESS_MS");
	long run_ms = env ? atol(env) : 8000;
	if (run_ms <= 0 || run_ms > 60000)
		run_ms = 8000;
	deadline_ms = now_ms() + run_ms;
	pid_t pids[NWORKERS];
	int pidfds[NWORKERS];
	uint64_t seed = (uint64_t)time(NULL);
	cr_log_info("stress: %ld ms, seed %llu", run_ms, (unsigned long long)seed);
	for (int k = 0; k < NWORKERS; k++) {
		pids[k] = fork();
		cr_assert(pids[k] >= 0);
		if (pids[k] == 0)
			worker(k, seed + (uint64_t)k);
		pidfds[k] = (int)syscall(SYS_pidfd_open, pids[k], 0);
	}
	/* Each worker must end soon after the deadline: a hang is a failure. */
	long long give_up = deadline_ms + 20000;
	for (int k = 0; k < NWORKERS; k++) {
		struct pollfd pfd = { .fd = pidfds[k], .events = POLLIN };
		long long left = give_up - now_ms();
		int st = 0;
		if (poll(&pfd, 1, left > 0 ? (int)left : 0) != 1) {
			cr_expect_fail("worker %d did not finish: an operation hangs", k);
			kill(pids[k], SIGKILL);
		}
		waitpid(pids[k], &st, 0);
		close(pidfds[k]);
		cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "worker %d ended with status %#x", k,
			  st);
	}
	unsigned nf = atomic_load(&SH->failures);
	cr_expect_eq(nf, 0, "%u failed operations of %lu", nf, atomic_load(&SH->ops));
	for (unsigned i = 0; i < nf && i < NMSG; i++)
		cr_expect_fail("%s", SH->msg[i]);
	cr_log_info("stress: %lu operations", atomic_load(&SH->ops));
	cr_expect_gt(atomic_load(&SH->ops), 1000, "the workers got something done");

	/* The server lives, and the table holds A, B and C only. */
	cr_assert(server_answers(&M), "the server is alive");
	char *stats = slurp(mp(&M, "stats"), NULL);
	cr_expect(stats && strncmp(stats, "maps 3\n", 7) == 0, "stats: %s", stats);
	free(stats);

	/* A: each region holds its owner's last stamp; data == file. */
	size_t alen, flen;
	char *ad = slurp(mp(&M, "maps/A/data"), &alen);
	char *af = slurp(sp(&M, "a"), &flen);
	cr_assert(ad && af && alen == NREG * REGION && flen == alen, "A: %zu, file %zu", alen, flen);
	check_regions((const uint32_t *)ad, alen, 0, "A after the run");
	for (unsigned r = 0; r < NREG; r++) {
		uint32_t got;
		memcpy(&got, ad + r * REGION, 4);
		cr_expect_eq(got, SH->last[r], "region %u holds stamp %08x, its owner last wrote %08x",
			     r, got, SH->last[r]);
	}
	cr_expect(memcmp(ad, af, alen) == 0, "A's data equals its backing file");
	free(ad);
	free(af);

	/* B: whole uniform blocks; data == file. */
	size_t blen;
	char *bd = slurp(mp(&M, "maps/B/data"), &blen);
	char *bf = slurp(sp(&M, "b"), &flen);
	cr_assert(bd && bf, "read B");
	cr_expect_eq(blen, flen, "B's length equals its file's");
	cr_expect(blen == flen && memcmp(bd, bf, blen) == 0, "B's data equals its backing file");
	unsigned nf_before = atomic_load(&SH->failures);
	check_blocks((unsigned char *)bd, (ssize_t)blen, 0, "B after the run");
	cr_expect_eq(atomic_load(&SH->failures), nf_before, "B after the run: %s",
		     SH->msg[nf_before < NMSG ? nf_before : 0]);
	free(bd);
	free(bf);

	/* C: its size file and its data agree. */
	size_t clen;
	char *cd = slurp(mp(&M, "maps/C/data"), &clen);
	cr_expect(cd != NULL);
	char ctext[64];
	cr_expect_eq(attr_text(&M, "C", "size", ctext, sizeof ctext), 0);
	cr_expect_eq(strtoull(ctext, NULL, 10), clen, "C: size %s, data %zu bytes", ctext, clen);
	free(cd);

	munmap(SH, sizeof *SH);
	cr_expect_eq(mnt_stop(&M), 0, "clean exit after the run");
}
