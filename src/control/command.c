/* command.c - parse and run control-file commands. */
#include "config.h"
#include "control/command.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/memlock.h"
#include "core/parse.h"

const char COMMAND_ROOT_USAGE[] =
	"# mmapfs: write commands here, one per line; read one result line per command.\n"
	"#   map SOURCE [length=N] [offset=N] [access=read|write|copy|default]\n"
	"#       [flags=F,...] [prot=P,...] [trackfd=yes|no] [name=NAME]   -> NAME\n"
	"#   close NAME                                                 -> ok\n"
	"# SOURCE is an absolute path or 'anon'. Errors read back as 'error: MESSAGE'.\n";

const char COMMAND_MAPPING_USAGE[] =
	"# mmapfs mapping: write commands here, one per line; read one result line per command.\n"
	"#   flush [OFFSET [SIZE]]            madvise ADVICE [START [LENGTH]]\n"
	"#   move DEST SRC COUNT              resize NEWSIZE\n"
	"#   seek OFFSET [set|cur|end]        find NEEDLE [START [END]] -> offset or -1\n"
	"#   rfind NEEDLE [START [END]]       close\n"
	"#   lock [START [LENGTH]]            unlock [START [LENGTH]]\n"
	"#   touch [START [LENGTH]]           evict [START [LENGTH]]\n";

static int want_args(const struct parse_tokens *t, size_t min, size_t max, const char *usage,
		     struct msg *msg)
{
	size_t n = t->n - 1;
	if (n < min || n > max)
		return msg_fail(msg, EINVAL, "usage: %s", usage);
	return 0;
}

/* Parse the optional numbers tokens[first..]; vals[i] is set and ptrs[i]
 * points to it when given, else ptrs[i] is NULL. */
static int optional_numbers(const struct parse_tokens *t, size_t first, size_t count,
			    int64_t *vals, const int64_t **ptrs, struct msg *msg)
{
	for (size_t i = 0; i < count; i++) {
		ptrs[i] = NULL;
		if (first + i >= t->n)
			continue;
		int rc = parse_number(&t->v[first + i], &vals[i], msg);
		if (rc < 0)
			return rc;
		ptrs[i] = &vals[i];
	}
	return 0;
}

/* ---- map ------------------------------------------------------------- */

struct map_options {
	struct mapping_request req;
	const struct parse_token *name;
	unsigned seen; /* one bit per option, to refuse repeats */
};

static int parse_yes_no(const struct parse_token *v, bool *out, struct msg *msg)
{
	if (parse_token_is(v, "yes") || parse_token_is(v, "true") || parse_token_is(v, "1"))
		*out = true;
	else if (parse_token_is(v, "no") || parse_token_is(v, "false") || parse_token_is(v, "0"))
		*out = false;
	else
		return msg_fail(msg, EINVAL, "trackfd must be yes or no, not '%.32s'", v->text);
	return 0;
}

static const char *const MAP_KEYS[] = {
	"length", "offset", "access", "flags", "prot", "trackfd", "name", NULL
};

static int map_option(struct map_options *o, const struct parse_token *tok, struct msg *msg)
{
	struct parse_token key, val;
	if (!parse_split_option(tok, &key, &val))
		return msg_fail(msg, EINVAL, "expected key=value after the source, not '%.64s'",
			    tok->text);
	int k = 0;
	while (MAP_KEYS[k] && !parse_token_is(&key, MAP_KEYS[k]))
		k++;
	if (!MAP_KEYS[k])
		return msg_fail(msg, EINVAL, "unknown option '%.*s' (known: length, offset, access, "
			    "flags, prot, trackfd, name)", (int)(key.len > 32 ? 32 : key.len), key.text);
	if (o->seen & (1u << k))
		return msg_fail(msg, EINVAL, "option '%s' given twice", MAP_KEYS[k]);
	o->seen |= 1u << k;
	struct mapping_request *r = &o->req;
	switch (k) {
	case 0: return parse_number(&val, &r->length, msg);
	case 1: return parse_number(&val, &r->offset, msg);
	case 2: return names_access_parse(val.text, val.len, &r->access, msg);
	case 3: return names_flags_parse(val.text, val.len, &r->flags, msg);
	case 4: return names_prot_parse(val.text, val.len, &r->prot, msg);
	case 5: return parse_yes_no(&val, &r->trackfd, msg);
	default:
		o->name = tok; /* value starts after "name=" */
		return 0;
	}
}

