#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "health.h"
#include "log.h"

/* Set up a program: its name for messages, defaults, stdout buffered. */
void
dsim_cli_init(struct dsim_cli *cli, const char *argv0)
{
	const char *env = getenv("DSIM_ENV");

	memset(cli, 0, sizeof *cli);
	dsim_log_init(argv0);
	cli->program = dsim_log_program();
	cli->env = env != NULL && *env != '\0' ? env : "production";
	signal(SIGPIPE, SIG_DFL);
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
}

/*
 * Take one of the shared options; returns 0, -1 when key is not one of
 * them, or an exit status with err filled.
 */
int
dsim_cli_option(struct dsim_cli *cli, int key, const char *arg,
    struct dsim_error *err)
{
	switch (key) {
	case 'e':
		cli->env = arg;
		return dsim_opt_name(arg, "--env", err);
	case DSIM_CLI_FORMAT:
		cli->format_set = 1;
		return dsim_out_format(arg, &cli->format, err);
	case 'q':
		cli->quiet = 1;
		dsim_log_set_verbosity(DSIM_LOG_QUIET);
		return 0;
	case 'v':
		dsim_log_set_verbosity(DSIM_LOG_VERBOSE);
		return 0;
	case DSIM_CLI_WAIT:
		cli->wait = 1;
		return 0;
	}
	return -1;
}

/*
 * Open stdout as a sink and the world's store; with DSIM_CLI_LOCK take the
 * lock (at once, or queue with --wait), then with DSIM_CLI_LOAD load the
 * world.
 */
int
dsim_cli_start(struct dsim_cli *cli, int flags, struct dsim_error *err)
{
	if (!cli->format_set && isatty(STDOUT_FILENO))
		cli->format = DSIM_FORMAT_TEXT;
	dsim_out_init(&cli->out, stdout, cli->format);
	cli->out.quiet = cli->quiet;
	if (cli->env == NULL || dsim_opt_name(cli->env, "DSIM_ENV", err) != 0)
		return err->code;
	if (dsim_store_open(&cli->st, cli->env, cli->program, err) != 0)
		return err->code;
	/* No lock file is made for a world that is not there. */
	if ((flags & DSIM_CLI_LOAD) && dsim_store_require(&cli->st, err) != 0)
		return err->code;
	if ((flags & DSIM_CLI_LOCK) &&
	    dsim_store_lock(&cli->st, cli->wait, err) != 0)
		return err->code;
	if ((flags & DSIM_CLI_LOAD) == 0)
		return 0;
	if (dsim_store_load(&cli->st, &cli->w, err) != 0)
		return err->code;
	cli->loaded = 1;
	return 0;
}

/*
 * End the program: flush and close stdout (a failure is 74 unless a worse
 * status is already due), release the store; returns the exit status.
 */
int
dsim_cli_finish(struct dsim_cli *cli, int status)
{
	struct dsim_error err;

	dsim_error_clear(&err);
	if (cli->out.fp == NULL)
		dsim_out_init(&cli->out, stdout, cli->format);
	if (dsim_out_close(&cli->out, &err) != 0) {
		dsim_log_report(&err);
		if (status == 0 || status == DSIM_EX_FAILED)
			status = err.code;
	}
	dsim_store_close(&cli->st);
	if (cli->loaded)
		dsim_world_free(&cli->w);
	return status;
}

/*
 * Take one of the rollout options; returns 0, -1 when key is not one of
 * them, or an exit status with err filled.
 */
int
dsim_cli_rollout_option(struct dsim_rollout_opts *o, int key,
    const char *arg, struct dsim_error *err)
{
	switch (key) {
	case DSIM_CLI_MAX_UNAVAILABLE:
		o->has_unavailable = 1;
		return dsim_opt_amount(arg, "--max-unavailable",
		    &o->max_unavailable, err);
	case DSIM_CLI_MAX_SURGE:
		o->has_surge = 1;
		return dsim_opt_amount(arg, "--max-surge", &o->max_surge, err);
	case DSIM_CLI_MAX_FAILURES:
		return dsim_opt_amount(arg, "--max-failures",
		    &o->max_failures, err);
	case DSIM_CLI_HEALTH_TIMEOUT:
		if (dsim_clock_parse_duration(arg, &o->health_timeout) != 0 ||
		    o->health_timeout <= 0)
			return dsim_error_set(err, DSIM_EX_USAGE,
			    "--health-timeout", "'%s' is not a duration "
			    "(such as 90s, 2m, 1m30s)", arg);
		return 0;
	case DSIM_CLI_DRY_RUN:
		o->dry_run = 1;
		return 0;
	case DSIM_CLI_SPEED:
		return dsim_opt_double(arg, "--speed", 0.001, 1e9, &o->speed,
		    err);
	}
	return -1;
}

/* Open the world for a rollout: locked unless it is a dry run. */
int
dsim_cli_rollout_start(struct dsim_cli *cli, const struct dsim_rollout_opts *o,
    struct dsim_error *err)
{
	return dsim_cli_start(cli, (o->dry_run ? 0 : DSIM_CLI_LOCK) |
	    DSIM_CLI_LOAD, err);
}

/*
 * Run a rollout on the opened world and save it at the end.  Returns 0
 * when it succeeded, 1 when it was rolled back or failed, or another exit
 * status with err filled.
 */
int
dsim_cli_rollout(struct dsim_cli *cli, struct dsim_rollout_opts *o,
    struct dsim_error *err)
{
	struct dsim_rollout_result res;
	struct dsim_health health;
	char note[160];

	dsim_health_sim(&health);
	if (dsim_rollout_run(&cli->w, o->dry_run ? NULL : &cli->st, &health,
	    o, &cli->out.sink, &res, err) != 0)
		return err->code;
	if (o->dry_run)
		return 0;
	snprintf(note, sizeof note, "%s %s: %s", o->operation, o->version,
	    dsim_rollout_statuses[res.status]);
	if (dsim_store_save(&cli->st, &cli->w, note, err) != 0)
		return err->code;
	if (res.status == DSIM_ROLLOUT_SUCCEEDED)
		return 0;
	return dsim_error_set(err, DSIM_EX_FAILED, cli->env, "%s %s %s: %s",
	    o->operation, o->version, res.status == DSIM_ROLLOUT_ROLLED_BACK ?
	    "rolled back" : "failed", res.reason);
}
