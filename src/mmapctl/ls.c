/* mmapctl_ls.c - `ls` (a table of every mapping) and `info` (every attribute
 * of one mapping), both read from the attribute files of the tree. */
#include "config.h"
#include "mmapctl/mmapctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

enum column { COL_NAME, COL_SOURCE, COL_ACCESS, COL_FLAGS, COL_OFFSET, COL_LENGTH, COL_POS,
	      COL_RESIDENT, COLS };

static const char *const headings[COLS] = {
	"NAME", "SOURCE", "ACCESS", "FLAGS", "OFFSET", "LENGTH", "POS", "RESIDENT",
};
/* The attribute file behind each column (NULL: computed). */
static const char *const column_attr[COLS] = {
	NULL, "source", "access", "flags", "offset", "size", "pos", NULL,
};
static const bool right_aligned[COLS] = {
	[COL_OFFSET] = true, [COL_LENGTH] = true, [COL_POS] = true, [COL_RESIDENT] = true,
};

struct row {
	char *cell[COLS];
};

/* Control characters in a path would break the table: show them as '?'. */
static void make_printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < ' ' || *s == 0x7f)
			*s = '?';
}

/* Count the states in the mapping's pages file. */
static int read_counts(const char *mount, const char *name, struct page_counts *c)
{
	char *pages = NULL;
	memset(c, 0, sizeof *c);
	int rc = read_attr(mount, name, "pages", &pages);
	if (rc == 0)
		count_pages(pages, strlen(pages), c);
	free(pages);
	return rc;
}

/* The share of pages in memory, or "-" when unknown or there are none. */
static char *resident_text(const struct page_counts *c)
{
	char share[32] = "-";
	if (c->total)
		format_share(pages_resident(c), c->total, share, sizeof share);
	return strdup(share);
}

static void free_row(struct row *r)
{
	for (int i = 0; i < COLS; i++)
		free(r->cell[i]);
}

/* Read one mapping's row; -ENOENT/-ENXIO when it was closed meanwhile. */
static int read_row(const char *mount, const char *name, struct row *r)
{
	memset(r, 0, sizeof *r);
	r->cell[COL_NAME] = strdup(name);
	for (int i = 0; i < COLS; i++) {
		if (!column_attr[i])
			continue;
		int rc = read_attr(mount, name, column_attr[i], &r->cell[i]);
		if (rc < 0) {
			free_row(r);
			return rc;
		}
	}
	make_printable(r->cell[COL_SOURCE]);
	struct page_counts c;
	read_counts(mount, name, &c);
	r->cell[COL_RESIDENT] = resident_text(&c);
	return 0;
}

static void print_row(char *const *cells, const size_t *width)
{
	for (int i = 0; i < COLS; i++) {
		const char *sep = i + 1 < COLS ? "  " : "\n";
		if (right_aligned[i])
			printf("%*s%s", (int)width[i], cells[i], sep);
		else if (i + 1 < COLS)
			printf("%-*s%s", (int)width[i], cells[i], sep);
		else
			printf("%s%s", cells[i], sep);
	}
}

static void print_table(struct row *rows, size_t n)
{
	size_t width[COLS];
	for (int i = 0; i < COLS; i++) {
		width[i] = strlen(headings[i]);
		for (size_t r = 0; r < n; r++)
			if (strlen(rows[r].cell[i]) > width[i])
				width[i] = strlen(rows[r].cell[i]);
	}
	print_row((char *const *)headings, width);
	for (size_t r = 0; r < n; r++)
		print_row(rows[r].cell, width);
}

int cmd_ls(const struct invocation *inv)
{
	char **names;
	size_t n, kept = 0;
	if (list_names(inv->mount, &names, &n) < 0)
		return EXIT_FAIL;
	struct row *rows = calloc(n ? n : 1, sizeof *rows);
	int status = rows ? EXIT_OK : complain("out of memory");
	for (size_t i = 0; rows && i < n; i++) {
		int rc = read_row(inv->mount, names[i], &rows[kept]);
		if (rc == 0)
			kept++;
		else if (rc != -ENOENT && rc != -ENXIO) /* closed meanwhile: not listed */
			status = complain("maps/%s: %s", names[i], strerror(-rc));
	}
	if (rows)
		print_table(rows, kept);
	for (size_t i = 0; i < kept; i++)
		free_row(&rows[i]);
	free(rows);
	free_names(names, n);
	return status;
}

/* ---- info ---------------------------------------------------------------- */

static const char *const info_attrs[] = {
	"source", "access", "flags", "prot", "offset", "size", "filesize", "pos", NULL,
};

/* One "key value" line; a file that cannot be read shows "- (why)". */
static int print_attr(const char *mount, const char *name, const char *attr)
{
	char *value = NULL;
	int rc = read_attr(mount, name, attr, &value);
	if (rc == -ENOENT || rc == -ENXIO)
		return rc;
	if (rc < 0) {
		printf("%-9s - (%s)\n", attr, strerror(-rc));
		return 0;
	}
	if (strcmp(attr, "source") == 0)
		make_printable(value);
	printf("%-9s %s\n", attr, value);
	free(value);
	return 0;
}

/* With -o passthrough, data says whether it is passed through, or why not
 * (user.mmapfs.passthrough); without, the mount has no such attribute and
 * info prints no line for it. */
static void print_passthrough(const char *mount, const char *name)
{
	char *path = mount_path(mount, "maps/%s/data", name);
	char value[512];
	ssize_t n = getxattr(path, "user.mmapfs.passthrough", value, sizeof value - 1);
	free(path);
	if (n < 0)
		return;
	value[n] = '\0';
	make_printable(value);
	printf("%-9s %s\n", "passthrough", value);
}

int cmd_info(const struct invocation *inv)
{
	const char *name = inv->argv[0];
	if (check_mapping(inv->mount, name) < 0)
		return EXIT_FAIL;
	printf("%-9s %s\n", "name", name);
	for (int i = 0; info_attrs[i]; i++) {
		if (print_attr(inv->mount, name, info_attrs[i]) < 0) {
			fflush(stdout);
			return complain("mapping '%s' was closed", name);
		}
	}
	struct page_counts c;
	int rc = read_counts(inv->mount, name, &c);
	char *share = resident_text(&c);
	if (rc < 0)
		printf("%-9s - (%s)\n%-9s -\n", "pages", strerror(-rc), "resident");
	else if (c.total == 0)
		printf("%-9s 0\n%-9s -\n", "pages", "resident");
	else
		printf("%-9s %zu\n%-9s %s (%zu of %zu pages)\n", "pages", c.total, "resident",
		       share, pages_resident(&c), c.total);
	free(share);
	print_passthrough(inv->mount, name);
	return EXIT_OK;
}
