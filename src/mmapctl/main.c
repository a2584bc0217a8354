/* mmapctl.c - the command line of mmapctl, the shell client of mmapfs: the
 * command table and its help, global and per-command options, finding the
 * mount, and the exit status. The commands themselves live in mmapctl_*.c. */
#include "config.h"
#include "mmapctl/mmapctl.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "mmapctl"
#define MOUNT_ENV "MMAPFS_MOUNT"

static int cmd_help(const struct invocation *inv);

#define LIST_OPTIONS \
	"  -o, --output=LIST  the columns, comma-separated; +LIST adds to the defaults\n" \
	"  -J, --json         print JSON (sizes as 4K strings, with -b as numbers)\n" \
	"  -r, --raw          one line per row, cells separated by one blank, blanks\n" \
	"                     and unprintable bytes as \\xHH\n" \
	"  -n, --noheadings   no heading line\n" \
	"  -b, --bytes        sizes in bytes (default: 4K, 1.5M, as lsblk)\n" \
	"  -H, --list-columns list the columns and exit\n"

static const struct command commands[] = {
	{ "map", "", "PATH [key=value...]", "map a file (or anon), print the new name",
	  "PATH is a file (a relative path is taken from the current directory) or 'anon'\n"
	  "for anonymous memory. Options, as the server takes them:\n"
	  "  length=N  offset=N  access=read|write|copy|default  flags=F[,F...]\n"
	  "  prot=P[,P...]  trackfd=yes|no  name=NAME\n"
	  "Numbers take K, M, G and T suffixes. Prints the new mapping's name.\n",
	  1, 15, 0, cmd_map },
	{ "close", "", "NAME", "flush and unmap a mapping",
	  "A shared, writable mapping is flushed (msync) first.\n", 1, 1, 0, cmd_close },
	{ "ls", "[-o LIST] [-J|-r] [-n] [-b] ", "", "list the mappings as a table",
	  "One line per mapping the caller may read (with allow_other, other users'\n"
	  "mappings are skipped), in name order.\n"
	  LIST_OPTIONS,
	  0, 0, OPT_LIST, cmd_ls },
	{ "info", "[-o LIST] [-J|-r] [-b] ", "NAME", "show every attribute of a mapping",
	  "One \"field value\" line per column (every column by default); a value that\n"
	  "cannot be read shows as \"- (why)\". -J and -r print the row as ls does.\n"
	  LIST_OPTIONS,
	  1, 1, OPT_LIST, cmd_info },
	{ "find", "[-e] ", "NAME NEEDLE [START [END]]", "print the lowest offset of NEEDLE, or -1",
	  "As mm.find: START defaults to the current position, END to the length, and\n"
	  "negative values count from the end.\n"
	  "  -e, --escapes  NEEDLE is written with C escapes (\\n \\t \\r \\0 \\\\ \\xHH)\n"
	  "Put -- before a NEEDLE that begins with '-'.\n",
	  2, 4, OPT_ESCAPES, cmd_find },
	{ "rfind", "[-e] ", "NAME NEEDLE [START [END]]", "print the highest offset of NEEDLE, or -1",
	  "As mm.rfind; START, END and -e as for find.\n", 2, 4, OPT_ESCAPES, cmd_rfind },
	{ "seek", "", "NAME OFFSET [WHENCE]", "set the position (WHENCE: set, cur, end)",
	  "WHENCE is set (the default), cur or end, or 0, 1 or 2. A position outside\n"
	  "[0, length] is refused and the position stays.\n", 2, 3, 0, cmd_seek },
	{ "resize", "", "NAME SIZE", "resize the mapping and its backing file",
	  "As mm.resize: a file-backed mapping's file becomes offset + SIZE bytes.\n",
	  2, 2, 0, cmd_resize },
	{ "flush", "", "NAME [OFFSET [SIZE]]", "write the mapping back (msync)",
	  "OFFSET must be a multiple of the page size.\n", 1, 3, 0, cmd_flush },
	{ "madvise", "", "NAME ADVICE [START [LENGTH]]", "advise the kernel about the pages",
	  "ADVICE is a name such as dontneed or MADV_WILLNEED (any case), or a number.\n",
	  2, 4, 0, cmd_madvise },
	{ "move", "", "NAME DEST SRC COUNT", "move COUNT bytes from SRC to DEST",
	  "As mm.move (memmove within the mapping).\n",
	  4, 4, 0, cmd_move },
	{ "pages", "[-a] [-w COLS] [--color[=WHEN]] [-f FILE] ", "NAME",
	  "draw which pages are in memory",
	  "Draws the mapping's pages file as a grid, one cell per page (or, for a large\n"
	  "mapping, per group of pages, showing their most common state), then the\n"
	  "count and share of each state:\n"
	  "  M mapped here, shared    C private copy (copy-on-write)\n"
	  "  R in memory, not mapped here    S swapped out    . not in memory\n"
	  "Each row starts with the index of its first page.\n"
	  "  -a, --all           one cell per page, however many rows that takes\n"
	  "  -w, --width=COLS    cells per row (default: fit the terminal, 64 piped)\n"
	  "      --color[=WHEN]  colour cells: auto (on a terminal), always, never\n"
	  "  -f, --file=FILE     draw a page map saved from a pages file ('-': stdin)\n"
	  "                      instead of a mapping's (then no NAME)\n",
	  0, 1, OPT_PAGES, cmd_pages },
	{ "read", "", "NAME [OFFSET [LENGTH]]", "write the mapping's bytes to stdout",
	  "The bytes mm[OFFSET:OFFSET+LENGTH], unchanged (binary-safe); OFFSET defaults\n"
	  "to 0, LENGTH to the rest. Nothing past the end. pos does not move.\n",
	  1, 3, 0, cmd_read },
	{ "write", "", "NAME OFFSET", "write stdin into the mapping at OFFSET",
	  "As writing the data file at OFFSET (dd conv=notrunc): a write past the end\n"
	  "grows the mapping (and its file) where it can be resized, and is refused\n"
	  "(File too large) where it cannot. pos does not move.\n",
	  2, 2, 0, cmd_write },
	{ "dump", "", "NAME [OFFSET [LENGTH]]", "show the bytes as hexdump -C does",
	  "Exactly the output of hexdump -C -s OFFSET -n LENGTH on the data file:\n"
	  "offsets are the mapping's, '*' stands for repeated lines.\n",
	  1, 3, 0, cmd_dump },
	{ "tell", "", "NAME", "print the position (tell())", "", 1, 1, 0, cmd_tell },
	{ "stats", "[-J] [-b] ", "", "show the table's counts and bounds",
	  "maps, bytes, max_maps, max_bytes and resident, from the stats file.\n"
	  "  -J, --json   print JSON\n"
	  "  -b, --bytes  sizes in bytes (default: 4K, 1.5M)\n",
	  0, 0, OPT_JSON, cmd_stats },
	{ "log", "[-n N] [-f] [-J] ", "", "show the recent commands and their results",
	  "The server's log: one line per command (or change made through a file).\n"
	  "  -n, --lines=N  only the last N lines\n"
	  "  -f, --follow   then print new lines as they come, until interrupted; the log\n"
	  "                 is read again every 0.2 s, so a line shows within 0.2 s\n"
	  "  -J, --json     print JSON: time, pid, uid, file, command, result (with -f,\n"
	  "                 one JSON object per batch of new lines)\n",
	  0, 0, OPT_LOG, cmd_log },
	{ "help", "", "[COMMAND]", "show this help, or a command's", "", 0, 1, 0, cmd_help },
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static const struct command *current; /* for usage errors */

int complain(const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_FAIL;
}

int usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (current)
		fprintf(stderr, "usage: " PROG " [-m MOUNT] %s %s%s\nTry '" PROG " help %s'.\n",
			current->name, current->opts, current->args, current->name);
	else
		fprintf(stderr, "Try '" PROG " --help'.\n");
	return EXIT_USAGE;
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* ---- help ------------------------------------------------------------------ */

static void global_help(void)
{
	printf("usage: " PROG " [-m MOUNT] COMMAND [ARGS...]\n\n"
	       "Drive an mmapfs mount through its control files (see mmapctl(1)).\n"
	       "The mount is MOUNT, or $" MOUNT_ENV " when -m is not given.\n\nCommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++) {
		char left[64];
		snprintf(left, sizeof left, "%s %s", commands[i].name, commands[i].args);
		printf("  %-36s %s\n", left, commands[i].summary);
	}
	printf("\nOptions:\n"
	       "  -m, --mount=MOUNT   the mmapfs mount point (default: $" MOUNT_ENV ")\n"
	       "  -h, --help          show this help ('" PROG " help COMMAND' for a command's)\n"
	       "  -V, --version       show the version\n\n"
	       "Exit status: 0 on success; 1 when the server refuses a command (its message\n"
	       "goes to stderr, then a hint: line where one helps) or a file cannot be read;\n"
	       "2 for a usage error.\n");
}

static void command_help(const struct command *c)
{
	printf("usage: " PROG " [-m MOUNT] %s %s%s\n\n%c%s.\n", c->name, c->opts, c->args,
	       toupper((unsigned char)c->summary[0]), c->summary + 1);
	if (c->details[0])
		printf("\n%s", c->details);
	if (c->options & OPT_LIST) {
		putchar('\n');
		command_columns(c, stdout);
	}
}

static int cmd_help(const struct invocation *inv)
{
	if (inv->argc == 0) {
		global_help();
		return EXIT_OK;
	}
	const struct command *c = find_command(inv->argv[0]);
	if (!c)
		return usage_error("no command '%s'", inv->argv[0]);
	command_help(c);
	return EXIT_OK;
}

/* ---- options ------------------------------------------------------------------ */

/* An option's value: "--opt=V", "-oV", or the next argument. */
static const char *option_value(const char *arg, const char *lng, char shrt, char **argv,
				int *i)
{
	size_t n = strlen(lng);
	if (strncmp(arg, lng, n) == 0 && arg[n] == '=')
		return arg + n + 1;
	if (arg[0] == '-' && arg[1] == shrt && arg[2])
		return arg + 2;
	return argv[*i + 1] ? argv[++*i] : NULL;
}

static bool is_option(const char *arg, const char *lng, char shrt)
{
	size_t n = strlen(lng);
	return (shrt && arg[0] == '-' && arg[1] == shrt) ||
	       (strncmp(arg, lng, n) == 0 && (arg[n] == '\0' || arg[n] == '='));
}

static int parse_color(const char *arg, struct invocation *inv)
{
	const char *eq = strchr(arg, '=');
	const char *when = eq ? eq + 1 : "always";
	if (strcmp(when, "always") == 0 || strcmp(when, "yes") == 0)
		inv->color = COLOR_ALWAYS;
	else if (strcmp(when, "never") == 0 || strcmp(when, "no") == 0)
		inv->color = COLOR_NEVER;
	else if (strcmp(when, "auto") == 0)
		inv->color = COLOR_AUTO;
	else
		return usage_error("--color takes auto, always or never, not '%s'", when);
	return 0;
}

static int parse_width(const char *v, struct invocation *inv)
{
	char *end;
	long w = v ? strtol(v, &end, 10) : 0;
	if (!v || *end || w < 1 || w > 100000)
		return usage_error("-w takes a number of cells from 1 to 100000");
	inv->width = (unsigned)w;
	return 0;
}

/* An option of pages: 1 if it was one, 0 if not, or EXIT_USAGE. */
static int pages_option(const char *arg, char **argv, int *i, struct invocation *inv)
{
	if (strcmp(arg, "-a") == 0 || strcmp(arg, "--all") == 0) {
		inv->all = true;
	} else if (is_option(arg, "--color", 0) || is_option(arg, "--colour", 0)) {
		if (parse_color(arg, inv))
			return EXIT_USAGE;
	} else if (is_option(arg, "--width", 'w')) {
		if (parse_width(option_value(arg, "--width", 'w', argv, i), inv))
			return EXIT_USAGE;
	} else if (is_option(arg, "--file", 'f')) {
		if (!(inv->file = option_value(arg, "--file", 'f', argv, i)))
			return usage_error("-f needs a FILE");
	} else {
		return 0;
	}
	return 1;
}

/* A flag of the listings; clusters such as -Jb work. 1, 0 (not one), EXIT_USAGE. */
static int list_flag(char f, unsigned options, struct invocation *inv)
{
	if (f == 'J' && (options & (OPT_LIST | OPT_JSON | OPT_LOG)))
		inv->json = true;
	else if (f == 'b' && (options & (OPT_LIST | OPT_JSON)))
		inv->bytes = true;
	else if (f == 'r' && (options & OPT_LIST))
		inv->raw = true;
	else if (f == 'n' && (options & OPT_LIST))
		inv->noheadings = true;
	else if (f == 'H' && (options & OPT_LIST))
		inv->list_columns = true;
	else if (f == 'f' && (options & OPT_LOG))
		inv->follow = true;
	else
		return 0;
	return 1;
}

static const struct { const char *name; char flag; } long_flags[] = {
	{ "--json", 'J' }, { "--bytes", 'b' }, { "--raw", 'r' }, { "--noheadings", 'n' },
	{ "--list-columns", 'H' }, { "--follow", 'f' },
};

static int parse_lines(const char *v, struct invocation *inv)
{
	char *end;
	long n = v ? strtol(v, &end, 10) : -1;
	if (!v || !*v || *end || n < 0)
		return usage_error("-n takes a number of lines, 0 or more");
	inv->lines = n;
	return 0;
}

/* An option of ls, info, stats or log: 1 if it was one, 0 if not, or EXIT_USAGE. */
static int output_option(const char *arg, unsigned options, char **argv, int *i,
			 struct invocation *inv)
{
	if ((options & OPT_LIST) && is_option(arg, "--output", 'o')) {
		if (!(inv->columns = option_value(arg, "--output", 'o', argv, i)))
			return usage_error("-o needs a LIST of columns");
		return 1;
	}
	if ((options & OPT_LOG) && is_option(arg, "--lines", 'n'))
		return parse_lines(option_value(arg, "--lines", 'n', argv, i), inv) ? EXIT_USAGE : 1;
	for (size_t k = 0; k < sizeof long_flags / sizeof long_flags[0]; k++)
		if (strcmp(arg, long_flags[k].name) == 0)
			return list_flag(long_flags[k].flag, options, inv);
	if (arg[1] == '-')
		return 0;
	for (const char *f = arg + 1; *f; f++) /* all or nothing */
		if (!list_flag(*f, options, &(struct invocation){ 0 }))
			return 0;
	for (const char *f = arg + 1; *f; f++)
		list_flag(*f, options, inv);
	return 1;
}

static bool looks_like_option(const char *arg)
{
	return arg[0] == '-' && arg[1] != '\0' && !isdigit((unsigned char)arg[1]);
}

/* Split a command's arguments into options and positional arguments (kept
 * in order in inv->argv). Returns 0, EXIT_USAGE, or -1 for --help. */
static int command_options(const struct command *c, int argc, char **argv,
			   struct invocation *inv)
{
	bool done = false;
	inv->argv = calloc((size_t)argc + 1, sizeof *inv->argv);
	if (!inv->argv)
		return complain("out of memory");
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];
		int r;
		if (done || !looks_like_option(arg)) {
			inv->argv[inv->argc++] = argv[i];
		} else if (strcmp(arg, "--") == 0) {
			done = true;
		} else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			return -1;
		} else if (is_option(arg, "--mount", 'm')) {
			if (!(inv->mount = option_value(arg, "--mount", 'm', argv, &i)))
				return usage_error("-m needs a MOUNT");
		} else if ((c->options & OPT_ESCAPES) &&
			   (strcmp(arg, "-e") == 0 || strcmp(arg, "--escapes") == 0)) {
			inv->escapes = true;
		} else if ((c->options & OPT_PAGES) && (r = pages_option(arg, argv, &i, inv)) != 0) {
			if (r != 1)
				return r;
		} else if ((r = output_option(arg, c->options, argv, &i, inv)) != 0) {
			if (r != 1)
				return r;
		} else {
			return usage_error("unknown option '%s' (put -- before an argument that "
					   "begins with '-')", arg);
		}
	}
	return 0;
}