static int run_map(const struct command_env *env, const struct parse_tokens *t,
		   char result[COMMAND_RESULT_MAX], struct msg *msg)
{
	if (t->n < 2)
		return msg_fail(msg, EINVAL, "usage: map SOURCE [length=N] [offset=N] [access=MODE] "
			    "[flags=F,...] [prot=P,...] [trackfd=yes|no] [name=NAME]");
	if (env->map_refusal)
		return msg_fail(msg, -env->map_refusal, "%s", env->map_refusal_text);
	struct map_options o = { .name = NULL, .seen = 0 };
	mapping_request_init(&o.req);
	const struct parse_token *src = &t->v[1];
	if (parse_token_has_nul(src))
		return msg_fail(msg, EINVAL, "source path contains a NUL byte");
	o.req.source = parse_token_is(src, "anon") ? NULL : src->text;
	o.req.own_mount = env->mountpoint;
	o.req.own_dev = env->own_dev;
	o.req.opener = env->opener;
	o.req.memlock = env->memlock;
	for (size_t i = 2; i < t->n; i++) {
		int rc = map_option(&o, &t->v[i], msg);
		if (rc < 0)
			return rc;
	}
	struct mapping *m = mapping_new();
	if (!m)
		return msg_fail_errno(msg, ENOMEM);
	m->uid = env->uid;
	m->gid = env->gid;
	const char *name = o.name ? o.name->text + 5 : NULL;
	size_t name_len = o.name ? o.name->len - 5 : 0;
	int rc = table_reserve(env->table, m, name, name_len, msg);
	if (rc == 0) {
		/* A user's bytes count against their own share and the total. */
		struct user_account *a = table_account(env->table, m);
		o.req.locked_held = table_locked_counter(env->table, m->uid);
		rc = mapping_establish(m, &o.req, a ? &a->bytes : &env->table->budget, msg);
		if (rc == 0) {
			table_publish(env->table, m);
			snprintf(result, COMMAND_RESULT_MAX, "%s", m->name);
		} else {
			table_drop(env->table, m);
		}
	}
	mapping_unref(m);
	return rc;
}

/* close: flush and unmap, then forget the name. A failed flush keeps it. */
static int close_mapping(const struct command_env *env, struct mapping *m, struct msg *msg)
{
	int rc = mapping_close(m, false, msg);
	if (rc == 0)
		table_drop(env->table, m);
	return rc;
}

int command_close_name(const struct command_env *env, const char *name, size_t len,
		       struct msg *msg)
{
	struct mapping *m = NULL;
	int rc = table_lookup(env->table, name, len, &m, msg);
	if (rc < 0)
		return rc;
	if (env->owners_only && env->uid != 0 && env->uid != m->uid)
		rc = msg_fail(msg, EACCES, "mapping '%s' belongs to another user", m->name);
	else
		rc = close_mapping(env, m, msg);
	mapping_unref(m);
	return rc;
}

static int run_close(const struct command_env *env, const struct parse_tokens *t, struct msg *msg)
{
	int rc = want_args(t, 1, 1, "close NAME", msg);
	return rc < 0 ? rc : command_close_name(env, t->v[1].text, t->v[1].len, msg);
}

int command_root(const struct command_env *env, const char *line, size_t len,
		 char result[COMMAND_RESULT_MAX], struct msg *msg)
{
	struct parse_tokens t;
	int rc = parse_tokenize(line, len, &t, msg);
	if (rc < 0)
		return rc;
	snprintf(result, COMMAND_RESULT_MAX, "ok");
	if (t.n == 0)
		rc = msg_fail(msg, EINVAL, "empty command");
	else if (parse_token_is(&t.v[0], "map"))
		rc = run_map(env, &t, result, msg);
	else if (parse_token_is(&t.v[0], "close"))
		rc = run_close(env, &t, msg);
	else
		rc = msg_fail(msg, EINVAL, "unknown command '%.32s' (commands: map, close)", t.v[0].text);
	parse_tokens_free(&t);
	return rc;
}

/* ---- a mapping's commands --------------------------------------------- */

