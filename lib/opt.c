#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "opt.h"

#define OPT_HELP	0x1001
#define OPT_VERSION	0x1002
#define OPT_LIST	0x1003
#define OPT_MAX		64

/* The options every program has, after its own. */
static const struct dsim_opt opt_common[] = {
	{ 'h', "help", NULL, "print this help and exit" },
	{ 'V', "version", NULL, "print the version and exit" },
	{ OPT_LIST, "list-options", NULL, NULL },
	{ 0, NULL, NULL, NULL }
};

static size_t
opt_count(const struct dsim_opt *opts)
{
	size_t n = 0;

	while (opts[n].name != NULL)
		n++;
	return n;
}

/* Print --help: synopsis, one sentence, then the option table. */
static void
opt_help(const struct dsim_cmd *cmd)
{
	const struct dsim_opt *tables[] = { cmd->opts, opt_common };
	const char *line, *nl;
	size_t t, i;
	int n;

	for (line = cmd->synopsis; line != NULL; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		n = (int)(nl ? (size_t)(nl - line) : strlen(line));
		if (*line == ' ')
			printf("%*s%.*s\n", (int)strlen(cmd->name) + 6, "",
			    n - 1, line + 1);
		else
			printf("%s %s %.*s\n", line == cmd->synopsis ?
			    "usage:" : "   or:", cmd->name, n, line);
	}
	printf("\n%s\n\noptions:\n", cmd->about);
	for (t = 0; t < 2; t++) {
		for (i = 0; tables[t][i].name != NULL; i++) {
			const struct dsim_opt *o = &tables[t][i];
			char left[64];

			if (o->help == NULL)
				continue;
			if (o->key < 256)
				snprintf(left, sizeof left, "-%c, --%s%s%s",
				    o->key, o->name, o->arg ? " " : "",
				    o->arg ? o->arg : "");
			else
				snprintf(left, sizeof left, "    --%s%s%s",
				    o->name, o->arg ? " " : "",
				    o->arg ? o->arg : "");
			printf("  %-30s %s\n", left, o->help);
		}
	}
}

/*
 * Whether the program has an option of its own called --version (the
 * version to deploy): then --version with a value is the program's, and
 * --version alone or -V prints dsim's version.
 */
static const struct dsim_opt *
opt_own_version(const struct dsim_cmd *cmd)
{
	size_t i;

	for (i = 0; cmd->opts[i].name != NULL; i++)
		if (strcmp(cmd->opts[i].name, "version") == 0)
			return &cmd->opts[i];
	return NULL;
}

/* Print the options one a line, for the shell completions. */
static void
opt_list(const struct dsim_cmd *cmd)
{
	const struct dsim_opt *tables[] = { cmd->opts, opt_common };
	size_t t, i;

	for (t = 0; t < 2; t++)
		for (i = 0; tables[t][i].name != NULL; i++)
			if (tables[t][i].help != NULL && !(t == 1 &&
			    tables[t][i].key == 'V' && opt_own_version(cmd)))
				printf("--%s%s\n", tables[t][i].name,
				    tables[t][i].arg ? "=" : "");
}

/* Build getopt_long's tables from the program's and the common ones. */
static void
opt_build(const struct dsim_cmd *cmd, struct option *lo, char *so)
{
	const struct dsim_opt *tables[] = { cmd->opts, opt_common };
	const struct dsim_opt *own = opt_own_version(cmd);
	size_t t, i, n = 0, s = 0;

	so[s++] = ':';
	for (t = 0; t < 2; t++) {
		for (i = 0; tables[t][i].name != NULL; i++) {
			const struct dsim_opt *o = &tables[t][i];

			if (t == 1 && own != NULL && o->key == 'V') {
				so[s++] = 'V';
				continue;
			}
			lo[n].name = o->name;
			lo[n].has_arg = o == own ? optional_argument :
			    o->arg ? required_argument : no_argument;
			lo[n].flag = NULL;
			lo[n].val = o->key;
			n++;
			if (o->key < 256) {
				so[s++] = (char)o->key;
				if (o->arg)
					so[s++] = ':';
			}
		}
	}
	memset(&lo[n], 0, sizeof lo[n]);
	so[s] = '\0';
}

/* Name the option getopt_long stopped at, for a usage message. */
static void
opt_culprit(char **argv, int at, int optopt_, char *buf, size_t len)
{
	const char *word = argv[at - 1];

	if (strncmp(word, "--", 2) == 0 || optopt_ == 0 || optopt_ >= 256)
		snprintf(buf, len, "%.*s", (int)strcspn(word, "="), word);
	else
		snprintf(buf, len, "-%c", optopt_);
}

/*
 * Parse the command line, calling fn for each option of the program's.
 * Returns -1 to go on, with *argi at the first operand; otherwise the exit
 * status, after --help or --version has been printed or a usage error
 * reported.
 */
