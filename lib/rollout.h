#ifndef DSIM_ROLLOUT_H
#define DSIM_ROLLOUT_H

#include "error.h"
#include "health.h"
#include "jsonl.h"
#include "opt.h"
#include "store.h"
#include "world.h"

enum dsim_rollout_status {
	DSIM_ROLLOUT_SUCCEEDED,
	DSIM_ROLLOUT_ROLLED_BACK,
	DSIM_ROLLOUT_FAILED
};

/* What a deploy or rollback was asked to do. */
struct dsim_rollout_opts {
	const char	*operation;	/* "deploy" or "rollback" */
	const char	*version;	/* the version to roll out */
	const char	*cause;		/* the revision's cause */
	int		 strategy;	/* enum dsim_strategy */
	int		 has_unavailable;
	struct dsim_amount max_unavailable;
	int		 has_surge;
	struct dsim_amount max_surge;
	struct dsim_amount max_failures;
	dsim_ms		 health_timeout; /* 0: the environment's */
	int		 no_rollback;
	int		 dry_run;
	double		 speed;		/* simulated per wall second; 0: free */
};

/* How it went: the deploy.result record's numbers. */
struct dsim_rollout_result {
	int		 status;	/* enum dsim_rollout_status */
	int		 revision;
	int		 rollback_revision;	/* when rolled back */
	char		 rollback_version[DSIM_VERSION_MAX];
	int		 steps;
	dsim_ms		 duration;
	size_t		 min_available;
	double		 failed_requests;
	size_t		 failed_instances;
	char		 from_version[DSIM_VERSION_MAX];
	char		 reason[600];
};

extern const char *const dsim_rollout_statuses[];

int	 dsim_rollout_run(struct dsim_world *, struct dsim_store *,
	    struct dsim_health *, const struct dsim_rollout_opts *,
	    struct dsim_sink *, struct dsim_rollout_result *,
	    struct dsim_error *);
const char *dsim_rollout_previous(struct dsim_world *, int,
	    struct dsim_error *);

#endif
