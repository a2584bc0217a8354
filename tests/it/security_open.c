/* security_open.c - with allow_other, `map` opens its source with exactly
 * the caller's rights (issue 9, items 1-4): no path, magic link or /proc
 * entry reaches the server's descriptors or memory; the caller's own
 * descriptors do work; groups count, and fail closed; flags=locked keeps to
 * the caller's RLIMIT_MEMLOCK; per-user limits; maps/ is sticky like /tmp.
 *
 * Every other user runs for real: a forked child (under run_limited, so a
 * hang fails instead of hanging) takes the uid, gid and groups with
 * setgroups/setresgid/setresuid before it touches the mount. Needs root. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/harness.h"

#define NOBODY 65534
#define ALICE 41201
#define BOB 41202
#define GROUP 41300

/* Let other users reach the mount and the scratch dir (run-test.sh makes
 * the TMPDIR that holds both mode 0700). */
static void open_up(struct mnt *m)
{
	char parent[sizeof m->dir];
	snprintf(parent, sizeof parent, "%s", m->dir);
	*strrchr(parent, '/') = '\0';
	cr_assert(chmod(parent, 0755) == 0 && chmod(m->scratch, 0755) == 0);
}

static void up(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to act as other users");
	mnt_start(&M, "allow_other");
	open_up(&M);
}

/* mnt_down also checks that the server lived through the test and exits 0. */
TestSuite(security_open, .init = up, .fini = mnt_down, .timeout = 60);

/* ---- acting as another user ------------------------------------------- */

struct as_job {
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	int ngroups;
	long long memlock;	/* >= 0: set RLIMIT_MEMLOCK to it first */
	const char *ctl;	/* the control file to write */
	const char *command;	/* "{fd}" becomes the held descriptor, "{pid}" our pid */
	const char *hold;	/* a file to open (as the user) and hold, or NULL */
	bool unlink_held;	/* ... and unlink it, holding it open */
	bool sibling;		/* a second process of the user holds it, and {pid} is it */
	int result;		/* out: 0 or -errno of the write */
	char out[512];		/* out: the result line */
};

static void substitute(const char *in, int fd, pid_t pid, char *out, size_t cap)
{
	size_t n = 0;
	while (*in && n + 24 < cap) {
		if (strncmp(in, "{fd}", 4) == 0) {
			n += (size_t)snprintf(out + n, cap - n, "%d", fd);
			in += 4;
		} else if (strncmp(in, "{pid}", 5) == 0) {
			n += (size_t)snprintf(out + n, cap - n, "%d", (int)pid);
			in += 5;
		} else {
			out[n++] = *in++;
		}
	}
	out[n] = '\0';
}

/* Changing uid makes a process non-dumpable (so that nobody, not even its
 * own user, may look into it through /proc), where a user's processes,
 * started by execve, are dumpable: be one of those. */
static int become(uid_t uid, gid_t gid, const gid_t *groups, int n)
{
	if (setgroups((size_t)n, groups) < 0 || setresgid(gid, gid, gid) < 0 ||
	    setresuid(uid, uid, uid) < 0 || prctl(PR_SET_DUMPABLE, 1) < 0)
		return -1;
	return 0;
}

static int as_child(void *p, int out_fd)
{
	struct as_job *j = p;
	if (j->memlock >= 0) {
		struct rlimit rl = { (rlim_t)j->memlock, (rlim_t)j->memlock };
		if (setrlimit(RLIMIT_MEMLOCK, &rl) < 0)
			return 97;
	}
	if (j->uid && become(j->uid, j->gid, j->groups, j->ngroups) < 0)
		return 99;
	int fd = -1;
	if (j->hold && (fd = open(j->hold, O_RDWR | O_CREAT, 0600)) < 0)
		return 98;
	if (fd >= 0 && j->unlink_held && unlink(j->hold) < 0)
		return 96;
	pid_t holder = getpid();
	int gate[2] = { -1, -1 };
	if (j->sibling) {
		/* The holder lives until the writer is gone (its pipe ends). */
		if (pipe(gate) < 0 || (holder = fork()) < 0)
			return 94;
		if (holder == 0) {
			char c;
			close(gate[1]);
			prctl(PR_SET_DUMPABLE, 1);
			_exit(read(gate[0], &c, 1) < 0);
		}
		close(gate[0]);
		close(fd); /* only the holder has it now */
	}
	char cmdline[4600], out[512];
	substitute(j->command, fd, holder, cmdline, sizeof cmdline);
	int rc = ctl_raw(j->ctl, cmdline, strlen(cmdline), out, sizeof out);
	char line[600];
	int n = snprintf(line, sizeof line, "%d %s", rc, out);
	if (write(out_fd, line, (size_t)n) < 0)
		return 95;
	return 0;
}

