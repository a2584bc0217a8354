/* stats.c - `stats` (the stats file's counts and bounds) and `log` (the
 * server's log of commands, once or followed), as tables or JSON. */
#include "config.h"
#include "mmapctl/mmapctl.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <libsmartcols.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* How often --follow reads the log again: the latency of a new line. */
#define FOLLOW_INTERVAL_MS 200

/* A root file of the mount, whole; NULL after saying why. */
static char *root_file(const struct invocation *inv, const char *file)
{
	char *path = mount_path(inv->mount, "%s", file), *text = NULL;
	int rc = mount_read_file_text(path, &text, NULL);
	if (rc < 0)
		mount_explain_missing(inv->mount, NULL, path, -rc);
	free(path);
	return rc < 0 ? NULL : text;
}

/* ---- stats ------------------------------------------------------------------ */

/* Keys that count bytes are sizes (4K, or bytes with -b). */
static bool size_key(const char *key)
{
	return strstr(key, "bytes") || strcmp(key, "resident") == 0;
}

/* The stats file's "key value" lines: keys (pointing into text, which is
 * cut up) and values. */
struct stats {
	struct column_def key[LIST_MAX_COLUMNS];
	uint64_t value[LIST_MAX_COLUMNS];
	struct column_pick pick;
};

static void parse_stats(char *text, struct stats *st)
{
	st->pick.n = 0;
	for (char *save = NULL, *line = strtok_r(text, "\n", &save);
	     line && st->pick.n < LIST_MAX_COLUMNS; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' ');
		if (!sp)
			continue;
		*sp = '\0';
		size_t n = st->pick.n++;
		st->value[n] = strtoull(sp + 1, NULL, 10);
		st->key[n] = (struct column_def){ line, "", size_key(line) ? CK_SIZE : CK_NUMBER, 0,
						  SCOLS_FL_RIGHT };
		st->pick.col[n] = (int)n;
	}
}

static int stat_cell(const struct invocation *inv, const struct stats *st, size_t k,
		     struct libscols_line *ln, size_t i)
{
	return st->key[k].kind == CK_SIZE ? cell_size(inv, ln, i, st->value[k])
					  : cell_number(ln, i, st->value[k]);
}

/* JSON: one row whose columns are the keys. */
static struct libscols_table *stats_json(const struct invocation *inv, const struct stats *st)
{
	struct libscols_table *tb = listing_new(inv, "stats", st->key, &st->pick);
	struct libscols_line *ln = tb ? scols_table_new_line(tb, NULL) : NULL;
	int rc = ln ? 0 : -ENOMEM;
	for (size_t k = 0; rc == 0 && k < st->pick.n; k++)
		rc = stat_cell(inv, st, k, ln, k);
	if (rc < 0 && tb) {
		scols_unref_table(tb);
		tb = NULL;
	}
	return tb;
}

/* For a person: one "key value" line each, the values aligned right. */
static struct libscols_table *stats_lines(const struct invocation *inv, const struct stats *st)
{
	static const struct column_def kv[] = {
		{ "KEY", "", CK_TEXT, 0, 0 }, { "VALUE", "", CK_TEXT, 0, SCOLS_FL_RIGHT },
	};
	struct column_pick two = { { 0, 1 }, 2 };
	struct invocation plain = *inv;
	plain.noheadings = true;
	struct libscols_table *tb = listing_new(&plain, "stats", kv, &two);
	int rc = tb ? 0 : -ENOMEM;
	for (size_t k = 0; rc == 0 && k < st->pick.n; k++) {
		struct libscols_line *ln = scols_table_new_line(tb, NULL);
		rc = !ln || cell_text(ln, 0, st->key[k].name) ? -ENOMEM : stat_cell(inv, st, k, ln, 1);
	}
	if (rc < 0 && tb) {
		scols_unref_table(tb);
		tb = NULL;
	}
	return tb;
}

static int print_stats(const struct invocation *inv, char *text)
{
	struct stats st;
	parse_stats(text, &st);
	struct libscols_table *tb = inv->json ? stats_json(inv, &st) : stats_lines(inv, &st);
	return tb ? listing_print(tb) : complain("out of memory");
}

int cmd_stats(const struct invocation *inv)
{
	char *text = root_file(inv, "stats");
	if (!text)
		return EXIT_FAIL;
	int status = print_stats(inv, text);
	free(text);
	return status;
}

/* ---- log ---------------------------------------------------------------------- */

enum { LOG_TIME, LOG_PID, LOG_UID, LOG_FILE, LOG_COMMAND, LOG_RESULT, LOG_COLS };

static const struct column_def log_columns[LOG_COLS] = {
	[LOG_TIME] = { "TIME", "", CK_TEXT, 0, 0 },
	[LOG_PID] = { "PID", "", CK_NUMBER, 0, 0 },
	[LOG_UID] = { "UID", "", CK_NUMBER, 0, 0 },
	[LOG_FILE] = { "FILE", "", CK_TEXT, 0, 0 },
	[LOG_COMMAND] = { "COMMAND", "", CK_TEXT, 0, 0 },
	[LOG_RESULT] = { "RESULT", "", CK_TEXT, 0, 0 },
};

/* The words of "[TIME] pid PID [uid UID] FILE: COMMAND => RESULT" (the
 * SPEC's form, and the older one without time and uid); a line of another
 * form is all COMMAND. Fields point into line, which is cut up. */
