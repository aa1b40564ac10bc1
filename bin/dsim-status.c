#include "config.h"

#include <stdio.h>

#include "cli.h"
#include "log.h"
#include "status.h"

enum { OPT_HISTORY = DSIM_CLI_FIRST_OWN };

static const struct dsim_opt status_opts[] = {
	DSIM_CLI_OPT_ENV,
	{ OPT_HISTORY, "history", NULL, "write the revision history instead" },
	DSIM_CLI_OPT_FORMAT,
	DSIM_CLI_OPT_QUIET,
	DSIM_CLI_OPT_VERBOSE,
	{ 0, NULL, NULL, NULL }
};

static const struct dsim_cmd status_cmd = {
	"dsim-status",
	"[-e NAME] [--history] [--format FMT]",
	"Show the world as it is: topology, versions, health, clock.",
	status_opts
};

/* dsim-status's options and state. */
struct status {
	struct dsim_cli	 cli;
	int		 history;	/* --history */
};

static int
status_option(void *arg, int key, const char *val, struct dsim_error *err)
{
	struct status *s = arg;
	int rc;

	if ((rc = dsim_cli_option(&s->cli, key, val, err)) >= 0)
		return rc;
	if (key == OPT_HISTORY) {
		s->history = 1;
		return 0;
	}
	return dsim_error_set(err, DSIM_EX_USAGE, NULL, "unhandled option");
}

/* The text form: a summary line, then a table of the fleet. */
static void
status_table(const struct dsim_world *w)
{
	size_t counts[DSIM_INSTANCE_NSTATES], i;
	char clock[DSIM_CLOCK_LEN], name[32];

	dsim_world_count(w, counts);
	dsim_clock_format(w->clock, clock);
	printf("%s  %s  revision %d  version %s  %zu/%u ready  %zu faults%s\n",
	    w->env, clock, w->revision, dsim_world_current_version(w),
	    counts[DSIM_INSTANCE_READY], (unsigned)w->replicas, w->nfaults,
	    w->rollout ? "  (rollout interrupted or under way)" : "");
	printf("\n%-12s %-16s %-9s %-6s %s\n", "INSTANCE", "VERSION", "STATE",
	    "PORT", "REGION");
	for (i = 0; i < w->ninstances; i++) {
		const struct dsim_instance *in = &w->instances[i];

		dsim_instance_name(in, name, sizeof name);
		printf("%-12s %-16s %-9s %-6d %s\n", name,
		    w->versions[in->version], dsim_instance_states[in->state],
		    w->cfg.port, w->cfg.regions[in->region]);
	}
	printf("\n%-12s %-8s %-8s %-8s %s\n", "DATABASE", "ROLE", "STATE",
	    "VERSION", "REGION");
	for (i = 0; i < w->ndb; i++)
		printf("%-12s %-8s %-8s %-8s %s\n", w->db[i].name,
		    w->db[i].role, w->db[i].state, w->db[i].version,
		    w->cfg.regions[w->db[i].region]);
}

static int
status_run(struct status *s, struct dsim_error *err)
{
	struct dsim_cli *cli = &s->cli;
	struct dsim_sink *sink = &cli->out.sink;
	struct dsim_rec rec = { 0 };

	if (dsim_cli_start(cli, DSIM_CLI_LOAD, err) != 0)
		return err->code;
	if (cli->quiet)
		return 0;
	if (s->history)
		dsim_status_history(sink, &rec, &cli->w);
	else if (cli->format == DSIM_FORMAT_TEXT)
		status_table(&cli->w);
	else {
		dsim_status_world(sink, &rec, &cli->w);
		dsim_status_instances(sink, &rec, &cli->w);
		dsim_status_db(sink, &rec, &cli->w);
	}
	dsim_rec_free(&rec);
	return 0;
}

int
main(int argc, char **argv)
{
	struct status s = { 0 };
	struct dsim_error err;
	int rc, argi;

	dsim_cli_init(&s.cli, argv[0]);
	if ((rc = dsim_opt_parse(&status_cmd, argc, argv, status_option, &s,
	    &argi)) >= 0)
		return rc;
	if (argi < argc)
		return dsim_log_usage("unexpected argument '%s'", argv[argi]);
	dsim_error_clear(&err);
	if ((rc = status_run(&s, &err)) != 0)
		dsim_log_report(&err);
	return dsim_cli_finish(&s.cli, rc);
}
