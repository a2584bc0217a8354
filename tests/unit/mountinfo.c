/* unit_mountinfo.c - reading /proc/self/mountinfo (its octal escapes
 * decoded) and the path walk of the deadlock rule on file systems that are
 * not FUSE (tests/it/hangs.c has the FUSE side, through real mounts). */
#include "lib/unit_util.h"

#include <sched.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>

#include "core/deadlock.h"
#include "core/mountinfo.h"

TestSuite(mountinfo);
TestSuite(deadlock);

static void expect_unescaped(const char *in, const char *want, size_t want_len)
{
	char buf[256];
	snprintf(buf, sizeof buf, "%s", in);
	size_t n = mountinfo_unescape(buf);
	cr_expect_eq(n, want_len, "length of [%s]: %zu, wanted %zu", in, n, want_len);
	cr_expect(memcmp(buf, want, want_len + 1) == 0, "[%s] decodes to [%s], wanted [%s]",
		  in, buf, want);
}

Test(mountinfo, octal_escapes_decode)
{
	expect_unescaped("/tmp/m\\0403", "/tmp/m 3", 8);
	expect_unescaped("a\\011b", "a\tb", 3);
	expect_unescaped("a\\012b", "a\nb", 3);
	expect_unescaped("a\\134b", "a\\b", 3);
	expect_unescaped("\\040\\040", "  ", 2);
	expect_unescaped("end\\040", "end ", 4);
	expect_unescaped("plain/path", "plain/path", 10);
	expect_unescaped("", "", 0);
}

Test(mountinfo, decoding_happens_once)
{
	/* The kernel writes a name "\040" (backslash, 0, 4, 0) as \134040. */
	expect_unescaped("a\\134040", "a\\040", 5);
}

Test(mountinfo, what_is_not_an_escape_stays)
{
	expect_unescaped("a\\04", "a\\04", 4);
	expect_unescaped("a\\", "a\\", 2);
	expect_unescaped("a\\400", "a\\400", 5);
	expect_unescaped("a\\08x", "a\\08x", 5);
	expect_unescaped("a\\x41", "a\\x41", 5);
}

Test(mountinfo, a_line_splits_into_its_fields)
{
	char line[] = "36 35 98:17 /sub /mnt/a\\040b\\011c\\134d rw,noatime master:1 shared:2 "
		      "- fuse.mmapfs mmapfs rw,user_id=0\n";
	struct mount_entry e;
	cr_assert(mountinfo_parse_line(line, &e));
	cr_expect_eq(e.id, 36);
	cr_expect_eq(e.dev, makedev(98, 17));
	cr_expect_str_eq(e.point, "/mnt/a b\tc\\d");
	cr_expect_str_eq(e.fstype, "fuse.mmapfs");

	char bare[] = "1 0 0:5 / / rw - ext4 /dev/sda1 rw";
	cr_assert(mountinfo_parse_line(bare, &e), "no optional fields, no newline");
	cr_expect_str_eq(e.point, "/");
	cr_expect_str_eq(e.fstype, "ext4");
}

Test(mountinfo, malformed_lines_are_refused)
{
	static const char *const bad[] = { "", "36 35 98:0 /\n", "36 35 xx /a /b rw - ext4 x rw",
					   "36 35 98:0 / /b rw shared:1", "x 35 98:0 / /b rw - ext4 x rw",
					   "36 35 98:0 / /b rw -" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char line[128];
		snprintf(line, sizeof line, "%s", bad[i]);
		struct mount_entry e;
		cr_expect(!mountinfo_parse_line(line, &e), "[%s] is not a mountinfo line", bad[i]);
	}
}

Test(mountinfo, fuse_types)
{
	static const char *const fuse[] = { "fuse", "fuse.mmapfs", "fuse.sshfs", "fuseblk",
					    "virtiofs" };
	static const char *const other[] = { "fusectl", "ext4", "tmpfs", "fuse3", "proc", "" };
	for (size_t i = 0; i < sizeof fuse / sizeof fuse[0]; i++)
		cr_expect(fstype_is_fuse(fuse[i]), "%s is FUSE", fuse[i]);
	for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
		cr_expect(!fstype_is_fuse(other[i]), "%s is not FUSE", other[i]);
}

/* A real mount at a path with a space, a tab and a backslash, in a mount
 * namespace of this test's own: the kernel's escapes, decoded. */
Test(mountinfo, device_of_a_mount_point_with_escaped_characters)
{
	if (geteuid() != 0 || unshare(CLONE_NEWNS) != 0)
		cr_skip_test("needs root to mount a tmpfs in a mount namespace of its own");
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	char base[] = "/tmp/unit mountinfo.XXXXXX";
	cr_assert(mkdtemp(base));
	char point[256];
	snprintf(point, sizeof point, "%s/a b\tc\\d", base);
	cr_assert_eq(mkdir(point, 0700), 0);
	cr_assert_eq(mount("tmpfs", point, "tmpfs", 0, "size=64k"), 0, "%s", strerror(errno));
	struct stat st;
	cr_assert_eq(stat(point, &st), 0);
	dev_t dev = mountinfo_device_of(point);
	cr_expect_eq(dev, st.st_dev, "the device of '%s' from mountinfo", point);
	char undecoded[256];
	snprintf(undecoded, sizeof undecoded, "%s/a\\040b\\011c\\134d", base);
	cr_expect_eq(mountinfo_device_of(undecoded), 0, "the raw text names nothing");
	umount(point);
	rmdir(point);
	rmdir(base);
}

