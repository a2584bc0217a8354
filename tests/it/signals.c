/* it_signals.c - SIGINT, SIGTERM and SIGHUP shut the server down cleanly
 * whenever they arrive (right after readiness, under concurrent I/O, while
 * a map is in progress), multi-threaded and with -s: exit status 0 in
 * time, and what was written to a shared mapping is in its file. Also
 * fusermount3 -u, in both modes.
 *
 * signals::rounds does MMAPFS_SIGNAL_ROUNDS shutdowns (default 20; `make
 * stress-signals` does 300), each with a random signal, delay, mode and
 * load; the seed is printed, and MMAPFS_SIGNAL_SEED replays a run. Every
 * wait is bounded (mnt_kill gives up after 10 s and kills), so a lost
 * wake-up fails the round instead of hanging the run. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/harness.h"


static void down(void)
{
	if (M.dir[0])
		mnt_stop(&M);
}

TestSuite(signals, .fini = down, .timeout = 600);

static const int SIGNALS[] = { SIGINT, SIGTERM, SIGHUP };

/* The server the harness would run, before this file changed MMAPFS_BIN. */
static const char *real_server(void)
{
	static char real[4096];
	const char *bin = getenv("MMAPFS_BIN");
	if (!real[0])
		snprintf(real, sizeof real, "%s", bin ? bin : "src/server/mmapfs");
	return real;
}

