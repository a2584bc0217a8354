/* unit_parse.c - the command language: tokens, quotes, escapes, numbers,
 * key=value options and the splitting of a write() into lines. */
#include "lib/unit_util.h"

#include "core/parse.h"

/* ---- helpers ---------------------------------------------------------- */

static struct parse_tokens toks;

static void free_toks(void)
{
	parse_tokens_free(&toks);
}

TestSuite(tokenize, .fini = free_toks);
TestSuite(number);
TestSuite(option);
TestSuite(line);

static int tok(const char *line, struct msg *m)
{
	return parse_tokenize(line, strlen(line), &toks, m);
}

/* Tokenize a line that must be good and check it against want[]. */
static void expect_tokens(const char *line, size_t n, const char *const want[])
{
	struct msg m = { "" };
	int rc = tok(line, &m);
	cr_assert_eq(rc, 0, "tokenize [%s]: %s", line, m.text);
	cr_assert_eq(toks.n, n, "tokenize [%s]: %zu tokens, wanted %zu", line, toks.n, n);
	for (size_t i = 0; i < n; i++) {
		cr_expect_eq(toks.v[i].len, strlen(want[i]), "token %zu of [%s]", i, line);
		cr_expect_str_eq(toks.v[i].text, want[i], "token %zu of [%s]", i, line);
	}
}

static void expect_tokenize_error(const char *line, const char *message)
{
	struct msg m = { "" };
	expect_error(tok(line, &m), EINVAL, m, message);
	cr_expect_eq(toks.n, 0, "a failed tokenize leaves no tokens");
	cr_expect_null(toks.v);
	cr_expect_null(toks.storage);
}

static struct parse_token T(const char *s)
{
	return (struct parse_token){ (char *)s, strlen(s) };
}

static void expect_number(const char *s, int64_t want)
{
	struct msg m = { "" };
	int64_t v = 12345;
	struct parse_token t = T(s);
	int rc = parse_number(&t, &v, &m);
	cr_expect_eq(rc, 0, "parse_number(%s): %s", s, m.text);
	cr_expect_eq(v, want, "parse_number(%s) = %lld, wanted %lld", s, (long long)v,
		     (long long)want);
}

static void expect_number_error(const char *s, const char *message)
{
	struct msg m = { "" };
	int64_t v = 12345;
	struct parse_token t = T(s);
	expect_error(parse_number(&t, &v, &m), EINVAL, m, message);
	cr_expect_eq(v, 12345, "a refused number leaves the output alone");
}

static void expect_invalid_number(const char *s)
{
	char message[128];
	snprintf(message, sizeof message, "invalid number: '%s'", s);
	expect_number_error(s, message);
}

static const char TOO_LARGE[] = "Python int too large to convert to C ssize_t";

/* ---- tokens ----------------------------------------------------------- */

Test(tokenize, splits_on_spaces_and_tabs)
{
	expect_tokens("map /tmp/f\tlength=10", 3, (const char *[]){ "map", "/tmp/f", "length=10" });
}

Test(tokenize, ignores_leading_trailing_and_repeated_blanks)
{
	expect_tokens(" \t seek   3 \t\t cur  ", 3, (const char *[]){ "seek", "3", "cur" });
}

Test(tokenize, empty_line_has_no_tokens)
{
	expect_tokens("", 0, NULL);
}

Test(tokenize, blank_line_has_no_tokens)
{
	expect_tokens(" \t  ", 0, NULL);
}

Test(tokenize, single_quotes_keep_blanks_and_backslashes)
{
	expect_tokens("find 'a b\\n\"c'", 2, (const char *[]){ "find", "a b\\n\"c" });
}

Test(tokenize, double_quotes_keep_blanks)
{
	expect_tokens("map \"/tmp/with space\" name=x", 3,
		      (const char *[]){ "map", "/tmp/with space", "name=x" });
}

Test(tokenize, every_escape_in_double_quotes)
{
	expect_tokens("\"\\n\\t\\\\\\\"\\x41\\x7a\\x7A\"", 1, (const char *[]){ "\n\t\\\"Azz" });
}

