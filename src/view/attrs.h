/* attrs.h - the text of the generated files: a mapping's attribute files
 * and the root's pagesize, allocationgranularity and stats. */
#ifndef MMAPFS_ATTRS_H
#define MMAPFS_ATTRS_H

#include <stddef.h>
#include <sys/types.h>

#include "core/mapping.h"
#include "core/msg.h"
#include "core/table.h"
#include "view/tree.h"

/* Render one attribute file of a mapping into a malloc'd buffer. */
int attrs_render(struct mapping *m, enum kind k, char **text, size_t *len, struct msg *msg);

/* Render pagesize, allocationgranularity or stats. */
int attrs_root_render(struct table *t, enum node n, char **text, size_t *len);

#endif
