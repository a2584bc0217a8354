/* mmapctl_pages.c - the page map of a mapping (its `pages` file) counted, and
 * drawn as a grid of cells with a legend and the count and share of each
 * state: in colour on a terminal, plain text otherwise. */
#include "config.h"
#include "mmapctl/mmapctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define PIPED_COLUMNS 64	/* cells per row when not on a terminal */
#define MIN_COLUMNS 8
#define MAX_COLUMNS 128
#define MAX_ROWS 32		/* beyond this, a cell stands for several pages */

struct state_info {
	char ch;
	const char *sgr;	/* colour of its cells (ANSI SGR parameters) */
	const char *meaning;
};

/* In priority order: a cell shows its pages' most common state, and ties go
 * to the state listed first. */
static const struct state_info states[PS_COUNT] = {
	[PS_MAPPED] = { 'M', "30;42", "mapped here, shared with the backing object" },
	[PS_COPY] = { 'C', "30;43", "mapped here as a private copy (copy-on-write)" },
	[PS_RESIDENT] = { 'R', "30;46", "in memory, not mapped here" },
	[PS_SWAPPED] = { 'S', "97;41", "swapped out" },
	[PS_ABSENT] = { '.', "2", "not in memory" },
	[PS_OTHER] = { '?', "7", "unknown state" },
};

static enum page_state state_of(char ch)
{
	for (int s = 0; s < PS_OTHER; s++)
		if (states[s].ch == ch)
			return (enum page_state)s;
	return PS_OTHER;
}

void count_pages(const char *text, size_t len, struct page_counts *c)
{
	memset(c, 0, sizeof *c);
	if (len > 0 && text[len - 1] == '\n')
		len--;
	for (size_t i = 0; i < len; i++)
		c->n[state_of(text[i])]++;
	c->total = len;
}

size_t pages_resident(const struct page_counts *c)
{
	return c->n[PS_MAPPED] + c->n[PS_COPY] + c->n[PS_RESIDENT];
}

void format_share(size_t part, size_t total, char *buf, size_t cap)
{
	double pct = total ? 100.0 * (double)part / (double)total : 0;
	if (part > 0 && pct < 1)
		snprintf(buf, cap, "<1%%");
	else if (part < total && pct > 99)
		snprintf(buf, cap, ">99%%");
	else
		snprintf(buf, cap, "%.0f%%", pct);
}

/* ---- layout ---------------------------------------------------------------- */

struct layout {
	size_t pages;		/* the map's length */
	size_t per_cell;	/* pages each cell stands for */
	size_t cells;
	size_t columns;		/* cells per row */
	int label_width;	/* digits of the first page of a row */
	bool color;
};

static bool want_color(enum color_mode mode)
{
	if (mode != COLOR_AUTO)
		return mode == COLOR_ALWAYS;
	const char *term = getenv("TERM");
	return isatty(STDOUT_FILENO) && !getenv("NO_COLOR") && !(term && strcmp(term, "dumb") == 0);
}

static int digits(size_t v)
{
	int d = 1;
	while (v >= 10) {
		v /= 10;
		d++;
	}
	return d;
}

static size_t fit_columns(int label_width)
{
	struct winsize ws;
	if (!isatty(STDOUT_FILENO) || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0)
		return PIPED_COLUMNS;
	long room = (long)ws.ws_col - label_width - 2;
	size_t cols = room > 0 ? (size_t)room / 8 * 8 : 0;
	return cols < MIN_COLUMNS ? MIN_COLUMNS : cols > MAX_COLUMNS ? MAX_COLUMNS : cols;
}

static void plan(const struct invocation *inv, size_t pages, struct layout *l)
{
	l->pages = pages;
	l->label_width = digits(pages ? pages - 1 : 0);
	l->columns = inv->width ? inv->width : fit_columns(l->label_width);
	size_t room = l->columns * MAX_ROWS;
	l->per_cell = inv->all || pages <= room ? 1 : (pages + room - 1) / room;
	l->cells = (pages + l->per_cell - 1) / l->per_cell;
	l->color = want_color(inv->color);
}

/* ---- drawing --------------------------------------------------------------- */