static int parse_whence(const struct parse_token *tok, int *out, struct msg *msg)
{
	static const char *const words[] = { "set", "cur", "end" };
	for (int i = 0; i < 3; i++) {
		if (parse_token_is(tok, words[i])) {
			*out = i;
			return 0;
		}
	}
	int64_t v;
	if (parse_number(tok, &v, NULL) < 0 || v < 0 || v > 2)
		return msg_fail(msg, EINVAL, "unknown seek type");
	*out = (int)v;
	return 0;
}

static int run_seek(struct mapping *m, const struct parse_tokens *t, size_t first, struct msg *msg)
{
	int64_t offset;
	int whence = 0;
	int rc = parse_number(&t->v[first], &offset, msg);
	if (rc == 0 && t->n > first + 1)
		rc = parse_whence(&t->v[first + 1], &whence, msg);
	return rc < 0 ? rc : mapping_seek(m, offset, whence, msg);
}

static int run_resize(struct mapping *m, const struct parse_token *tok, struct msg *msg)
{
	int64_t n;
	int rc = parse_number(tok, &n, msg);
	return rc < 0 ? rc : mapping_resize(m, n, msg);
}

static int run_flush(struct mapping *m, const struct parse_tokens *t, struct msg *msg)
{
	int64_t v[2];
	const int64_t *p[2] = { NULL, NULL };
	int rc = want_args(t, 0, 2, "flush [OFFSET [SIZE]]", msg);
	if (rc == 0)
		rc = optional_numbers(t, 1, 2, v, p, msg);
	return rc < 0 ? rc : mapping_flush(m, p[0], p[1], msg);
}

static int run_madvise(struct mapping *m, const struct parse_tokens *t, struct msg *msg)
{
	int advice;
	int64_t v[2];
	const int64_t *p[2] = { NULL, NULL };
	int rc = want_args(t, 1, 3, "madvise ADVICE [START [LENGTH]]", msg);
	if (rc == 0)
		rc = names_advice_parse(t->v[1].text, t->v[1].len, &advice, msg);
	if (rc == 0 && names_advice_is_hardware(advice))
		rc = msg_fail(msg, EPERM, "madvise '%s' acts on the machine's hardware pages and is "
			  "refused", t->v[1].text);
	if (rc == 0)
		rc = optional_numbers(t, 2, 2, v, p, msg);
	return rc < 0 ? rc : mapping_madvise(m, advice, p[0], p[1], msg);
}

static int run_move(struct mapping *m, const struct parse_tokens *t, struct msg *msg)
{
	int64_t v[3];
	const int64_t *p[3] = { NULL, NULL, NULL };
	int rc = want_args(t, 3, 3, "move DEST SRC COUNT", msg);
	if (rc == 0)
		rc = optional_numbers(t, 1, 3, v, p, msg);
	return rc < 0 ? rc : mapping_move(m, v[0], v[1], v[2], msg);
}

static int run_find(struct mapping *m, const struct parse_tokens *t, bool reverse,
		    char result[COMMAND_RESULT_MAX], struct msg *msg)
{
	int64_t v[2], at;
	const int64_t *p[2] = { NULL, NULL };
	int rc = want_args(t, 1, 3, reverse ? "rfind NEEDLE [START [END]]"
					   : "find NEEDLE [START [END]]", msg);
	if (rc == 0)
		rc = optional_numbers(t, 2, 2, v, p, msg);
	if (rc == 0)
		rc = mapping_find(m, t->v[1].text, t->v[1].len, p[0], p[1], reverse, &at, msg);
	if (rc == 0)
		snprintf(result, COMMAND_RESULT_MAX, "%lld", (long long)at);
	return rc;
}

/* ---- lock, unlock, touch, evict ----------------------------------------- */

