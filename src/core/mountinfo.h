/* mountinfo.h - reading /proc/self/mountinfo: the kernel writes a space,
 * tab, newline and backslash in a path as the octal escapes \040, \011,
 * \012 and \134, so every path read from it is decoded before use. */
#ifndef MMAPFS_MOUNTINFO_H
#define MMAPFS_MOUNTINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Decode mountinfo's octal escapes (a backslash and three octal digits) in
 * place; any other backslash stays as it is. Returns the decoded length. */
size_t mountinfo_unescape(char *s);

/* One line of mountinfo, its fields decoded. */
struct mount_entry {
	int id;			/* the mount id (statx's STATX_MNT_ID) */
	dev_t dev;		/* major:minor */
	const char *point;	/* the mount point, decoded */
	const char *fstype;	/* e.g. "ext4", "fuse.mmapfs" */
};

/* Split one line of mountinfo (modified in place) into e. Returns false for
 * a line that does not have mountinfo's shape. */
bool mountinfo_parse_line(char *line, struct mount_entry *e);

/* Whether a file system type speaks the FUSE protocol to a server process:
 * "fuse", "fuse.NAME", "fuseblk" and "virtiofs" (all FUSE_SUPER_MAGIC). */
bool fstype_is_fuse(const char *fstype);

/* The device of the mount on top at exactly this (absolute, canonical)
 * mount point, or 0 if none: read from mountinfo, since a stat() of the
 * mount point would ask a FUSE server that may not be serving yet. */
dev_t mountinfo_device_of(const char *point);

/* Which mounts of this mount namespace are FUSE mounts, read at once. */
struct mount_ids {
	struct mount_id {
		int id;
		dev_t dev;
		bool fuse;
	} *v;
	size_t n, cap;
};

enum mount_kind { MOUNT_UNKNOWN, MOUNT_FUSE, MOUNT_OTHER };

/* 0, or -errno if mountinfo cannot be read. */
int mount_ids_read(struct mount_ids *ids);
/* MOUNT_UNKNOWN: not in this namespace's mountinfo (another namespace's
 * mount, reached through /proc/PID/root, or one detached since). */
enum mount_kind mount_ids_kind(const struct mount_ids *ids, int id);
/* The kind of any mount of the file system on device dev: a superblock
 * mounted elsewhere too (a bind mount, another namespace) has one type. */
enum mount_kind mount_ids_kind_of_dev(const struct mount_ids *ids, dev_t dev);
void mount_ids_free(struct mount_ids *ids);

#endif
