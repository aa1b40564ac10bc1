#ifndef DSIM_SIMDB_H
#define DSIM_SIMDB_H

#include "dbstream.h"
#include "error.h"
#include "world.h"

/* Most COPY text a restore may put into the simulated database. */
#define DSIM_SIMDB_MAX	(256ULL << 20)

void	 dsim_simdb_source(struct dsim_dbstream_source *,
	    const struct dsim_world *, const char *);
void	 dsim_simdb_target(struct dsim_dbstream_target *,
	    const struct dsim_world *, const char *);

#endif
