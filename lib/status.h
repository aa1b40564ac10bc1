#ifndef DSIM_STATUS_H
#define DSIM_STATUS_H

#include "jsonl.h"
#include "world.h"

void	 dsim_status_world(struct dsim_sink *, struct dsim_rec *,
	    const struct dsim_world *);
void	 dsim_status_instances(struct dsim_sink *, struct dsim_rec *,
	    const struct dsim_world *);
void	 dsim_status_db(struct dsim_sink *, struct dsim_rec *,
	    const struct dsim_world *);
void	 dsim_status_history(struct dsim_sink *, struct dsim_rec *,
	    const struct dsim_world *);

#endif
