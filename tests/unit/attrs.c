/* unit_attrs.c - the text of a mapping's attribute files and of the root's
 * pagesize, allocationgranularity and stats, and the names and inode
 * numbers of the tree. */
#include "lib/unit_util.h"

#include "view/attrs.h"
#include "core/table.h"
#include "view/tree.h"

TestSuite(attrs, .fini = remove_made_files);
TestSuite(root_files);
TestSuite(tree);

static void expect_attr(struct mapping *m, enum kind k, const char *want)
{
	char *text = NULL;
	size_t len = 0;
	struct msg msg = { "" };
	int rc = attrs_render(m, k, &text, &len, &msg);
	cr_expect_eq(rc, 0, "%s: %s", tree_kind_name(k), msg.text);
	if (rc < 0)
		return;
	cr_expect_eq(len, strlen(want), "%s", tree_kind_name(k));
	cr_expect_str_eq(text, want, "%s", tree_kind_name(k));
	free(text);
}

static void expect_attr_error(struct mapping *m, enum kind k, int errnum, const char *message)
{
	char *text = NULL;
	size_t len = 0;
	struct msg msg = { "" };
	expect_error(attrs_render(m, k, &text, &len, &msg), errnum, msg, message);
	cr_expect_null(text);
}

Test(attrs, of_a_file_mapping)
{
	const char *path = make_abc_file(3 * (size_t)page());
	char real[PATH_MAX], want[PATH_MAX + 2];
	cr_assert_not_null(realpath(path, real));
	struct mapping_request r;
	mapping_request_init(&r);
	r.source = path;
	r.offset = page();
	r.length = 100;
	struct mapping *m = must_map(&r);
	cr_assert_eq(mapping_seek(m, 7, 0, NULL), 0);
	expect_attr(m, KIND_SIZE, "100\n");
	expect_attr(m, KIND_POS, "7\n");
	expect_attr(m, KIND_ACCESS, "default\n");
	snprintf(want, sizeof want, "%ld\n", page());
	expect_attr(m, KIND_OFFSET, want);
	expect_attr(m, KIND_FLAGS, "shared\n");
	expect_attr(m, KIND_PROT, "read,write\n");
	snprintf(want, sizeof want, "%s\n", real);
	expect_attr(m, KIND_SOURCE, want);
	snprintf(want, sizeof want, "%ld\n", 3 * page());
	expect_attr(m, KIND_FILESIZE, want);
	mapping_unref(m);
}

Test(attrs, follow_the_mapping)
{
	struct mapping *m = map_path(make_abc_file(10));
	cr_assert_eq(mapping_resize(m, 20, NULL), 0);
	cr_assert_eq(mapping_seek(m, 0, 2, NULL), 0);
	expect_attr(m, KIND_SIZE, "20\n");
	expect_attr(m, KIND_POS, "20\n");
	expect_attr(m, KIND_FILESIZE, "20\n");
	mapping_unref(m);
}

Test(attrs, of_private_anonymous_memory)
{
	struct mapping_request r;
	mapping_request_init(&r);
	r.length = 5000;
	r.flags = MAP_PRIVATE | MAP_NORESERVE;
	r.prot = PROT_READ;
	struct mapping *m = must_map(&r);
	expect_attr(m, KIND_SIZE, "5000\n");
	expect_attr(m, KIND_ACCESS, "read\n");
	expect_attr(m, KIND_OFFSET, "0\n");
	expect_attr(m, KIND_FLAGS, "private,noreserve\n");
	expect_attr(m, KIND_PROT, "read\n");
	expect_attr(m, KIND_SOURCE, "anonymous\n");
	expect_attr(m, KIND_FILESIZE, "5000\n");
	mapping_unref(m);
}

Test(attrs, copy_access)
{
	struct mapping_request r;
	mapping_request_init(&r);
	r.source = make_abc_file(10);
	r.access = ACCESS_COPY;
	struct mapping *m = must_map(&r);
	expect_attr(m, KIND_ACCESS, "copy\n");
	expect_attr(m, KIND_FLAGS, "private\n");
	expect_attr(m, KIND_PROT, "read,write\n");
	mapping_unref(m);
}

Test(attrs, prot_none)
{
	struct mapping_request r;
	mapping_request_init(&r);
	r.length = 4096;
	r.prot = PROT_NONE;
	struct mapping *m = must_map(&r);
	expect_attr(m, KIND_PROT, "none\n");
	expect_attr(m, KIND_ACCESS, "read\n");
	mapping_unref(m);
}

Test(attrs, filesize_with_trackfd_no)
{
	struct mapping_request r;
	mapping_request_init(&r);
	r.source = make_abc_file(10);
	r.trackfd = false;
	struct mapping *m = must_map(&r);
	expect_attr_error(m, KIND_FILESIZE, EBADF, "can't get size with trackfd=False");
	expect_attr(m, KIND_SIZE, "10\n");
	mapping_unref(m);
}

Test(attrs, of_a_closed_mapping)
{
	struct mapping *m = map_anon(4096, MAP_SHARED);
	cr_assert_eq(mapping_close(m, false, NULL), 0);
	expect_attr_error(m, KIND_SIZE, ENXIO, "mmap closed or invalid");
	expect_attr_error(m, KIND_SOURCE, ENXIO, "mmap closed or invalid");
	mapping_unref(m);
}

