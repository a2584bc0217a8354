/* msg.c - error messages that travel with negative errnos. */
#include "config.h"
#include "msg.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int fail(struct msg *m, int errnum, const char *fmt, ...)
{
	if (m) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(m->text, sizeof m->text, fmt, ap);
		va_end(ap);
	}
	return -errnum;
}

int fail_errno(struct msg *m, int errnum)
{
	if (m) {
		char buf[128];
		/* GNU strerror_r may return a static string instead of filling buf. */
		const char *s = strerror_r(errnum, buf, sizeof buf);
		snprintf(m->text, sizeof m->text, "%s", s);
	}
	return -errnum;
}
