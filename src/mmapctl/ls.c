/* ls.c - `ls` (a table of every mapping) and `info` (every attribute of one
 * mapping), read from the attribute files of the tree and printed with
 * libsmartcols (listing.c). */
#include "config.h"
#include "mmapctl/mmapctl.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <libsmartcols.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

enum column {
	COL_NAME, COL_SOURCE, COL_ACCESS, COL_FLAGS, COL_PROT, COL_OFFSET, COL_SIZE,
	COL_FILESIZE, COL_POS, COL_PAGES, COL_RES, COL_RESPCT, COL_DIRTY, COL_ADDR, COL_PASSTHROUGH,
	COLS
};

static const struct column_def columns[COLS] = {
	[COL_NAME] = { "NAME", "the mapping's name", CK_TEXT, 0, 0 },
	[COL_SOURCE] = { "SOURCE", "the backing file, or anonymous", CK_TEXT, 0.3, SCOLS_FL_TRUNC },
	[COL_ACCESS] = { "ACCESS", "read, write, copy or default", CK_TEXT, 0, 0 },
	[COL_FLAGS] = { "FLAGS", "shared or private, and extra MAP_ flags", CK_TEXT, 0, 0 },
	[COL_PROT] = { "PROT", "read, write, exec, or none", CK_TEXT, 0, 0 },
	[COL_OFFSET] = { "OFFSET", "the offset in the backing file, in bytes", CK_NUMBER, 0,
			 SCOLS_FL_RIGHT },
	[COL_SIZE] = { "SIZE", "the mapping's length", CK_SIZE, 0, SCOLS_FL_RIGHT },
	[COL_FILESIZE] = { "FILESIZE", "the backing file's size now (mm.size())", CK_SIZE, 0,
			   SCOLS_FL_RIGHT },
	[COL_POS] = { "POS", "the position (tell()), in bytes", CK_NUMBER, 0, SCOLS_FL_RIGHT },
	[COL_PAGES] = { "PAGES", "the number of pages", CK_NUMBER, 0, SCOLS_FL_RIGHT },
	[COL_RES] = { "RES", "resident memory: the pages in memory, in bytes", CK_SIZE, 0,
		      SCOLS_FL_RIGHT },
	[COL_RESPCT] = { "RES%", "the share of the pages in memory", CK_TEXT, 0, SCOLS_FL_RIGHT },
	[COL_DIRTY] = { "DIRTY", "written pages not yet written back to the file (pages D), in bytes",
			CK_SIZE, 0, SCOLS_FL_RIGHT },
	[COL_ADDR] = { "ADDR", "the address range in the server, from smaps", CK_TEXT, 0, 0 },
	[COL_PASSTHROUGH] = { "PASSTHROUGH", "with mmapfs -o passthrough: yes, or no and why",
			      CK_TEXT, 0, 0 },
};

/* The attribute file behind a column (NULL: computed). */
static const char *const column_attr[COLS] = {
	[COL_SOURCE] = "source", [COL_ACCESS] = "access", [COL_FLAGS] = "flags",
	[COL_PROT] = "prot", [COL_OFFSET] = "offset", [COL_SIZE] = "size",
	[COL_FILESIZE] = "filesize", [COL_POS] = "pos",
};

#define LS_DEFAULT "NAME,SOURCE,ACCESS,FLAGS,PROT,OFFSET,SIZE,POS,RES,RES%,DIRTY"
#define INFO_DEFAULT \
	"NAME,SOURCE,ACCESS,FLAGS,PROT,OFFSET,SIZE,FILESIZE,POS,PAGES,RES,RES%,DIRTY,ADDR"

void command_columns(const struct command *c, FILE *out)
{
	fprintf(out, "Columns (%s by default):\n", c->run == cmd_info ? INFO_DEFAULT : LS_DEFAULT);
	list_columns(out, columns, COLS);
}

/* What one mapping's row needs, each file read at most once. */
struct row {
	const char *mount, *name;
	bool pages_read;
	int pages_rc;
	uint64_t pages, resident, dirty;
	int err[COLS];		/* why a cell is empty (info shows it) */
};

/* Pages that hold memory: every state of the SPEC's pages file but '.'
 * (not in memory), 'S' (swapped out), 'G' (a guard page) and 'Z' (the
 * kernel's one shared zero page, which costs this mapping nothing). */
static void count_resident(const char *text, struct row *r)
{
	r->pages = r->resident = r->dirty = 0;
	for (const char *p = text; *p && *p != '\n'; p++, r->pages++) {
		if (!strchr(".SGZ", *p))
			r->resident++;
		if (*p == 'D')
			r->dirty++;
	}
}

static int load_pages(struct row *r)
{
	if (!r->pages_read) {
		char *text = NULL;
		r->pages_read = true;
		r->pages_rc = mount_read_attr(r->mount, r->name, "pages", &text);
		if (r->pages_rc == 0)
			count_resident(text, r);
		free(text);
	}
	return r->pages_rc;
}

