/* mmapctl_pages.c - the page map of a mapping (its `pages` file) counted, and
 * drawn as a grid of cells with a legend and the count and share of each
 * state: in colour on a terminal, plain text otherwise; as JSON (with the
 * runs of its `pagemap`); and watched (--watch), redrawn in place on a
 * terminal or printed anew on each change when piped. */
#include "config.h"
#include "mmapctl/mmapctl.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
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

static const struct state_info states[PS_COUNT] = {
	[PS_GUARD] = { 'G', "97;45", "guard page (madvise guard_install)" },
	[PS_SWAPPED] = { 'S', "97;41", "swapped out" },
	[PS_ABSENT] = { '.', "2", "not in memory" },
	[PS_ZERO] = { 'Z', "30;47", "the kernel's zero page (read, never written)" },
	[PS_COPY] = { 'C', "30;43", "mapped here as a private copy (copy-on-write)" },
	[PS_DIRTY] = { 'D', "97;44", "mapped here, shared, dirty (not yet written back)" },
	[PS_MAPPED] = { 'M', "30;42", "mapped here, shared with the backing object" },
	[PS_RESIDENT] = { 'R', "30;46", "in memory, not mapped here" },
	[PS_OTHER] = { '?', "7", "unknown state" },
};

/* The legend's order (the SPEC's precedence). A cell shows its pages' most
 * common state; ties go to the state that says more: the one first in
 * tie_order. */
static const enum page_state legend_order[PS_COUNT] = {
	PS_GUARD, PS_SWAPPED, PS_ABSENT, PS_ZERO, PS_COPY, PS_DIRTY, PS_MAPPED, PS_RESIDENT,
	PS_OTHER,
};
static const enum page_state tie_order[PS_COUNT] = {
	PS_GUARD, PS_SWAPPED, PS_DIRTY, PS_COPY, PS_MAPPED, PS_ZERO, PS_RESIDENT, PS_ABSENT,
	PS_OTHER,
};

static enum page_state state_of(char ch)
{
	for (int s = 0; s < PS_OTHER; s++)
		if (states[s].ch == ch)
			return (enum page_state)s;
	return PS_OTHER;
}

void pages_count(const char *text, size_t len, struct page_counts *c)
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
	return c->n[PS_MAPPED] + c->n[PS_COPY] + c->n[PS_DIRTY] + c->n[PS_RESIDENT];
}

void pages_format_share(size_t part, size_t total, char *buf, size_t cap)
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
	enum page_state best = tie_order[0];
	for (int k = 1; k < PS_COUNT; k++)
		if (n[tie_order[k]] > n[best])
			best = tie_order[k];
	return best;
}

/* Every cell's state (l->cells of them, malloc'd). */
static enum page_state *cell_states(const char *map, const struct layout *l)
{
	enum page_state *cells = malloc((l->cells ? l->cells : 1) * sizeof *cells);
	for (size_t c = 0; cells && c < l->cells; c++) {
		size_t first = c * l->per_cell;
		size_t count = first + l->per_cell > l->pages ? l->pages - first : l->per_cell;
		cells[c] = cell_state(map, first, count);
	}
	return cells;
}

/* A cell that changed since the previous frame: underlined and bold in
 * colour, else its letter in lower case (':' for '.'). */
static void draw_cell(enum page_state s, bool changed, const struct layout *l, int *shown)
{
	int look = (int)s * 2 + changed;
	if (l->color && look != *shown)
		printf("\033[0;%s%sm", states[s].sgr, changed ? ";1;4" : "");
	*shown = look;
	char ch = states[s].ch;
	if (changed && !l->color)
		ch = ch == '.' ? ':' : (char)(ch - 'A' + 'a');
	putchar(ch);
}