/* Run j as its user; j->result and j->out get what the write gave. */
static void run_as(struct as_job *j)
{
	char buf[700];
	size_t got = 0;
	if (!j->ctl)
		j->ctl = mp(&M, "ctl");
	int st = run_limited(OP_TIMEOUT_MS, as_child, j, buf, sizeof buf - 1, &got);
	cr_assert_eq(st, 0, "the child as uid %u failed (%d): %s", (unsigned)j->uid, st,
		     j->command);
	buf[got] = '\0';
	char *sp_ = strchr(buf, ' ');
	cr_assert(sp_, "no result from the child: '%s'", buf);
	*sp_ = '\0';
	j->result = atoi(buf);
	snprintf(j->out, sizeof j->out, "%s", sp_ + 1);
	char *nl = strchr(j->out, '\n');
	if (nl)
		*nl = '\0';
}

/* `command` on the root ctl as uid (gid = uid, no groups). */
static struct as_job as(uid_t uid, const char *command)
{
	struct as_job j = { .uid = uid, .gid = uid, .memlock = -1, .command = command };
	run_as(&j);
	return j;
}

/* The server's descriptor for path (a link in /proc/PID/fd), or -1. */
static int server_fd_of(const char *path)
{
	char dir[64], link[PATH_MAX + 64], target[PATH_MAX];
	snprintf(dir, sizeof dir, "/proc/%d/fd", (int)M.pid);
	DIR *d = opendir(dir);
	cr_assert(d);
	int found = -1;
	for (struct dirent *e; (e = readdir(d));) {
		snprintf(link, sizeof link, "%s/%s", dir, e->d_name);
		ssize_t n = readlink(link, target, sizeof target - 1);
		if (n > 0 && (target[n] = '\0', strcmp(target, path) == 0))
			found = atoi(e->d_name);
	}
	closedir(d);
	return found;
}

/* A root-only secret the server holds open: a 0644 file in a 0700 dir,
 * mapped by root. Returns the server's descriptor for it. */
static int root_secret(char *path, size_t cap)
{
	const char *dir = sp(&M, "vault");
	cr_assert(mkdir(dir, 0700) == 0);
	snprintf(path, cap, "%s/s", dir);
	make_file(path, "secret\n", 7);
	cr_assert(chmod(path, 0644) == 0);
	map_ok(&M, "%s name=rootfile", path);
	int fd = server_fd_of(path);
	cr_assert(fd >= 0, "the server holds %s open", path);
	return fd;
}

static bool mapping_exists(const char *name)
{
	struct stat st;
	return stat(mp(&M, "maps/%s", name), &st) == 0;
}

/* Every path must be refused for nobody, and leave no mapping behind. */
static void expect_refused(const char *const *paths, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char command[4200];
		snprintf(command, sizeof command, "map %s access=read name=x%zu", paths[i], i);
		struct as_job j = as(NOBODY, command);
		cr_expect_lt(j.result, 0, "nobody mapped %s: %s", paths[i], j.out);
		cr_expect(strncmp(j.out, "error: ", 7) == 0, "%s: %s", paths[i], j.out);
		char name[16];
		snprintf(name, sizeof name, "x%zu", i);
		cr_expect(!mapping_exists(name), "%s left a mapping", paths[i]);
	}
}

/* ---- the server's descriptors and memory ------------------------------ */