/* "37%", rounded, but never 0% when some pages are in memory nor 100% when
 * some are not; "" (null) for a mapping without pages. */
static void share_text(uint64_t part, uint64_t total, char *buf, size_t cap)
{
	if (total == 0) {
		buf[0] = '\0';
		return;
	}
	uint64_t pct = (part * 200 + total) / (total * 2);
	if (pct == 0 && part > 0)
		pct = 1;
	if (pct == 100 && part < total)
		pct = 99;
	snprintf(buf, cap, "%" PRIu64 "%%", pct);
}

/* The lowest start and highest end of the smaps records' ranges. */
static int address_range(struct row *r, char *buf, size_t cap)
{
	char *text = NULL;
	int rc = mount_read_attr(r->mount, r->name, "smaps", &text);
	if (rc < 0)
		return rc;
	unsigned long long lo = 0, hi = 0, s, e;
	bool any = false;
	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		/* a record's first line is "START-END perms ..."; the others are "Key: N kB" */
		if (sscanf(line, "%llx-%llx ", &s, &e) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			lo = any && lo < s ? lo : s;
			hi = any && hi > e ? hi : e;
			any = true;
		}
	}
	free(text);
	if (any)
		snprintf(buf, cap, "%llx-%llx", lo, hi);
	else
		buf[0] = '\0';
	return 0;
}

static int number_of(const char *text, uint64_t *n)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno || end == text || *end)
		return -EPROTO;
	*n = v;
	return 0;
}

/* A cell from an attribute file; sizes become 4K unless -b. */
static int attr_cell(const struct invocation *inv, struct row *r, struct libscols_line *ln,
		     size_t i, int col)
{
	char *value = NULL;
	int rc = mount_read_attr(r->mount, r->name, column_attr[col], &value);
	uint64_t n;
	if (rc == 0 && columns[col].kind == CK_SIZE && number_of(value, &n) == 0)
		rc = cell_size(inv, ln, i, n);
	else if (rc == 0)
		rc = cell_string(inv, ln, i, value);
	free(value);
	return rc;
}

/* Whether data is passed through (mmapfs -o passthrough): its extended
 * attribute user.mmapfs.passthrough, "yes" or "no: REASON". A mount
 * without the option has none (the cell stays empty, with its errno). */
static int passthrough_text(struct row *r, char *buf, size_t cap)
{
	char *path = mount_path(r->mount, "maps/%s/data", r->name);
	ssize_t n = getxattr(path, "user.mmapfs.passthrough", buf, cap - 1);
	int err = errno;
	free(path);
	if (n < 0)
		return -err;
	buf[n] = '\0';
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < ' ')
			*p = '?';
	return 0;
}

/* A computed cell: from pages (PAGES, RES, RES%, DIRTY) or smaps (ADDR). */
static int computed_cell(const struct invocation *inv, struct row *r, struct libscols_line *ln,
			 size_t i, int col)
{
	char buf[64];
	int rc;
	switch (col) {
	case COL_NAME:
		return cell_text(ln, i, r->name);
	case COL_ADDR:
		rc = address_range(r, buf, sizeof buf);
		return rc < 0 ? rc : cell_text(ln, i, buf);
	case COL_PASSTHROUGH: {
		char why[400];
		rc = passthrough_text(r, why, sizeof why);
		return rc < 0 ? rc : cell_text(ln, i, why);
	}
	default:
		break;
	}
	if ((rc = load_pages(r)) < 0)
		return rc;
	if (col == COL_PAGES)
		return cell_number(ln, i, r->pages);
	if (col == COL_RES)
		return cell_size(inv, ln, i, r->resident * (uint64_t)sysconf(_SC_PAGESIZE));
	if (col == COL_DIRTY)
		return cell_size(inv, ln, i, r->dirty * (uint64_t)sysconf(_SC_PAGESIZE));
	share_text(r->resident, r->pages, buf, sizeof buf);
	return cell_text(ln, i, buf);
}

/* The row's cells. -ENOENT/-ENXIO: closed meanwhile; -EACCES: another
 * user's mapping; other failures leave the cell empty (JSON null). */
static int fill_line(const struct invocation *inv, struct row *r, const struct column_pick *pick,
		     struct libscols_line *ln)
{
	for (size_t i = 0; i < pick->n; i++) {
		int col = pick->col[i];
		int rc = column_attr[col] ? attr_cell(inv, r, ln, i, col)
					  : computed_cell(inv, r, ln, i, col);
		if (rc == -ENOENT || rc == -ENXIO || rc == -EACCES || rc == -EPERM || rc == -ENOMEM)
			return rc;
		r->err[col] = rc < 0 ? -rc : 0;
	}
	return 0;
}