int
dsim_opt_parse(const struct dsim_cmd *cmd, int argc, char **argv,
    dsim_opt_fn fn, void *state, int *argi)
{
	struct option lo[OPT_MAX + 4];
	char so[2 * OPT_MAX + 8], culprit[128];
	const struct dsim_opt *own = opt_own_version(cmd);
	struct dsim_error err;
	int c, rc;

	if (opt_count(cmd->opts) > OPT_MAX)
		abort();
	opt_build(cmd, lo, so);
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		switch (c) {
		case 'h':
			opt_help(cmd);
			return DSIM_EX_OK;
		case 'V':
			printf("%s (dsim) %s\n", cmd->name, PACKAGE_VERSION);
			return DSIM_EX_OK;
		case OPT_LIST:
			opt_list(cmd);
			return DSIM_EX_OK;
		case '?':
			opt_culprit(argv, optind, optopt, culprit,
			    sizeof culprit);
			if (optopt != 0 && strchr(argv[optind - 1], '=') &&
			    strncmp(argv[optind - 1], "--", 2) == 0)
				return dsim_log_usage("option '%s' takes no "
				    "value", culprit);
			return dsim_log_usage("unknown option '%s'", culprit);
		case ':':
			opt_culprit(argv, optind, optopt, culprit,
			    sizeof culprit);
			return dsim_log_usage("option '%s' needs a value",
			    culprit);
		default:
			if (own != NULL && c == own->key && optarg == NULL) {
				if (optind >= argc || argv[optind][0] == '-') {
					printf("%s (dsim) %s\n", cmd->name,
					    PACKAGE_VERSION);
					return DSIM_EX_OK;
				}
				optarg = argv[optind++];
			}
			dsim_error_clear(&err);
			if ((rc = fn(state, c, optarg, &err)) != 0)
				return dsim_log_report(&err);
		}
	}
	*argi = optind;
	return -1;
}

/* Parse a whole number in [min, max] given to option name. */
int
dsim_opt_uint(const char *arg, const char *name, uint64_t min, uint64_t max,
    uint64_t *out, struct dsim_error *err)
{
	unsigned long long v;
	char *end;

	errno = 0;
	if (!isdigit((unsigned char)*arg))
		return dsim_error_set(err, DSIM_EX_USAGE, name,
		    "'%s' is not a whole number", arg);
	v = strtoull(arg, &end, 10);
	if (*end != '\0')
		return dsim_error_set(err, DSIM_EX_USAGE, name,
		    "'%s' is not a whole number", arg);
	if (errno == ERANGE || v < min || v > max)
		return dsim_error_set(err, DSIM_EX_USAGE, name,
		    "%s is out of range (%llu to %llu)", arg,
		    (unsigned long long)min, (unsigned long long)max);
	*out = v;
	return 0;
}

/* Parse a finite number in [min, max] given to option name. */
int
dsim_opt_double(const char *arg, const char *name, double min, double max,
    double *out, struct dsim_error *err)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (end == arg || *end != '\0' || !isfinite(v))
		return dsim_error_set(err, DSIM_EX_USAGE, name,
		    "'%s' is not a number", arg);
	if (errno == ERANGE || v < min || v > max)
		return dsim_error_set(err, DSIM_EX_USAGE, name,
		    "%s is out of range (%g to %g)", arg, min, max);
	*out = v;
	return 0;
}

/* Parse N or P% (P at most 100) given to option name. */
int
dsim_opt_amount(const char *arg, const char *name, struct dsim_amount *out,
    struct dsim_error *err)
{
	char digits[32];
	size_t len = strlen(arg);

	if (len > 0 && arg[len - 1] == '%') {
		if (len >= sizeof digits || len == 1)
			return dsim_error_set(err, DSIM_EX_USAGE, name,
			    "'%s' is not a count or a percentage", arg);
		memcpy(digits, arg, len - 1);
		digits[len - 1] = '\0';
		out->percent = 1;
		if (dsim_opt_uint(digits, name, 0, 100, &out->value, err))
			return dsim_error_set(err, DSIM_EX_USAGE, name,
			    "'%s' is not a percentage from 0%% to 100%%", arg);
		return 0;
	}
	out->percent = 0;
	if (dsim_opt_uint(arg, name, 0, UINT32_MAX, &out->value, err))
		return dsim_error_set(err, DSIM_EX_USAGE, name,
		    "'%s' is not a count or a percentage", arg);
	return 0;
}

/*
 * Resolve an amount against a whole, rounding a percentage up or down as
 * Kubernetes does (surge up, unavailable down).
 */
uint64_t
dsim_opt_amount_of(const struct dsim_amount *a, uint64_t whole, int round_up)
{
	uint64_t v;

	if (!a->percent)
		return a->value;
	v = a->value * whole;
	return round_up ? (v + 99) / 100 : v / 100;
}

/* Check a name (an environment, an id): letters, digits, '-', '_', '.'. */
int
dsim_opt_name(const char *arg, const char *what, struct dsim_error *err)
{
	const char *p;

	if (*arg == '\0' || *arg == '.' || strlen(arg) > 64)
		return dsim_error_set(err, DSIM_EX_USAGE, what,
		    "'%s' is not a valid name", arg);
	for (p = arg; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("-_.", *p) == NULL)
			return dsim_error_set(err, DSIM_EX_USAGE, what,
			    "'%s' is not a valid name", arg);
	return 0;
}