Test(security_open, no_path_reaches_the_servers_descriptors)
{
	char secret[4200];
	int n = root_secret(secret, sizeof secret);
	int spid = (int)M.pid;
	char p[8][128];
	snprintf(p[0], sizeof p[0], "/proc/self/fd/%d", n);
	snprintf(p[1], sizeof p[1], "/proc/thread-self/fd/%d", n);
	snprintf(p[2], sizeof p[2], "/dev/fd/%d", n);
	snprintf(p[3], sizeof p[3], "/proc/%d/fd/%d", spid, n);
	snprintf(p[4], sizeof p[4], "/proc/%d/task/%d/fd/%d", spid, spid, n);
	/* Spellings no prefix rule catches reach the opener process itself,
	 * which holds no descriptor of the server. */
	snprintf(p[5], sizeof p[5], "/proc/./self/fd/%d", n);
	snprintf(p[6], sizeof p[6], "/proc//thread-self/fd/%d", n);
	snprintf(p[7], sizeof p[7], "/dev/./fd/%d", n);
	const char *paths[] = { p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], secret };
	expect_refused(paths, sizeof paths / sizeof *paths);

	/* The paths exist: root, who may, maps the server's descriptor. */
	char out[256], command[200];
	snprintf(command, sizeof command, "map %s access=read name=rootmay", p[3]);
	cr_assert_eq(cmd(&M, "ctl", command, out, sizeof out), 0, "%s", out);
	char *text = read_all(mp(&M, "maps/rootmay/data"), NULL);
	cr_expect_str_eq(text, "secret\n");
	free(text);
}

/* The start of the server's mapping of path, as /proc/PID/maps shows it. */
static void map_files_entry(const char *path, char *out, size_t cap)
{
	char maps[64], line[PATH_MAX + 128];
	snprintf(maps, sizeof maps, "/proc/%d/maps", (int)M.pid);
	FILE *f = fopen(maps, "r");
	cr_assert(f);
	out[0] = '\0';
	while (fgets(line, sizeof line, f)) {
		char range[64];
		if (strstr(line, path) && sscanf(line, "%63s", range) == 1) {
			snprintf(out, cap, "/proc/%d/map_files/%s", (int)M.pid, range);
			break;
		}
	}
	fclose(f);
	cr_assert(out[0], "the server maps %s", path);
}

Test(security_open, no_path_reaches_the_servers_memory)
{
	char secret[4200], files[256];
	root_secret(secret, sizeof secret);
	map_files_entry(secret, files, sizeof files);
	char p[5][128];
	snprintf(p[0], sizeof p[0], "/proc/%d/mem", (int)M.pid);
	snprintf(p[1], sizeof p[1], "/proc/self/mem");
	snprintf(p[2], sizeof p[2], "/proc/./self/mem");
	snprintf(p[3], sizeof p[3], "/proc/%d/task/%d/mem", (int)M.pid, (int)M.pid);
	snprintf(p[4], sizeof p[4], "/proc/./self/environ");
	const char *paths[] = { p[0], p[1], p[2], p[3], p[4], files };
	expect_refused(paths, sizeof paths / sizeof *paths);
	/* Not even root maps a process's memory file: /proc files are no source. */
	char out[256], command[200];
	snprintf(command, sizeof command, "map %s access=read", p[0]);
	cr_expect_eq(cmd(&M, "ctl", command, out, sizeof out), -ENODEV, "%s", out);
	cr_expect(strstr(out, "/proc file"), "refused before mmap(2) is tried: %s", out);
}

Test(security_open, a_root_memfd_is_out_of_reach)
{
	/* memfds are mode 0777: only the /proc/PID/fd access check guards them.
	 * One of root's, held by root's process... */
	int fd = memfd_create("root-secret", 0);
	cr_assert(fd >= 0);
	cr_assert(write(fd, "rootmem", 7) == 7);
	/* ... and the one behind root's shared anonymous mapping, held by the
	 * server itself. */
	map_ok(&M, "anon length=4096 name=rootanon");
	int sfd = server_fd_of("/memfd:mmapfs:rootanon (deleted)");
	cr_assert(sfd >= 0);
	char p[5][128];
	snprintf(p[0], sizeof p[0], "/proc/%d/fd/%d", (int)getpid(), fd);
	snprintf(p[1], sizeof p[1], "/proc/%d/task/%d/fd/%d", (int)getpid(), (int)getpid(), fd);
	snprintf(p[2], sizeof p[2], "/proc/self/fd/%d", sfd);
	snprintf(p[3], sizeof p[3], "/proc/%d/fd/%d", (int)M.pid, sfd);
	snprintf(p[4], sizeof p[4], "/dev/fd/%d", sfd);
	const char *paths[] = { p[0], p[1], p[2], p[3], p[4] };
	expect_refused(paths, 5);
	char command[200];
	snprintf(command, sizeof command, "map %s name=rw", p[3]);
	struct as_job j = as(NOBODY, command);
	cr_expect_eq(j.result, -EACCES, "%s", j.out);
	/* Root reaches them: the paths themselves are fine. */
	map_ok(&M, "%s name=rootmemfd", p[0]);
	map_ok(&M, "%s name=rootanon2", p[3]);
	close(fd);
}