Test(tokenize, escape_newline)
{
	expect_tokens("\"a\\nb\"", 1, (const char *[]){ "a\nb" });
}

Test(tokenize, escape_tab)
{
	expect_tokens("\"a\\tb\"", 1, (const char *[]){ "a\tb" });
}

Test(tokenize, escape_backslash)
{
	expect_tokens("\"a\\\\b\"", 1, (const char *[]){ "a\\b" });
}

Test(tokenize, escape_double_quote)
{
	expect_tokens("\"say \\\"hi\\\"\"", 1, (const char *[]){ "say \"hi\"" });
}

Test(tokenize, escape_hex_either_case)
{
	expect_tokens("\"\\x41\\x6a\\x6A\\xff\"", 1, (const char *[]){ "Ajj\xff" });
}

Test(tokenize, hex_escape_of_nul_keeps_the_length)
{
	struct msg m = { "" };
	cr_assert_eq(tok("\"a\\x00b\" c", &m), 0, "%s", m.text);
	cr_assert_eq(toks.n, 2);
	cr_expect_eq(toks.v[0].len, 3);
	cr_expect_eq(memcmp(toks.v[0].text, "a\0b", 3), 0);
	cr_expect(parse_token_has_nul(&toks.v[0]));
	cr_expect_not(parse_token_has_nul(&toks.v[1]));
}

Test(tokenize, backslash_outside_quotes_is_literal)
{
	expect_tokens("a\\nb c\\", 2, (const char *[]){ "a\\nb", "c\\" });
}

Test(tokenize, empty_double_quotes_are_an_empty_token)
{
	expect_tokens("find \"\" 3", 3, (const char *[]){ "find", "", "3" });
}

Test(tokenize, empty_single_quotes_are_an_empty_token)
{
	expect_tokens("'' x", 2, (const char *[]){ "", "x" });
}

Test(tokenize, quotes_in_the_middle_of_a_token_join_it)
{
	expect_tokens("ab'c d'\"e f\"g h", 2, (const char *[]){ "abc de fg", "h" });
}

Test(tokenize, quoted_prefix_then_plain_text)
{
	expect_tokens("name='my map'.bak", 1, (const char *[]){ "name=my map.bak" });
}

Test(tokenize, tokens_are_nul_terminated)
{
	struct msg m = { "" };
	cr_assert_eq(tok("abc def", &m), 0);
	cr_expect_eq(toks.v[0].text[3], '\0');
	cr_expect_eq(toks.v[1].text[3], '\0');
}

Test(tokenize, line_length_is_authoritative)
{
	/* Only the first 5 bytes are the line. */
	struct msg m = { "" };
	cr_assert_eq(parse_tokenize("ab cdEFG", 5, &toks, &m), 0);
	cr_assert_eq(toks.n, 2);
	cr_expect_str_eq(toks.v[1].text, "cd");
}

Test(tokenize, many_empty_tokens_fit)
{
	expect_tokens("\"\" \"\" \"\" '' ''", 5, (const char *[]){ "", "", "", "", "" });
}

Test(tokenize, unterminated_single_quote)
{
	expect_tokenize_error("find 'abc", "unterminated quote");
}

Test(tokenize, unterminated_double_quote)
{
	expect_tokenize_error("map \"/tmp/x", "unterminated quote");
}

Test(tokenize, lone_double_quote)
{
	expect_tokenize_error("\"", "unterminated quote");
}

Test(tokenize, backslash_at_the_end_of_double_quotes)
{
	expect_tokenize_error("\"abc\\", "unterminated quote");
}

Test(tokenize, escaped_quote_does_not_close)
{
	expect_tokenize_error("\"abc\\\"", "unterminated quote");
}

Test(tokenize, unknown_escape)
{
	expect_tokenize_error("\"\\q\"", "unknown escape '\\q' in a quoted token");
}

Test(tokenize, hex_escape_needs_two_digits)
{
	expect_tokenize_error("\"\\x4\"", "\\x must be followed by two hex digits");
}