/* VERB [START [LENGTH]]: lock, unlock, touch or evict. */
static int run_range(const struct command_env *env, struct mapping *m, const struct parse_tokens *t,
		     struct msg *msg)
{
	const struct parse_token *verb = &t->v[0];
	char usage[48];
	int64_t v[2];
	const int64_t *p[2] = { NULL, NULL };
	snprintf(usage, sizeof usage, "%s [START [LENGTH]]", verb->text);
	int rc = want_args(t, 0, 2, usage, msg);
	if (rc == 0)
		rc = optional_numbers(t, 1, 2, v, p, msg);
	if (rc < 0)
		return rc;
	if (parse_token_is(verb, "touch"))
		return mapping_touch(m, p[0], p[1], msg);
	if (parse_token_is(verb, "evict"))
		return mapping_evict(m, p[0], p[1], msg);
	if (parse_token_is(verb, "unlock"))
		return mapping_unlock(m, p[0], p[1], msg);
	/* Locked pages count for the mapping's owner, within the locker's right. */
	return mapping_lock(m, p[0], p[1], memlock_rights_of(env->memlock), env->uid == m->uid,
			    msg);
}

static bool is_range_command(const struct parse_token *cmd)
{
	return parse_token_is(cmd, "lock") || parse_token_is(cmd, "unlock") || parse_token_is(cmd, "touch") ||
	       parse_token_is(cmd, "evict");
}

static int run_mapping_command(const struct command_env *env, struct mapping *m,
			       const struct parse_tokens *t, char result[COMMAND_RESULT_MAX], struct msg *msg)
{
	const struct parse_token *cmd = &t->v[0];
	int rc;
	if (parse_token_is(cmd, "flush"))
		return run_flush(m, t, msg);
	if (parse_token_is(cmd, "madvise"))
		return run_madvise(m, t, msg);
	if (parse_token_is(cmd, "move"))
		return run_move(m, t, msg);
	if (parse_token_is(cmd, "resize"))
		return (rc = want_args(t, 1, 1, "resize NEWSIZE", msg)) < 0
			       ? rc : run_resize(m, &t->v[1], msg);
	if (parse_token_is(cmd, "seek"))
		return (rc = want_args(t, 1, 2, "seek OFFSET [WHENCE]", msg)) < 0
			       ? rc : run_seek(m, t, 1, msg);
	if (parse_token_is(cmd, "find") || parse_token_is(cmd, "rfind"))
		return run_find(m, t, parse_token_is(cmd, "rfind"), result, msg);
	if (is_range_command(cmd))
		return run_range(env, m, t, msg);
	if (parse_token_is(cmd, "close"))
		return (rc = want_args(t, 0, 0, "close", msg)) < 0 ? rc : close_mapping(env, m, msg);
	return msg_fail(msg, EINVAL, "unknown command '%.32s' (commands: flush, madvise, move, "
		    "resize, seek, find, rfind, lock, unlock, touch, evict, close)", cmd->text);
}

int command_mapping(const struct command_env *env, struct mapping *m, const char *line,
		    size_t len, char result[COMMAND_RESULT_MAX], struct msg *msg)
{
	struct parse_tokens t;
	int rc = parse_tokenize(line, len, &t, msg);
	if (rc < 0)
		return rc;
	snprintf(result, COMMAND_RESULT_MAX, "ok");
	rc = t.n == 0 ? msg_fail(msg, EINVAL, "empty command")
		      : run_mapping_command(env, m, &t, result, msg);
	parse_tokens_free(&t);
	return rc;
}

/* Attribute files take one value and an optional trailing newline. */
static int value_tokens(const char *text, size_t len, struct parse_tokens *t, size_t min,
			size_t max, const char *usage, struct msg *msg)
{
	if (len > 0 && text[len - 1] == '\n')
		len--;
	int rc = parse_tokenize(text, len, t, msg);
	if (rc == 0 && (t->n < min || t->n > max)) {
		parse_tokens_free(t);
		rc = msg_fail(msg, EINVAL, "expected %s", usage);
	}
	return rc;
}

int command_seek_text(struct mapping *m, const char *text, size_t len, struct msg *msg)
{
	struct parse_tokens t;
	int rc = value_tokens(text, len, &t, 1, 2, "OFFSET [WHENCE]", msg);
	if (rc < 0)
		return rc;
	rc = run_seek(m, &t, 0, msg);
	parse_tokens_free(&t);
	return rc;
}

int command_resize_text(struct mapping *m, const char *text, size_t len, struct msg *msg)
{
	struct parse_tokens t;
	int rc = value_tokens(text, len, &t, 1, 1, "a size", msg);
	if (rc < 0)
		return rc;
	rc = run_resize(m, &t.v[0], msg);
	parse_tokens_free(&t);
	return rc;
}
