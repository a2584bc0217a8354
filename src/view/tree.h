/* tree.h - the files mmapfs shows, their names and inode numbers.
 *
 * The root's files have fixed inodes. A mapping's directory and files take
 * inodes made of the mapping's id (never reused) and the file's kind, so an
 * inode names its mapping without any per-inode state in the server, and a
 * file of a closed mapping can never be mistaken for one of a new mapping
 * that took the same name. */
#ifndef MMAPFS_TREE_H
#define MMAPFS_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum node {
	NODE_NONE = 0,
	NODE_ROOT = 1,
	NODE_CTL,
	NODE_PAGESIZE,
	NODE_ALLOCGRAN,
	NODE_STATS,
	NODE_LOG,
	NODE_MAPS,
	NODE_ROOT_LAST = NODE_MAPS,
};

/* Each lookup of the root ctl gets a node id of its own, from this one up,
 * so that every open of ctl has an inode of its own: the kernel takes an
 * inode's lock alone to truncate it (`echo CMD > ctl` opens with O_TRUNC),
 * which would otherwise wait for a slow command on any other open of ctl.
 * Every such id is the root ctl (tree_ino_canonical); stat shows NODE_CTL. */
#define TREE_CTL_OWN_FIRST ((uint64_t)1 << 62)

static inline uint64_t tree_ino_canonical(uint64_t ino)
{
	return ino >= TREE_CTL_OWN_FIRST ? NODE_CTL : ino;
}

/* Kinds of file inside maps/NAME/. */
enum kind {
	KIND_DIR = 0,
	KIND_DATA,
	KIND_CTL,
	KIND_SIZE,
	KIND_POS,
	KIND_ACCESS,
	KIND_FILESIZE,
	KIND_OFFSET,
	KIND_FLAGS,
	KIND_PROT,
	KIND_SOURCE,
	KIND_STREAM,
	KIND_LINE,
	KIND_PAGES,
	KIND_SMAPS,
	KIND_PAGEMAP,
	KIND_COUNT,
};

#define KIND_BITS 5

static inline uint64_t tree_ino(uint64_t id, enum kind k)
{
	return id << KIND_BITS | (uint64_t)k;
}

static inline uint64_t tree_ino_mapping_id(uint64_t ino)
{
	return ino >> KIND_BITS;
}

static inline enum kind tree_ino_kind(uint64_t ino)
{
	return (enum kind)(ino & ((1u << KIND_BITS) - 1));
}

static inline bool tree_ino_is_mapping(uint64_t ino)
{
	return ino > NODE_ROOT_LAST;
}

const char *tree_root_name(enum node n);
enum node tree_root_lookup(const char *name);
const char *tree_kind_name(enum kind k);
enum kind tree_kind_lookup(const char *name);

#endif