static int check_arity(const struct command *c, const struct invocation *inv)
{
	if (inv->argc < c->min_args)
		return usage_error("missing arguments");
	if (inv->argc > c->max_args)
		return usage_error("too many arguments");
	return 0;
}

static bool needs_mount(const struct command *c, const struct invocation *inv)
{
	return c->run != cmd_help && !(c->run == cmd_pages && inv->file);
}

static int run_command(const struct command *c, int argc, char **argv, const char *mount)
{
	struct invocation inv = { .mount = mount, .color = COLOR_AUTO, .lines = -1 };
	current = c;
	int rc = command_options(c, argc, argv, &inv);
	if (rc == -1) {
		command_help(c);
		rc = EXIT_OK;
	} else if (rc == 0 && inv.list_columns) {
		command_columns(c, stdout); /* needs neither arguments nor a mount */
	} else if (rc == 0 && (rc = check_arity(c, &inv)) == 0) {
		if (!inv.mount || !*inv.mount)
			inv.mount = getenv(MOUNT_ENV);
		if (needs_mount(c, &inv) && (!inv.mount || !*inv.mount))
			rc = usage_error("no mount point: give -m MOUNT or set " MOUNT_ENV);
		else
			rc = c->run(&inv);
	}
	free(inv.argv);
	return rc;
}

