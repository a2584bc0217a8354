/* floor.c - the benchmark's floor: the least a low-level FUSE server can do
 * to serve one file's bytes. It maps one backing file (MAP_SHARED) and shows
 * it as MOUNTPOINT/data, opened with direct_io, in requests of up to 1 MiB;
 * reads reply straight from the mapping and writes copy into it. mmapfs's
 * maps/NAME/data does the same and more, so its figures are judged against
 * this server's in the same run.
 *
 * Options beyond libfuse's own (-f, -s, -o clone_fd, -o max_threads=N...):
 *   -o file=PATH      the backing file (required)
 *   -o ready_fd=N     write "ready\n" to fd N once mounted, then close it
 *   -o io=BYTES       max_write (default and most: 1 MiB)
 *   -o max_read=BYTES libfuse's own option, the largest read request
 *   -o splice         reply to reads without a copy in the server: hand the
 *                     kernel the backing file's pages through a pipe
 *                     (fuse_reply_data, FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK,
 *                     FUSE_BUF_SPLICE_MOVE; SPLICE_WRITE|MOVE wanted)
 *   -o splice_read    receive writes through a pipe and splice them into the
 *                     backing file (write_buf; SPLICE_READ wanted)
 *   -o pdw            set FOPEN_PARALLEL_DIRECT_WRITES on open replies (libfuse
 *                     3.14 has no field for it: a custom writev adds the flag)
 *   -o passthrough    kernel FUSE passthrough (Linux 6.9+, CAP_SYS_ADMIN): the
 *                     backing file is registered with FUSE_DEV_IOC_BACKING_OPEN
 *                     and opens reply FOPEN_PASSTHROUGH, so reads and writes
 *                     never reach this server. libfuse 3.14 knows nothing of it:
 *                     the custom writev adds FUSE_PASSTHROUGH to the INIT reply
 *                     and the flag and backing id to open replies.
 * `make bench` runs the plain floor, -o splice and -o passthrough; `make
 * bench-experiments` runs the rest (see doc/performance.md). */
#define FUSE_USE_VERSION 312
#define _GNU_SOURCE

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <linux/fuse.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_IO (1024 * 1024)
#define DATA_INO 2
#define OPEN_MAGIC 0xf1002f1002f1002fULL /* fh of an open data file */

/* Kernel ABI 7.40 (Linux 6.9), newer than the headers of Debian 12. */
struct backing_map {
	int32_t fd;
	uint32_t flags;
	uint64_t padding;
};
#define IOC_BACKING_OPEN _IOW(229, 1, struct backing_map)
#define OPEN_PASSTHROUGH (1u << 7)	/* FOPEN_PASSTHROUGH */
#define INIT_EXT (1u << 30)		/* FUSE_INIT_EXT */
#define INIT2_PASSTHROUGH (1u << 5)	/* FUSE_PASSTHROUGH >> 32 */
struct init_out {			/* struct fuse_init_out, 7.40 */
	uint32_t major, minor, max_readahead, flags;
	uint16_t max_background, congestion_threshold;
	uint32_t max_write, time_gran;
	uint16_t max_pages, map_alignment;
	uint32_t flags2, max_stack_depth;
	uint32_t unused[6];
};
struct open_out {			/* struct fuse_open_out, 7.40 */
	uint64_t fh;
	uint32_t open_flags;
	int32_t backing_id;
};

struct floor_opts {
	char *file;
	int ready_fd;
	unsigned long io;
	int splice;
	int splice_read;
	int pdw;
	int passthrough;
	unsigned max_read;	/* libfuse's own -o max_read=, noted for init */
};

static struct floor_opts o = { .ready_fd = -1, .io = MAX_IO };
static int backing_fd = -1;
static char *base;	/* the mapping */
static size_t len;	/* its length, the file's size at start */
static struct fuse_session *session;
static int backing_id;	/* -o passthrough: registered once, at the first open */
static pthread_mutex_t backing_lock = PTHREAD_MUTEX_INITIALIZER;

#define OPT(t, p, v) { t, offsetof(struct floor_opts, p), v }
static const struct fuse_opt floor_spec[] = {
	OPT("file=%s", file, 0),
	OPT("ready_fd=%d", ready_fd, 0),
	OPT("io=%lu", io, 0),
	OPT("splice", splice, 1),
	OPT("splice_read", splice_read, 1),
	OPT("pdw", pdw, 1),
	OPT("passthrough", passthrough, 1),
	FUSE_OPT_KEY("max_read=", 1),
	FUSE_OPT_END,
};

/* libfuse 3.14 refuses to mount unless init() asks for the same max_read
 * as the mount option: note it, and leave the option to libfuse. */
static int keep_option(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	(void)outargs;
	if (key == 1 && sscanf(arg, "max_read=%u", &((struct floor_opts *)data)->max_read) != 1)
		return -1;
	return 1;
}

