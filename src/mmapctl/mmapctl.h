/* mmapctl.h - what the parts of mmapctl (the shell client of mmapfs) share:
 * one invocation, the command table entry, and each part's entry points.
 * Helpers return 0 or a negative errno; commands return an exit status. */
#ifndef MMAPCTL_H
#define MMAPCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit statuses. */
#define EXIT_OK 0
#define EXIT_FAIL 1	/* the server refused, or a file could not be read */
#define EXIT_USAGE 2	/* bad command line */

enum color_mode { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER };

/* Options a command may accept (bits of struct command.options). */
#define OPT_ESCAPES 0x1	/* find/rfind -e: the needle is written with C escapes */
#define OPT_PAGES 0x2	/* pages: -w COLS, -a, --color[=WHEN], -f FILE */
#define OPT_LIST 0x4	/* ls, info: -o LIST, -J, -r, -n, -b, --list-columns */
#define OPT_JSON 0x8	/* stats: -J, -b */
#define OPT_LOG 0x10	/* log: -n N, -f/--follow, -J */

/* One run of one command: the mount and the command's own arguments. */
struct invocation {
	const char *mount;	/* from -m or $MMAPFS_MOUNT; NULL if neither */
	int argc;		/* positional arguments after the command */
	char **argv;
	bool escapes;		/* -e */
	enum color_mode color;	/* --color */
	unsigned width;		/* -w: cells per row, 0 = fit the terminal */
	bool all;		/* -a: one cell per page, however many rows */
	const char *file;	/* -f: draw a saved page map instead of a mapping */
	const char *columns;	/* -o: the columns, "+LIST" to add to the defaults */
	bool json;		/* -J, --json */
	bool raw;		/* -r, --raw */
	bool noheadings;	/* -n, --noheadings */
	bool bytes;		/* -b, --bytes: sizes in bytes, not 4K */
	bool list_columns;	/* --list-columns */
	long lines;		/* log -n: the last N lines, -1 for all */
	bool follow;		/* log -f, --follow */
	double watch;		/* pages --watch [SECONDS]: the interval; 0 = no watch */
};

struct command {
	const char *name;
	const char *opts;	/* synopsis of its options ("" or ending in a blank) */
	const char *args;	/* synopsis of the arguments */
	const char *summary;	/* one line */
	const char *details;	/* the rest of `mmapctl help CMD` */
	int min_args, max_args;
	unsigned options;	/* OPT_ bits */
	int (*run)(const struct invocation *inv);
};