static void draw_row(const enum page_state *cells, const enum page_state *prev,
		     const struct layout *l, size_t first_cell, const char *eol)
{
	int shown = -1;
	printf("%*zu ", l->label_width, first_cell * l->per_cell);
	for (size_t c = first_cell; c < l->cells && c < first_cell + l->columns; c++)
		draw_cell(cells[c], prev && prev[c] != cells[c], l, &shown);
	printf("%s%s\n", l->color ? "\033[0m" : "", eol);
}

static void draw_grid(const enum page_state *cells, const enum page_state *prev,
		      const struct layout *l, const char *eol)
{
	for (size_t c = 0; c < l->cells; c += l->columns)
		draw_row(cells, prev, l, c, eol);
}

static void draw_legend(const struct page_counts *c, const struct layout *l, const char *eol)
{
	int w = digits(c->total);
	for (int k = 0; k < PS_COUNT; k++) {
		enum page_state s = legend_order[k];
		if (s == PS_OTHER && c->n[s] == 0)
			continue;
		double pct = c->total ? 100.0 * (double)c->n[s] / (double)c->total : 0;
		if (l->color)
			printf("  \033[0;%sm%c\033[0m", states[s].sgr, states[s].ch);
		else
			printf("  %c", states[s].ch);
		printf("  %-50s %*zu %6.1f%%%s\n", states[s].meaning, w, c->n[s], pct, eol);
	}
	printf("     %-50s %*zu %6.1f%%%s\n", "total", w, c->total, c->total ? 100.0 : 0.0, eol);
}

static void draw_header(const char *what, const struct layout *l, long pagesize, const char *eol)
{
	printf("%s: %zu page%s of %ld bytes", what, l->pages, l->pages == 1 ? "" : "s", pagesize);
	if (l->pages)
		printf(", %zu page%s per cell", l->per_cell, l->per_cell == 1 ? "" : "s");
	printf("%s\n", eol);
}

/* ---- the map ---------------------------------------------------------------- */

static long mount_pagesize(const char *mount)
{
	char *path = mount ? mount_path(mount, "pagesize") : NULL;
	char *text = NULL;
	long v = 0;
	if (path && mount_read_file_text(path, &text, NULL) == 0)
		v = strtol(text, NULL, 10);
	free(text);
	free(path);
	return v > 0 ? v : sysconf(_SC_PAGESIZE);
}

/* The map's text, without its newline: a saved file (-f), or a mapping's. */
static int read_map(const struct invocation *inv, char **map, bool quiet)
{
	int rc;
	*map = NULL;
	if (inv->file) {
		const char *path = strcmp(inv->file, "-") == 0 ? "/dev/stdin" : inv->file;
		if ((rc = mount_read_file_text(path, map, NULL)) < 0 && !quiet)
			complain("%s: %s", inv->file, strerror(-rc));
	} else if ((rc = mount_read_attr(inv->mount, inv->argv[0], "pages", map)) < 0 && !quiet) {
		complain("maps/%s/pages: %s", inv->argv[0], strerror(-rc));
	}
	if (rc == 0) {
		size_t len = strlen(*map);
		if (len > 0 && (*map)[len - 1] == '\n')
			(*map)[len - 1] = '\0';
	}
	return rc;
}

/* One whole frame: header, grid (changes marked against prev), legend. */
static void draw_frame(const struct invocation *inv, const char *what, const char *map,
		       const enum page_state *prev, size_t prev_cells, enum page_state **cells_out,
		       size_t *cells_n, const char *eol)
{
	struct page_counts c;
	struct layout l;
	size_t len = strlen(map);
	pages_count(map, len, &c);
	plan(inv, len, &l);
	enum page_state *cells = cell_states(map, &l);
	if (!cells) {
		complain("out of memory");
		return;
	}
	draw_header(what, &l, mount_pagesize(inv->file ? NULL : inv->mount), eol);
	draw_grid(cells, prev && prev_cells == l.cells ? prev : NULL, &l, eol);
	printf("%s\n", eol);
	draw_legend(&c, &l, eol);
	if (cells_out) {
		*cells_out = cells;
		*cells_n = l.cells;
	} else {
		free(cells);
	}
}