/* ---- plain permissions ----------------------------------------------- */

static void owned_file(const char *path, uid_t uid, gid_t gid, mode_t mode)
{
	make_file(path, "secret!", 7);
	cr_assert(chown(path, uid, gid) == 0 && chmod(path, mode) == 0);
}

Test(security_open, modes_and_access_are_the_callers)
{
	char command[4200];
	owned_file(sp(&M, "mode600"), 0, 0, 0600);
	snprintf(command, sizeof command, "map %s access=read", sp(&M, "mode600"));
	cr_expect_eq(as(NOBODY, command).result, -EACCES);

	owned_file(sp(&M, "readonly"), 0, 0, 0644);
	snprintf(command, sizeof command, "map %s access=write", sp(&M, "readonly"));
	cr_expect_eq(as(NOBODY, command).result, -EACCES, "write access needs write permission");
	snprintf(command, sizeof command, "map %s", sp(&M, "readonly"));
	cr_expect_eq(as(NOBODY, command).result, -EACCES, "a shared read-write map too");
	snprintf(command, sizeof command, "map %s access=read name=ro", sp(&M, "readonly"));
	struct as_job j = as(NOBODY, command);
	cr_expect_eq(j.result, 0, "%s", j.out);
	cr_expect_str_eq(j.out, "ro");

	/* Owner-only bits count for the owner, not for root's capabilities. */
	owned_file(sp(&M, "alices"), ALICE, ALICE, 0600);
	snprintf(command, sizeof command, "map %s access=read name=a", sp(&M, "alices"));
	cr_expect_eq(as(ALICE, command).result, 0);
	snprintf(command, sizeof command, "map %s access=read", sp(&M, "alices"));
	cr_expect_eq(as(BOB, command).result, -EACCES);
}

Test(security_open, supplementary_groups_count_however_many)
{
	char command[4200];
	owned_file(sp(&M, "groupfile"), 0, GROUP, 0640);
	snprintf(command, sizeof command, "map %s access=read", sp(&M, "groupfile"));
	struct as_job j = { .uid = BOB, .gid = BOB, .memlock = -1, .command = command };
	run_as(&j);
	cr_expect_eq(j.result, -EACCES, "without the group: %s", j.out);

	gid_t one = GROUP;
	j = (struct as_job){ .uid = BOB, .gid = BOB, .groups = &one, .ngroups = 1, .memlock = -1,
			     .command = command };
	run_as(&j);
	cr_expect_eq(j.result, 0, "with the group: %s", j.out);

	/* More groups than the server's first guess (256), the one that
	 * matters last: still counted, never dropped. */
	gid_t many[300];
	for (int i = 0; i < 299; i++)
		many[i] = (gid_t)(50000 + i);
	many[299] = GROUP;
	j = (struct as_job){ .uid = BOB, .gid = BOB, .groups = many, .ngroups = 300,
			     .memlock = -1, .command = command };
	run_as(&j);
	cr_expect_eq(j.result, 0, "with the group as the 300th: %s", j.out);
	many[299] = 50299;
	run_as(&j);
	cr_expect_eq(j.result, -EACCES, "300 groups, none of them it: %s", j.out);
}

/* ---- the caller's own descriptors ------------------------------------- */

