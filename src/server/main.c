/* main.c - the mmapfs server: options, mount, the session loop, and a
 * clean shutdown that flushes every writable shared mapping. */
#define FUSE_USE_VERSION 312
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <time.h>
#include <fuse_lowlevel.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/guard.h"
#include "core/mountinfo.h"
#include "core/parse.h"
#include "server/passthrough.h"
#include "server/mountcheck.h"
#include "server/server.h"
#include "server/trace.h"
#include "server/shutdown.h"

#define DEFAULT_MAX_MAPS 100000
#define DEFAULT_MAX_BYTES "1T"

struct options {
	unsigned long max_maps;
	char *max_bytes;
	unsigned long user_max_maps;	/* ULONG_MAX: not given */
	char *user_max_bytes;
	int ready_fd;
	int allow_other;
	int passthrough;
	char *words[2];		/* [SOURCE] MOUNTPOINT, as mount.fuse3 passes them */
	int nwords;
};

#define OPT(t, p) { t, offsetof(struct options, p), 1 }
#define KEY_REFUSED 2
static const struct fuse_opt option_spec[] = {
	OPT("max_maps=%lu", max_maps),
	OPT("max_bytes=%s", max_bytes),
	OPT("user_max_maps=%lu", user_max_maps),
	OPT("user_max_bytes=%s", user_max_bytes),
	OPT("ready_fd=%d", ready_fd),
	OPT("passthrough", passthrough),
	FUSE_OPT_KEY("allow_other", 1),
	/* libfuse would move request or reply bytes itself (splice, or a
	 * copy into an io_uring buffer on newer libfuse): replies come
	 * straight from mapped memory, and a page that vanished must fail
	 * that one read (the kernel's copy gives EFAULT), not fault inside
	 * libfuse, outside the server's guard. */
	FUSE_OPT_KEY("splice_write", KEY_REFUSED),
	FUSE_OPT_KEY("splice_move", KEY_REFUSED),
	FUSE_OPT_KEY("splice_read", KEY_REFUSED),
	FUSE_OPT_KEY("io_uring", KEY_REFUSED),
	FUSE_OPT_KEY("io_uring_q_depth=", KEY_REFUSED),
	FUSE_OPT_END,
};

/* Note allow_other and keep it for libfuse; hold back the non-option words,
 * since `mount -t fuse.mmapfs SOURCE DIR` runs `mmapfs SOURCE DIR -o ...`. */
static int option_seen(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	(void)outargs;
	struct options *o = data;
	if (key == 1)
		o->allow_other = 1;
	if (key == KEY_REFUSED) {
		fprintf(stderr, "mmapfs: option '%s' is refused: mmapfs replies straight from mapped "
			"memory, which libfuse must not splice or copy itself (see mmapfs(1))\n", arg);
		return -1;
	}
	if (key != FUSE_OPT_KEY_NONOPT)
		return 1;
	if (o->nwords == 2) {
		fprintf(stderr, "mmapfs: too many arguments: '%s'\n", arg);
		return -1;
	}
	o->words[o->nwords++] = strdup(arg);
	return 0;
}

/* The last word is the mount point; a SOURCE before it is only a label. */
static int add_mountpoint(struct fuse_args *args, const struct options *o)
{
	return o->nwords ? fuse_opt_add_arg(args, o->words[o->nwords - 1]) : 0;
}

static void usage(const char *prog)
{
	printf("usage: %s [options] [SOURCE] MOUNTPOINT\n\n"
	       "mmapfs shows a table of memory mappings as files; see mmapfs(1).\n\n"
	       "mmapfs options:\n"
	       "    -o max_maps=N          mappings held at once (default %d)\n"
	       "    -o max_bytes=SIZE      total bytes mapped, K/M/G/T suffixes (default %s)\n"
	       "    -o user_max_maps=N     mappings one user holds (default: half of max_maps)\n"
	       "    -o user_max_bytes=SIZE bytes one user maps (default: half of max_bytes)\n"
	       "    -o ready_fd=N          write \"ready\\n\" to fd N once mounted, then close it\n"
	       "    -o passthrough         serve data of shared whole-file mappings from the file\n"
	       "                           itself (FUSE passthrough: Linux 6.9+, a root server)\n\n",
	       prog, DEFAULT_MAX_MAPS, DEFAULT_MAX_BYTES);
	fuse_cmdline_help();
	fuse_lowlevel_help();
}

static int parse_size(const char *option, const char *text, uint64_t *out)
{
	struct parse_token t = { (char *)text, strlen(text) };
	int64_t v;
	struct msg m;
	if (parse_number(&t, &v, &m) < 0 || v <= 0) {
		fprintf(stderr, "mmapfs: bad %s '%s'\n", option, text);
		return -EINVAL;
	}
	*out = (uint64_t)v;
	return 0;
}

static void announce_ready(int fd)
{
	if (fd < 0)
		return;
	ssize_t n = write(fd, "ready\n", 6);
	(void)n;
	close(fd);
}

/* Make room and keep it: every mapping of a file or of shared memory holds
 * a descriptor, so take the whole allowance; and load libgcc_s now, since
 * the loop's threads are cancelled at unmount and glibc would otherwise
 * load it then, and abort if the descriptor table is full. Freed listing
 * snapshots of a large maps/ go back to the system instead of lingering. */
static void prepare_process(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	(void)dlopen("libgcc_s.so.1", RTLD_NOW | RTLD_GLOBAL);
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
}

