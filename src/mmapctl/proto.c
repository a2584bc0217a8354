/* mmapctl_proto.c - the control-file protocol as a client speaks it: quoting
 * words for the server's tokenizer, and one write/read exchange on an open
 * control file. */
#include "config.h"
#include "mmapctl/mmapctl.h"
#include "core/parse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ERROR_PREFIX "error: "
/* Result lines are short; a usage text or several lines fit easily too. */
#define REPLY_MAX 65536

/* A word the tokenizer takes as it is: printable, no blanks, no quotes. */
static bool is_bare(const char *word, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)word[i];
		if (c <= ' ' || c >= 0x7f || c == '"' || c == '\'' || c == '\\')
			return false;
	}
	return true;
}

static void put_escaped(FILE *out, unsigned char c)
{
	switch (c) {
	case '\n': fputs("\\n", out); break;
	case '\t': fputs("\\t", out); break;
	case '\r': fputs("\\r", out); break;
	case '\\': fputs("\\\\", out); break;
	case '"': fputs("\\\"", out); break;
	default:
		if (c < ' ' || c >= 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
}

static void quote_to(FILE *out, const char *word, size_t len)
{
	if (is_bare(word, len)) {
		fwrite(word, 1, len, out);
		return;
	}
	fputc('"', out);
	for (size_t i = 0; i < len; i++)
		put_escaped(out, (unsigned char)word[i]);
	fputc('"', out);
}

char *proto_command_line(const char *const *words, const size_t *lens, size_t n)
{
	char *line = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&line, &len);
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			fputc(' ', out);
		quote_to(out, words[i], lens ? lens[i] : strlen(words[i]));
	}
	if (fclose(out) != 0) {
		free(line);
		return NULL;
	}
	return line;
}

/* The server's own escape language (parse.c), so a needle decodes here
 * exactly as it would inside "..." there. */
int proto_decode_escapes(char *text, size_t *len, const char **bad)
{
	size_t n = strlen(text), r = 0;
	char *w = text;
	while (r < n) {
		if (text[r] != '\\') {
			*w++ = text[r++];
			continue;
		}
		size_t at = r;
		if (parse_escape(text, n, &r, w++, NULL) < 0) {
			*bad = text + at;
			return -EINVAL;
		}
	}
	*len = (size_t)(w - text);
	return 0;
}

/* Everything the queue holds after our write, up to end of file. */
static int read_reply(int fd, char **text, size_t *len)
{
	char *buf = malloc(REPLY_MAX + 1);
	size_t n = 0;
	if (!buf)
		return -ENOMEM;
	while (n < REPLY_MAX) {
		ssize_t r = read(fd, buf + n, REPLY_MAX - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			free(buf);
			return -e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

static int write_line(int fd, const char *line)
{
	size_t len = strlen(line);
	ssize_t w;
	do
		w = write(fd, line, len);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return -errno;
	return (size_t)w == len ? 0 : -EIO; /* a control file takes a write whole */
}

int proto_exchange(int fd, const char *line, char **result)
{
	int rc = write_line(fd, line);
	char *reply = NULL;
	size_t len = 0;
	int rrc = read_reply(fd, &reply, &len);
	if (rrc < 0 && rc == 0)
		rc = rrc;
	char *first = reply;
	if (first) {
		char *nl = strchr(first, '\n');
		if (nl)
			*nl = '\0';
	}
	bool refused = first && strncmp(first, ERROR_PREFIX, strlen(ERROR_PREFIX)) == 0;
	if (rc == 0 && refused)
		rc = -EIO; /* cannot happen with a conforming server */
	if (rc < 0) {
		*result = strdup(refused ? first + strlen(ERROR_PREFIX) : strerror(-rc));
	} else {
		*result = strdup(first ? first : "");
	}
	free(reply);
	return rc;
}