Test(attrs, files_that_are_not_attributes)
{
	struct mapping *m = map_anon(4096, MAP_SHARED);
	expect_attr_error(m, KIND_DATA, EINVAL, "not an attribute file");
	expect_attr_error(m, KIND_CTL, EINVAL, "not an attribute file");
	expect_attr_error(m, KIND_STREAM, EINVAL, "not an attribute file");
	mapping_unref(m);
}

static void expect_root(struct table *t, enum node n, const char *want)
{
	char *text = NULL;
	size_t len = 0;
	cr_assert_eq(attrs_root_render(t, n, &text, &len), 0);
	cr_expect_eq(len, strlen(want));
	cr_expect_str_eq(text, want);
	free(text);
}

Test(root_files, pagesize_and_allocationgranularity)
{
	char want[32];
	snprintf(want, sizeof want, "%ld\n", page());
	expect_root(NULL, NODE_PAGESIZE, want);
	expect_root(NULL, NODE_ALLOCGRAN, want);
}

Test(root_files, stats)
{
	struct table t;
	cr_assert_eq(table_init(&t, 100000, 1099511627776ULL), 0);
	expect_root(&t, NODE_STATS, "maps 0\nbytes 0\nmax_maps 100000\nmax_bytes 1099511627776\n"
		    "resident 0\n");
	struct mapping *m = mapping_new();
	cr_assert_eq(table_reserve(&t, m, NULL, 0, NULL), 0);
	struct mapping_request r;
	mapping_request_init(&r);
	r.length = 8192;
	cr_assert_eq(mapping_establish(m, &r, &t.budget, NULL), 0);
	table_publish(&t, m);
	mapping_unref(m);
	/* Untouched anonymous memory has no resident pages yet. */
	expect_root(&t, NODE_STATS, "maps 1\nbytes 8192\nmax_maps 100000\nmax_bytes 1099511627776\n"
		    "resident 0\n");
	table_destroy(&t);
}

Test(root_files, other_nodes_have_no_text)
{
	char *text = NULL;
	size_t len;
	cr_expect_eq(attrs_root_render(NULL, NODE_CTL, &text, &len), -EINVAL);
	cr_expect_eq(attrs_root_render(NULL, NODE_LOG, &text, &len), -EINVAL);
	cr_expect_null(text);
}

Test(tree, root_file_names_round_trip)
{
	const char *names[] = { "ctl", "pagesize", "allocationgranularity", "stats", "log", "maps" };
	enum node nodes[] = { NODE_CTL, NODE_PAGESIZE, NODE_ALLOCGRAN, NODE_STATS, NODE_LOG,
			      NODE_MAPS };
	for (int i = 0; i < 6; i++) {
		cr_expect_eq(tree_root_lookup(names[i]), nodes[i], "%s", names[i]);
		cr_expect_str_eq(tree_root_name(nodes[i]), names[i]);
	}
	cr_expect_eq(tree_root_lookup("data"), NODE_NONE);
	cr_expect_eq(tree_root_lookup(""), NODE_NONE);
	cr_expect_null(tree_root_name(NODE_ROOT));
	cr_expect_null(tree_root_name(NODE_NONE));
}

Test(tree, mapping_file_names_round_trip)
{
	const char *names[] = { "data", "ctl", "size", "pos", "access", "filesize", "offset",
				"flags", "prot", "source", "stream", "line", "pages", "smaps",
				"pagemap" };
	cr_assert_eq(sizeof names / sizeof *names, KIND_COUNT - 1, "every kind has a name here");
	for (int k = KIND_DATA; k < KIND_COUNT; k++) {
		cr_expect_str_eq(tree_kind_name((enum kind)k), names[k - 1]);
		cr_expect_eq((int)tree_kind_lookup(names[k - 1]), k);
	}
	cr_expect_null(tree_kind_name(KIND_DIR));
	cr_expect_null(tree_kind_name(KIND_COUNT));
	cr_expect_eq(tree_kind_lookup("stats"), KIND_DIR, "not a mapping file");
	cr_expect_eq(tree_kind_lookup("Data"), KIND_DIR);
}

Test(tree, inodes_name_their_mapping_and_kind)
{
	uint64_t ids[] = { 1, 2, 12345, (1ull << 58) - 1 };
	cr_expect_leq((int)KIND_COUNT, 1 << KIND_BITS, "every kind fits in KIND_BITS");
	for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
		for (int k = KIND_DIR; k < KIND_COUNT; k++) {
			uint64_t ino = tree_ino(ids[i], (enum kind)k);
			cr_expect_eq(tree_ino_mapping_id(ino), ids[i]);
			cr_expect_eq((int)tree_ino_kind(ino), k);
			cr_expect(tree_ino_is_mapping(ino), "id %llu kind %d",
				  (unsigned long long)ids[i], k);
		}
	}
	for (int n = NODE_ROOT; n <= NODE_ROOT_LAST; n++)
		cr_expect_not(tree_ino_is_mapping((uint64_t)n));
}
