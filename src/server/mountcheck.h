/* mountcheck.h - whether an mmapfs is already mounted on a directory, so a
 * second server refuses to hide the first one's mappings. */
#ifndef MMAPFS_MOUNTCHECK_H
#define MMAPFS_MOUNTCHECK_H

#include <stdbool.h>
#include <stdio.h>

/* Whether the topmost mount at exactly path (absolute, resolved) in the
 * mountinfo text read from f is a FUSE mount of mmapfs. */
bool mmapfs_mounted_at(FILE *mountinfo, const char *path);

/* Whether mounting on mountpoint must be refused because an mmapfs is
 * mounted there already (it would hide that one's mappings); says so on
 * stderr. */
bool second_mount_refused(const char *mountpoint);

#endif
