#ifndef DSIM_HEALTH_H
#define DSIM_HEALTH_H

#include "clock.h"
#include "world.h"

enum dsim_health_verdict {
	DSIM_HEALTH_READY,
	DSIM_HEALTH_FAILED
};

/* What a health check found for one newly started instance. */
struct dsim_health_result {
	int		 verdict;	/* enum dsim_health_verdict */
	dsim_ms		 after;		/* time from start to the verdict */
	const char	*reason;	/* why it failed, for -v */
};

/*
 * A health checker: the simulated one decides from the world's model and
 * faults; a real one would probe an instance's URL.  A rollout calls
 * check once for each instance it starts, with the deadline it allows.
 */
struct dsim_health {
	int		(*check)(struct dsim_health *, struct dsim_world *,
			    const struct dsim_instance *, dsim_ms,
			    struct dsim_health_result *);
	void		*ctx;
};

void	 dsim_health_sim(struct dsim_health *);

#endif