/* ---- JSON -------------------------------------------------------------------- */

static void json_string(const char *s)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

/* pagemap's lines as [{"first":F,"last":L,"flags":["present",...]},...]. */
static void json_runs(const char *pagemap)
{
	printf("[");
	bool first_run = true;
	for (const char *l = pagemap; l && *l;) {
		unsigned long long first, last;
		char flags[256];
		const char *nl = strchr(l, '\n');
		if (sscanf(l, "%llu %llu %255s", &first, &last, flags) == 3) {
			printf("%s{\"first\":%llu,\"last\":%llu,\"flags\":[", first_run ? "" : ",", first,
			       last);
			first_run = false;
			bool none = strcmp(flags, "none") == 0;
			for (char *f = none ? NULL : strtok(flags, ","), *sep = ""; f;
			     f = strtok(NULL, ","), sep = ",") {
				printf("%s", sep);
				json_string(f);
			}
			printf("]}");
		}
		l = nl ? nl + 1 : NULL;
	}
	printf("]");
}

/* {"name":..,"pagesize":..,"pages":..,"counts":{"G":n,...},"runs":[...]}
 * on one line; runs only for a mapping (a saved pages file has none). */
static int print_json(const struct invocation *inv, const char *map)
{
	struct page_counts c;
	pages_count(map, strlen(map), &c);
	char *pagemap = NULL;
	int rc = inv->file ? 0 : mount_read_attr(inv->mount, inv->argv[0], "pagemap", &pagemap);
	if (rc < 0)
		return complain("maps/%s/pagemap: %s", inv->argv[0], strerror(-rc));
	printf("{\"%s\":", inv->file ? "file" : "name");
	json_string(inv->file ? inv->file : inv->argv[0]);
	printf(",\"pagesize\":%ld,\"pages\":%zu,\"counts\":{",
	       mount_pagesize(inv->file ? NULL : inv->mount), c.total);
	for (int k = 0; k < PS_COUNT; k++) {
		enum page_state s = legend_order[k];
		if (s != PS_OTHER || c.n[s])
			printf("%s\"%c\":%zu", k ? "," : "", states[s].ch, c.n[s]);
	}
	printf("},\"resident\":%zu", pages_resident(&c));
	if (!inv->file) {
		printf(",\"runs\":");
		json_runs(pagemap);
	}
	printf("}\n");
	free(pagemap);
	return 0;
}

/* ---- watch -------------------------------------------------------------------- */

/* A watched map that cannot be read any more: the mapping was closed (a
 * normal end, status 0), or an error (status 1). */
static int watch_ended(const struct invocation *inv, const char *what, int rc)
{
	fflush(stdout);
	if (!inv->file && (rc == -ENOENT || rc == -ENXIO)) {
		fprintf(stderr, "mmapctl: %s was closed\n", what);
		return EXIT_OK;
	}
	return complain("%s: %s", what, strerror(-rc));
}

static volatile sig_atomic_t stop_watching;

static void on_stop(int sig)
{
	(void)sig;
	stop_watching = 1;
}

/* The terminal of stdin in raw-ish mode (a key is read at once, unechoed),
 * so 'q' quits; Ctrl-C still signals. */
struct keys {
	bool on;
	struct termios saved;
};

static void keys_start(struct keys *k)
{
	struct termios t;
	k->on = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &k->saved) == 0;
	if (!k->on)
		return;
	t = k->saved;
	t.c_lflag &= (tcflag_t) ~(ICANON | ECHO);
	t.c_cc[VMIN] = 0;
	t.c_cc[VTIME] = 0;
	tcsetattr(STDIN_FILENO, TCSANOW, &t);
}

static void keys_stop(struct keys *k)
{
	if (k->on)
		tcsetattr(STDIN_FILENO, TCSANOW, &k->saved);
}