Test(security_open, the_callers_own_descriptors_work)
{
	char dir[4200]; /* sp()'s buffers are reused after 16 calls */
	snprintf(dir, sizeof dir, "%s", sp(&M, "pub"));
	cr_assert(mkdir(dir, 01777) == 0 && chmod(dir, 01777) == 0);
	const char *forms[] = { "/proc/{pid}/fd/{fd}", "/proc/self/fd/{fd}",
				"/proc/thread-self/fd/{fd}", "/dev/fd/{fd}",
				"/proc/{pid}/task/{pid}/fd/{fd}" };
	for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
		char command[256], file[4300], name[16];
		snprintf(name, sizeof name, "own%zu", i);
		snprintf(command, sizeof command, "map %s length=4096 name=%s", forms[i], name);
		snprintf(file, sizeof file, "%s/gone%zu", dir, i);
		/* The file is unlinked before the map: only the descriptor reaches it. */
		struct as_job j = { .uid = NOBODY, .gid = NOBODY, .memlock = -1,
				    .command = command, .hold = file, .unlink_held = true };
		/* A fresh file has no bytes: give it a page first, as nobody can. */
		int fd = open(file, O_RDWR | O_CREAT | O_EXCL, 0600);
		cr_assert(fd >= 0 && ftruncate(fd, 4096) == 0 && pwrite(fd, "mine", 4, 0) == 4);
		cr_assert(fchown(fd, NOBODY, NOBODY) == 0);
		close(fd);
		run_as(&j);
		cr_expect_eq(j.result, 0, "%s: %s", forms[i], j.out);
		cr_expect_str_eq(j.out, name, "%s", forms[i]);
		if (j.result == 0) {
			char *text = read_all(mp(&M, "maps/%s/data", name), NULL);
			cr_expect(text && memcmp(text, "mine", 4) == 0, "%s", forms[i]);
			free(text);
			text = read_all(mp(&M, "maps/%s/source", name), NULL);
			cr_expect(text && strstr(text, "(deleted)"), "source: %s", text);
			free(text);
		}
	}
}

/* ---- maps/ is like /tmp ---------------------------------------------- */

struct rmdir_job {
	uid_t uid;
	const char *path;
};

static int rmdir_child(void *p, int out_fd)
{
	(void)out_fd;
	struct rmdir_job *j = p;
	if (become(j->uid, j->uid, NULL, 0) < 0)
		return 99;
	int rc = rmdir(j->path) < 0 ? errno : 0;
	return rc;
}

static int rmdir_as(uid_t uid, const char *path)
{
	struct rmdir_job j = { uid, path };
	int st = run_limited(OP_TIMEOUT_MS, rmdir_child, &j, NULL, 0, NULL);
	cr_assert(st >= 0 && st != 99, "rmdir as %u: %d", (unsigned)uid, st);
	return -st;
}


Test(security_open, maps_is_sticky_and_only_the_creator_removes)
{
	struct stat st;
	cr_assert_eq(stat(mp(&M, "maps"), &st), 0);
	cr_expect_eq(st.st_mode & 07777, 01777);
	cr_assert_eq(as(ALICE, "map anon length=4096 name=a1").result, 0);
	cr_assert_eq(as(ALICE, "map anon length=4096 name=a2").result, 0);

	/* rmdir as bob: the kernel's sticky rule refuses (EPERM). */
	cr_expect_eq(rmdir_as(BOB, mp(&M, "maps/a1")), -EPERM);
	cr_expect(mapping_exists("a1"));
	cr_expect_eq(rmdir_as(ALICE, mp(&M, "maps/a1")), 0, "the creator removes it");
	cr_expect(!mapping_exists("a1"));
	cr_expect_eq(rmdir(mp(&M, "maps/a2")), 0, "root removes any");
	cr_expect(!mapping_exists("a2"));

	/* Writable maps/ still makes no names. */
	cr_expect_eq(mkdir(mp(&M, "maps/new"), 0700), -1);
	cr_expect_eq(errno, EACCES);
	cr_expect_eq(open(mp(&M, "maps/file"), O_CREAT | O_WRONLY, 0600), -1);
	cr_expect_eq(errno, EACCES);
	cr_expect_eq(mknod(mp(&M, "maps/node"), S_IFIFO | 0600, 0), -1);
	cr_expect_eq(errno, EACCES);
	cr_expect_eq(symlink("/tmp", mp(&M, "maps/link")), -1);
	cr_expect_eq(errno, EACCES);
	map_ok(&M, "anon length=4096 name=r1");
	cr_expect_eq(rename(mp(&M, "maps/r1"), mp(&M, "maps/r2")), -1);
	cr_expect_eq(errno, EACCES);
	cr_expect(mapping_exists("r1"));
}


