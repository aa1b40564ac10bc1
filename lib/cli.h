#ifndef DSIM_CLI_H
#define DSIM_CLI_H

#include "error.h"
#include "jsonl.h"
#include "opt.h"
#include "rollout.h"
#include "store.h"
#include "world.h"

/* Keys of the options that programs share, beyond letters. */
enum {
	DSIM_CLI_FORMAT = 0x200,
	DSIM_CLI_WAIT,
	DSIM_CLI_MAX_UNAVAILABLE,
	DSIM_CLI_MAX_SURGE,
	DSIM_CLI_HEALTH_TIMEOUT,
	DSIM_CLI_MAX_FAILURES,
	DSIM_CLI_DRY_RUN,
	DSIM_CLI_SPEED,
	DSIM_CLI_FIRST_OWN		/* programs number theirs from here */
};

/* What dsim_cli_start does beyond opening stdout and the store. */
enum {
	DSIM_CLI_LOCK = 1,		/* take the world's lock */
	DSIM_CLI_LOAD = 2		/* load the world */
};

#define DSIM_CLI_OPT_ENV \
	{ 'e', "env", "NAME", "the environment (default $DSIM_ENV or " \
	    "production)" }
#define DSIM_CLI_OPT_FORMAT \
	{ DSIM_CLI_FORMAT, "format", "FMT", \
	    "records as json (default) or text" }
#define DSIM_CLI_OPT_QUIET \
	{ 'q', "quiet", NULL, "write no records, only errors" }
#define DSIM_CLI_OPT_VERBOSE \
	{ 'v', "verbose", NULL, "say what is done and why on stderr" }
#define DSIM_CLI_OPT_WAIT \
	{ DSIM_CLI_WAIT, "wait", NULL, \
	    "queue for the world's lock instead of failing" }

/* The options of a rollout, shared by dsim-deploy and dsim-rollback. */
#define DSIM_CLI_OPTS_ROLLOUT \
	{ DSIM_CLI_MAX_UNAVAILABLE, "max-unavailable", "N|P%", \
	    "instances that may be unready at once (P% rounds down)" }, \
	{ DSIM_CLI_MAX_SURGE, "max-surge", "N|P%", \
	    "instances that may run beyond the desired count " \
	    "(P% rounds up)" }, \
	{ DSIM_CLI_HEALTH_TIMEOUT, "health-timeout", "DUR", \
	    "time a new instance has to pass its checks" }, \
	{ DSIM_CLI_MAX_FAILURES, "max-failures", "N|P%", \
	    "new instances that may fail before rolling back (default 0)" }, \
	{ DSIM_CLI_DRY_RUN, "dry-run", NULL, \
	    "write the plan, change nothing" }, \
	{ DSIM_CLI_SPEED, "speed", "X", \
	    "pace the clock: X simulated seconds per second" }

/* What every program that works on a world keeps: options, store, world. */
struct dsim_cli {
	const char	*program;
	const char	*env;		/* -e, --env */
	int		 format;	/* --format */
	int		 format_set;
	int		 quiet;		/* -q */
	int		 wait;		/* --wait */
	struct dsim_out	 out;		/* stdout, as a sink */
	struct dsim_store st;
	struct dsim_world w;
	int		 loaded;
};

void	 dsim_cli_init(struct dsim_cli *, const char *);
int	 dsim_cli_option(struct dsim_cli *, int, const char *,
	    struct dsim_error *);
int	 dsim_cli_start(struct dsim_cli *, int, struct dsim_error *);
int	 dsim_cli_finish(struct dsim_cli *, int);
int	 dsim_cli_rollout_option(struct dsim_rollout_opts *, int,
	    const char *, struct dsim_error *);
int	 dsim_cli_rollout_start(struct dsim_cli *,
	    const struct dsim_rollout_opts *, struct dsim_error *);
int	 dsim_cli_rollout(struct dsim_cli *, struct dsim_rollout_opts *,
	    struct dsim_error *);

#endif