static int serve(struct fuse_session *se, const struct fuse_cmdline_opts *opts)
{
	if (opts->singlethread)
		return shutdown_serve_single(se);
	struct fuse_loop_config *cfg = fuse_loop_cfg_create();
	fuse_loop_cfg_set_clone_fd(cfg, (unsigned)opts->clone_fd);
	/* UINT_MAX means "not given": keep libfuse's defaults then. */
	if (opts->max_idle_threads != UINT_MAX)
		fuse_loop_cfg_set_idle_threads(cfg, opts->max_idle_threads);
	if (opts->max_threads != UINT_MAX && opts->max_threads != 0)
		fuse_loop_cfg_set_max_threads(cfg, opts->max_threads);
	int rc = shutdown_serve_multi(se, cfg);
	fuse_loop_cfg_destroy(cfg);
	return rc;
}

static int run(struct fuse_args *args, struct fuse_cmdline_opts *opts, struct options *o)
{
	struct server s;
	memset(&s, 0, sizeof s);
	/* Before any thread exists, so that every thread blocks them. */
	int e = shutdown_block_signals();
	if (e < 0) {
		fprintf(stderr, "mmapfs: cannot set up signal handling: %s\n", strerror(-e));
		return 1;
	}
	uint64_t max_bytes;
	if (parse_size("max_bytes", o->max_bytes ? o->max_bytes : DEFAULT_MAX_BYTES, &max_bytes) < 0)
		return 1;
	/* One user's share: by default half, so nobody takes the whole. */
	uint64_t user_bytes = max_bytes / 2 ? max_bytes / 2 : 1;
	if (o->user_max_bytes && parse_size("user_max_bytes", o->user_max_bytes, &user_bytes) < 0)
		return 1;
	size_t user_maps = o->user_max_maps != ULONG_MAX ? o->user_max_maps
			   : o->max_maps / 2 ? o->max_maps / 2 : 1;
	s.mountpoint = realpath(opts->mountpoint, NULL);
	if (!s.mountpoint) {
		fprintf(stderr, "mmapfs: %s: %s\n", opts->mountpoint, strerror(errno));
		return 1;
	}
	if (second_mount_refused(s.mountpoint)) {
		free(s.mountpoint);
		return 1;
	}
	prepare_process();
	if (table_init(&s.table, o->max_maps, max_bytes) < 0 || guard_init() < 0) {
		fprintf(stderr, "mmapfs: cannot start: %s\n", strerror(ENOMEM));
		return 1;
	}
	/* The server's own user (root, for a root server) is bounded only by
	 * the totals; without allow_other nobody else can call. */
	table_set_user_limits(&s.table, user_maps, user_bytes, getuid());
	cmdlog_init(&s.log);
	pthread_mutex_init(&s.files_lock, NULL);
	s.allow_other = o->allow_other;
	s.uid = getuid();
	s.gid = getgid();
	s.started = time(NULL);
	s.pt = passthrough_new(o->passthrough);
	if (!s.pt) {
		fprintf(stderr, "mmapfs: cannot start: %s\n", strerror(ENOMEM));
		return 1;
	}
	if (s.allow_other)
		fuse_opt_add_arg(args, "-odefault_permissions");

	int rc = 1;
	/* -d: a line per request (server/trace.h). */
	const struct fuse_lowlevel_ops *ops =
		opts->debug ? trace_operations(fs_operations()) : fs_operations();
	struct fuse_session *se = fuse_session_new(args, ops,
						   sizeof(struct fuse_lowlevel_ops), &s);
	if (se) {
		if (fuse_session_mount(se, s.mountpoint) == 0) {
			s.own_dev = mountinfo_device_of(s.mountpoint);
			/* The signal thread after the fork of fuse_daemonize. */
			if (passthrough_attach(s.pt, se) == 0 &&
			    fuse_daemonize(opts->foreground) == 0 && shutdown_start(se) == 0) {
				announce_ready(o->ready_fd);
				/* A signal or an unmount ends the loop: a clean exit. */
				rc = serve(se, opts) < 0 ? 1 : 0;
			}
			shutdown_finish();
			passthrough_detach(s.pt);
			fuse_session_unmount(se);
		}
	}
	if (se)
		fuse_session_destroy(se);
	fs_release_all(&s);
	pthread_mutex_destroy(&s.files_lock);
	table_destroy(&s.table);
	cmdlog_destroy(&s.log);
	passthrough_free(s.pt);
	free(s.mountpoint);
	return rc;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts opts;
	struct options o = { .max_maps = DEFAULT_MAX_MAPS, .user_max_maps = ULONG_MAX,
			     .ready_fd = -1 };
	int rc = 1;
	if (fuse_opt_parse(&args, &o, option_spec, option_seen) < 0 ||
	    add_mountpoint(&args, &o) < 0 || fuse_parse_cmdline(&args, &opts) != 0)
		goto out;
	if (opts.show_help) {
		usage(argv[0]);
		rc = 0;
	} else if (opts.show_version) {
		printf("mmapfs %s\n", PACKAGE_VERSION);
		fflush(stdout);
		fuse_lowlevel_version();
		rc = 0;
	} else if (!opts.mountpoint) {
		fprintf(stderr, "usage: %s [options] [SOURCE] MOUNTPOINT (try --help)\n", argv[0]);
	} else {
		rc = run(&args, &opts, &o);
	}
	free(opts.mountpoint);
out:
	fuse_opt_free_args(&args);
	free(o.max_bytes);
	free(o.user_max_bytes);
	free(o.words[0]);
	free(o.words[1]);
	return rc;
}
