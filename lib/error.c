#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

/* Fill an error with its code, subject and reason; returns the code. */
int
dsim_error_set(struct dsim_error *err, int code, const char *subject,
    const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	err->code = code;
	snprintf(err->subject, sizeof err->subject, "%s",
	    subject != NULL ? subject : "");
	va_start(ap, fmt);
	vsnprintf(err->reason, sizeof err->reason, fmt, ap);
	va_end(ap);
	return code;
}

/* Fill an error from errno, with what was being done as the reason. */
int
dsim_error_errno(struct dsim_error *err, int code, const char *subject,
    const char *doing)
{
	int saved = errno;

	if (doing != NULL)
		return dsim_error_set(err, code, subject, "%s: %s", doing,
		    strerror(saved));
	return dsim_error_set(err, code, subject, "%s", strerror(saved));
}

/* Reset an error to success. */
void
dsim_error_clear(struct dsim_error *err)
{
	err->code = 0;
	err->subject[0] = '\0';
	err->reason[0] = '\0';
}
