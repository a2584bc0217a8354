/* fuzz_command.c - libFuzzer target for the control-file language.
 *
 * Each input is handed, as one write(), to three control-file queues in
 * turn: the root ctl, the ctl of a mapping of a scratch file ("f") and the
 * ctl of a shared anonymous mapping ("a"), all running against a real
 * in-process table (max_maps=8, max_bytes=1M), exactly as the FUSE layer
 * runs them. It must never crash, leak, or break the protocol:
 *
 *   - the write returns its length, or the -errno of the last command run;
 *     more than 64 KiB is E2BIG and runs nothing;
 *   - every command run appends exactly one result line, an error line for
 *     the one that failed and only for it;
 *   - after the table is destroyed every byte of max_bytes is given back.
 *
 * While an input runs, `map` opens its source through the sandbox's opener
 * (core's seam for opening, struct source_opener), and open() and stat() go
 * through __wrap_open/__wrap_stat (linked with -Wl,--wrap=...), for any
 * other caller of them: paths /fuzz/NAME reach the scratch files
 * (f, empty, dir, fifo), any other path does not exist, so no input can
 * map, grow or truncate a real file of the machine. (The wrap applies to
 * libFuzzer's own calls too, so the sandbox is on only while commands run.)
 * The scratch files are created in a temporary directory that is removed
 * at once: they live on as open file descriptors, reached through
 * /proc/self/fd, so nothing is left behind however the fuzzer ends.
 *
 * Built with -DFUZZ_REPLAY it has a main() that replays files or
 * directories (default: $srcdir/tests/fuzz/corpus) and prints TAP: the
 * corpus is a unit test, and a binary valgrind can check. */
#define _GNU_SOURCE
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "control/command.h"
#include "control/ctlqueue.h"
#include "core/deadlock.h"
#include "core/guard.h"
#include "core/source.h"
#include "core/table.h"

#define MAX_MAPS 8
#define MAX_BYTES (1 << 20)
#define FILE_BYTES 16384

/* ---- a sandbox for the core's file system calls ----------------------- */

static char scratch[256];
static bool sandbox_on;

enum { SCRATCH_F, SCRATCH_EMPTY, SCRATCH_DIR, SCRATCH_FIFO, SCRATCH_COUNT };
static const char *const SCRATCH_FILES[SCRATCH_COUNT] = { "f", "empty", "dir", "fifo" };
static int scratch_fd[SCRATCH_COUNT];

/* "/fuzz/NAME" -> "/proc/self/fd/N" for the scratch files; NULL otherwise. */
static const char *translate(const char *path, char *buf, size_t cap)
{
	if (!path || strncmp(path, "/fuzz/", 6) != 0)
		return NULL;
	for (int i = 0; i < SCRATCH_COUNT; i++) {
		if (strcmp(path + 6, SCRATCH_FILES[i]) == 0) {
			snprintf(buf, cap, "/proc/self/fd/%d", scratch_fd[i]);
			return buf;
		}
	}
	return NULL;
}

/* The opener of every `map` source: core opens with raw system calls
 * (they must work in a child process), which no --wrap reaches. */
static int sandbox_open_source(void *ctx, const struct open_plan *p, struct msg *msg)
{
	(void)ctx;
	char buf[512];
	const char *real = translate(p->path, buf, sizeof buf);
	if (!real)
		return msg_fail_errno(msg, ENOENT);
	int rc = deadlock_check_path(real, p->own_dev, msg);
	if (rc < 0)
		return rc;
	struct open_plan mine = *p;
	mine.path = real;
	int fd = open_plan_run(&mine);
	return fd < 0 ? open_plan_fail(msg, -fd) : fd;
}

static const struct source_opener SANDBOX_OPENER = { sandbox_open_source, NULL };

int __real_open(const char *path, int flags, ...);
int __wrap_open(const char *path, int flags, ...);
int __real_open64(const char *path, int flags, ...);
int __wrap_open64(const char *path, int flags, ...);
int __real_stat(const char *path, struct stat *st);
int __wrap_stat(const char *path, struct stat *st);
int __real_stat64(const char *path, struct stat64 *st);
int __wrap_stat64(const char *path, struct stat64 *st);