static void split_log_line(char *line, char *field[LOG_COLS])
{
	memset(field, 0, LOG_COLS * sizeof *field);
	char *p = line, *sp;
	if (strncmp(p, "pid ", 4) != 0 && (sp = strchr(p, ' '))) {
		field[LOG_TIME] = p;
		*sp = '\0';
		p = sp + 1;
	}
	char *file = NULL, *arrow = NULL;
	int n = 0;
	if (sscanf(p, "pid %*d %n", &n) == 0 && n > 0) {
		field[LOG_PID] = p + 4;
		p[n - 1] = '\0';
		p += n;
		if (strncmp(p, "uid ", 4) == 0 && isdigit((unsigned char)p[4]) &&
		    (sp = strchr(p + 4, ' '))) {
			field[LOG_UID] = p + 4;
			*sp = '\0';
			p = sp + 1;
		}
		file = strstr(p, ": ");
	}
	/* The result is what follows the last " => ": a result line never holds
	 * one unless it quotes the command, which is escaped the same way. */
	for (char *a = file ? strstr(file, " => ") : NULL; a; a = strstr(a + 1, " => "))
		arrow = a;
	if (!file || !arrow) {
		memset(field, 0, LOG_COLS * sizeof *field);
		field[LOG_COMMAND] = line;
		return;
	}
	*file = '\0';
	*arrow = '\0';
	field[LOG_FILE] = p;
	field[LOG_COMMAND] = file + 2;
	field[LOG_RESULT] = arrow + 4;
}

/* A snapshot of the log, cut into lines (without their newlines). */
struct snapshot {
	char *text;
	char **line;
	size_t n;
};

static void snapshot_free(struct snapshot *s)
{
	free(s->text);
	free(s->line);
	memset(s, 0, sizeof *s);
}

static int snapshot_read(const struct invocation *inv, struct snapshot *s)
{
	memset(s, 0, sizeof *s);
	if (!(s->text = root_file(inv, "log")))
		return -EIO;
	size_t cap = 0;
	for (char *p = s->text; *p;) {
		char *nl = strchr(p, '\n');
		if (s->n == cap) {
			char **bigger = realloc(s->line, (cap = cap ? 2 * cap : 64) * sizeof *bigger);
			if (!bigger) {
				snapshot_free(s);
				return -ENOMEM;
			}
			s->line = bigger;
		}
		s->line[s->n++] = p;
		if (!nl)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	return 0;
}

/* Lines [from, to) of s: as they are, or as one JSON object. */
static int print_lines(const struct invocation *inv, struct snapshot *s, size_t from, size_t to)
{
	if (!inv->json) {
		for (size_t i = from; i < to; i++)
			printf("%s\n", s->line[i]);
		return fflush(stdout) == 0 ? EXIT_OK : complain("log: %s", strerror(errno));
	}
	struct column_pick pick = { { 0, 1, 2, 3, 4, 5 }, LOG_COLS };
	struct libscols_table *tb = listing_new(inv, "log", log_columns, &pick);
	int rc = tb ? 0 : -ENOMEM;
	for (size_t i = from; rc == 0 && i < to; i++) {
		char *field[LOG_COLS];
		struct libscols_line *ln = scols_table_new_line(tb, NULL);
		char *copy = strdup(s->line[i]);
		if (!ln || !copy) {
			free(copy);
			rc = -ENOMEM;
			break;
		}
		split_log_line(copy, field);
		for (size_t k = 0; rc == 0 && k < LOG_COLS; k++)
			rc = cell_string(inv, ln, k, field[k] ? field[k] : "");
		free(copy);
	}
	if (rc < 0) {
		if (tb)
			scols_unref_table(tb);
		return complain("out of memory");
	}
	int status = listing_print(tb);
	fflush(stdout);
	return status;
}

/* How many lines of the old snapshot the new one still holds at its start:
 * the log is a ring, so the new one is old[d:] followed by new lines, for
 * the smallest d that fits. 0 when none fits (all lines are new). */
static size_t overlap(const struct snapshot *old, const struct snapshot *now)
{
	for (size_t d = 0; d < old->n; d++) {
		size_t keep = old->n - d, i = 0;
		if (keep > now->n)
			continue;
		while (i < keep && strcmp(old->line[d + i], now->line[i]) == 0)
			i++;
		if (i == keep)
			return keep;
	}
	return 0;
}

static int follow(const struct invocation *inv, struct snapshot *s)
{
	const struct timespec interval = { 0, FOLLOW_INTERVAL_MS * 1000000L };
	for (;;) {
		struct snapshot now;
		nanosleep(&interval, NULL);
		if (snapshot_read(inv, &now) < 0)
			return EXIT_FAIL;
		size_t kept = overlap(s, &now);
		if (kept == 0 && s->n > 0 && now.n > 0)
			complain("log: more lines came than the log holds; some were missed");
		int status = kept < now.n ? print_lines(inv, &now, kept, now.n) : EXIT_OK;
		snapshot_free(s);
		*s = now;
		if (status)
			return status;
	}
}

int cmd_log(const struct invocation *inv)
{
	struct snapshot s;
	if (snapshot_read(inv, &s) < 0)
		return EXIT_FAIL;
	size_t from = inv->lines >= 0 && (size_t)inv->lines < s.n ? s.n - (size_t)inv->lines : 0;
	int status = EXIT_OK;
	/* with -f, an empty first batch prints nothing, not an empty JSON list */
	if (!inv->follow || from < s.n)
		status = print_lines(inv, &s, from, s.n);
	if (status == EXIT_OK && inv->follow)
		status = follow(inv, &s);
	snapshot_free(&s);
	return status;
}
