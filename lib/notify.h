#ifndef DSIM_NOTIFY_H
#define DSIM_NOTIFY_H

#include <pthread.h>
#include <stdio.h>

#include <jansson.h>

#include "alert.h"
#include "error.h"

/* A group of alert changes that one notification carries. */
struct dsim_notify_group {
	const char	*key;		/* the group-by labels, as text */
	json_t		*labels;	/* the group-by labels */
	struct dsim_alert_event **ev;
	size_t		 n;
};

/*
 * A notifier: console, email, webhook or Alertmanager, all sent to
 * through one function.
 */
struct dsim_notifier {
	const char	*name;		/* console, email, webhook, ... */
	int		(*send)(struct dsim_notifier *,
			    const struct dsim_notify_group *,
			    struct dsim_error *);
	FILE		*fp;		/* console */
	char		*url;		/* the SMTP server or the receiver */
	char		*from;		/* email */
	char		**to;
	size_t		 nto;
	long		 timeout;	/* milliseconds per attempt */
};

int	 dsim_notify_parse(struct dsim_notifier *, const char *,
	    struct dsim_error *);
void	 dsim_notify_free(struct dsim_notifier *);
int	 dsim_notify_send(struct dsim_notifier *,
	    const struct dsim_notify_group *, struct dsim_error *);
char	*dsim_notify_payload(const struct dsim_notify_group *);
char	*dsim_notify_message(const struct dsim_notifier *,
	    const struct dsim_notify_group *);



/* How one notification went, for its alert.delivery record. */
struct dsim_notify_result {
	const char	*notifier;
	char		*key;		/* the group's key */
	char		*alerts;	/* the alertnames, comma-separated */
	char		 env[65];
	dsim_ms		 at;		/* the input's time of the changes */
	int		 ok;
	int		 resend;	/* of a keep-alive */
	int		 attempts;
	struct dsim_error err;		/* the last failure */
};

/* A job for the delivery thread: a group, owned, for one notifier. */
struct dsim_notify_job {
	struct dsim_notifier *n;
	struct dsim_notify_group g;
	int		 resend;	/* a keep-alive of firing alerts */
};

/*
 * Deliveries in a thread of their own, so that reading input never waits
 * on a slow receiver: a bounded queue of jobs in, results out.
 */
struct dsim_notify_queue {
	pthread_t	 thread;
	pthread_mutex_t	 lock;
	pthread_cond_t	 wake;
	pthread_cond_t	 idle;
	struct dsim_notify_job *jobs;	/* a ring of cap */
	size_t		 cap;
	size_t		 head;
	size_t		 njobs;
	int		 busy;		/* a job is being delivered */
	struct dsim_notify_result *res;
	size_t		 nres;
	size_t		 capres;
	int		 retries;	/* attempts after the first */
	dsim_ms		 backoff;	/* the first wait between attempts */
	int		 stop;
	int		 started;
};

int	 dsim_notify_start(struct dsim_notify_queue *, size_t, int, dsim_ms,
	    struct dsim_error *);
int	 dsim_notify_put(struct dsim_notify_queue *, struct dsim_notifier *,
	    const struct dsim_notify_group *, int);
size_t	 dsim_notify_results(struct dsim_notify_queue *,
	    struct dsim_notify_result **);
void	 dsim_notify_result_free(struct dsim_notify_result *, size_t);
void	 dsim_notify_drain(struct dsim_notify_queue *);
void	 dsim_notify_stop(struct dsim_notify_queue *);
void	 dsim_notify_group_copy(struct dsim_notify_group *,
	    const struct dsim_notify_group *);
void	 dsim_notify_group_free(struct dsim_notify_group *);

#endif