static int sandboxed_open(const char *path, int flags, mode_t mode, bool large)
{
	if (!sandbox_on)
		return large ? __real_open64(path, flags, mode) : __real_open(path, flags, mode);
	char buf[512];
	const char *real = translate(path, buf, sizeof buf);
	if (!real || (flags & O_CREAT)) {
		errno = real ? EACCES : ENOENT;
		return -1;
	}
	return large ? __real_open64(real, flags, mode) : __real_open(real, flags, mode);
}

int __wrap_open(const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = (flags & O_CREAT) ? (mode_t)va_arg(ap, int) : 0;
	va_end(ap);
	return sandboxed_open(path, flags, mode, false);
}

int __wrap_open64(const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = (flags & O_CREAT) ? (mode_t)va_arg(ap, int) : 0;
	va_end(ap);
	return sandboxed_open(path, flags, mode, true);
}

int __wrap_stat(const char *path, struct stat *st)
{
	if (!sandbox_on)
		return __real_stat(path, st);
	char buf[512];
	const char *real = translate(path, buf, sizeof buf);
	if (!real) {
		errno = ENOENT;
		return -1;
	}
	return __real_stat(real, st);
}

int __wrap_stat64(const char *path, struct stat64 *st)
{
	if (!sandbox_on)
		return __real_stat64(path, st);
	char buf[512];
	const char *real = translate(path, buf, sizeof buf);
	if (!real) {
		errno = ENOENT;
		return -1;
	}
	return __real_stat64(real, st);
}

/* ---- faults: the server's guard first, then the sanitizer's handler ---- */

static struct sigaction before_segv, before_bus, guard_segv, guard_bus;

static void on_fault(int sig, siginfo_t *info, void *uctx)
{
	/* The guard jumps back into a guarded copy, or resets to SIG_DFL. */
	struct sigaction *g = sig == SIGSEGV ? &guard_segv : &guard_bus;
	g->sa_sigaction(sig, info, uctx);
	/* A fault outside any guarded copy is a bug: let the sanitizer (or the
	 * default action) have it when the instruction faults again. */
	sigaction(sig, sig == SIGSEGV ? &before_segv : &before_bus, NULL);
}

/* Called with the first input, not from LLVMFuzzerInitialize: libFuzzer
 * installs its own SIGSEGV handler after that (wrapping whatever was there,
 * without SA_NODEFER, which the guard's siglongjmp needs). */
static void install_guard(void)
{
	static bool done;
	if (done)
		return;
	done = true;
	sigaction(SIGSEGV, NULL, &before_segv);
	sigaction(SIGBUS, NULL, &before_bus);
	if (guard_init() < 0)
		abort();
	sigaction(SIGSEGV, NULL, &guard_segv);
	sigaction(SIGBUS, NULL, &guard_bus);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER; /* as the guard's own: it siglongjmps */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
}

/* ---- the scratch files ------------------------------------------------------ */