static void fill_attr(fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof *st);
	st->st_ino = ino;
	st->st_uid = getuid();
	st->st_gid = getgid();
	if (ino == FUSE_ROOT_ID) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
	} else {
		st->st_mode = S_IFREG | 0644;
		st->st_nlink = 1;
		st->st_size = (off_t)len;
		st->st_blksize = MAX_IO;
	}
}

static void fl_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	conn->max_write = (unsigned)o.io;
	conn->max_readahead = (unsigned)o.io;
	if (o.max_read)
		conn->max_read = o.max_read;
	if (o.splice)
		conn->want |= conn->capable & (FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE);
	if (o.splice_read)
		conn->want |= conn->capable & FUSE_CAP_SPLICE_READ;
	else
		conn->want &= ~(unsigned)FUSE_CAP_SPLICE_READ;
}

static void fl_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	if (parent != FUSE_ROOT_ID || strcmp(name, "data") != 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	struct fuse_entry_param e;
	memset(&e, 0, sizeof e);
	e.ino = DATA_INO;
	e.attr_timeout = e.entry_timeout = 86400.0;
	fill_attr(DATA_INO, &e.attr);
	fuse_reply_entry(req, &e);
}

static void fl_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)fi;
	struct stat st;
	fill_attr(ino, &st);
	fuse_reply_attr(req, &st, 86400.0);
}

static void fl_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	(void)fi;
	static const char *const names[] = { ".", "..", "data" };
	char buf[512];
	size_t used = 0;
	if (size > sizeof buf)
		size = sizeof buf;
	for (off_t i = off; i < 3; i++) {
		struct stat st = { .st_ino = i == 2 ? DATA_INO : ino,
				   .st_mode = i == 2 ? S_IFREG : S_IFDIR };
		size_t n = fuse_add_direntry(req, buf + used, size - used, names[i], &st, i + 1);
		if (n > size - used)
			break;
		used += n;
	}
	fuse_reply_buf(req, buf, used);
}

static void fl_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (ino != DATA_INO) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	if (o.passthrough) {
		pthread_mutex_lock(&backing_lock);
		if (backing_id <= 0) {
			struct backing_map map = { .fd = backing_fd };
			backing_id = ioctl(fuse_session_fd(session), IOC_BACKING_OPEN, &map);
			if (backing_id <= 0)
				perror("floor: FUSE_DEV_IOC_BACKING_OPEN");
		}
		pthread_mutex_unlock(&backing_lock);
		if (backing_id <= 0) {
			fuse_reply_err(req, EOPNOTSUPP);
			return;
		}
	}
	/* FOPEN_DIRECT_IO would override FOPEN_PASSTHROUGH for read and write. */
	fi->direct_io = !o.passthrough;
	fi->fh = OPEN_MAGIC;
	fuse_reply_open(req, fi);
}

static size_t clamp(off_t off, size_t size)
{
	if (off < 0 || (size_t)off >= len)
		return 0;
	return len - (size_t)off < size ? len - (size_t)off : size;
}

static void fl_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	size_t n = clamp(off, size);
	if (!o.splice || n == 0) {
		fuse_reply_buf(req, base + (n ? off : 0), n);
		return;
	}
	/* The file's page-cache pages go into a pipe by reference, then into
	 * the reader's buffer: the server never touches the bytes. libfuse
	 * falls back to read()+writev() below two pages or without the caps. */
	struct fuse_bufvec bv = FUSE_BUFVEC_INIT(n);
	bv.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	bv.buf[0].fd = backing_fd;
	bv.buf[0].pos = off;
	fuse_reply_data(req, &bv, FUSE_BUF_SPLICE_MOVE);
}

static void fl_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
		     off_t off, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	size_t n = clamp(off, size);
	if (n < size) {
		fuse_reply_err(req, EFBIG);
		return;
	}
	memcpy(base + off, buf, n);
	fuse_reply_write(req, n);
}

static void fl_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in,
			 off_t off, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	size_t size = fuse_buf_size(in);
	if (clamp(off, size) < size) {
		fuse_reply_err(req, EFBIG);
		return;
	}
	/* From the pipe into the backing file's page cache: one copy in all. */
	struct fuse_bufvec out = FUSE_BUFVEC_INIT(size);
	out.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	out.buf[0].fd = backing_fd;
	out.buf[0].pos = off;
	ssize_t n = fuse_buf_copy(&out, in, 0);
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_write(req, (size_t)n);
}

/* -o pdw, -o passthrough: libfuse 3.14 can say neither, so replies get the
 * flags on their way out: the INIT reply (the only one of its size that
 * starts with major 7), and the reply to our own open (known by its fh). */
