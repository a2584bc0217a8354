/* command.h - the commands of the control files, run against the table
 * and its mappings. A command's result value ("ok", a name, an offset) or
 * its error message comes back as text; the return is 0 or -errno. */
#ifndef MMAPFS_COMMAND_H
#define MMAPFS_COMMAND_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/mapping.h"
#include "core/msg.h"
#include "core/table.h"

/* Who runs the command, and where the server is mounted. */
struct command_env {
	struct table *table;
	const char *mountpoint;
	dev_t own_dev;
	uid_t uid;
	gid_t gid;
	bool owners_only;	/* multi-user: only a mapping's owner (or root) closes it */
	const struct source_opener *opener;	/* how `map` opens; NULL: in-process */
	const struct memlock_source *memlock;	/* the caller's; NULL: may not lock */
	int map_refusal;	/* -errno: `map` fails with it, saying map_refusal_text */
	const char *map_refusal_text;
};

#define COMMAND_RESULT_MAX 96

/* The root ctl: map, close. */
int command_root(const struct command_env *env, const char *line, size_t len,
		 char result[COMMAND_RESULT_MAX], struct msg *msg);

/* A mapping's ctl: flush, madvise, move, resize, seek, find, rfind, lock,
 * unlock, touch, evict, close. */
int command_mapping(const struct command_env *env, struct mapping *m, const char *line,
		    size_t len, char result[COMMAND_RESULT_MAX], struct msg *msg);

/* `close NAME` (also rmdir maps/NAME): EINVAL for a bad name, ENOENT for an
 * unknown one, EACCES for another user's when owners_only. */
int command_close_name(const struct command_env *env, const char *name, size_t len,
		       struct msg *msg);

/* Seek as the `pos` file takes it: "OFFSET [WHENCE]". */
int command_seek_text(struct mapping *m, const char *text, size_t len, struct msg *msg);
/* Resize as the `size` file takes it: "N". */
int command_resize_text(struct mapping *m, const char *text, size_t len, struct msg *msg);

extern const char COMMAND_ROOT_USAGE[];
extern const char COMMAND_MAPPING_USAGE[];

#endif
