/* it_security.c - with allow_other: permissions are enforced, mapping
 * directories belong to their creator, and `map` opens the backing file
 * as the caller (uid, gid and supplementary groups). Needs root, to mount
 * and to act as other users (plain uids with no passwd entry). */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/harness.h"

#define ALICE 41001
#define BOB 41002
#define SHARED_GROUP 41100


static void up(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to act as other users");
	mnt_start(&M, "allow_other");
	/* Other users must be able to reach the mount and the scratch files
	 * (run-test.sh makes the private TMPDIR that holds both mode 0700). */
	char parent[sizeof M.dir];
	snprintf(parent, sizeof parent, "%s", M.dir);
	*strrchr(parent, '/') = '\0';
	cr_assert(chmod(parent, 0755) == 0 && chmod(M.scratch, 0755) == 0);
}

TestSuite(security, .init = up, .fini = mnt_down, .timeout = 60);

/* Run a shell command line as uid (gid = uid, plus the given groups);
 * returns its exit status and its first output line. */
static int as_user(uid_t uid, const gid_t *groups, int ngroups, const char *line, char *out,
		   size_t cap)
{
	int p[2];
	cr_assert(pipe(p) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		if (setgroups((size_t)ngroups, groups) || setgid(uid) || setuid(uid))
			_exit(99);
		execl("/bin/sh", "sh", "-c", line, (char *)NULL);
		_exit(98);
	}
	close(p[1]);
	ssize_t n = read(p[0], out, cap - 1);
	out[n > 0 ? n : 0] = '\0';
	char *nl = strchr(out, '\n');
	if (nl)
		*nl = '\0';
	close(p[0]);
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* `map ...` through the root ctl as uid; the result line lands in out. */
static void map_as(uid_t uid, const gid_t *groups, int ngroups, const char *args, char *out,
		   size_t cap)
{
	char line[16384];
	snprintf(line, sizeof line, "exec 3<>%s; printf 'map %s' >&3; read -r r <&3; echo \"$r\"",
		 mp(&M, "ctl"), args);
	as_user(uid, groups, ngroups, line, out, cap);
}

static void owned_file(const char *path, uid_t uid, gid_t gid, mode_t mode)
{
	make_file(path, "secret!", 7);
	cr_assert(chown(path, uid, gid) == 0 && chmod(path, mode) == 0);
}

Test(security, root_ctl_is_open_to_all_and_permissions_are_enforced)
{
	struct stat st;
	cr_assert_eq(stat(mp(&M, "ctl"), &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0666);
}

Test(security, nobody_maps_a_file_they_could_not_open)
{
	char out[512], args[4200];
	owned_file(sp(&M, "root-only"), 0, 0, 0600);
	snprintf(args, sizeof args, "%s access=read", sp(&M, "root-only"));
	map_as(ALICE, NULL, 0, args, out, sizeof out);
	cr_expect_str_eq(out, "error: Permission denied");

	owned_file(sp(&M, "readable"), 0, 0, 0644);
	snprintf(args, sizeof args, "%s access=write", sp(&M, "readable"));
	map_as(ALICE, NULL, 0, args, out, sizeof out);
	cr_expect_str_eq(out, "error: Permission denied", "write access needs write permission");
	snprintf(args, sizeof args, "%s access=read name=ro", sp(&M, "readable"));
	map_as(ALICE, NULL, 0, args, out, sizeof out);
	cr_expect_str_eq(out, "ro");
}

Test(security, supplementary_groups_count)
{
	char out[512], args[4200];
	owned_file(sp(&M, "group-file"), 0, SHARED_GROUP, 0640);
	snprintf(args, sizeof args, "%s access=read name=viagroup", sp(&M, "group-file"));
	map_as(BOB, NULL, 0, args, out, sizeof out);
	cr_expect_str_eq(out, "error: Permission denied");
	gid_t g = SHARED_GROUP;
	map_as(BOB, &g, 1, args, out, sizeof out);
	cr_expect_str_eq(out, "viagroup");
}

Test(security, a_mapping_belongs_to_its_creator)
{
	char out[512], args[4200], line[4200];
	owned_file(sp(&M, "alices"), ALICE, ALICE, 0600);
	snprintf(args, sizeof args, "%s name=a", sp(&M, "alices"));
	map_as(ALICE, NULL, 0, args, out, sizeof out);
	cr_assert_str_eq(out, "a");
	struct stat st;
	cr_assert_eq(stat(mp(&M, "maps/a"), &st), 0);
	cr_expect_eq(st.st_uid, ALICE);
	cr_expect_eq(st.st_mode & 0777, 0700);

	snprintf(line, sizeof line, "cat %s", mp(&M, "maps/a/data"));
	cr_expect_eq(as_user(ALICE, NULL, 0, line, out, sizeof out), 0);
	cr_expect_str_eq(out, "secret!");
	cr_expect_neq(as_user(BOB, NULL, 0, line, out, sizeof out), 0, "bob cannot read it");

	snprintf(line, sizeof line, "rmdir %s", mp(&M, "maps/a"));
	cr_expect_neq(as_user(BOB, NULL, 0, line, out, sizeof out), 0, "bob cannot rmdir it");
	snprintf(line, sizeof line, "exec 3<>%s; printf 'close a' >&3; read -r r <&3; echo \"$r\"",
		 mp(&M, "ctl"));
	as_user(BOB, NULL, 0, line, out, sizeof out);
	cr_expect_str_eq(out, "error: mapping 'a' belongs to another user");
	cr_expect_eq(stat(mp(&M, "maps/a"), &st), 0, "still there");
	as_user(ALICE, NULL, 0, line, out, sizeof out);
	cr_expect_str_eq(out, "ok");
}