/* Whether the caller may read the mapping's files: under allow_other each
 * mapping directory is its owner's alone (mode 0700). */
static int may_read(const char *mount, const char *name)
{
	char *dir = mount_path(mount, "maps/%s", name);
	int rc = access(dir, R_OK | X_OK) == 0 ? 0 : -errno;
	free(dir);
	return rc;
}

/* One mapping as a line of tb; -errno when it is not listed. */
static int add_mapping(const struct invocation *inv, struct libscols_table *tb,
		       const struct column_pick *pick, struct row *r)
{
	int rc = may_read(r->mount, r->name);
	if (rc < 0)
		return rc;
	struct libscols_line *ln = scols_table_new_line(tb, NULL);
	if (!ln)
		return -ENOMEM;
	rc = fill_line(inv, r, pick, ln);
	if (rc < 0)
		scols_table_remove_line(tb, ln);
	return rc;
}

static int parse_pick(const struct invocation *inv, const char *defaults,
		      struct column_pick *pick)
{
	return pick_columns(columns, COLS, defaults, inv->columns, pick);
}

int cmd_ls(const struct invocation *inv)
{
	struct column_pick pick;
	if (parse_pick(inv, LS_DEFAULT, &pick))
		return EXIT_USAGE;
	char **names;
	size_t n;
	if (mount_list_names(inv->mount, &names, &n) < 0)
		return EXIT_FAIL;
	struct libscols_table *tb = listing_new(inv, "mappings", columns, &pick);
	int status = tb ? EXIT_OK : complain("out of memory");
	for (size_t i = 0; tb && i < n; i++) {
		struct row r = { .mount = inv->mount, .name = names[i] };
		int rc = add_mapping(inv, tb, &pick, &r);
		/* closed meanwhile, or another user's: not listed */
		if (rc < 0 && rc != -ENOENT && rc != -ENXIO && rc != -EACCES && rc != -EPERM)
			status = complain("ls: maps/%s: %s", names[i], strerror(-rc));
	}
	mount_free_names(names, n);
	if (tb) {
		int printed = listing_print(tb);
		status = status ? status : printed;
	}
	return status;
}

/* ---- info ---------------------------------------------------------------- */

/* The one-line table turned into "field value" lines for a person; an
 * empty cell says why it is empty. */
static int print_transposed(const struct invocation *inv, struct libscols_table *one,
			    const struct column_pick *pick, const struct row *r)
{
	static const struct column_def kv[] = {
		{ "FIELD", "", CK_TEXT, 0, 0 }, { "VALUE", "", CK_TEXT, 0, 0 },
	};
	struct column_pick two = { { 0, 1 }, 2 };
	struct invocation plain = *inv;
	plain.noheadings = true;
	struct libscols_table *tb = listing_new(&plain, "info", kv, &two);
	struct libscols_line *src = scols_table_get_line(one, 0);
	int rc = tb && src ? 0 : -ENOMEM;
	for (size_t i = 0; rc == 0 && i < pick->n; i++) {
		int col = pick->col[i];
		struct libscols_line *ln = scols_table_new_line(tb, NULL);
		const char *v = scols_cell_get_data(scols_line_get_cell(src, i));
		char why[160] = "";
		char key[16];
		size_t k = 0;
		for (; columns[col].name[k] && k + 1 < sizeof key; k++)
			key[k] = (char)tolower((unsigned char)columns[col].name[k]);
		key[k] = '\0';
		if ((!v || !*v) && r->err[col])
			snprintf(why, sizeof why, "- (%s)", strerror(r->err[col]));
		rc = !ln || cell_text(ln, 0, key) || cell_text(ln, 1, *why ? why : v ? v : "")
			     ? -ENOMEM : 0;
	}
	scols_unref_table(one);
	if (rc < 0) {
		if (tb)
			scols_unref_table(tb);
		return complain("out of memory");
	}
	return listing_print(tb);
}

int cmd_info(const struct invocation *inv)
{
	const char *name = inv->argv[0];
	struct column_pick pick;
	if (parse_pick(inv, INFO_DEFAULT, &pick))
		return EXIT_USAGE;
	if (mount_check_mapping(inv->mount, name) < 0)
		return EXIT_FAIL;
	struct libscols_table *tb = listing_new(inv, "mappings", columns, &pick);
	if (!tb)
		return complain("out of memory");
	struct row r = { .mount = inv->mount, .name = name };
	int rc = add_mapping(inv, tb, &pick, &r);
	if (rc < 0) {
		scols_unref_table(tb);
		if (rc == -ENOENT || rc == -ENXIO)
			return complain("info %s: the mapping was closed", name);
		return complain("info %s: %s", name, strerror(-rc));
	}
	if (inv->json || inv->raw)
		return listing_print(tb);
	return print_transposed(inv, tb, &pick, &r);
}
