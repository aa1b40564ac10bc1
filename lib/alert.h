#ifndef DSIM_ALERT_H
#define DSIM_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "clock.h"
#include "error.h"
#include "jsonl.h"
#include "rule.h"

/* A change of an alert that notifiers hear of: it fired or resolved. */
struct dsim_alert_event {
	int		 firing;	/* 1 firing, 0 resolved */
	json_t		*labels;
	json_t		*annotations;
	dsim_ms		 starts;
	dsim_ms		 ends;		/* resolved only */
	dsim_ms		 at;		/* the input's time when it happened */
	double		 value;
	char		 fingerprint[17];
	char		 env[65];
};

struct alert_series;

/*
 * The rule engine: every series seen, with the state of each rule that
 * watches it (inactive, pending, firing), fed one record at a time.
 */
struct dsim_alert {
	const struct dsim_rules *rules;
	dsim_ms		 repeat;	/* --repeat: resend a firing alert */
	dsim_ms		 stale;		/* a series unseen this long is gone */
	struct alert_series **buckets;
	size_t		 nbuckets;
	size_t		 nseries;
	dsim_ms		 now;		/* the latest time of the input */
	dsim_ms		 swept;		/* when stale series were looked for */
	struct dsim_sink *sink;		/* alert records go here */
	struct dsim_rec	 rec;
	struct dsim_alert_event *ev;	/* changes not yet notified */
	size_t		 nev;
	size_t		 capev;
	char		*scratch;	/* a line's unescaped strings */
	size_t		 capscratch;
	char		*key;		/* a series' key being built */
	size_t		 capkey;
	double		*z;		/* room to compute a z-score */
	size_t		 capz;
	char		 lastts[40];	/* the last ts string, and its time */
	dsim_ms		 lastms;
};

void	 dsim_alert_init(struct dsim_alert *, const struct dsim_rules *,
	    struct dsim_sink *);
int	 dsim_alert_line(struct dsim_alert *, const char *, size_t, int *,
	    struct dsim_error *);
void	 dsim_alert_free(struct dsim_alert *);
size_t	 dsim_alert_due(const struct dsim_alert *, int);
void	 dsim_alert_drop(struct dsim_alert *, size_t);
void	 dsim_alert_series_count(const struct dsim_alert *, size_t *);
size_t	 dsim_alert_firing(const struct dsim_alert *,
	    struct dsim_alert_event **);
void	 dsim_alert_events_free(struct dsim_alert_event *, size_t);
int	 dsim_alert_save(const struct dsim_alert *, const char *,
	    struct dsim_error *);
int	 dsim_alert_load(struct dsim_alert *, const char *,
	    struct dsim_error *);

#endif