/* Wait up to seconds for 'q' (true) or a signal; false when time is up. */
static bool wait_for_quit(const struct keys *k, double seconds)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	int ms = (int)(seconds * 1000);
	if (poll(&p, k->on ? 1 : 0, ms) > 0 && k->on) {
		char ch;
		if (read(STDIN_FILENO, &ch, 1) == 1 && (ch == 'q' || ch == 'Q'))
			return true;
	}
	return stop_watching;
}

/* On a terminal: redraw in place, marking the cells that changed. */
static int watch_terminal(const struct invocation *inv, const char *what)
{
	struct keys k;
	enum page_state *prev = NULL;
	size_t prev_n = 0;
	int rc = EXIT_OK;
	keys_start(&k);
	printf("\033[?25l\033[H\033[2J");
	while (!stop_watching) {
		char *map = NULL;
		int got = read_map(inv, &map, true);
		if (got < 0) {
			printf("\033[?25h");
			keys_stop(&k);
			free(prev);
			return watch_ended(inv, what, got);
		}
		enum page_state *cells = NULL;
		size_t n = 0;
		printf("\033[H");
		printf("every %gs, q to quit; changed cells are marked\033[K\n", inv->watch);
		draw_frame(inv, what, map, prev, prev_n, &cells, &n, "\033[K");
		printf("\033[J");
		fflush(stdout);
		free(map);
		free(prev);
		prev = cells;
		prev_n = n;
		if (wait_for_quit(&k, inv->watch))
			break;
	}
	free(prev);
	printf("\033[?25h");
	keys_stop(&k);
	return rc;
}

/* Piped: a new frame (or JSON line) only when the map changed. */
static int watch_piped(const struct invocation *inv, const char *what)
{
	char *last = NULL;
	struct keys none = { false, { 0 } };
	int rc = EXIT_OK;
	while (!stop_watching) {
		char *map = NULL;
		int got = read_map(inv, &map, true);
		if (got < 0) {
			rc = watch_ended(inv, what, got);
			break;
		}
		if (!last || strcmp(last, map) != 0) {
			if (inv->json)
				print_json(inv, map);
			else if (last)
				printf("\n");
			if (!inv->json)
				draw_frame(inv, what, map, NULL, 0, NULL, NULL, "");
			if (fflush(stdout) != 0) {
				free(map);
				break;
			}
			free(last);
			last = map;
		} else {
			free(map);
		}
		if (wait_for_quit(&none, inv->watch))
			break;
	}
	free(last);
	return rc;
}

static int watch(const struct invocation *inv, const char *what)
{
	struct sigaction sa = { .sa_handler = on_stop };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	bool tty = isatty(STDOUT_FILENO) && !inv->json;
	return tty ? watch_terminal(inv, what) : watch_piped(inv, what);
}

/* ---- the command ------------------------------------------------------------ */

int cmd_pages(const struct invocation *inv)
{
	if (inv->file ? inv->argc != 0 : inv->argc != 1)
		return usage_error(inv->file ? "-f takes the place of NAME" : "give one NAME");
	if (!inv->file && mount_check_mapping(inv->mount, inv->argv[0]) < 0)
		return EXIT_FAIL;
	char *what = inv->file ? strdup(inv->file) : mount_path("maps", "%s", inv->argv[0]);
	int rc;
	if (inv->watch > 0) {
		rc = watch(inv, what);
	} else {
		char *map = NULL;
		rc = read_map(inv, &map, false) < 0 ? EXIT_FAIL
		     : inv->json		   ? (print_json(inv, map) ? EXIT_FAIL : EXIT_OK)
						   : EXIT_OK;
		if (rc == EXIT_OK && !inv->json)
			draw_frame(inv, what, map, NULL, 0, NULL, NULL, "");
		free(map);
	}
	free(what);
	return rc;
}