/* ---- locked memory ---------------------------------------------------- */

/* command as nobody whose RLIMIT_MEMLOCK is limit bytes. */
static struct as_job locked_as(uid_t uid, long long limit, const char *ctl, const char *command)
{
	struct as_job j = { .uid = uid, .gid = uid, .memlock = limit, .ctl = ctl,
			    .command = command };
	run_as(&j);
	return j;
}

Test(security_open, locked_memory_keeps_to_the_callers_rlimit)
{
	/* What mlock(2) says past the limit: ENOMEM. */
	struct as_job j = locked_as(NOBODY, 1 << 20, NULL, "map anon length=64M flags=private,locked");
	cr_expect_eq(j.result, -ENOMEM, "%s", j.out);
	cr_expect(strstr(j.out, "RLIMIT_MEMLOCK"), "%s", j.out);
	j = locked_as(NOBODY, 1 << 20, NULL, "map anon length=64M flags=shared,locked");
	cr_expect_eq(j.result, -ENOMEM, "shared too: %s", j.out);
	/* A limit of 0: EPERM, as mlock(2) without CAP_IPC_LOCK. */
	j = locked_as(NOBODY, 0, NULL, "map anon length=4096 flags=private,locked");
	cr_expect_eq(j.result, -EPERM, "%s", j.out);

	/* Within the limit it works, and what is held counts: the sum of a
	 * user's locked mappings stays within one limit. */
	j = locked_as(NOBODY, 1 << 20, NULL, "map anon length=600K flags=private,locked name=l1");
	cr_expect_eq(j.result, 0, "%s", j.out);
	j = locked_as(NOBODY, 1 << 20, NULL, "map anon length=600K flags=private,locked name=l2");
	cr_expect_eq(j.result, -ENOMEM, "a second 600K past 1M: %s", j.out);
	/* Growing a locked mapping locks more: within its creator's limit. */
	j = locked_as(NOBODY, 1 << 20, mp(&M, "maps/l1/ctl"), "resize 64M");
	cr_expect_eq(j.result, -ENOMEM, "%s", j.out);
	cr_expect_eq(attr_num(&M, "l1", "size"), 600 * 1024);
	j = locked_as(NOBODY, 1 << 20, mp(&M, "maps/l1/ctl"), "resize 1M");
	cr_expect_eq(j.result, 0, "%s", j.out);
	/* Closing gives it back. */
	j = locked_as(NOBODY, 1 << 20, NULL, "close l1");
	cr_expect_eq(j.result, 0, "%s", j.out);
	j = locked_as(NOBODY, 1 << 20, NULL, "map anon length=600K flags=private,locked name=l3");
	cr_expect_eq(j.result, 0, "after close: %s", j.out);

	/* CAP_IPC_LOCK (root here) is not bounded by the limit. */
	j = locked_as(0, 1 << 20, NULL, "map anon length=64M flags=private,locked name=rootlock");
	cr_expect_eq(j.result, 0, "root: %s", j.out);
}

/* ---- per-user limits -------------------------------------------------- */