static void make_scratch(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(scratch, sizeof scratch, "%s/mmapfs-fuzz.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(scratch)) {
		perror("mkdtemp");
		exit(1);
	}
	char path[SCRATCH_COUNT][512];
	for (int i = 0; i < SCRATCH_COUNT; i++)
		snprintf(path[i], sizeof path[i], "%s/%s", scratch, SCRATCH_FILES[i]);
	scratch_fd[SCRATCH_F] = open(path[SCRATCH_F], O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	scratch_fd[SCRATCH_EMPTY] = open(path[SCRATCH_EMPTY], O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	bool ok = mkdir(path[SCRATCH_DIR], 0700) == 0 && mkfifo(path[SCRATCH_FIFO], 0600) == 0;
	scratch_fd[SCRATCH_DIR] = open(path[SCRATCH_DIR], O_PATH | O_DIRECTORY | O_CLOEXEC);
	scratch_fd[SCRATCH_FIFO] = open(path[SCRATCH_FIFO], O_PATH | O_CLOEXEC);
	for (int i = 0; i < SCRATCH_COUNT; i++) {
		ok = ok && scratch_fd[i] >= 0;
		if (unlink(path[i]) < 0)
			rmdir(path[i]);
	}
	rmdir(scratch);
	if (!ok) {
		perror("fuzz_command: scratch files");
		exit(1);
	}
}

/* f holds the same 16 KiB before every input. */
static void reset_file(void)
{
	static char pattern[FILE_BYTES];
	if (!pattern[0])
		for (size_t i = 0; i < sizeof pattern; i++)
			pattern[i] = (i % 64 == 63) ? '\n' : (char)('a' + i % 26);
	int fd = scratch_fd[SCRATCH_F];
	if (ftruncate(fd, 0) < 0 ||
	    pwrite(fd, pattern, sizeof pattern, 0) != (ssize_t)sizeof pattern)
		abort();
}

/* ---- checking a run -------------------------------------------------------- */

static int violations;

__attribute__((format(printf, 1, 2))) static void violation(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
#ifdef FUZZ_REPLAY
	FILE *out = stdout; /* a TAP comment, before the "not ok" line */
	fprintf(out, "# ");
#else
	FILE *out = stderr;
	fprintf(out, "fuzz_command: ");
#endif
	char text[1024];
	vsnprintf(text, sizeof text, fmt, ap);
	for (char *p = text; *p; p++) /* one line, whatever the results held */
		if (*p == '\n')
			*p = '|';
	fprintf(out, "%s\n", text);
	va_end(ap);
	violations++;
#ifndef FUZZ_REPLAY
	abort(); /* libFuzzer keeps the input as a crash */
#endif
}

struct runner {
	const struct command_env *env;
	struct mapping *m; /* NULL: the root ctl */
	unsigned runs;
};

static int run_one(void *p, const char *line, size_t len, char *result, size_t cap,
		   struct msg *msg)
{
	struct runner *r = p;
	r->runs++;
	(void)cap;
	return r->m ? command_mapping(r->env, r->m, line, len, result, msg)
		    : command_root(r->env, line, len, result, msg);
}

static void check_queue(const char *who, struct ctl_queue *q, ssize_t rc, size_t size,
			unsigned runs)
{
	char *text = malloc(q->len - q->head + 1);
	size_t n = ctl_queue_read(q, text, q->len - q->head);
	text[n] = '\0';
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "%s (%zd):\n%s", who, rc, text);
	if (size > CTL_WRITE_MAX && (rc != -E2BIG || runs != 0))
		violation("%s: a write of %zu bytes gave %zd after %u commands, not E2BIG", who,
			  size, rc, runs);
	if (size <= CTL_WRITE_MAX && rc != (ssize_t)size && rc >= 0)
		violation("%s: a write of %zu bytes returned %zd", who, size, rc);
	/* (An empty write() never reaches the server; the queue runs nothing.) */
	if (size > 0 && size <= CTL_WRITE_MAX && runs == 0)
		violation("%s: a write of %zu bytes ran no command at all", who, size);
	unsigned lines = 0, errors = 0;
	bool last_is_error = false;
	for (char *p = text; *p;) {
		char *nl = strchr(p, '\n');
		if (!nl) {
			violation("%s: the result text does not end with a newline", who);
			break;
		}
		lines++;
		last_is_error = strncmp(p, "error: ", 7) == 0;
		errors += last_is_error;
		p = nl + 1;
	}
	if (memchr(text, '\0', n))
		violation("%s: a NUL byte in the result text", who);
	unsigned want = size > CTL_WRITE_MAX ? 1 : runs;
	/* FUZZ_LAX=1 looks past result lines broken by a newline in a message
	 * (a known bug) to find other ones. */
	if (lines != want && getenv("FUZZ_LAX"))
		;
	else if (lines != want)
		violation("%s: %u commands ran but %u result lines came back: '%.300s'", who, want,
			  lines, text);
	else if (rc < 0 && (!last_is_error || errors != 1))
		violation("%s: failed with %zd; its results hold %u error lines, the last %san "
			  "error: '%.300s'", who, rc, errors, last_is_error ? "" : "not ", text);
	else if (rc >= 0 && errors != 0)
		violation("%s: succeeded, yet its results hold %u error lines: '%.300s'", who,
			  errors, text);
	free(text);
}

static void run_queue(const char *who, const struct command_env *env, struct mapping *m,
		      const char *usage, const uint8_t *data, size_t size)
{
	struct ctl_queue q;
	if (ctl_queue_init(&q, usage) < 0)
		abort();
	struct runner r = { env, m, 0 };
	ssize_t rc = ctl_queue_write(&q, (const char *)data, size, run_one, &r);
	check_queue(who, &q, rc, size, r.runs);
	ctl_queue_destroy(&q);
}

static void setup(const struct command_env *env, const char *command)
{
	char result[COMMAND_RESULT_MAX];
	struct msg msg = { "" };
	if (command_root(env, command, strlen(command), result, &msg) < 0) {
		fprintf(stderr, "fuzz_command: '%s' failed: %s\n", command, msg.text);
		abort();
	}
}

/* Open file descriptors of this process. */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	for (struct dirent *e; d && (e = readdir(d));)
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

/* A mapping of the scratch file or of a server memfd still in the address
 * space, once every mapping was closed. */
static void check_no_mapping_left(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[1024];
	while (f && fgets(line, sizeof line, f)) {
		if (strstr(line, scratch) || strstr(line, "memfd:mmapfs:")) {
			line[strcspn(line, "\n")] = '\0';
			violation("a mapping outlived its table: %s", line);
			break;
		}
	}
	if (f)
		fclose(f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	make_scratch();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	install_guard();
	reset_file();
	int fds = count_fds();
	sandbox_on = true;
	struct table t;
	if (table_init(&t, MAX_MAPS, MAX_BYTES) < 0)
		abort();
	struct command_env env = { .table = &t, .mountpoint = "/fuzz/mnt", .uid = getuid(),
				   .gid = getgid(), .opener = &SANDBOX_OPENER };
	setup(&env, "map /fuzz/f name=f");
	setup(&env, "map anon length=8192 name=a");
	struct mapping *f = table_find(&t, "f", 1), *a = table_find(&t, "a", 1);
	run_queue("ctl", &env, NULL, COMMAND_ROOT_USAGE, data, size);
	run_queue("maps/f/ctl", &env, f, COMMAND_MAPPING_USAGE, data, size);
	run_queue("maps/a/ctl", &env, a, COMMAND_MAPPING_USAGE, data, size);
	/* The open files' references go before the table, as in the server. */
	mapping_unref(f);
	mapping_unref(a);
	table_destroy(&t);
	sandbox_on = false;
	uint64_t left = atomic_load(&t.budget.used);
	if (left != 0)
		violation("%llu bytes of max_bytes still taken after every mapping closed",
			  (unsigned long long)left);
	int now = count_fds();
	if (now != fds)
		violation("%d file descriptors before the input, %d after", fds, now);
	check_no_mapping_left();
	return 0;
}

#ifdef FUZZ_REPLAY
/* ---- replay: the corpus as a TAP test --------------------------------------- */

static int tap_count;

static void replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		printf("not ok %d - %s: %s\n", ++tap_count, path, strerror(errno));
		return;
	}
	size_t cap = 4096, n = 0;
	uint8_t *buf = malloc(cap);
	for (size_t r; (r = fread(buf + n, 1, cap - n, f)) > 0;) {
		n += r;
		if (n == cap)
			buf = realloc(buf, cap *= 2);
	}
	fclose(f);
	int before = violations;
	fflush(stdout);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	const char *base = strrchr(path, '/');
	printf("%s %d - %s\n", violations == before ? "ok" : "not ok", ++tap_count,
	       base ? base + 1 : path);
	fflush(stdout);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void replay(const char *path)
{
	struct stat st;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		char **names = NULL;
		size_t n = 0;
		for (struct dirent *e; d && (e = readdir(d));) {
			if (e->d_name[0] == '.')
				continue;
			names = realloc(names, (n + 1) * sizeof *names);
			if (asprintf(&names[n], "%s/%s", path, e->d_name) < 0)
				abort();
			n++;
		}
		if (d)
			closedir(d);
		qsort(names, n, sizeof *names, by_name);
		for (size_t i = 0; i < n; i++) {
			replay_file(names[i]);
			free(names[i]);
		}
		free(names);
	} else {
		replay_file(path);
	}
}

int main(int argc, char **argv)
{
	LLVMFuzzerInitialize(&argc, &argv);
	printf("TAP version 13\n");
	int given = 0;
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-') { /* run-test.sh passes Criterion's options */
			if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
				i++;
			continue;
		}
		replay(argv[i]);
		given++;
	}
	if (!given) {
		const char *srcdir = getenv("srcdir");
		char dir[4096];
		snprintf(dir, sizeof dir, "%s/tests/fuzz/corpus", srcdir ? srcdir : ".");
		replay(dir);
	}
	printf("1..%d\n", tap_count);
	return violations ? 1 : 0;
}
#endif
