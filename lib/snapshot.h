#ifndef DSIM_SNAPSHOT_H
#define DSIM_SNAPSHOT_H

#include <jansson.h>

#include "error.h"
#include "world.h"

/*
 * A world as JSON: a header (everything but the instances) and the
 * instances as runs, [index, count, first id, version, state, region,
 * fault], one run for each stretch of like instances with consecutive
 * ids.  A snapshot holds all the runs; a journal entry holds the runs that
 * changed.
 */

json_t	*dsim_snapshot_header(const struct dsim_world *);
int	 dsim_snapshot_load_header(struct dsim_world *, json_t *,
	    const char *, struct dsim_error *);
json_t	*dsim_snapshot_runs(const struct dsim_world *,
	    const struct dsim_instance *, size_t);
int	 dsim_snapshot_apply_runs(struct dsim_world *, json_int_t,
	    json_t *, const char *, struct dsim_error *);

#endif
