/* mapname.h - what a mapping's name may be, for the server and mmapctl
 * alike (SPEC: 1-64 characters of [A-Za-z0-9._-], not starting with '.'). */
#ifndef MMAPFS_MAPNAME_H
#define MMAPFS_MAPNAME_H

#include <stdbool.h>
#include <stddef.h>

/* The longest name, in bytes. */
#define MAPNAME_MAX 64

/* Whether name[0..len) is a valid mapping name. len, not a NUL, ends it: a
 * name from a command line may hold a NUL byte, which makes it invalid. */
bool mapname_valid(const char *name, size_t len);

#endif
