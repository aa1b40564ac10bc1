#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "notify.h"

#define NOTIFY_ZERO_TIME	"0001-01-01T00:00:00Z"

static char *
notify_strdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		abort();
	return p;
}

static json_t *
notify_time(dsim_ms t)
{
	char ts[DSIM_CLOCK_LEN];

	dsim_clock_format(t, ts);
	return json_string(ts);
}

/* The labels or annotations every alert of a group shares. */
static json_t *
notify_common(const struct dsim_notify_group *g, int annotations)
{
	json_t *common, *v, *first;
	const char *k;
	void *tmp;
	size_t i;

	first = annotations ? g->ev[0]->annotations : g->ev[0]->labels;
	common = json_deep_copy(first);
	for (i = 1; i < g->n; i++) {
		json_t *o = annotations ? g->ev[i]->annotations :
		    g->ev[i]->labels;

		json_object_foreach_safe(common, tmp, k, v)
			if (!json_equal(v, json_object_get(o, k)))
				json_object_del(common, k);
	}
	return common;
}

static int
notify_any_firing(const struct dsim_notify_group *g)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		if (g->ev[i]->firing)
			return 1;
	return 0;
}

/* The body Alertmanager's webhook receiver posts, version 4. */
char *
dsim_notify_payload(const struct dsim_notify_group *g)
{
	json_t *alerts = json_array(), *doc;
	char *text;
	size_t i;

	for (i = 0; i < g->n; i++) {
		const struct dsim_alert_event *e = g->ev[i];

		json_array_append_new(alerts, json_pack("{s:s, s:O, s:O, s:o,"
		    " s:o, s:s, s:s}", "status", e->firing ? "firing" :
		    "resolved", "labels", e->labels, "annotations",
		    e->annotations, "startsAt", notify_time(e->starts),
		    "endsAt", e->firing ? json_string(NOTIFY_ZERO_TIME) :
		    notify_time(e->ends), "generatorURL", "",
		    "fingerprint", e->fingerprint));
	}
	doc = json_pack("{s:s, s:s, s:i, s:s, s:s, s:O, s:o, s:o, s:s, s:o}",
	    "version", "4", "groupKey", g->key, "truncatedAlerts", 0,
	    "status", notify_any_firing(g) ? "firing" : "resolved",
	    "receiver", "dsim", "groupLabels", g->labels,
	    "commonLabels", notify_common(g, 0),
	    "commonAnnotations", notify_common(g, 1),
	    "externalURL", "", "alerts", alerts);
	text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (text == NULL)
		abort();
	return text;
}

/*
 * The body of POST /api/v2/alerts: Alertmanager judges activity by its
 * own clock, so it is told the wall-clock time of the notification.
 */