/* ---- mmapctl.c: reporting ------------------------------------------------ */
/* Print "mmapctl: MESSAGE" on stderr; returns EXIT_FAIL. */
int complain(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A usage error of the running command: message, synopsis, hint; EXIT_USAGE. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- mmapctl_proto.c: the control-file protocol ---------------------------- */
/* Join words into one command line (no newline), each quoted so that the
 * server's tokenizer gives back exactly these bytes (lens NULL: strlen).
 * Returns a malloc'd string, or NULL when out of memory. */
char *proto_command_line(const char *const *words, const size_t *lens, size_t n);
/* Decode the C escapes of -e (\n \t \r \0 \\ \" \' \xHH) in place; sets
 * *len. Returns 0 or -EINVAL with *bad pointing at the faulty escape. */
int proto_decode_escapes(char *text, size_t *len, const char **bad);
/* Write line to an open control file and read its result line back on the
 * same fd. 0: *result is the result line. -errno: *result is the server's
 * message (without "error: "), or strerror when it gave none. *result is
 * malloc'd in both cases (NULL only when out of memory). */
int proto_exchange(int fd, const char *line, char **result);

/* ---- mmapctl_mount.c: files of a mount ------------------------------------- */
/* Whether name is a valid mapping name: core/mapname.h's rule, the server's. */
bool mount_name_valid(const char *name);
/* MOUNT/rel as a malloc'd string (aborts when out of memory). */
char *mount_path(const char *mount, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Open the root ctl (name NULL) or maps/NAME/ctl read-write. Returns the fd,
 * or -errno after printing why. */
int mount_open_ctl(const char *mount, const char *name);
/* Print why path (a file of the mount, or of mapping name) could not be
 * opened with errno err: not a mount, no such mapping, or strerror.
 * Returns -err. */
int mount_explain_missing(const char *mount, const char *name, const char *path, int err);
/* Whether maps/NAME exists: 0, or -errno after printing why not. */
int mount_check_mapping(const char *mount, const char *name);
/* Run one command (words, lens as for proto_command_line) on the root ctl (name
 * NULL) or maps/NAME/ctl, and print its failure; 0 or -errno. On success
 * *result (if not NULL) gets the malloc'd result line. */
int mount_run_ctl(const char *mount, const char *name, const char *const *words, const size_t *lens,
	    size_t n, char **result);
/* The server's message of the last command mount_run_ctl saw refused ("" if none). */
const char *server_message(void);
/* Read a whole file: malloc'd, NUL-terminated text and its length. */
int mount_read_file_text(const char *path, char **text, size_t *len);
/* One attribute file of a mapping, without its newline (malloc'd). */
int mount_read_attr(const char *mount, const char *name, const char *attr, char **value);
/* The mapping names under MOUNT/maps, sorted (numbers numerically). */
int mount_list_names(const char *mount, char ***names, size_t *n);
void mount_free_names(char **names, size_t n);

/* ---- mmapctl_pages.c: the page map ------------------------------------------ */
enum page_state { PS_MAPPED, PS_COPY, PS_RESIDENT, PS_SWAPPED, PS_ABSENT,
		  PS_GUARD, PS_ZERO, PS_DIRTY, PS_OTHER, PS_COUNT };
struct page_counts {
	size_t n[PS_COUNT];
	size_t total;
};
/* Count the states in the text of a pages file (its newline excluded). */
void pages_count(const char *text, size_t len, struct page_counts *c);
/* Pages that hold memory: mapped here (shared, dirty or copies), or in
 * memory elsewhere; not the kernel's zero page, nor guard pages. */
size_t pages_resident(const struct page_counts *c);
/* part/total as a percentage for a table: "37%", never "0%" or "100%" when
 * it is not exactly that ("<1%", ">99%"). */
void pages_format_share(size_t part, size_t total, char *buf, size_t cap);

/* ---- commands (mmapctl_cmds.c, mmapctl_ls.c, mmapctl_pages.c) -------------- */
int cmd_map(const struct invocation *inv);
int cmd_close(const struct invocation *inv);
int cmd_find(const struct invocation *inv);
int cmd_rfind(const struct invocation *inv);
int cmd_seek(const struct invocation *inv);
int cmd_resize(const struct invocation *inv);
int cmd_flush(const struct invocation *inv);
int cmd_madvise(const struct invocation *inv);
int cmd_move(const struct invocation *inv);
int cmd_ls(const struct invocation *inv);
int cmd_info(const struct invocation *inv);
int cmd_pages(const struct invocation *inv);
int cmd_lock(const struct invocation *inv);
int cmd_unlock(const struct invocation *inv);
int cmd_touch(const struct invocation *inv);
int cmd_evict(const struct invocation *inv);
int cmd_read(const struct invocation *inv);
int cmd_write(const struct invocation *inv);
int cmd_dump(const struct invocation *inv);
int cmd_tell(const struct invocation *inv);
int cmd_stats(const struct invocation *inv);
int cmd_log(const struct invocation *inv);

/* ---- hints.c: what a shell user can do about a refusal ------------------- */
/* After verb (run by inv) was refused with the server's message (or, for
 * read/write, errno err), print "hint: ..." lines where there is a hint. */
void print_hint(const struct invocation *inv, const char *verb, const char *message, int err);

/* ---- listing.c: tables through libsmartcols --------------------------------- */
struct libscols_table;
struct libscols_line;
/* What a column holds: text; a number (JSON number); a size in bytes (human
 * as 4K, or with -b bytes and a JSON number). */
enum column_kind { CK_TEXT, CK_NUMBER, CK_SIZE };
struct column_def {
	const char *name;	/* heading, and (lower case) the JSON key */
	const char *help;	/* for --list-columns and --help */
	enum column_kind kind;
	double whint;		/* libsmartcols' width hint */
	int flags;		/* SCOLS_FL_ */
};
#define LIST_MAX_COLUMNS 64
struct column_pick {
	int col[LIST_MAX_COLUMNS];	/* indices into the column_def array */
	size_t n;
};
/* Resolve -o (spec NULL: the defaults; "+A,B": the defaults then A, B;
 * names in any case). Returns 0 or EXIT_USAGE after saying why. */
int pick_columns(const struct column_def *defs, size_t ndefs, const char *defaults,
		 const char *spec, struct column_pick *pick);
/* One "  NAME  help" line per column. */
void list_columns(FILE *out, const struct column_def *defs, size_t ndefs);
/* Columns of the command that takes OPT_LIST, for --help and --list-columns. */
void command_columns(const struct command *c, FILE *out);
/* A table named name (the JSON key) of the picked columns, set up for the
 * invocation's -J, -r, -n; NULL when out of memory. */
struct libscols_table *listing_new(const struct invocation *inv, const char *name,
				   const struct column_def *defs, const struct column_pick *pick);
/* Set cell i of a line: text ("" is JSON null), a number, a size. 0 or -ENOMEM. */
int cell_text(struct libscols_line *ln, size_t i, const char *text);
/* Text from a file (a path, a log line): in JSON, bytes that are not UTF-8
 * become the text \xHH, so the JSON stays valid. */
int cell_string(const struct invocation *inv, struct libscols_line *ln, size_t i,
		const char *text);
int cell_number(struct libscols_line *ln, size_t i, uint64_t n);
int cell_size(const struct invocation *inv, struct libscols_line *ln, size_t i, uint64_t n);
/* Print the table and free it; an exit status. */
int listing_print(struct libscols_table *tb);
/* bytes as lsblk shows a size: 0B, 100B, 1.5K, 4K, 12G. */
void human_size(uint64_t bytes, char *buf, size_t cap);

#endif
