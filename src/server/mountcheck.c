/* mountcheck.c - reading /proc/self/mountinfo for a mount of mmapfs. */
#include "config.h"
#include "server/mountcheck.h"

#include <stdlib.h>
#include <string.h>

#include "core/mountinfo.h"

/* The n-th space-separated field of line (from 0), cut out in place. */
static char *field_at(char *line, int n, char **rest)
{
	char *save, *tok = strtok_r(line, " \n", &save);
	for (int i = 0; tok && i < n; i++)
		tok = strtok_r(NULL, " \n", &save);
	*rest = save;
	return tok;
}

/* A mount of mmapfs: its type is fuse.mmapfs (the subtype libfuse takes from
 * the program's name), or plain fuse with mmapfs as its source. */
static bool is_mmapfs(char *after_point)
{
	char *save, *tok = strtok_r(after_point, " \n", &save);
	while (tok && strcmp(tok, "-") != 0) /* the optional fields end with "-" */
		tok = strtok_r(NULL, " \n", &save);
	char *type = tok ? strtok_r(NULL, " \n", &save) : NULL;
	char *source = type ? strtok_r(NULL, " \n", &save) : NULL;
	if (!type)
		return false;
	return strcmp(type, "fuse.mmapfs") == 0 ||
	       (strcmp(type, "fuse") == 0 && source && strcmp(source, "mmapfs") == 0);
}

bool mmapfs_mounted_at(FILE *mountinfo, const char *path)
{
	char *line = NULL;
	size_t cap = 0;
	bool found = false;
	while (getline(&line, &cap, mountinfo) > 0) {
		char *rest, *point = field_at(line, 4, &rest);
		if (!point)
			continue;
		mountinfo_unescape(point);
		if (strcmp(point, path) == 0)
			found = is_mmapfs(rest); /* later lines are mounted on top */
	}
	free(line);
	return found;
}

bool second_mount_refused(const char *mountpoint)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	bool refused = f && mmapfs_mounted_at(f, mountpoint);
	if (f)
		fclose(f);
	if (refused)
		fprintf(stderr,
			"mmapfs: %s: an mmapfs is already mounted there; mounting another "
			"would hide its mappings (unmount it first: fusermount3 -u %s)\n",
			mountpoint, mountpoint);
	return refused;
}
