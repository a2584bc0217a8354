/* tree.c - names of the files in the tree. */
#include "config.h"
#include "view/tree.h"

#include <string.h>

static const char *const root_names[] = {
	[NODE_CTL] = "ctl",
	[NODE_PAGESIZE] = "pagesize",
	[NODE_ALLOCGRAN] = "allocationgranularity",
	[NODE_STATS] = "stats",
	[NODE_LOG] = "log",
	[NODE_MAPS] = "maps",
};

static const char *const kind_names[KIND_COUNT] = {
	[KIND_DATA] = "data",
	[KIND_CTL] = "ctl",
	[KIND_SIZE] = "size",
	[KIND_POS] = "pos",
	[KIND_ACCESS] = "access",
	[KIND_FILESIZE] = "filesize",
	[KIND_OFFSET] = "offset",
	[KIND_FLAGS] = "flags",
	[KIND_PROT] = "prot",
	[KIND_SOURCE] = "source",
	[KIND_STREAM] = "stream",
	[KIND_LINE] = "line",
	[KIND_PAGES] = "pages",
	[KIND_SMAPS] = "smaps",
	[KIND_PAGEMAP] = "pagemap",
};

const char *tree_root_name(enum node n)
{
	return n > NODE_ROOT && n <= NODE_ROOT_LAST ? root_names[n] : NULL;
}

enum node tree_root_lookup(const char *name)
{
	for (int n = NODE_CTL; n <= NODE_ROOT_LAST; n++)
		if (strcmp(root_names[n], name) == 0)
			return (enum node)n;
	return NODE_NONE;
}

const char *tree_kind_name(enum kind k)
{
	return k > KIND_DIR && k < KIND_COUNT ? kind_names[k] : NULL;
}

enum kind tree_kind_lookup(const char *name)
{
	for (int k = KIND_DATA; k < KIND_COUNT; k++)
		if (strcmp(kind_names[k], name) == 0)
			return (enum kind)k;
	return KIND_DIR;
}
