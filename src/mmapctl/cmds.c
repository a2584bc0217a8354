/* mmapctl_cmds.c - the commands that are one control-file command each: map
 * and close on the root ctl; find, rfind, seek, resize, flush, madvise,
 * move, lock, unlock, touch and evict on a mapping's ctl. Each prints the result line when it carries a
 * value (a name, an offset) and nothing for "ok". */
#include "config.h"
#include "mmapctl/mmapctl.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_WORDS 16

static int finish(const struct invocation *inv, const char *verb, int rc, char *result,
		  bool print)
{
	if (rc == 0 && print && result)
		printf("%s\n", result);
	if (rc < 0 && *server_message())
		print_hint(inv, verb, server_message(), -rc);
	free(result);
	return rc < 0 ? EXIT_FAIL : EXIT_OK;
}

/* VERB ARGS... on maps/NAME/ctl, NAME being the first argument. */
static int on_mapping(const struct invocation *inv, const char *verb, bool print)
{
	const char *words[MAX_WORDS] = { verb };
	size_t n = 1;
	for (int i = 1; i < inv->argc && n < MAX_WORDS; i++)
		words[n++] = inv->argv[i];
	char *result = NULL;
	int rc = mount_run_ctl(inv->mount, inv->argv[0], words, NULL, n, &result);
	return finish(inv, verb, rc, result, print);
}

/* The server wants an absolute path: a relative one is taken from here. */
static char *absolute_source(const char *path)
{
	if (path[0] == '/' || strcmp(path, "anon") == 0)
		return strdup(path);
	char *cwd = getcwd(NULL, 0);
	char *abs = NULL;
	if (!cwd)
		complain("cannot resolve '%s': %s", path, strerror(errno));
	else if (asprintf(&abs, "%s/%s", cwd, path) < 0)
		abs = NULL;
	free(cwd);
	return abs;
}

int cmd_map(const struct invocation *inv)
{
	const char *words[MAX_WORDS] = { "map" };
	size_t n = 1;
	char *source = absolute_source(inv->argv[0]);
	if (!source)
		return EXIT_FAIL;
	words[n++] = source;
	for (int i = 1; i < inv->argc && n < MAX_WORDS; i++)
		words[n++] = inv->argv[i];
	char *name = NULL;
	int rc = mount_run_ctl(inv->mount, NULL, words, NULL, n, &name);
	free(source);
	return finish(inv, "map", rc, name, true);
}

int cmd_close(const struct invocation *inv)
{
	const char *words[] = { "close", inv->argv[0] };
	return finish(inv, "close", mount_run_ctl(inv->mount, NULL, words, NULL, 2, NULL), NULL, false);
}

/* find/rfind NAME NEEDLE [START [END]]: the needle may carry C escapes (-e). */
static int search(const struct invocation *inv, const char *verb)
{
	const char *words[5] = { verb };
	size_t lens[5] = { strlen(verb) };
	char *needle = strdup(inv->argv[1]);
	size_t needle_len = strlen(inv->argv[1]);
	const char *bad = NULL;
	if (!needle)
		return complain("out of memory");
	if (inv->escapes && proto_decode_escapes(needle, &needle_len, &bad) < 0) {
		int rc = usage_error("bad escape in the needle at '%.4s'", bad);
		free(needle);
		return rc;
	}
	words[1] = needle;
	lens[1] = needle_len;
	size_t n = 2;
	for (int i = 2; i < inv->argc; i++, n++) {
		words[n] = inv->argv[i];
		lens[n] = strlen(inv->argv[i]);
	}
	char *result = NULL;
	int rc = mount_run_ctl(inv->mount, inv->argv[0], words, lens, n, &result);
	free(needle);
	return finish(inv, verb, rc, result, true);
}

int cmd_find(const struct invocation *inv)
{
	return search(inv, "find");
}

int cmd_rfind(const struct invocation *inv)
{
	return search(inv, "rfind");
}

int cmd_seek(const struct invocation *inv)
{
	return on_mapping(inv, "seek", false);
}

int cmd_resize(const struct invocation *inv)
{
	return on_mapping(inv, "resize", false);
}

int cmd_flush(const struct invocation *inv)
{
	return on_mapping(inv, "flush", false);
}

int cmd_madvise(const struct invocation *inv)
{
	return on_mapping(inv, "madvise", false);
}

int cmd_move(const struct invocation *inv)
{
	return on_mapping(inv, "move", false);
}

int cmd_lock(const struct invocation *inv)
{
	return on_mapping(inv, "lock", false);
}

int cmd_unlock(const struct invocation *inv)
{
	return on_mapping(inv, "unlock", false);
}

int cmd_touch(const struct invocation *inv)
{
	return on_mapping(inv, "touch", false);
}

int cmd_evict(const struct invocation *inv)
{
	return on_mapping(inv, "evict", false);
}
