#ifndef DSIM_TRAFFIC_H
#define DSIM_TRAFFIC_H

#include "clock.h"
#include "world.h"

double	 dsim_traffic_rps(struct dsim_world *, dsim_ms);
double	 dsim_traffic_failed(struct dsim_world *, dsim_ms, size_t);

#endif