Test(security_open, per_user_limits_leave_room_for_others)
{
	struct mnt L;
	mnt_start(&L, "allow_other,user_max_maps=3,user_max_bytes=1M");
	open_up(&L);
	char alice_ctl[4200];
	snprintf(alice_ctl, sizeof alice_ctl, "%s", mp(&L, "ctl"));
	struct as_job j;
	for (int i = 0; i < 3; i++) {
		j = locked_as(ALICE, -1, alice_ctl, "map anon length=4096");
		cr_expect_eq(j.result, 0, "alice's map %d: %s", i, j.out);
	}
	j = locked_as(ALICE, -1, alice_ctl, "map anon length=4096");
	cr_expect_eq(j.result, -ENOSPC, "alice's 4th: %s", j.out);
	cr_expect(strstr(j.out, "user_max_maps"), "%s", j.out);
	j = locked_as(BOB, -1, alice_ctl, "map anon length=4096 name=bobs");
	cr_expect_eq(j.result, 0, "bob still maps: %s", j.out);
	/* Closing one makes room again. */
	j = locked_as(ALICE, -1, alice_ctl, "close 0");
	cr_expect_eq(j.result, 0, "%s", j.out);
	j = locked_as(ALICE, -1, alice_ctl, "map anon length=4096 name=again");
	cr_expect_eq(j.result, 0, "%s", j.out);

	/* Bytes: bob has 4K; 1M more is past his share, 900K is not; alice,
	 * at 12K, is not held back by bob. */
	j = locked_as(BOB, -1, alice_ctl, "map anon length=1M");
	cr_expect_eq(j.result, -ENOSPC, "%s", j.out);
	cr_expect(strstr(j.out, "user_max_bytes"), "%s", j.out);
	j = locked_as(BOB, -1, alice_ctl, "map anon length=900K name=big");
	cr_expect_eq(j.result, 0, "%s", j.out);
	/* Growing counts as well. */
	j = locked_as(BOB, -1, mp(&L, "maps/big/ctl"), "resize 1M");
	cr_expect_eq(j.result, -ENOSPC, "%s", j.out);
	j = locked_as(ALICE, -1, alice_ctl, "close again");
	cr_expect_eq(j.result, 0, "%s", j.out);
	j = locked_as(ALICE, -1, alice_ctl, "map anon length=900K");
	cr_expect_eq(j.result, 0, "%s", j.out);
	/* The server's own user (root) has only the totals. */
	for (int i = 0; i < 4; i++) {
		char out[256];
		cr_expect_eq(cmd(&L, "ctl", "map anon length=1M", out, sizeof out), 0, "%s", out);
	}
	mnt_stop(&L);
}

/* ---- callers the server cannot see ------------------------------------ */

/* Mount a server in a pid namespace of its own: FUSE then reports every
 * caller's pid as 0, so neither their groups nor their limits can be read. */
static void mnt_start_blind(struct mnt *m, const char *opts)
{
	const char *real = getenv("MMAPFS_BIN");
	char real_abs[PATH_MAX], wrapper[PATH_MAX], script[PATH_MAX * 2];
	cr_assert(realpath(real ? real : "src/server/mmapfs", real_abs), "the server binary");
	const char *tmp = getenv("TMPDIR");
	snprintf(wrapper, sizeof wrapper, "%s/blind-mmapfs.%d", tmp && *tmp ? tmp : "/tmp",
		 (int)getpid());
	snprintf(script, sizeof script,
		 "#!/bin/sh\nexec unshare --pid --fork --kill-child '%s' \"$@\"\n", real_abs);
	make_file(wrapper, script, strlen(script));
	cr_assert(chmod(wrapper, 0755) == 0);
	cr_assert(setenv("MMAPFS_BIN", wrapper, 1) == 0);
	mnt_start(m, opts);
	if (real)
		setenv("MMAPFS_BIN", real, 1);
	else
		unsetenv("MMAPFS_BIN");
	unlink(wrapper);
}

Test(security_open, unknown_groups_refuse_map)
{
	struct mnt B;
	mnt_start_blind(&B, "allow_other");
	char out[512], command[4200];
	cr_expect_eq(cmd(&B, "ctl", "map anon length=4096", out, sizeof out), -EPERM, "%s", out);
	cr_expect(strstr(out, "groups"), "%s", out);
	make_file(sp(&B, "f"), "data", 4);
	snprintf(command, sizeof command, "map %s access=read", sp(&B, "f"));
	cr_expect_eq(cmd(&B, "ctl", command, out, sizeof out), -EPERM, "%s", out);
	/* Only map needs them. */
	cr_expect_eq(cmd(&B, "ctl", "close nosuch", out, sizeof out), -ENOENT, "%s", out);
	mnt_stop(&B);
}

Test(security_open, unknown_limits_refuse_locked)
{
	struct mnt B;
	mnt_start_blind(&B, NULL);
	char out[512];
	cr_expect_eq(cmd(&B, "ctl", "map anon length=4096 flags=private,locked", out, sizeof out),
		     -EPERM, "%s", out);
	cr_expect(strstr(out, "cannot be read"), "%s", out);
	cr_expect_eq(cmd(&B, "ctl", "map anon length=4096 name=plain", out, sizeof out), 0, "%s",
		     out);
	mnt_stop(&B);
}

/* ---- when the opener cannot be started -------------------------------- */

static bool write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return false;
	bool ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	close(fd);
	return ok;
}

