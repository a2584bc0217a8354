/* parse.c - tokenizer and number parser of the control-file language. */
#include "config.h"
#include "core/parse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int parse_escape(const char *s, size_t len, size_t *i, char *out, struct msg *m)
{
	if (*i + 1 >= len)
		return msg_fail(m, EINVAL, "unterminated quote");
	char c = s[*i + 1];
	*i += 2;
	switch (c) {
	case 'n': *out = '\n'; return 0;
	case 't': *out = '\t'; return 0;
	case 'r': *out = '\r'; return 0;
	case '0': *out = '\0'; return 0;
	case '\\': *out = '\\'; return 0;
	case '"': *out = '"'; return 0;
	case '\'': *out = '\''; return 0;
	case 'x': {
		int hi = *i < len ? hex_digit(s[*i]) : -1;
		int lo = *i + 1 < len ? hex_digit(s[*i + 1]) : -1;
		if (hi < 0 || lo < 0)
			return msg_fail(m, EINVAL, "\\x must be followed by two hex digits");
		*out = (char)(hi << 4 | lo);
		*i += 2;
		return 0;
	}
	default:
		return msg_fail(m, EINVAL, "unknown escape '\\%c' in a quoted token", c);
	}
}

int parse_tokenize(const char *line, size_t len, struct parse_tokens *out, struct msg *m)
{
	/* No token is longer than the line, and there are at most len/2+1. */
	size_t cap = len / 2 + 1;
	out->v = calloc(cap, sizeof *out->v);
	out->storage = malloc(len + cap + 1);
	out->n = 0;
	if (!out->v || !out->storage) {
		parse_tokens_free(out);
		return msg_fail_errno(m, ENOMEM);
	}
	char *w = out->storage;
	size_t i = 0;
	int rc = 0;
	while (rc == 0) {
		while (i < len && is_blank(line[i]))
			i++;
		if (i == len)
			break;
		struct parse_token *t = &out->v[out->n++];
		t->text = w;
		while (rc == 0 && i < len && !is_blank(line[i])) {
			char c = line[i];
			if (c == '\'') {
				const char *end = memchr(line + i + 1, '\'', len - i - 1);
				if (!end) {
					rc = msg_fail(m, EINVAL, "unterminated quote");
					break;
				}
				size_t n = (size_t)(end - (line + i + 1));
				memcpy(w, line + i + 1, n);
				w += n;
				i += n + 2;
			} else if (c == '"') {
				i++;
				while (rc == 0 && i < len && line[i] != '"') {
					if (line[i] == '\\')
						rc = parse_escape(line, len, &i, w++, m);
					else
						*w++ = line[i++];
				}
				if (rc == 0 && i >= len)
					rc = msg_fail(m, EINVAL, "unterminated quote");
				i++;
			} else {
				*w++ = c;
				i++;
			}
		}
		t->len = (size_t)(w - t->text);
		*w++ = '\0';
	}
	if (rc < 0)
		parse_tokens_free(out);
	return rc;
}

void parse_tokens_free(struct parse_tokens *t)
{
	free(t->v);
	free(t->storage);
	t->v = NULL;
	t->storage = NULL;
	t->n = 0;
}

bool parse_token_has_nul(const struct parse_token *t)
{
	return memchr(t->text, '\0', t->len) != NULL;
}

static int suffix_shift(char c)
{
	switch (c) {
	case 'K': case 'k': return 10;
	case 'M': case 'm': return 20;
	case 'G': case 'g': return 30;
	case 'T': case 't': return 40;
	default: return -1;
	}
}

int parse_number(const struct parse_token *t, int64_t *out, struct msg *m)
{
	const char *s = t->text;
	size_t len = t->len, i = 0;
	bool neg = false;
	if (i < len && s[i] == '-') {
		neg = true;
		i++;
	}
	unsigned base = 10;
	if (len - i > 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
		base = 16;
		i += 2;
	}
	size_t digits_start = i;
	uint64_t v = 0;
	bool overflow = false;
	for (; i < len; i++) {
		int d = hex_digit(s[i]);
		if (d < 0 || (unsigned)d >= base)
			break;
		if (v > (UINT64_MAX - (unsigned)d) / base)
			overflow = true;
		v = v * base + (unsigned)d;
	}
	if (i == digits_start)
		return msg_fail(m, EINVAL, "invalid number: '%.64s'", s);
	if (i < len) {
		int shift = suffix_shift(s[i]);
		if (shift < 0 || i + 1 != len)
			return msg_fail(m, EINVAL, "invalid number: '%.64s'", s);
		if (v > (UINT64_MAX >> shift))
			overflow = true;
		v <<= shift;
	}
	/* As CPython's ssize_t conversion: [-2**63, 2**63 - 1]. */
	if (overflow || v > (uint64_t)INT64_MAX + neg)
		return msg_fail(m, EINVAL, "Python int too large to convert to C ssize_t");
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

bool parse_split_option(const struct parse_token *t, struct parse_token *key, struct parse_token *value)
{
	char *eq = memchr(t->text, '=', t->len);
	if (!eq)
		return false;
	key->text = t->text;
	key->len = (size_t)(eq - t->text);
	value->text = eq + 1;
	value->len = t->len - key->len - 1;
	return true;
}

size_t parse_next_line(const char *buf, size_t len, size_t *next)
{
	const char *nl = memchr(buf, '\n', len);
	if (!nl) {
		*next = len;
		return len;
	}
	*next = (size_t)(nl - buf) + 1;
	return (size_t)(nl - buf);
}

bool parse_token_is(const struct parse_token *t, const char *word)
{
	size_t n = strlen(word);
	return t->len == n && memcmp(t->text, word, n) == 0;
}
