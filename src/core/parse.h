/* parse.h - the control-file command language: tokens, quotes, escapes,
 * numbers with binary suffixes and key=value options. Knows no commands. */
#ifndef MMAPFS_PARSE_H
#define MMAPFS_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/msg.h"

/* One token. Quoted tokens may hold any byte, NUL included, so the length
 * is authoritative; text is also NUL-terminated for convenience. */
struct parse_token {
	char *text;
	size_t len;
};

struct parse_tokens {
	struct parse_token *v;
	size_t n;
	char *storage; /* one allocation backing every token's text */
};

/* Split one command line (no newline) into tokens. */
int parse_tokenize(const char *line, size_t len, struct parse_tokens *out, struct msg *m);
void parse_tokens_free(struct parse_tokens *t);

/* True when the token holds a NUL byte (never valid in a path or a name). */
bool parse_token_has_nul(const struct parse_token *t);

/* Decode the escape whose backslash is at s[*i] (\n \t \r \0 \\ \" \' \xHH)
 * into *out, and move *i past it. */
int parse_escape(const char *s, size_t len, size_t *i, char *out, struct msg *m);

/* Decimal or 0x-hex, optional leading '-', optional K/M/G/T suffix (binary). */
int parse_number(const struct parse_token *t, int64_t *out, struct msg *m);

/* Split "key=value"; returns false when the token has no '='. */
bool parse_split_option(const struct parse_token *t, struct parse_token *key, struct parse_token *value);

/* Split a write()'s bytes into the next command line: returns the length of
 * the line starting at buf (without its '\n') and sets *next past it. */
size_t parse_next_line(const char *buf, size_t len, size_t *next);



/* True when the token is exactly the word (case-sensitive). */
bool parse_token_is(const struct parse_token *t, const char *word);
#endif