Test(tokenize, hex_escape_needs_hex_digits)
{
	expect_tokenize_error("\"\\xg1\"", "\\x must be followed by two hex digits");
}

Test(tokenize, hex_escape_cut_by_the_end)
{
	expect_tokenize_error("\"\\x", "\\x must be followed by two hex digits");
}

Test(tokenize, tokens_free_is_idempotent)
{
	struct msg m = { "" };
	cr_assert_eq(tok("a b", &m), 0);
	parse_tokens_free(&toks);
	cr_expect_eq(toks.n, 0);
	cr_expect_null(toks.v);
	parse_tokens_free(&toks);
}

Test(tokenize, token_is_matches_the_whole_word_only)
{
	cr_expect(parse_token_is(&(struct parse_token){ "map", 3 }, "map"));
	cr_expect_not(parse_token_is(&(struct parse_token){ "mapx", 4 }, "map"));
	cr_expect_not(parse_token_is(&(struct parse_token){ "ma", 2 }, "map"));
	cr_expect_not(parse_token_is(&(struct parse_token){ "MAP", 3 }, "map"));
	cr_expect_not(parse_token_is(&(struct parse_token){ "map\0", 4 }, "map"));
}

/* ---- numbers ---------------------------------------------------------- */

Test(number, decimal)
{
	expect_number("0", 0);
	expect_number("7", 7);
	expect_number("4096", 4096);
	expect_number("007", 7);
}

Test(number, negative_decimal)
{
	expect_number("-1", -1);
	expect_number("-4096", -4096);
	expect_number("-0", 0);
}

Test(number, hex)
{
	expect_number("0x1f", 31);
	expect_number("0X1F", 31);
	expect_number("0xDeadBeef", 0xdeadbeef);
	expect_number("0x0", 0);
}

Test(number, negative_hex)
{
	expect_number("-0x10", -16);
}

Test(number, every_binary_suffix)
{
	expect_number("1K", 1024);
	expect_number("1M", 1048576);
	expect_number("1G", 1073741824);
	expect_number("1T", 1099511627776);
	expect_number("3K", 3072);
	expect_number("0K", 0);
}

Test(number, lower_case_suffixes)
{
	expect_number("2k", 2048);
	expect_number("2m", 2097152);
	expect_number("2g", 2147483648);
	expect_number("2t", 2199023255552);
}

Test(number, suffix_on_hex_and_negative)
{
	expect_number("0x10K", 16384);
	expect_number("-2M", -2097152);
	expect_number("-0x1G", -1073741824);
}

Test(number, largest_values)
{
	expect_number("9223372036854775807", INT64_MAX);
	expect_number("0x7fffffffffffffff", INT64_MAX);
	expect_number("-9223372036854775807", -INT64_MAX);
	expect_number("8388607T", 8388607LL << 40);
}

/* CPython converts with PyLong_AsSsize_t, whose range includes -2**63. */
Test(number, smallest_ssize_t_is_accepted)
{
	expect_number("-9223372036854775808", INT64_MIN);
}

Test(number, one_past_the_largest_overflows)
{
	expect_number_error("9223372036854775808", TOO_LARGE);
	expect_number_error("0x8000000000000000", TOO_LARGE);
}

Test(number, beyond_64_bits_overflows)
{
	expect_number_error("18446744073709551616", TOO_LARGE);
	expect_number_error("99999999999999999999999999", TOO_LARGE);
	expect_number_error("0x10000000000000000", TOO_LARGE);
	expect_number_error("-99999999999999999999999999", TOO_LARGE);
}

Test(number, suffix_overflow)
{
	expect_number_error("8388608T", TOO_LARGE);	/* exactly 2**63 */
	expect_number_error("8589934592G", TOO_LARGE);	/* 2**63 */
	expect_number_error("16777216T", TOO_LARGE);	/* 2**64 wraps to 0 if unchecked */
	expect_number_error("0xffffffffffffffffK", TOO_LARGE);
}

Test(number, garbage_is_invalid)
{
	expect_invalid_number("");
	expect_invalid_number("-");
	expect_invalid_number("abc");
	expect_invalid_number("12abc");
	expect_invalid_number("1.5");
	expect_invalid_number("+1");
	expect_invalid_number("--1");
	expect_invalid_number(" 1");
	expect_invalid_number("1 ");
}