Test(mountinfo, mount_ids_know_this_namespace)
{
	struct mount_ids ids;
	cr_assert_eq(mount_ids_read(&ids), 0);
	struct statx stx;
	cr_assert_eq(statx(AT_FDCWD, "/proc", 0, 0, &stx), 0);
	cr_assert(stx.stx_mask & STATX_MNT_ID);
	cr_expect_eq(mount_ids_kind(&ids, (int)stx.stx_mnt_id), MOUNT_OTHER, "/proc is not FUSE");
	cr_expect_eq(mount_ids_kind(&ids, -1), MOUNT_UNKNOWN);
	mount_ids_free(&ids);
}

/* ---- the path walk, away from FUSE ---------------------------------------- */

static char dir[64];

static void make_dir(void)
{
	snprintf(dir, sizeof dir, "/tmp/unit-deadlock.XXXXXX");
	cr_assert(mkdtemp(dir));
}

static void remove_dir(void)
{
	char command[128];
	snprintf(command, sizeof command, "rm -rf '%s'", dir);
	cr_assert_eq(system(command), 0);
}

static const char *in_dir(const char *name)
{
	static char ring[4][256];
	static int next;
	char *p = ring[next++ % 4];
	snprintf(p, sizeof ring[0], "%s/%s", dir, name);
	return p;
}

static void expect_walk(const char *path, int want, const char *why)
{
	struct msg m = { "" };
	int rc = deadlock_check_path(path, 0, &m);
	cr_expect_eq(rc, want, "%s (%s): %d (%s), wanted %d", why, path, rc, m.text, want);
}

Test(deadlock, plain_paths_symlinks_and_dotdot_pass, .init = make_dir, .fini = remove_dir)
{
	int fd = open(in_dir("f"), O_CREAT | O_RDWR, 0600);
	cr_assert(fd >= 0);
	cr_assert_eq(mkdir(in_dir("sub"), 0700), 0);
	cr_assert_eq(symlink(in_dir("f"), in_dir("abs")), 0);
	cr_assert_eq(symlink("sub/../f", in_dir("rel")), 0);
	cr_assert_eq(symlink("abs", in_dir("chain")), 0);
	cr_assert_eq(symlink(dir, in_dir("sub/up")), 0);
	expect_walk(in_dir("f"), 0, "a file");
	expect_walk(in_dir("./sub/../f"), 0, "dot and dotdot");
	expect_walk(in_dir("abs"), 0, "an absolute symlink");
	expect_walk(in_dir("rel"), 0, "a relative symlink through ..");
	expect_walk(in_dir("chain"), 0, "a symlink to a symlink");
	expect_walk(in_dir("sub/up/sub/up/f"), 0, "a symlink to a directory, twice");
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	expect_walk(path, 0, "a /proc magic link");
	snprintf(path, sizeof path, "/dev/fd/%d", fd);
	expect_walk(path, 0, "/dev/fd, a symlink to a /proc directory");
	cr_assert_eq(unlink(in_dir("f")), 0);
	snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)getpid(), fd);
	expect_walk(path, 0, "a magic link to an unlinked file");
	close(fd);
	expect_walk("/proc/self/cwd", 0, "the cwd link");
}

Test(deadlock, the_walk_fails_as_open_would, .init = make_dir, .fini = remove_dir)
{
	cr_assert_eq(symlink("loop", in_dir("loop")), 0);
	cr_assert_eq(symlink("nowhere", in_dir("dangling")), 0);
	close(open(in_dir("f"), O_CREAT | O_RDWR, 0600));
	expect_walk(in_dir("missing"), -ENOENT, "a missing file");
	expect_walk(in_dir("dangling"), -ENOENT, "a dangling symlink");
	expect_walk(in_dir("loop"), -ELOOP, "a symlink loop");
	expect_walk(in_dir("f/x"), -ENOTDIR, "a file used as a directory");
	expect_walk("relative/path", -EINVAL, "a relative path");
	struct msg m = { "" };
	cr_expect_eq(deadlock_check_path(in_dir("loop"), 0, &m), -ELOOP);
	cr_expect(strlen(m.text) > 0, "a message");
}

Test(deadlock, an_open_descriptor_off_fuse_passes, .init = make_dir, .fini = remove_dir)
{
	int fd = open(in_dir("f"), O_CREAT | O_RDWR, 0600);
	cr_assert(fd >= 0);
	struct msg m = { "" };
	cr_expect_eq(deadlock_check_fd(fd, 0, &m), 0, "%s", m.text);
	close(fd);
}

/* Files on the kernel's own mounts, which no mountinfo lists: a memfd is a
 * file that is not FUSE; a pipe is no file at all. */
Test(deadlock, memfds_pass_and_pipes_are_not_files)
{
	int fd = memfd_create("unit", MFD_CLOEXEC);
	cr_assert(fd >= 0);
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	expect_walk(path, 0, "a memfd");
	struct msg m = { "" };
	cr_expect_eq(deadlock_check_fd(fd, 0, &m), 0, "%s", m.text);
	close(fd);
	int p[2];
	cr_assert_eq(pipe(p), 0);
	snprintf(path, sizeof path, "/proc/self/fd/%d", p[0]);
	expect_walk(path, -ENODEV, "a pipe");
	cr_expect_eq(deadlock_check_fd(p[0], 0, &m), -ENODEV, "%s", m.text);
	close(p[0]);
	close(p[1]);
}
