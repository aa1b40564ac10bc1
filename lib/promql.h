#ifndef DSIM_PROMQL_H
#define DSIM_PROMQL_H

#include "error.h"
#include "metrics.h"

int	 dsim_promql_sample(const char *, struct dsim_metrics_set *,
	    struct dsim_error *);

#endif
