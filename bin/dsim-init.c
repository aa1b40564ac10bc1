#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "clock.h"
#include "log.h"
#include "status.h"
#include "template.h"

enum { OPT_START = DSIM_CLI_FIRST_OWN, OPT_DB_SIZE };

static const struct dsim_opt init_opts[] = {
	DSIM_CLI_OPT_ENV,
	{ 'n', "instances", "N", "app instances (default: the template's)" },
	{ 's', "seed", "S", "seed of the simulation (default 1)" },
	{ OPT_START, "start", "TIME", "the clock's start, RFC 3339 "
	    "(default now)" },
	{ OPT_DB_SIZE, "db-size", "ROWS", "rows in the simulated database "
	    "(default 10000)" },
	{ 'f', "force", NULL, "replace an existing world" },
	DSIM_CLI_OPT_WAIT,
	DSIM_CLI_OPT_FORMAT,
	DSIM_CLI_OPT_QUIET,
	DSIM_CLI_OPT_VERBOSE,
	{ 0, NULL, NULL, NULL }
};

static const struct dsim_cmd init_cmd = {
	"dsim-init",
	"[-e NAME] [-n N] [-s SEED] [--start TIME] [--db-size ROWS] [-f]\n"
	    " [--wait] [--format FMT] [-q] [-v]",
	"Create an environment's world from its template.",
	init_opts
};

/* dsim-init's options and state. */
struct init {
	struct dsim_cli	 cli;
	uint64_t	 instances;	/* -n: 0 for the template's */
	uint64_t	 seed;		/* -s */
	dsim_ms		 start;		/* --start */
	int		 force;		/* -f */
	uint64_t	 db_rows;	/* --db-size: 0 for the default */
};

static int
init_option(void *arg, int key, const char *val, struct dsim_error *err)
{
	struct init *in = arg;
	int rc;

	if ((rc = dsim_cli_option(&in->cli, key, val, err)) >= 0)
		return rc;
	switch (key) {
	case 'n':
		return dsim_opt_uint(val, "--instances", 1, 10000000,
		    &in->instances, err);
	case 's':
		return dsim_opt_uint(val, "--seed", 0, UINT64_MAX, &in->seed,
		    err);
	case OPT_START:
		if (dsim_clock_parse(val, &in->start) != 0)
			return dsim_error_set(err, DSIM_EX_USAGE, "--start",
			    "'%s' is not an RFC 3339 time", val);
		return 0;
	case 'f':
		in->force = 1;
		return 0;
	case OPT_DB_SIZE:
		return dsim_opt_uint(val, "--db-size", 1, 10000000,
		    &in->db_rows, err);
	}
	return dsim_error_set(err, DSIM_EX_USAGE, NULL, "unhandled option");
}

/* Make the world and store it, unless one exists and -f was not given. */
static int
init_run(struct init *in, struct dsim_error *err)
{
	struct dsim_cli *cli = &in->cli;
	struct dsim_rec rec = { 0 };
	json_t *template;

	if (dsim_cli_start(cli, DSIM_CLI_LOCK, err) != 0)
		return err->code;
	if (dsim_store_exists(&cli->st) && !in->force)
		return dsim_error_set(err, DSIM_EX_CANTCREAT, cli->env,
		    "a world exists already; use --force to replace it");
	if ((template = dsim_template_load(cli->env, err)) == NULL)
		return err->code;
	if (dsim_world_create(&cli->w, cli->env, template,
	    (uint32_t)in->instances, in->seed, in->start, err) != 0) {
		dsim_world_free(&cli->w);
		return err->code;
	}
	cli->loaded = 1;
	if (in->db_rows > 0)
		cli->w.db_rows = in->db_rows;
	if (dsim_store_create(&cli->st, &cli->w, err) != 0)
		return err->code;
	dsim_log_info(cli->env, "created with %u instances in %s",
	    (unsigned)cli->w.replicas, cli->st.dir);
	dsim_status_world(&cli->out.sink, &rec, &cli->w);
	dsim_rec_free(&rec);
	return 0;
}

int
main(int argc, char **argv)
{
	struct init in = { .seed = 1 };
	struct dsim_error err;
	int rc, argi;

	dsim_cli_init(&in.cli, argv[0]);
	in.start = dsim_clock_now();
	if ((rc = dsim_opt_parse(&init_cmd, argc, argv, init_option, &in,
	    &argi)) >= 0)
		return rc;
	if (argi < argc)
		return dsim_log_usage("unexpected argument '%s'", argv[argi]);
	dsim_error_clear(&err);
	if ((rc = init_run(&in, &err)) != 0)
		dsim_log_report(&err);
	return dsim_cli_finish(&in.cli, rc);
}
