#include "config.h"

#include <math.h>

#include "traffic.h"

/*
 * The load model: requests per second follow a daily curve, lowest at
 * 04:00 UTC and highest at 16:00, scaled so that the peak is the
 * configured share of the fleet's capacity, with normal noise.
 */
double
dsim_traffic_rps(struct dsim_world *w, dsim_ms t)
{
	double hours = (double)(t % 86400000) / 3600e3;
	double curve = 0.6 + 0.4 * sin(2.0 * M_PI * (hours - 10.0) / 24.0);
	double peak = w->cfg.peak_utilization * w->cfg.capacity_rps *
	    (w->cfg.demand > 0 ? w->cfg.demand : w->replicas);
	double rps = peak * curve;

	if (w->cfg.noise > 0)
		rps *= 1.0 + w->cfg.noise * dsim_prng_normal(&w->prng);
	return rps > 0 ? rps : 0;
}

/*
 * The requests the fleet cannot serve over dt from now with ready
 * instances: the load above their capacity, for the whole interval.
 */
double
dsim_traffic_failed(struct dsim_world *w, dsim_ms dt, size_t ready)
{
	double over;

	if (dt <= 0)
		return 0;
	over = dsim_traffic_rps(w, w->clock) - (double)ready *
	    w->cfg.capacity_rps;
	return over > 0 ? over * (double)dt / 1000.0 : 0;
}
