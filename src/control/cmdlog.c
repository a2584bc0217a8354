/* cmdlog.c - a ring of the last CMDLOG_LINES command lines. */
#include "config.h"
#include "control/cmdlog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cmdlog_init(struct cmdlog *l)
{
	memset(l, 0, sizeof *l);
	pthread_mutex_init(&l->lock, NULL);
}

void cmdlog_destroy(struct cmdlog *l)
{
	for (size_t i = 0; i < CMDLOG_LINES; i++)
		free(l->lines[i]);
	pthread_mutex_destroy(&l->lock);
}

/* Printable copy of a command: a log line must stay one line. */
static char *escaped(const char *s, size_t len)
{
	char *out = malloc(len * 4 + 1), *w = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f || c == '\\')
			w += sprintf(w, "\\x%02x", c);
		else
			*w++ = (char)c;
	}
	*w = '\0';
	return out;
}

void cmdlog_add(struct cmdlog *l, pid_t pid, const char *file, const char *cmd, size_t len,
		const char *result)
{
	char *c = escaped(cmd, len), *line = NULL;
	if (!c || asprintf(&line, "pid %d %s: %s => %s\n", (int)pid, file, c, result) < 0)
		line = NULL;
	free(c);
	if (!line)
		return;
	pthread_mutex_lock(&l->lock);
	free(l->lines[l->next]);
	l->lines[l->next] = line;
	l->next = (l->next + 1) % CMDLOG_LINES;
	l->seq++;
	pthread_mutex_unlock(&l->lock);
}

int cmdlog_render(struct cmdlog *l, char **text, size_t *len)
{
	pthread_mutex_lock(&l->lock);
	size_t total = 0;
	for (size_t i = 0; i < CMDLOG_LINES; i++)
		total += l->lines[i] ? strlen(l->lines[i]) : 0;
	char *out = malloc(total + 1), *w = out;
	for (size_t k = 0; out && k < CMDLOG_LINES; k++) {
		const char *s = l->lines[(l->next + k) % CMDLOG_LINES];
		if (s)
			w = stpcpy(w, s);
	}
	pthread_mutex_unlock(&l->lock);
	if (!out)
		return -ENOMEM;
	*text = out;
	*len = total;
	return 0;
}