Test(security_open, a_map_is_refused_when_the_opener_cannot_start)
{
	/* A pids cgroup that holds the server and no room for one more task
	 * makes clone() fail with EAGAIN. */
	char cg[128], path[256], pid[32], command[4200];
	snprintf(cg, sizeof cg, "/sys/fs/cgroup/pids/mmapfs-test.%d", (int)getpid());
	if (mkdir(cg, 0755) < 0)
		cr_skip_test("no pids cgroup to limit the server with: %s", strerror(errno));
	snprintf(pid, sizeof pid, "%d", (int)M.pid);
	snprintf(path, sizeof path, "%s/cgroup.procs", cg);
	bool moved = write_text(path, pid);
	snprintf(path, sizeof path, "%s/pids.current", cg);
	char *current = read_all(path, NULL);
	snprintf(path, sizeof path, "%s/pids.max", cg);
	bool limited = moved && current && write_text(path, current);
	free(current);

	make_file(sp(&M, "plain"), "data", 4);
	chmod(sp(&M, "plain"), 0644);
	snprintf(command, sizeof command, "map %s access=read name=p", sp(&M, "plain"));
	struct as_job j = { 0 };
	if (limited) {
		j = as(NOBODY, command);
		/* Anonymous memory opens nothing: it still works. */
		cr_expect_eq(as(NOBODY, "map anon length=4096 name=anon").result, 0);
	}
	/* Undo before asserting: the server must leave the cgroup. */
	write_text(path, "max");
	write_text("/sys/fs/cgroup/pids/cgroup.procs", pid);
	rmdir(cg);
	cr_assert(limited, "could not limit the server's cgroup");
	cr_expect_eq(j.result, -EAGAIN, "%s", j.out);
	cr_expect(strstr(j.out, "clone"), "%s", j.out);
	cr_expect(!mapping_exists("p"));
	j = as(NOBODY, command);
	cr_expect_eq(j.result, 0, "with room again: %s", j.out);
}

Test(security_open, descriptors_of_the_callers_other_processes_work)
{
	char dir[4200], file[4300];
	snprintf(dir, sizeof dir, "%s", sp(&M, "pub2"));
	cr_assert(mkdir(dir, 01777) == 0 && chmod(dir, 01777) == 0);
	snprintf(file, sizeof file, "%s/held", dir);
	int fd = open(file, O_RDWR | O_CREAT | O_EXCL, 0600);
	cr_assert(fd >= 0 && pwrite(fd, "sibling", 7, 0) == 7 && fchown(fd, NOBODY, NOBODY) == 0);
	close(fd);
	struct as_job j = { .uid = NOBODY, .gid = NOBODY, .memlock = -1, .hold = file,
			    .unlink_held = true, .sibling = true,
			    .command = "map /proc/{pid}/fd/{fd} access=read name=sib" };
	run_as(&j);
	cr_expect_eq(j.result, 0, "%s", j.out);
	char *text = read_all(mp(&M, "maps/sib/data"), NULL);
	cr_expect_str_eq(text, "sibling");
	free(text);
	/* Another user's process is not the caller's: bob cannot reach it. */
	j.uid = j.gid = BOB;
	j.hold = NULL;
	j.sibling = false;
	j.command = "map /proc/1/fd/0 access=read";
	run_as(&j);
	cr_expect_lt(j.result, 0, "%s", j.out);
}

/* Without allow_other the open stays in the server, and /dev/fd still
 * means the writer's descriptors, not the server's. */
Test(security_open, dev_fd_means_the_writer_without_allow_other_too)
{
	struct mnt S;
	mnt_start(&S, NULL);
	make_file(sp(&S, "mine"), "writer's", 8);
	int fd = open(sp(&S, "mine"), O_RDONLY);
	cr_assert(fd >= 0);
	char command[128], out[512];
	snprintf(command, sizeof command, "map /dev/fd/%d access=read name=w", fd);
	cr_expect_eq(cmd(&S, "ctl", command, out, sizeof out), 0, "%s", out);
	char *text = read_all(mp(&S, "maps/w/source"), NULL);
	cr_expect(text && strstr(text, "/mine"), "source: %s", text);
	free(text);
	close(fd);
	mnt_stop(&S);
}
