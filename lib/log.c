#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

/*
 * The one place that writes diagnostics.  Every line has the form
 * "dsim-PROG: subject: reason"; text that came from outside (a file, a
 * server, the command line) is escaped so that it cannot drive the
 * terminal.
 */

static const char *log_program = "dsim";
static int log_verbosity = DSIM_LOG_NORMAL;

/* Remember the program's name for every message. */
void
dsim_log_init(const char *name)
{
	const char *slash = strrchr(name, '/');

	log_program = slash != NULL ? slash + 1 : name;
}

/* The program's name as messages show it. */
const char *
dsim_log_program(void)
{
	return log_program;
}

/* Set how much is said: one of enum dsim_verbosity. */
void
dsim_log_set_verbosity(int v)
{
	log_verbosity = v;
}

/* How much is said. */
int
dsim_log_verbosity(void)
{
	return log_verbosity;
}

/* Write a string with control characters shown as escapes. */
static void
log_escaped(const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '\n')
			fputs("\\n", stderr);
		else if (*p == '\t')
			fputs("\\t", stderr);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(stderr, "\\x%02x", *p);
		else
			fputc(*p, stderr);
	}
}

/* Quote a subject when it has spaces, as STYLE.md asks. */
static void
log_subject(const char *subject)
{
	if (subject == NULL || *subject == '\0')
		return;
	if (strchr(subject, ' ') != NULL) {
		fputc('\'', stderr);
		log_escaped(subject);
		fputs("': ", stderr);
	} else {
		log_escaped(subject);
		fputs(": ", stderr);
	}
}

static void
log_line(const char *subject, const char *fmt, va_list ap)
{
	char reason[2048];

	vsnprintf(reason, sizeof reason, fmt, ap);
	fputs(log_program, stderr);
	fputs(": ", stderr);
	log_subject(subject);
	log_escaped(reason);
	fputc('\n', stderr);
}

static void
log_hint(void)
{
	fprintf(stderr, "Try '%s --help' for more information.\n",
	    log_program);
}

/* Say that something failed. */
void
dsim_log_error(const char *subject, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(subject, fmt, ap);
	va_end(ap);
}

/* Say something the operator should know, unless -q. */
void
dsim_log_warn(const char *subject, const char *fmt, ...)
{
	va_list ap;

	if (log_verbosity < DSIM_LOG_NORMAL)
		return;
	va_start(ap, fmt);
	log_line(subject, fmt, ap);
	va_end(ap);
}

/* Say what is happening and why, only with -v. */
void
dsim_log_info(const char *subject, const char *fmt, ...)
{
	va_list ap;

	if (log_verbosity < DSIM_LOG_VERBOSE)
		return;
	va_start(ap, fmt);
	log_line(subject, fmt, ap);
	va_end(ap);
}

/*
 * Report a library error and return the exit status it calls for; a
 * usage error gets the hint to --help, as every usage error does.
 */
int
dsim_log_report(const struct dsim_error *err)
{
	dsim_log_error(err->subject, "%s", err->reason);
	if (err->code == DSIM_EX_USAGE)
		log_hint();
	return err->code;
}

/* Report a usage error with the hint to --help; returns 64. */
int
dsim_log_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(NULL, fmt, ap);
	va_end(ap);
	log_hint();
	return DSIM_EX_USAGE;
}