/* Run the server with -s: a wrapper that adds it, as MMAPFS_BIN. */
static void use_single_thread_server(void)
{
	static char script[4096];
	const char *real = real_server();
	const char *tmp = getenv("TMPDIR");
	snprintf(script, sizeof script, "%s/mmapfs-s.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	int fd = mkstemp(script);
	cr_assert(fd >= 0);
	dprintf(fd, "#!/bin/sh\nexec '%s' -s \"$@\"\n", real);
	fchmod(fd, 0755);
	close(fd);
	setenv("MMAPFS_BIN", script, 1);
}

static void use_multi_thread_server(void)
{
	setenv("MMAPFS_BIN", real_server(), 1);
}

/* Children that read and write data until the mount goes away (or 20 s). */
static void start_io(pid_t *pids, int n)
{
	for (int i = 0; i < n; i++) {
		pids[i] = fork();
		cr_assert(pids[i] >= 0);
		if (pids[i] != 0)
			continue;
		alarm(20);
		const char *data = mp(&M, "maps/x/data");
		char buf[4096];
		for (;;) {
			int fd = open(data, O_RDWR);
			if (fd < 0)
				_exit(0);
			for (int k = 0; k < 50; k++) {
				if (pread(fd, buf, sizeof buf, 4096) < 0 ||
				    pwrite(fd, "io", 2, 4096 + 64 * i) < 0)
					_exit(0);
			}
			close(fd);
		}
	}
}

static void stop_io(pid_t *pids, int n)
{
	for (int i = 0; i < n; i++) {
		kill(pids[i], SIGKILL);
		waitpid(pids[i], NULL, 0);
	}
}

static unsigned the_seed; /* for messages: MMAPFS_SIGNAL_SEED replays a run */

/* Wait finer than usleep can: the window to hit is a few microseconds. */
static void spin_us(long us)
{
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do
		clock_gettime(CLOCK_MONOTONIC, &t);
	while ((t.tv_sec - t0.tv_sec) * 1000000L + (t.tv_nsec - t0.tv_nsec) / 1000 < us);
}

/* Mount, write a marker through a shared mapping, maybe load the server,
 * wait delay_us (negative: spin that long), send sig: the server must exit 0 in time, and the
 * marker must be in the file. */
static void one_round(int round, int sig, long delay_us, int io, bool single)
{
	if (single)
		use_single_thread_server();
	else
		use_multi_thread_server();
	mnt_start(&M, NULL);
	char marker[32];
	int len = snprintf(marker, sizeof marker, "round %d", round);
	char *zeros = calloc(1, 8192);
	make_file(sp(&M, "f"), zeros, 8192);
	free(zeros);
	map_ok(&M, "%s name=x", sp(&M, "f"));
	cr_assert_eq(pwrite_timed(mp(&M, "maps/x/data"), marker, (size_t)len, 0), len);
	pid_t pids[8];
	start_io(pids, io);
	if (delay_us > 0)
		usleep((useconds_t)delay_us);
	else if (delay_us < 0)
		spin_us(-delay_us);
	int rc = mnt_kill(&M, sig);
	stop_io(pids, io);
	cr_expect_eq(rc, 0, "round %d: %s (%s, %d I/O children, after %ld us): exit status %d "
		     "(-1: no exit in 10 s, or died of a signal); MMAPFS_SIGNAL_SEED=%u replays",
		     round, strsignal(sig), single ? "-s" : "multi-threaded", io,
		     delay_us < 0 ? -delay_us : delay_us, rc, the_seed);
	size_t got = 0;
	char *f = slurp(sp(&M, "f"), &got);
	cr_expect(f && got == 8192 && memcmp(f, marker, (size_t)len) == 0,
		  "round %d: the marker is in the file", round);
	free(f);
	mnt_stop(&M);
	memset(&M, 0, sizeof M);
}

static long env_number(const char *name, long dflt)
{
	const char *v = getenv(name);
	return v && *v ? strtol(v, NULL, 0) : dflt;
}

Test(signals, rounds)
{
	long rounds = env_number("MMAPFS_SIGNAL_ROUNDS", 20);
	unsigned seed = (unsigned)env_number("MMAPFS_SIGNAL_SEED", (long)time(NULL) ^ getpid());
	the_seed = seed;
	srand(seed);
	/* Busy processes make the server's threads lose the CPU at any
	 * point, as on a loaded CI machine: that is when a wake-up is lost. */
	pid_t hogs[8];
	int nhogs = (int)env_number("MMAPFS_SIGNAL_HOGS", 0);
	nhogs = nhogs < 0 ? 0 : nhogs > 8 ? 8 : nhogs;
	for (int i = 0; i < nhogs; i++)
		if ((hogs[i] = fork()) == 0) {
			alarm(600);
			for (;;)
				;
		}
	for (long r = 0; r < rounds; r++) {
		int sig = SIGNALS[rand() % 3];
		/* Most of them at once or within half a millisecond, when the
		 * loop is starting: the window right after readiness. */
		int kind = rand() % 8;
		long delay = kind < 2 ? 0 : kind < 6 ? -(rand() % 500) : kind == 6 ? rand() % 2000
										    : rand() % 20000;
		int io = rand() % 2 ? 1 + rand() % 4 : 0;
		one_round((int)r, sig, delay, io, rand() % 3 == 0);
	}
	for (int i = 0; i < nhogs; i++) {
		kill(hogs[i], SIGKILL);
		waitpid(hogs[i], NULL, 0);
	}
}

Test(signals, single_threaded_exits_on_each_signal)
{
	for (int i = 0; i < 3; i++) {
		one_round(i, SIGNALS[i], 0, 0, true);
		one_round(i, SIGNALS[i], 5000, 2, true);
	}
}

/* fusermount3 -u still ends the loop (the device read fails). */
static void unmount_round(bool single)
{
	if (single)
		use_single_thread_server();
	else
		use_multi_thread_server();
	mnt_start(&M, NULL);
	make_file(sp(&M, "f"), "........", 8);
	map_ok(&M, "%s name=x", sp(&M, "f"));
	cr_assert_eq(pwrite_timed(mp(&M, "maps/x/data"), "unmount", 7, 0), 7);
	cr_expect_eq(mnt_stop(&M), 0, "%s: exit status after fusermount3 -u",
		     single ? "-s" : "multi-threaded");
	/* mnt_stop removed the scratch directory with the file: nothing to
	 * read back here; faults::fusermount_unmount_flushes_and_exits_zero
	 * checks the bytes. */
	memset(&M, 0, sizeof M);
}

Test(signals, fusermount_unmount_exits_zero_in_both_modes)
{
	unmount_round(false);
	unmount_round(true);
}

/* A signal while a slow map (populating 128 MiB) is being served: the map
 * finishes or fails, and the server still exits 0. */
static int slow_map(void *ctx, int out_fd)
{
	(void)out_fd;
	const struct mnt *m = ctx;
	int fd = open(mp(m, "ctl"), O_RDWR);
	const char *command = "map anon length=128M flags=shared,populate name=big";
	ssize_t w = fd < 0 ? -1 : write(fd, command, strlen(command));
	return w < 0 ? 1 : 0;
}

static void signal_during_map(int sig, bool single)
{
	if (single)
		use_single_thread_server();
	else
		use_multi_thread_server();
	mnt_start(&M, NULL);
	pid_t child = fork();
	cr_assert(child >= 0);
	if (child == 0)
		_exit(run_limited(30000, slow_map, &M, NULL, 0, NULL) == -ETIMEDOUT ? 2 : 0);
	usleep(50000);
	int st;
	if (waitpid(child, &st, WNOHANG) == child)
		cr_log_warn("the map was over before the signal");
	int rc = mnt_kill(&M, sig);
	waitpid(child, &st, 0);
	cr_expect_eq(rc, 0, "%s during a map (%s): exit status %d", strsignal(sig),
		     single ? "-s" : "multi-threaded", rc);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the map's writer ended");
	mnt_stop(&M);
	memset(&M, 0, sizeof M);
}

Test(signals, sigint_while_a_map_is_in_progress_exits_zero)
{
	signal_during_map(SIGINT, false);
	signal_during_map(SIGINT, true);
	signal_during_map(SIGTERM, false);
}

/* The lost wake-up itself, made certain: tests/it/slowwait.so sleeps
 * right before the session loop's wait, after its exit check, and the
 * signal comes in that sleep while the loop is idle. libfuse 3.14's own
 * loops then wait forever (this test fails against them); mmapfs must
 * exit.
 *   multi-threaded: the main thread sleeps 400 ms before its sem_wait; the
 *     worker has answered INIT and waits for requests; the signal comes
 *     at 200 ms.
 *   -s: each read or poll of the device waits 300 ms first; INIT is read
 *     at 300 ms; the signal comes at 450 ms, before the next wait. */
static void signal_in_the_window(int sig, bool single)
{
	char shim[4096];
	if (!realpath("tests/it/slowwait.so", shim))
		cr_assert_fail("tests/it/slowwait.so: %s (make check builds it)", strerror(errno));
	if (single)
		use_single_thread_server();
	else
		use_multi_thread_server();
	setenv("LD_PRELOAD", shim, 1);
	setenv(single ? "SLOWWAIT_IO_MS" : "SLOWWAIT_SEM_MS", single ? "300" : "400", 1);
	mnt_start(&M, NULL);
	unsetenv("LD_PRELOAD");
	unsetenv("SLOWWAIT_IO_MS");
	unsetenv("SLOWWAIT_SEM_MS");
	usleep(single ? 450000 : 200000);
	int rc = mnt_kill(&M, sig);
	cr_expect_eq(rc, 0, "%s while the loop was between its check and its wait (%s): "
		     "exit status %d (-1: no exit in 10 s)", strsignal(sig),
		     single ? "-s" : "multi-threaded", rc);
	mnt_stop(&M);
	memset(&M, 0, sizeof M);
}

Test(signals, a_signal_in_the_loops_window_is_not_lost)
{
	/* Sanitizer builds: ASan wants to be the first library; the shim
	 * comes first, harmlessly. */
	const char *asan = getenv("ASAN_OPTIONS");
	char opts[4096];
	snprintf(opts, sizeof opts, "verify_asan_link_order=0:%s", asan ? asan : "");
	setenv("ASAN_OPTIONS", opts, 1);
	for (int i = 0; i < 3; i++) {
		signal_in_the_window(SIGNALS[i], false);
		signal_in_the_window(SIGNALS[i], true);
	}
}