static enum page_state cell_state(const char *map, size_t first, size_t count)
{
	size_t n[PS_COUNT] = { 0 };
	for (size_t i = first; i < first + count; i++)
		n[state_of(map[i])]++;
	int best = 0;
	for (int s = 1; s < PS_COUNT; s++)
		if (n[s] > n[best])
			best = s;
	return (enum page_state)best;
}

static void draw_row(const char *map, const struct layout *l, size_t first_cell)
{
	int shown = -1;
	printf("%*zu ", l->label_width, first_cell * l->per_cell);
	for (size_t c = first_cell; c < l->cells && c < first_cell + l->columns; c++) {
		size_t first = c * l->per_cell;
		size_t count = first + l->per_cell > l->pages ? l->pages - first : l->per_cell;
		enum page_state s = cell_state(map, first, count);
		if (l->color && (int)s != shown)
			printf("\033[0;%sm", states[s].sgr);
		shown = (int)s;
		putchar(states[s].ch);
	}
	printf("%s\n", l->color ? "\033[0m" : "");
}

static void draw_grid(const char *map, const struct layout *l)
{
	for (size_t c = 0; c < l->cells; c += l->columns)
		draw_row(map, l, c);
}

static void draw_legend(const struct page_counts *c, const struct layout *l)
{
	int w = digits(c->total);
	for (int s = 0; s < PS_COUNT; s++) {
		if (s == PS_OTHER && c->n[s] == 0)
			continue;
		double pct = c->total ? 100.0 * (double)c->n[s] / (double)c->total : 0;
		if (l->color)
			printf("  \033[0;%sm%c\033[0m", states[s].sgr, states[s].ch);
		else
			printf("  %c", states[s].ch);
		printf("  %-46s %*zu %6.1f%%\n", states[s].meaning, w, c->n[s], pct);
	}
	printf("     %-46s %*zu %6.1f%%\n", "total", w, c->total, c->total ? 100.0 : 0.0);
}

static void draw_header(const char *what, const struct layout *l, long pagesize)
{
	printf("%s: %zu page%s of %ld bytes", what, l->pages, l->pages == 1 ? "" : "s", pagesize);
	if (l->pages)
		printf(", %zu page%s per cell", l->per_cell, l->per_cell == 1 ? "" : "s");
	printf("\n");
}

/* ---- the command ------------------------------------------------------------ */

static long mount_pagesize(const char *mount)
{
	char *path = mount ? mount_path(mount, "pagesize") : NULL;
	char *text = NULL;
	long v = 0;
	if (path && read_file_text(path, &text, NULL) == 0)
		v = strtol(text, NULL, 10);
	free(text);
	free(path);
	return v > 0 ? v : sysconf(_SC_PAGESIZE);
}

/* The map's text and what to call it: a saved file (-f), or a mapping. */
static int load_map(const struct invocation *inv, char **map, char **what)
{
	int rc;
	if (inv->file) {
		const char *path = strcmp(inv->file, "-") == 0 ? "/dev/stdin" : inv->file;
		if ((rc = read_file_text(path, map, NULL)) < 0)
			complain("%s: %s", inv->file, strerror(-rc));
		*what = strdup(inv->file);
		return rc;
	}
	const char *name = inv->argv[0];
	if ((rc = check_mapping(inv->mount, name)) < 0)
		return rc;
	if ((rc = read_attr(inv->mount, name, "pages", map)) < 0)
		complain("maps/%s/pages: %s", name, strerror(-rc));
	*what = mount_path("maps", "%s", name);
	return rc;
}

int cmd_pages(const struct invocation *inv)
{
	if (inv->file ? inv->argc != 0 : inv->argc != 1)
		return usage_error(inv->file ? "-f takes the place of NAME" : "give one NAME");
	char *map = NULL, *what = NULL;
	if (load_map(inv, &map, &what) < 0) {
		free(what);
		return EXIT_FAIL;
	}
	size_t len = strlen(map);
	if (len > 0 && map[len - 1] == '\n')
		map[--len] = '\0';
	struct page_counts c;
	struct layout l;
	count_pages(map, len, &c);
	plan(inv, len, &l);
	draw_header(what, &l, mount_pagesize(inv->file ? NULL : inv->mount));
	draw_grid(map, &l);
	printf("\n");
	draw_legend(&c, &l);
	free(map);
	free(what);
	return EXIT_OK;
}
