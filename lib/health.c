#include "config.h"

#include <string.h>

#include "fault.h"
#include "health.h"

/*
 * The simulated check: an instance is ready after its start-up time plus
 * one probe interval, unless a fault makes its probes fail, in which case
 * the verdict comes at the deadline.
 */
static int
health_sim_check(struct dsim_health *h, struct dsim_world *w,
    const struct dsim_instance *in, dsim_ms deadline,
    struct dsim_health_result *res)
{
	dsim_ms startup = w->cfg.startup;

	(void)h;
	if (w->cfg.startup_jitter > 0)
		startup += (dsim_ms)dsim_prng_below(&w->prng,
		    (uint64_t)w->cfg.startup_jitter + 1);
	res->after = startup + w->cfg.health_interval;
	res->verdict = DSIM_HEALTH_READY;
	res->reason = NULL;
	if (dsim_fault_fails_release(w, w->versions[in->version]))
		res->reason = "health checks fail (bad release)";
	else if (dsim_fault_latency(w) >= w->cfg.probe_timeout)
		res->reason = "health probes time out (latency)";
	else if (res->after > deadline)
		res->reason = "not ready within the health timeout";
	if (res->reason != NULL) {
		res->verdict = DSIM_HEALTH_FAILED;
		res->after = deadline;
	}
	return 0;
}

/* Set up the simulated health checker. */
void
dsim_health_sim(struct dsim_health *h)
{
	memset(h, 0, sizeof *h);
	h->check = health_sim_check;
}
