#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "log.h"

enum { OPT_TO = DSIM_CLI_FIRST_OWN };

static const struct dsim_opt rollback_opts[] = {
	{ OPT_TO, "to", "previous|REVISION", "where to go (default "
	    "previous)" },
	DSIM_CLI_OPTS_ROLLOUT,
	DSIM_CLI_OPT_WAIT,
	DSIM_CLI_OPT_ENV,
	DSIM_CLI_OPT_FORMAT,
	DSIM_CLI_OPT_QUIET,
	DSIM_CLI_OPT_VERBOSE,
	{ 0, NULL, NULL, NULL }
};

static const struct dsim_cmd rollback_cmd = {
	"dsim-rollback",
	"[--to previous|REVISION] [--max-unavailable N|P%] [--max-surge N|P%]\n"
	    " [--health-timeout DUR] [--max-failures N|P%] [--dry-run]\n"
	    " [--speed X] [--wait] [-e NAME] [--format FMT] [-q] [-v]",
	"Return the app tier to the previous or a named revision.",
	rollback_opts
};

/* dsim-rollback's options and state. */
struct rollback {
	struct dsim_cli	 cli;
	struct dsim_rollout_opts o;
	uint64_t	 to;		/* --to REVISION; 0 for previous */
	char		 version[DSIM_VERSION_MAX]; /* where that leads */
};

static int
rollback_option(void *arg, int key, const char *val, struct dsim_error *err)
{
	struct rollback *rb = arg;
	int rc;

	if ((rc = dsim_cli_option(&rb->cli, key, val, err)) >= 0 ||
	    (rc = dsim_cli_rollout_option(&rb->o, key, val, err)) >= 0)
		return rc;
	if (key != OPT_TO)
		return dsim_error_set(err, DSIM_EX_USAGE, NULL,
		    "unhandled option");
	if (strcmp(val, "previous") == 0) {
		rb->to = 0;
		return 0;
	}
	if (dsim_opt_uint(val, "--to", 1, INT32_MAX, &rb->to, err) != 0)
		return dsim_error_set(err, DSIM_EX_USAGE, "--to",
		    "'%s' is neither previous nor a revision number", val);
	return 0;
}

/* Find the version to return to: the named revision's, or the previous. */
static int
rollback_target(struct rollback *rb, struct dsim_error *err)
{
	struct dsim_world *w = &rb->cli.w;
	struct dsim_revision *rev;
	const char *version;

	if (rb->to == 0) {
		if ((version = dsim_rollout_previous(w, w->revision, err)) ==
		    NULL)
			return err->code;
	} else if ((rev = dsim_world_revision(w, (int)rb->to)) != NULL)
		version = rev->version;
	else
		return dsim_error_set(err, DSIM_EX_DATAERR, "--to",
		    "no revision %llu in the history (see dsim-status "
		    "--history)", (unsigned long long)rb->to);
	snprintf(rb->version, sizeof rb->version, "%s", version);
	rb->o.version = rb->version;
	return 0;
}

int
main(int argc, char **argv)
{
	struct rollback rb = {
		.o = { .operation = "rollback", .cause = "rollback" }
	};
	struct dsim_error err;
	int rc, argi;

	dsim_cli_init(&rb.cli, argv[0]);
	if ((rc = dsim_opt_parse(&rollback_cmd, argc, argv, rollback_option,
	    &rb, &argi)) >= 0)
		return rc;
	if (argi < argc)
		return dsim_log_usage("unexpected argument '%s'", argv[argi]);
	dsim_error_clear(&err);
	if ((rc = dsim_cli_rollout_start(&rb.cli, &rb.o, &err)) != 0 ||
	    (rc = rollback_target(&rb, &err)) != 0 ||
	    (rc = dsim_cli_rollout(&rb.cli, &rb.o, &err)) != 0)
		dsim_log_report(&err);
	return dsim_cli_finish(&rb.cli, rc);
}
