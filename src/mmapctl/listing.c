/* listing.c - the tables mmapctl prints (ls, info, stats, log), through
 * libsmartcols as lsblk and findmnt print theirs: -o picks the columns,
 * -J/-r/-n choose the form, -b prints sizes in bytes. */
#include "config.h"
#include "mmapctl/mmapctl.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <libsmartcols.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* As util-linux's size_to_human_string (lsblk): a power-of-1024 letter, one
 * decimal rounded half up, no ".0": 0B, 100B, 1.5K, 4K, 256G. */
void human_size(uint64_t bytes, char *buf, size_t cap)
{
	static const char letters[] = "BKMGTPE";
	int exp = 0;
	while (exp < 60 && bytes >= (1ULL << (exp + 10)))
		exp += 10;
	uint64_t whole = bytes >> exp;
	uint64_t frac = exp ? bytes & ((1ULL << exp) - 1) : 0;
	char letter = letters[exp / 10];
	if (frac) {
		/* three digits after the point, then rounded to one */
		frac = frac >= UINT64_MAX / 1000 ? ((frac / 1024) * 1000) >> (exp - 10)
						 : (frac * 1000) >> exp;
		frac = ((frac + 50) / 100) * 10;
		if (frac == 100) {
			whole++;
			frac = 0;
		}
	}
	if (frac)
		snprintf(buf, cap, "%" PRIu64 ".%" PRIu64 "%c", whole, frac / 10, letter);
	else
		snprintf(buf, cap, "%" PRIu64 "%c", whole, letter);
}

static int column_index(const struct column_def *defs, size_t ndefs, const char *name,
			size_t len)
{
	for (size_t i = 0; i < ndefs; i++)
		if (strlen(defs[i].name) == len && strncasecmp(defs[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

/* Append the comma-separated column names of list to cols. */
static int add_columns(const struct column_def *defs, size_t ndefs, const char *list,
		       struct column_pick *pick)
{
	if (!*list)
		return usage_error("-o: no columns given");
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ",");
		int i = column_index(defs, ndefs, p, len);
		if (len == 0)
			return usage_error("-o: empty column name in '%s'", list);
		if (i < 0)
			return usage_error("-o: unknown column '%.*s' (see --list-columns)",
					   (int)len, p);
		if (pick->n == LIST_MAX_COLUMNS)
			return usage_error("-o: more than %d columns", LIST_MAX_COLUMNS);
		pick->col[pick->n++] = i;
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

int pick_columns(const struct column_def *defs, size_t ndefs, const char *defaults,
		 const char *spec, struct column_pick *pick)
{
	pick->n = 0;
	if (!spec || *spec == '+')
		if (add_columns(defs, ndefs, defaults, pick))
			return EXIT_USAGE;
	if (spec && add_columns(defs, ndefs, *spec == '+' ? spec + 1 : spec, pick))
		return EXIT_USAGE;
	return 0;
}

void list_columns(FILE *out, const struct column_def *defs, size_t ndefs)
{
	for (size_t i = 0; i < ndefs; i++)
		fprintf(out, "  %-9s %s\n", defs[i].name, defs[i].help);
}

static int json_type(const struct invocation *inv, enum column_kind kind)
{
	if (kind == CK_NUMBER || (kind == CK_SIZE && inv->bytes))
		return SCOLS_JSON_NUMBER;
	return SCOLS_JSON_STRING;
}

struct libscols_table *listing_new(const struct invocation *inv, const char *name,
				   const struct column_def *defs, const struct column_pick *pick)
{
	struct libscols_table *tb = scols_new_table();
	if (!tb)
		return NULL;
	scols_table_set_name(tb, name);
	scols_table_enable_json(tb, inv->json);
	scols_table_enable_raw(tb, inv->raw);
	scols_table_enable_noheadings(tb, inv->noheadings);
	for (size_t i = 0; i < pick->n; i++) {
		const struct column_def *d = &defs[pick->col[i]];
		struct libscols_column *cl = scols_table_new_column(tb, d->name, d->whint, d->flags);
		if (!cl) {
			scols_unref_table(tb);
			return NULL;
		}
		scols_column_set_json_type(cl, json_type(inv, d->kind));
	}
	return tb;
}

int cell_text(struct libscols_line *ln, size_t i, const char *text)
{
	return scols_line_set_data(ln, i, text) ? -ENOMEM : 0;
}

/* The length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t utf8_sequence(const unsigned char *s, size_t n)
{
	size_t len = s[0] < 0x80 ? 1 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : s[0] >= 0xe0 && s[0] < 0xf0 ? 3
		     : s[0] >= 0xf0 && s[0] < 0xf5 ? 4 : 0;
	if (len == 0 || len > n)
		return 0;
	for (size_t k = 1; k < len; k++)
		if ((s[k] & 0xc0) != 0x80)
			return 0;
	/* no overlong forms, surrogates or code points past U+10FFFF */
	if ((len == 3 && s[0] == 0xe0 && s[1] < 0xa0) || (len == 3 && s[0] == 0xed && s[1] >= 0xa0) ||
	    (len == 4 && s[0] == 0xf0 && s[1] < 0x90) || (len == 4 && s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return len;
}

int cell_string(const struct invocation *inv, struct libscols_line *ln, size_t i,
		const char *text)
{
	if (!inv->json)
		return cell_text(ln, i, text); /* libsmartcols shows bad bytes as \xHH itself */
	/* JSON must be UTF-8: a byte that is not (a path in Latin-1) becomes
	 * the text \xHH, as the other forms show it. */
	size_t n = strlen(text);
	char *out = malloc(4 * n + 1), *w = out;
	if (!out)
		return -ENOMEM;
	for (size_t k = 0; k < n;) {
		size_t len = utf8_sequence((const unsigned char *)text + k, n - k);
		if (len == 0) {
			w += sprintf(w, "\\x%02x", (unsigned char)text[k++]);
			continue;
		}
		memcpy(w, text + k, len);
		w += len;
		k += len;
	}
	*w = '\0';
	int rc = cell_text(ln, i, out);
	free(out);
	return rc;
}

int cell_number(struct libscols_line *ln, size_t i, uint64_t n)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%" PRIu64, n);
	return cell_text(ln, i, buf);
}

int cell_size(const struct invocation *inv, struct libscols_line *ln, size_t i, uint64_t n)
{
	char buf[32];
	if (inv->bytes)
		snprintf(buf, sizeof buf, "%" PRIu64, n);
	else
		human_size(n, buf, sizeof buf);
	return cell_text(ln, i, buf);
}

int listing_print(struct libscols_table *tb)
{
	int rc = scols_print_table(tb);
	scols_unref_table(tb);
	return rc ? complain("cannot print the table: %s", strerror(rc < 0 ? -rc : rc)) : EXIT_OK;
}
