#ifndef DSIM_MODEL_H
#define DSIM_MODEL_H

#include "clock.h"
#include "jsonl.h"
#include "metrics.h"
#include "world.h"

/* An instance the autoscaler started, ready at a time. */
struct dsim_model_pending {
	uint32_t	 id;
	dsim_ms		 ready_at;
};

/*
 * The sample model of a world, and what running it forward keeps between
 * steps: the instances the autoscaler is starting, and since when it has
 * wanted fewer.
 */
struct dsim_model {
	struct dsim_world *w;
	struct dsim_model_pending *pending;
	size_t		 npending;
	dsim_ms		 low_since;	/* 0: the fleet is not too big */
	double		 cpu;		/* the app tier's mean CPU, last seen */
	int		 changed;	/* instances changed since last asked */
};

void	 dsim_model_init(struct dsim_model *, struct dsim_world *);
void	 dsim_model_free(struct dsim_model *);
void	 dsim_model_sample(struct dsim_model *, struct dsim_metrics_set *);
void	 dsim_model_advance(struct dsim_model *, dsim_ms, struct dsim_sink *,
	    struct dsim_rec *);
void	 dsim_model_settle(struct dsim_model *);

#endif