Test(number, bad_suffixes_are_invalid)
{
	expect_invalid_number("K");
	expect_invalid_number("1KB");
	expect_invalid_number("1KK");
	expect_invalid_number("1E");
	expect_invalid_number("1P");
	expect_invalid_number("-K");
}

Test(number, bad_hex_is_invalid)
{
	expect_invalid_number("0x");
	expect_invalid_number("0xg");
	expect_invalid_number("-0x");
	expect_invalid_number("x10");
	expect_invalid_number("0x1z");
}

Test(number, embedded_nul_is_invalid)
{
	struct msg m = { "" };
	int64_t v = 5;
	struct parse_token t = { "1\0002", 3 };
	cr_expect_eq(parse_number(&t, &v, &m), -EINVAL);
	cr_expect_eq(v, 5);
}

Test(number, works_without_a_message)
{
	int64_t v;
	struct parse_token t = T("zz");
	cr_expect_eq(parse_number(&t, &v, NULL), -EINVAL);
}

/* ---- key=value -------------------------------------------------------- */

static void expect_split(const char *s, const char *key, const char *value)
{
	struct parse_token t = T(s), k, v;
	cr_assert(parse_split_option(&t, &k, &v), "parse_split_option(%s)", s);
	cr_expect_eq(k.len, strlen(key), "key length of %s", s);
	cr_expect_eq(memcmp(k.text, key, k.len), 0, "key of %s", s);
	cr_expect_eq(v.len, strlen(value), "value length of %s", s);
	cr_expect_str_eq(v.text, value, "value of %s", s);
}

Test(option, key_and_value)
{
	expect_split("length=10", "length", "10");
}

Test(option, empty_value)
{
	expect_split("name=", "name", "");
}

Test(option, empty_key)
{
	expect_split("=x", "", "x");
}

Test(option, splits_at_the_first_equals)
{
	expect_split("a=b=c", "a", "b=c");
}

Test(option, no_equals_is_not_an_option)
{
	struct parse_token t = T("/tmp/file"), k, v;
	cr_expect_not(parse_split_option(&t, &k, &v));
}

Test(option, equals_after_the_token_length_is_ignored)
{
	struct parse_token t = { "abc=d", 3 }, k, v;
	cr_expect_not(parse_split_option(&t, &k, &v));
}

/* ---- lines ------------------------------------------------------------ */

Test(line, stops_before_the_newline)
{
	size_t next = 99;
	cr_expect_eq(parse_next_line("abc\ndef", 7, &next), 3);
	cr_expect_eq(next, 4);
}

Test(line, without_newline_takes_everything)
{
	size_t next = 99;
	cr_expect_eq(parse_next_line("abc def", 7, &next), 7);
	cr_expect_eq(next, 7);
}

Test(line, empty_line_before_a_newline)
{
	size_t next = 99;
	cr_expect_eq(parse_next_line("\nabc", 4, &next), 0);
	cr_expect_eq(next, 1);
}

Test(line, empty_buffer)
{
	size_t next = 99;
	cr_expect_eq(parse_next_line("", 0, &next), 0);
	cr_expect_eq(next, 0);
}

Test(line, newline_past_len_is_not_seen)
{
	size_t next = 99;
	cr_expect_eq(parse_next_line("ab\ncd", 2, &next), 2);
	cr_expect_eq(next, 2);
}

Test(line, walks_every_line)
{
	const char buf[] = "one\ntwo\n\nfour";
	const char *want[] = { "one", "two", "", "four" };
	size_t at = 0, len = sizeof buf - 1;
	for (int i = 0; i < 4; i++) {
		size_t next, n = parse_next_line(buf + at, len - at, &next);
		cr_expect_eq(n, strlen(want[i]), "line %d", i);
		cr_expect_eq(memcmp(buf + at, want[i], n), 0, "line %d", i);
		at += next;
	}
	cr_expect_eq(at, len);
}
