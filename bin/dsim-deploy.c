#include "config.h"

#include <stdio.h>

#include "cli.h"
#include "log.h"

enum {
	OPT_ROLLING = DSIM_CLI_FIRST_OWN,
	OPT_RECREATE,
	OPT_NO_ROLLBACK,
	OPT_VERSION
};

static const struct dsim_opt deploy_opts[] = {
	{ OPT_VERSION, "version", "V", "the version to deploy (SemVer)" },
	{ OPT_ROLLING, "rolling", NULL, "replace instances in health-gated "
	    "steps (production)" },
	{ OPT_RECREATE, "recreate", NULL, "stop all, then start the new "
	    "version (development)" },
	DSIM_CLI_OPTS_ROLLOUT,
	{ OPT_NO_ROLLBACK, "no-rollback", NULL, "on failure, stop where it "
	    "is instead of rolling back" },
	DSIM_CLI_OPT_WAIT,
	DSIM_CLI_OPT_ENV,
	DSIM_CLI_OPT_FORMAT,
	DSIM_CLI_OPT_QUIET,
	DSIM_CLI_OPT_VERBOSE,
	{ 0, NULL, NULL, NULL }
};

static const struct dsim_cmd deploy_cmd = {
	"dsim-deploy",
	"--version V [--rolling | --recreate] [--max-unavailable N|P%]\n"
	    " [--max-surge N|P%] [--health-timeout DUR] [--max-failures N|P%]\n"
	    " [--no-rollback] [--dry-run] [--speed X] [--wait] [-e NAME]\n"
	    " [--format FMT] [-q] [-v]",
	"Roll a new version out to the app tier, rolling back on failure.",
	deploy_opts
};

/* dsim-deploy's options and state. */
struct deploy {
	struct dsim_cli	 cli;
	struct dsim_rollout_opts o;	/* everything a rollout is told */
};

static int
deploy_option(void *arg, int key, const char *val, struct dsim_error *err)
{
	struct deploy *d = arg;
	int rc;

	if ((rc = dsim_cli_option(&d->cli, key, val, err)) >= 0 ||
	    (rc = dsim_cli_rollout_option(&d->o, key, val, err)) >= 0)
		return rc;
	switch (key) {
	case OPT_VERSION:
		d->o.version = val;
		return dsim_version_check(val, err);
	case OPT_ROLLING:
	case OPT_RECREATE:
		if (d->o.strategy != DSIM_STRATEGY_DEFAULT)
			return dsim_error_set(err, DSIM_EX_USAGE, NULL,
			    "--rolling and --recreate exclude each other");
		d->o.strategy = key == OPT_ROLLING ? DSIM_STRATEGY_ROLLING :
		    DSIM_STRATEGY_RECREATE;
		return 0;
	case OPT_NO_ROLLBACK:
		d->o.no_rollback = 1;
		return 0;
	}
	return dsim_error_set(err, DSIM_EX_USAGE, NULL, "unhandled option");
}

int
main(int argc, char **argv)
{
	struct deploy d = { .o = { .operation = "deploy", .cause = "deploy" } };
	struct dsim_error err;
	int rc, argi;

	dsim_cli_init(&d.cli, argv[0]);
	if ((rc = dsim_opt_parse(&deploy_cmd, argc, argv, deploy_option, &d,
	    &argi)) >= 0)
		return rc;
	if (argi < argc)
		return dsim_log_usage("unexpected argument '%s'", argv[argi]);
	if (d.o.version == NULL)
		return dsim_log_usage("--version V is required");
	dsim_error_clear(&err);
	if ((rc = dsim_cli_rollout_start(&d.cli, &d.o, &err)) != 0 ||
	    (rc = dsim_cli_rollout(&d.cli, &d.o, &err)) != 0)
		dsim_log_report(&err);
	return dsim_cli_finish(&d.cli, rc);
}
