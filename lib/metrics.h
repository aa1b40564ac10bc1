#ifndef DSIM_METRICS_H
#define DSIM_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "jsonl.h"

/* What a metric is: its name, its help line, gauge or counter. */
struct dsim_metrics_def {
	const char	*name;
	const char	*help;
	const char	*type;
};

/* A monitored node: the labels every one of its series carries. */
struct dsim_metrics_node {
	char		 instance[64];	/* host:port, as Prometheus has it */
	char		 service[32];	/* app, postgresql, host */
	char		 node[48];	/* the machine */
	char		 region[32];
	char		 json[480];	/* the labels as a JSON object */
	size_t		 jsonlen;
};

/* One sample: a node's value of a metric. */
struct dsim_metrics_point {
	uint32_t	 node;		/* index into the set's nodes */
	uint16_t	 def;		/* index into the set's defs */
	double		 value;
};

/* Every series of one moment: what one sample (or one push) holds. */
struct dsim_metrics_set {
	dsim_ms		 ts;
	const struct dsim_metrics_def *defs;
	size_t		 ndefs;
	struct dsim_metrics_node *nodes;
	size_t		 nnodes;
	size_t		 capnodes;
	struct dsim_metrics_point *points;
	size_t		 npoints;
	size_t		 cappoints;
};

/* A growing text buffer, for the exposition format. */
struct dsim_metrics_text {
	char		*buf;
	size_t		 len;
	size_t		 cap;
};

extern const struct dsim_metrics_def dsim_metrics_defs[];

enum dsim_metrics_id {
	DSIM_METRIC_UP,
	DSIM_METRIC_CPU,
	DSIM_METRIC_MEMORY_BYTES,
	DSIM_METRIC_MEMORY_RATIO,
	DSIM_METRIC_DISK,
	DSIM_METRIC_NETWORK,
	DSIM_METRIC_RECEIVE,
	DSIM_METRIC_TRANSMIT,
	DSIM_METRIC_REQUESTS,
	DSIM_METRIC_N
};

void	 dsim_metrics_reset(struct dsim_metrics_set *, dsim_ms);
uint32_t dsim_metrics_node(struct dsim_metrics_set *, const char *,
	    const char *, const char *, const char *);
void	 dsim_metrics_add(struct dsim_metrics_set *, uint32_t, int, double);
void	 dsim_metrics_free(struct dsim_metrics_set *);
int	 dsim_metrics_records(const struct dsim_metrics_set *, const char *,
	    struct dsim_sink *, struct dsim_rec *);
void	 dsim_metrics_exposition(const struct dsim_metrics_set *,
	    struct dsim_metrics_text *, int);
void	 dsim_metrics_text_free(struct dsim_metrics_text *);

#endif