static ssize_t patching_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	(void)userdata;
	if (count == 2 && iov[1].iov_len == sizeof(struct open_out)) {
		struct open_out *arg = iov[1].iov_base;
		if (arg->fh == OPEN_MAGIC && o.pdw)
			arg->open_flags |= FOPEN_PARALLEL_DIRECT_WRITES;
		if (arg->fh == OPEN_MAGIC && o.passthrough) {
			arg->open_flags |= OPEN_PASSTHROUGH;
			arg->backing_id = backing_id;
		}
	} else if (count == 2 && iov[1].iov_len == sizeof(struct init_out) && o.passthrough) {
		struct init_out *arg = iov[1].iov_base;
		if (arg->major == 7 && arg->minor >= 12) {
			arg->flags |= INIT_EXT;
			arg->flags2 |= INIT2_PASSTHROUGH;
			arg->max_stack_depth = 1;
		}
	}
	return writev(fd, iov, count);
}

static ssize_t plain_read(int fd, void *buf, size_t n, void *userdata)
{
	(void)userdata;
	return read(fd, buf, n);
}

static ssize_t plain_splice(int fdin, off_t *offin, int fdout, off_t *offout, size_t n,
			    unsigned flags, void *userdata)
{
	(void)userdata;
	return splice(fdin, offin, fdout, offout, n, flags);
}

static int map_backing(void)
{
	backing_fd = open(o.file, O_RDWR | O_CLOEXEC);
	struct stat st;
	if (backing_fd < 0 || fstat(backing_fd, &st) < 0 || st.st_size <= 0) {
		fprintf(stderr, "floor: %s: %s\n", o.file,
			backing_fd < 0 ? strerror(errno) : "empty or unreadable");
		return -1;
	}
	len = (size_t)st.st_size;
	base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, backing_fd, 0);
	if (base == MAP_FAILED) {
		perror("floor: mmap");
		return -1;
	}
	return 0;
}

static int serve(struct fuse_session *se, const struct fuse_cmdline_opts *opts)
{
	if (opts->singlethread)
		return fuse_session_loop(se);
	struct fuse_loop_config *cfg = fuse_loop_cfg_create();
	fuse_loop_cfg_set_clone_fd(cfg, (unsigned)opts->clone_fd);
	fuse_loop_cfg_set_idle_threads(cfg, opts->max_idle_threads);
	if (opts->max_threads != UINT_MAX) /* 3.14's "unset" */
		fuse_loop_cfg_set_max_threads(cfg, opts->max_threads);
	int rc = fuse_session_loop_mt(se, cfg);
	fuse_loop_cfg_destroy(cfg);
	return rc;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts opts;
	struct fuse_lowlevel_ops ops = {
		.init = fl_init,
		.lookup = fl_lookup,
		.getattr = fl_getattr,
		.readdir = fl_readdir,
		.open = fl_open,
		.read = fl_read,
		.write = fl_write,
	};
	int rc = 1;
	memset(&opts, 0, sizeof opts);
	if (fuse_opt_parse(&args, &o, floor_spec, keep_option) < 0 ||
	    fuse_parse_cmdline(&args, &opts) != 0)
		goto out;
	if (!opts.mountpoint || !o.file || o.io == 0 || o.io > MAX_IO) {
		fprintf(stderr, "usage: %s -o file=PATH [-o ready_fd=N] [-o io=BYTES] "
			"[-o splice] [-o splice_read] [-o pdw] [-o passthrough]\n"
			"       [FUSE options] MOUNTPOINT\n",
			argv[0]);
		goto out;
	}
	if (map_backing() < 0)
		goto out;
	if (o.splice_read)
		ops.write_buf = fl_write_buf;

	struct fuse_session *se = fuse_session_new(&args, &ops, sizeof ops, NULL);
	if (!se)
		goto out;
	if (fuse_set_signal_handlers(se) == 0) {
		if (fuse_session_mount(se, opts.mountpoint) == 0) {
			static const struct fuse_custom_io io = {
				.writev = patching_writev,
				.read = plain_read,
				.splice_receive = plain_splice,
				.splice_send = plain_splice,
			};
			session = se;
			bool patch = o.pdw || o.passthrough;
			if ((!patch || fuse_session_custom_io(se, &io, fuse_session_fd(se)) == 0) &&
			    fuse_daemonize(opts.foreground) == 0) {
				if (o.ready_fd >= 0) {
					ssize_t w = write(o.ready_fd, "ready\n", 6);
					(void)w;
					close(o.ready_fd);
				}
				rc = serve(se, &opts) < 0 ? 1 : 0;
			}
			fuse_session_unmount(se);
		}
		fuse_remove_signal_handlers(se);
	}
	fuse_session_destroy(se);
out:
	free(opts.mountpoint);
	fuse_opt_free_args(&args);
	return rc;
}
