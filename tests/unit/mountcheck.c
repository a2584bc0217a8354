/* unit_mountcheck.c - finding a mount of mmapfs at exactly a path in
 * mountinfo text: escapes decoded, the topmost mount counts, other
 * filesystems and other paths do not. */
#include "lib/unit_util.h"

#include "server/mountcheck.h"

static bool at(const char *mountinfo, const char *path)
{
	FILE *f = fmemopen((void *)mountinfo, strlen(mountinfo), "r");
	cr_assert(f);
	bool found = mmapfs_mounted_at(f, path);
	fclose(f);
	return found;
}

#define ROOT "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
#define MMAPFS(id, point) id " 22 0:39 / " point " rw,nosuid,nodev,relatime - fuse.mmapfs mmapfs rw,user_id=0,group_id=0\n"

Test(mountcheck, an_mmapfs_at_exactly_the_path)
{
	cr_expect(at(ROOT MMAPFS("42", "/tmp/m"), "/tmp/m"));
	cr_expect(!at(ROOT MMAPFS("42", "/tmp/m"), "/tmp/m2"), "a longer path is another directory");
	cr_expect(!at(ROOT MMAPFS("42", "/tmp/m2"), "/tmp/m"), "a shorter path too");
	cr_expect(!at(ROOT MMAPFS("42", "/tmp/m"), "/tmp"), "the parent is not the mount");
	cr_expect(!at(ROOT, "/tmp/m"));
	cr_expect(!at("", "/tmp/m"));
}

Test(mountcheck, escapes_in_the_mount_point_are_decoded)
{
	cr_expect(at(ROOT MMAPFS("42", "/tmp/a\\040b"), "/tmp/a b"));
	cr_expect(at(ROOT MMAPFS("42", "/tmp/t\\011n\\012l\\134s"), "/tmp/t\tn\nl\\s"));
	cr_expect(!at(ROOT MMAPFS("42", "/tmp/a\\040b"), "/tmp/a\\040b"), "the raw text is not the path");
}

Test(mountcheck, only_mmapfs_counts)
{
	cr_expect(!at(ROOT "42 22 0:40 / /tmp/m rw - fuse.sshfs host:/ rw\n", "/tmp/m"));
	cr_expect(!at(ROOT "42 22 0:40 / /tmp/m rw - tmpfs tmpfs rw\n", "/tmp/m"));
	cr_expect(at(ROOT "42 22 0:40 / /tmp/m rw - fuse mmapfs rw\n", "/tmp/m"),
		  "plain fuse with source mmapfs");
	cr_expect(!at(ROOT "42 22 0:40 / /tmp/m rw - fuse other rw\n", "/tmp/m"));
	cr_expect(at(ROOT "42 22 0:40 / /tmp/m rw shared:5 master:3 - fuse.mmapfs x rw\n", "/tmp/m"),
		  "optional fields before the separator");
}

Test(mountcheck, the_topmost_mount_counts)
{
	cr_expect(!at(ROOT MMAPFS("42", "/tmp/m") "43 42 0:41 / /tmp/m rw - tmpfs tmpfs rw\n",
		      "/tmp/m"), "something else mounted over it hides it");
	cr_expect(at(ROOT "41 22 0:41 / /tmp/m rw - tmpfs tmpfs rw\n" MMAPFS("42", "/tmp/m"),
		     "/tmp/m"));
}

Test(mountcheck, malformed_lines_are_skipped)
{
	cr_expect(!at("garbage\n\n1 2\n", "/tmp/m"));
	cr_expect(at("garbage\n" MMAPFS("42", "/tmp/m"), "/tmp/m"));
	cr_expect(!at("42 22 0:39 / /tmp/m rw\n", "/tmp/m"), "no separator, no type");
}