static char *
notify_am_body(const struct dsim_notify_group *g)
{
	json_t *alerts = json_array(), *a;
	dsim_ms now = dsim_clock_now();
	char *text;
	size_t i;

	for (i = 0; i < g->n; i++) {
		const struct dsim_alert_event *e = g->ev[i];

		a = json_pack("{s:O, s:O, s:o, s:s}", "labels", e->labels,
		    "annotations", e->annotations, "startsAt",
		    notify_time(now), "generatorURL", "");
		if (!e->firing)
			json_object_set_new(a, "endsAt", notify_time(now));
		json_array_append_new(alerts, a);
	}
	text = json_dumps(alerts, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(alerts);
	if (text == NULL)
		abort();
	return text;
}

/* Append base + path unless url already has a path beyond "/". */
static void
notify_url(char *buf, size_t len, const char *url, const char *path)
{
	const char *p = strstr(url, "://");
	size_t n = strlen(url);

	p = p ? strchr(p + 3, '/') : NULL;
	if (p != NULL && p[1] != '\0') {
		snprintf(buf, len, "%s", url);
		return;
	}
	if (n > 0 && url[n - 1] == '/')
		n--;
	snprintf(buf, len, "%.*s%s", (int)n, url, path);
}

static int
notify_post(const char *url, const char *body, long timeout,
    struct dsim_error *err)
{
	struct dsim_http_reply reply;
	int rc;

	rc = dsim_http_request("POST", url, "application/json", body,
	    strlen(body), timeout, &reply, err);
	dsim_http_reply_free(&reply);
	return rc;
}

static int
notify_webhook(struct dsim_notifier *n, const struct dsim_notify_group *g,
    struct dsim_error *err)
{
	char *body = dsim_notify_payload(g);
	int rc = notify_post(n->url, body, n->timeout, err);

	free(body);
	return rc;
}

static int
notify_alertmanager(struct dsim_notifier *n,
    const struct dsim_notify_group *g, struct dsim_error *err)
{
	char url[2048], *body = notify_am_body(g);
	int rc;

	notify_url(url, sizeof url, n->url, "/api/v2/alerts");
	rc = notify_post(url, body, n->timeout, err);
	free(body);
	return rc;
}

/* Print s with control characters shown as '?', safe for a terminal. */
static void
notify_safe(FILE *fp, const char *s)
{
	for (; *s != '\0'; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, fp);
}

/* One line per alert: time, status, name, labels, value, summary. */
static int
notify_console(struct dsim_notifier *n, const struct dsim_notify_group *g,
    struct dsim_error *err)
{
	char ts[DSIM_CLOCK_LEN];
	const char *k, *summary;
	json_t *v;
	size_t i;

	(void)err;
	for (i = 0; i < g->n; i++) {
		const struct dsim_alert_event *e = g->ev[i];

		dsim_clock_format(e->at, ts);
		fprintf(n->fp, "%s %-8s ", ts, e->firing ? "FIRING" :
		    "RESOLVED");
		notify_safe(n->fp, json_string_value(json_object_get(
		    e->labels, "alertname")));
		json_object_foreach(e->labels, k, v) {
			if (strcmp(k, "alertname") == 0)
				continue;
			fprintf(n->fp, " %s=", k);
			notify_safe(n->fp, json_string_value(v));
		}
		fprintf(n->fp, " value=%.6g", e->value);
		summary = json_string_value(json_object_get(e->annotations,
		    "summary"));
		if (summary != NULL) {
			fputs(": ", n->fp);
			notify_safe(n->fp, summary);
		}
		fputc('\n', n->fp);
	}
	fflush(n->fp);
	return 0;
}

/* Append printf-formatted text to a growing message. */
static void DSIM_PRINTF(3, 4)
notify_add(char **buf, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if ((*buf = realloc(*buf, *len + (size_t)n + 1)) == NULL)
		abort();
	va_start(ap, fmt);
	vsnprintf(*buf + *len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	*len += (size_t)n;
}

/* Copy s without CR and LF, so that it cannot break a header. */
static void
notify_header_safe(char *out, size_t len, const char *s)
{
	size_t i;

	snprintf(out, len, "%s", s);
	for (i = 0; out[i] != '\0'; i++)
		if (out[i] == '\r' || out[i] == '\n')
			out[i] = ' ';
}

/* The subject, as Alertmanager's: [FIRING:N] the group's label values. */
static void
notify_subject(const struct dsim_notify_group *g, char *buf, size_t len)
{
	size_t firing = 0, i, n;
	const char *k, *env = g->ev[0]->env;
	json_t *v;

	for (i = 0; i < g->n; i++)
		firing += g->ev[i]->firing;
	if (firing > 0)
		n = (size_t)snprintf(buf, len, "[FIRING:%zu]", firing);
	else
		n = (size_t)snprintf(buf, len, "[RESOLVED]");
	json_object_foreach(g->labels, k, v)
		if (n < len)
			n += (size_t)snprintf(buf + n, len - n, " %s",
			    json_string_value(v));
	if (*env != '\0' && n < len)
		snprintf(buf + n, len - n, " (%s)", env);
}

/* The alerts of a group as a plain-text body, lines ending in CRLF. */
static void
notify_body(const struct dsim_notify_group *g, char **msg, size_t *len)
{
	char starts[DSIM_CLOCK_LEN], ends[DSIM_CLOCK_LEN];
	const char *k;
	json_t *v;
	size_t i;

	for (i = 0; i < g->n; i++) {
		const struct dsim_alert_event *e = g->ev[i];

		dsim_clock_format(e->starts, starts);
		notify_add(msg, len, "[%s] %s\r\n", e->firing ? "FIRING" :
		    "RESOLVED", json_string_value(json_object_get(e->labels,
		    "alertname")));
		notify_add(msg, len, "  since %s", starts);
		if (!e->firing) {
			dsim_clock_format(e->ends, ends);
			notify_add(msg, len, ", resolved %s", ends);
		}
		notify_add(msg, len, ", value %.6g\r\n  labels:", e->value);
		json_object_foreach(e->labels, k, v)
			notify_add(msg, len, " %s=%s", k,
			    json_string_value(v));
		notify_add(msg, len, "\r\n");
		json_object_foreach(e->annotations, k, v)
			notify_add(msg, len, "  %s: %s\r\n", k,
			    json_string_value(v));
		notify_add(msg, len, "  fingerprint %s\r\n\r\n",
		    e->fingerprint);
	}
}

/* The whole e-mail message for a group: headers and body. */
char *
dsim_notify_message(const struct dsim_notifier *n,
    const struct dsim_notify_group *g)
{
	char subject[512], safe[512], date[64], *msg = NULL;
	time_t now = time(NULL);
	struct tm tm;
	size_t len = 0, i;

	gmtime_r(&now, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	notify_subject(g, subject, sizeof subject);
	notify_header_safe(safe, sizeof safe, subject);
	notify_add(&msg, &len, "From: %s\r\nTo: ", n->from);
	for (i = 0; i < n->nto; i++)
		notify_add(&msg, &len, "%s%s", i ? ", " : "", n->to[i]);
	notify_add(&msg, &len, "\r\nSubject: %s\r\nDate: %s\r\n"
	    "Message-ID: <%s.%lld@dsim>\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\n", safe, date,
	    g->ev[0]->fingerprint, (long long)dsim_clock_now());
	notify_body(g, &msg, &len);
	return msg;
}

static int
notify_email(struct dsim_notifier *n, const struct dsim_notify_group *g,
    struct dsim_error *err)
{
	char *msg = dsim_notify_message(n, g);
	int rc;

	rc = dsim_http_mail(n->url, n->from, (const char *const *)n->to,
	    n->nto, msg, strlen(msg), n->timeout, err);
	free(msg);
	return rc;
}

/*
 * Read a --notify value: console, email, webhook=URL or
 * alertmanager=URL.  The e-mail settings are filled in by the caller.
 */
int
dsim_notify_parse(struct dsim_notifier *n, const char *spec,
    struct dsim_error *err)
{
	const char *eq = strchr(spec, '=');

	memset(n, 0, sizeof *n);
	n->timeout = 10000;
	if (strcmp(spec, "console") == 0) {
		n->name = "console";
		n->send = notify_console;
	} else if (strcmp(spec, "email") == 0) {
		n->name = "email";
		n->send = notify_email;
	} else if (eq != NULL && eq[1] != '\0' &&
	    (strncmp(spec, "webhook=", 8) == 0 ||
	    strncmp(spec, "alertmanager=", 13) == 0)) {
		n->name = spec[0] == 'w' ? "webhook" : "alertmanager";
		n->send = spec[0] == 'w' ? notify_webhook :
		    notify_alertmanager;
		n->url = notify_strdup(eq + 1);
	} else
		return dsim_error_set(err, DSIM_EX_USAGE, "--notify", "'%s' is "
		    "not console, email, webhook=URL or alertmanager=URL",
		    spec);
	return 0;
}

/* Send one group through a notifier, once. */
int
dsim_notify_send(struct dsim_notifier *n, const struct dsim_notify_group *g,
    struct dsim_error *err)
{
	return n->send(n, g, err);
}

/* Release what a notifier holds. */
void
dsim_notify_free(struct dsim_notifier *n)
{
	size_t i;

	free(n->url);
	free(n->from);
	for (i = 0; i < n->nto; i++)
		free(n->to[i]);
	free(n->to);
	memset(n, 0, sizeof *n);
}

/* Copy a group so that it outlives the engine's changes: events shared. */
void
dsim_notify_group_copy(struct dsim_notify_group *to,
    const struct dsim_notify_group *from)
{
	size_t i;

	to->key = notify_strdup(from->key);
	to->labels = json_incref(from->labels);
	to->n = from->n;
	if ((to->ev = calloc(from->n, sizeof *to->ev)) == NULL)
		abort();
	for (i = 0; i < from->n; i++) {
		if ((to->ev[i] = malloc(sizeof *to->ev[i])) == NULL)
			abort();
		*to->ev[i] = *from->ev[i];
		json_incref(to->ev[i]->labels);
		json_incref(to->ev[i]->annotations);
	}
}

/* Release a copied group. */
void
dsim_notify_group_free(struct dsim_notify_group *g)
{
	size_t i;

	for (i = 0; i < g->n; i++) {
		json_decref(g->ev[i]->labels);
		json_decref(g->ev[i]->annotations);
		free(g->ev[i]);
	}
	free(g->ev);
	free((char *)g->key);
	json_decref(g->labels);
	memset(g, 0, sizeof *g);
}

/* The alertnames of a group, comma-separated, each once. */
static char *
notify_names(const struct dsim_notify_group *g)
{
	char *s = NULL;
	size_t len = 0, i, j;
	const char *name;

	notify_add(&s, &len, "%s", "");
	for (i = 0; i < g->n; i++) {
		name = json_string_value(json_object_get(g->ev[i]->labels,
		    "alertname"));
		for (j = 0; j < i; j++)
			if (strcmp(name, json_string_value(json_object_get(
			    g->ev[j]->labels, "alertname"))) == 0)
				break;
		if (j == i)
			notify_add(&s, &len, "%s%s", len ? "," : "", name);
	}
	return s;
}

/* Deliver one job, retrying with a doubling wait; fill its result. */
static void
notify_deliver(struct dsim_notify_queue *q, struct dsim_notify_job *job,
    struct dsim_notify_result *r)
{
	dsim_ms wait = q->backoff;

	memset(r, 0, sizeof *r);
	r->notifier = job->n->name;
	r->resend = job->resend;
	r->key = notify_strdup(job->g.key);
	r->alerts = notify_names(&job->g);
	r->at = job->g.ev[0]->at;
	snprintf(r->env, sizeof r->env, "%s", job->g.ev[0]->env);
	for (;;) {
		r->attempts++;
		dsim_error_clear(&r->err);
		if (dsim_notify_send(job->n, &job->g, &r->err) == 0) {
			r->ok = 1;
			return;
		}
		if (r->attempts > q->retries)
			return;
		dsim_clock_sleep(wait);
		wait *= 2;
	}
}

static void *
notify_thread(void *arg)
{
	struct dsim_notify_queue *q = arg;
	struct dsim_notify_job job;
	struct dsim_notify_result r;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		while (q->njobs == 0 && !q->stop)
			pthread_cond_wait(&q->wake, &q->lock);
		if (q->njobs == 0)
			break;
		job = q->jobs[q->head];
		q->head = (q->head + 1) % q->cap;
		q->njobs--;
		q->busy = 1;
		pthread_mutex_unlock(&q->lock);
		notify_deliver(q, &job, &r);
		dsim_notify_group_free(&job.g);
		pthread_mutex_lock(&q->lock);
		if (q->nres == q->capres) {
			q->capres = q->capres ? q->capres * 2 : 16;
			q->res = realloc(q->res, q->capres * sizeof *q->res);
			if (q->res == NULL)
				abort();
		}
		q->res[q->nres++] = r;
		q->busy = 0;
		pthread_cond_broadcast(&q->idle);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

/*
 * Start the delivery thread with room for cap jobs, each tried
 * 1 + retries times with waits from backoff doubling.
 */
int
dsim_notify_start(struct dsim_notify_queue *q, size_t cap, int retries,
    dsim_ms backoff, struct dsim_error *err)
{
	memset(q, 0, sizeof *q);
	dsim_http_init();
	q->cap = cap;
	q->retries = retries;
	q->backoff = backoff;
	if ((q->jobs = calloc(cap, sizeof *q->jobs)) == NULL)
		abort();
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->wake, NULL);
	pthread_cond_init(&q->idle, NULL);
	if (pthread_create(&q->thread, NULL, notify_thread, q) != 0)
		return dsim_error_set(err, DSIM_EX_FAILED, "notify",
		    "cannot start the delivery thread");
	q->started = 1;
	return 0;
}

/*
 * Queue a group for a notifier, as a keep-alive if resend; -1 when the
 * queue is full.
 */
int
dsim_notify_put(struct dsim_notify_queue *q, struct dsim_notifier *n,
    const struct dsim_notify_group *g, int resend)
{
	struct dsim_notify_job *job;

	pthread_mutex_lock(&q->lock);
	if (q->njobs == q->cap) {
		pthread_mutex_unlock(&q->lock);
		return -1;
	}
	job = &q->jobs[(q->head + q->njobs) % q->cap];
	job->n = n;
	job->resend = resend;
	dsim_notify_group_copy(&job->g, g);
	q->njobs++;
	pthread_cond_signal(&q->wake);
	pthread_mutex_unlock(&q->lock);
	return 0;
}

/* Take the results so far (the caller frees them); their number. */
size_t
dsim_notify_results(struct dsim_notify_queue *q,
    struct dsim_notify_result **out)
{
	size_t n;

	pthread_mutex_lock(&q->lock);
	*out = q->res;
	n = q->nres;
	q->res = NULL;
	q->nres = q->capres = 0;
	pthread_mutex_unlock(&q->lock);
	return n;
}

/* Release results taken. */
void
dsim_notify_result_free(struct dsim_notify_result *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(r[i].key);
		free(r[i].alerts);
	}
	free(r);
}

/* Wait until every queued job has been delivered or has failed. */
void
dsim_notify_drain(struct dsim_notify_queue *q)
{
	pthread_mutex_lock(&q->lock);
	while (q->njobs > 0 || q->busy)
		pthread_cond_wait(&q->idle, &q->lock);
	pthread_mutex_unlock(&q->lock);
}

/* Finish the queued jobs and stop the thread. */
void
dsim_notify_stop(struct dsim_notify_queue *q)
{
	if (q->started) {
		pthread_mutex_lock(&q->lock);
		q->stop = 1;
		pthread_cond_signal(&q->wake);
		pthread_mutex_unlock(&q->lock);
		pthread_join(q->thread, NULL);
	}
	dsim_notify_result_free(q->res, q->nres);
	free(q->jobs);
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->wake);
	pthread_cond_destroy(&q->idle);
	memset(q, 0, sizeof *q);
}
