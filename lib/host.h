#ifndef DSIM_HOST_H
#define DSIM_HOST_H

#include "clock.h"
#include "error.h"
#include "metrics.h"

/* What sampling this machine keeps: the CPU counters of the last look. */
struct dsim_host {
	unsigned long long busy;	/* jiffies not idle, /proc/stat */
	unsigned long long total;
	int		 seen;		/* busy and total are set */
	char		 name[64];	/* the host's name */
};

int	 dsim_host_sample(struct dsim_host *, struct dsim_metrics_set *,
	    struct dsim_error *);

#endif
