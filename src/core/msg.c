/* msg.c - error messages that travel with negative errnos. */
#include "config.h"
#include "core/msg.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Copy s into the message, writing control bytes as \xHH: a message may
 * quote user input, and must stay one result line. */
static void set_text(struct msg *m, const char *s)
{
	size_t n = 0, cap = sizeof m->text;
	for (; *s && n + 1 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 0x20 && c != 0x7f) {
			m->text[n++] = (char)c;
		} else if (n + 5 < cap) {
			snprintf(m->text + n, cap - n, "\\x%02x", c);
			n += 4;
		} else {
			break;
		}
	}
	m->text[n] = '\0';
}

int msg_fail(struct msg *m, int errnum, const char *fmt, ...)
{
	if (m) {
		char raw[sizeof m->text];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(raw, sizeof raw, fmt, ap);
		va_end(ap);
		set_text(m, raw);
	}
	return -errnum;
}

int msg_fail_errno(struct msg *m, int errnum)
{
	if (m) {
		char buf[128];
		/* GNU strerror_r may return a static string instead of filling buf. */
		const char *s = strerror_r(errnum, buf, sizeof buf);
		snprintf(m->text, sizeof m->text, "%s", s);
	}
	return -errnum;
}