/* Options before the command; returns the index of the command, or -status. */
static int global_options(int argc, char **argv, const char **mount)
{
	int i = 1;
	for (; i < argc && looks_like_option(argv[i]); i++) {
		const char *arg = argv[i];
		if (strcmp(arg, "--") == 0)
			return i + 1;
		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			global_help();
			return -EXIT_OK;
		}
		if (strcmp(arg, "-V") == 0 || strcmp(arg, "--version") == 0) {
			printf(PROG " (mmapfs) %s\n", PACKAGE_VERSION);
			return -EXIT_OK;
		}
		if (!is_option(arg, "--mount", 'm'))
			return -usage_error("unknown option '%s'", arg);
		if (!(*mount = option_value(arg, "--mount", 'm', argv, &i)))
			return -usage_error("-m needs a MOUNT");
	}
	return i;
}

static int finish_output(int rc)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		return complain("write error: %s", strerror(errno));
	return rc;
}

int main(int argc, char **argv)
{
	const char *mount = NULL;
	int first = global_options(argc, argv, &mount);
	if (first <= 0)
		return finish_output(-first);
	if (first >= argc)
		return usage_error("no command given");
	const struct command *c = find_command(argv[first]);
	if (!c)
		return usage_error("unknown command '%s'", argv[first]);
	return finish_output(run_command(c, argc - first - 1, argv + first + 1, mount));
}
