#include "config.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert.h"
#include "cli.h"
#include "log.h"
#include "notify.h"
#include "rule.h"
#include "template.h"

#define ALERT_NOTIFIERS	8

enum {
	OPT_RULES = DSIM_CLI_FIRST_OWN,
	OPT_NOTIFY,
	OPT_SMTP,
	OPT_FROM,
	OPT_TO,
	OPT_GROUP_BY,
	OPT_REPEAT,
	OPT_RETRIES,
	OPT_TIMEOUT,
	OPT_PASS,
	OPT_ANOMALY,
	OPT_NO_ANOMALY,
	OPT_RESEND,
	OPT_STATE
};

static const struct dsim_opt alert_opts[] = {
	{ OPT_RULES, "rules", "FILE", "the rules (default "
	    "share/dsim/alerts/ENV.json)" },
	{ OPT_NOTIFY, "notify", "HOW", "console, email, webhook=URL or "
	    "alertmanager=URL; repeat for several" },
	{ OPT_SMTP, "smtp", "URL", "email: smtp://, smtp+starttls:// or "
	    "smtps://HOST[:PORT]" },
	{ OPT_FROM, "from", "ADDR", "email: the sender" },
	{ OPT_TO, "to", "ADDR", "email: a recipient; repeat for several" },
	{ OPT_GROUP_BY, "group-by", "LABELS", "labels that group "
	    "notifications, comma-separated (default alertname)" },
	{ OPT_REPEAT, "repeat", "DUR", "notify a firing alert again every DUR "
	    "of input time" },
	{ OPT_RESEND, "resend", "DUR", "tell Alertmanager again of firing "
	    "alerts every DUR of wall-clock time (default 1m)" },
	{ OPT_RETRIES, "retries", "N", "attempts after a failed delivery "
	    "(default 3)" },
	{ OPT_TIMEOUT, "timeout", "DUR", "the limit of one delivery attempt "
	    "(default 10s)" },
	{ OPT_PASS, "pass", NULL, "pass records of other kinds through" },
	{ OPT_STATE, "state", "FILE", "keep pending and firing alerts in FILE "
	    "from one run to the next" },
	{ OPT_ANOMALY, "anomaly", NULL, "apply the anomaly rules (default: "
	    "when the world has ENABLE_ADVANCED_MONITORING)" },
	{ OPT_NO_ANOMALY, "no-anomaly", NULL, "apply no anomaly rules" },
	DSIM_CLI_OPT_ENV,
	DSIM_CLI_OPT_FORMAT,
	DSIM_CLI_OPT_QUIET,
	DSIM_CLI_OPT_VERBOSE,
	{ 0, NULL, NULL, NULL }
};

static const struct dsim_cmd alert_cmd = {
	"dsim-alert",
	"[--rules FILE] [--notify HOW]... [--pass] [-e NAME] [OPTION]...",
	"Evaluate alerting rules over metric records and send notifications.",
	alert_opts
};

/* dsim-alert's options and state. */
struct alert {
	struct dsim_cli	 cli;
	const char	*rules_path;	/* --rules */
	const char	*notify[ALERT_NOTIFIERS]; /* --notify */
	size_t		 nnotify;
	const char	*smtp;		/* --smtp */
	const char	*from;		/* --from */
	const char	*to[16];	/* --to */
	size_t		 nto;
	const char	*group_by;	/* --group-by */
	char		 group_by_buf[256]; /* the rules' group_by */
	dsim_ms		 repeat;	/* --repeat */
	dsim_ms		 resend;	/* --resend */
	uint64_t	 retries;	/* --retries */
	dsim_ms		 timeout;	/* --timeout */
	int		 pass;		/* --pass */
	const char	*state;		/* --state */
	int		 anomaly;	/* --anomaly 1, --no-anomaly 0; -1 */
	struct dsim_rules rules;
	struct dsim_alert engine;
	struct dsim_notifier n[ALERT_NOTIFIERS];
	size_t		 nn;
	struct dsim_notify_queue queue;
	size_t		 bad;		/* bad input lines */
	size_t		 failed;	/* failed deliveries */
	int		 alertmanager;	/* one of the notifiers is */
	dsim_ms		 resent;	/* when Alertmanager was last told */
	struct dsim_rec	 rec;
};

static int
alert_duration(const char *val, const char *name, dsim_ms *out,
    struct dsim_error *err)
{
	if (dsim_clock_parse_duration(val, out) != 0 || *out <= 0)
		return dsim_error_set(err, DSIM_EX_USAGE, name, "'%s' is not a "
		    "duration (such as 30s, 5m, 4h)", val);
	return 0;
}

static int
alert_option(void *arg, int key, const char *val, struct dsim_error *err)
{
	struct alert *a = arg;
	int rc;

	if ((rc = dsim_cli_option(&a->cli, key, val, err)) >= 0)
		return rc;
	switch (key) {
	case OPT_RULES:
		a->rules_path = val;
		return 0;
	case OPT_NOTIFY:
		if (a->nnotify == ALERT_NOTIFIERS)
			return dsim_error_set(err, DSIM_EX_USAGE, "--notify",
			    "at most %d notifiers", ALERT_NOTIFIERS);
		a->notify[a->nnotify++] = val;
		return 0;
	case OPT_SMTP:
		a->smtp = val;
		return 0;
	case OPT_FROM:
		a->from = val;
		return 0;
	case OPT_TO:
		if (a->nto == 16)
			return dsim_error_set(err, DSIM_EX_USAGE, "--to",
			    "at most 16 recipients");
		a->to[a->nto++] = val;
		return 0;
	case OPT_GROUP_BY:
		a->group_by = val;
		return 0;
	case OPT_REPEAT:
		return alert_duration(val, "--repeat", &a->repeat, err);
	case OPT_STATE:
		a->state = val;
		return 0;
	case OPT_RESEND:
		return alert_duration(val, "--resend", &a->resend, err);
	case OPT_RETRIES:
		return dsim_opt_uint(val, "--retries", 0, 20, &a->retries, err);
	case OPT_TIMEOUT:
		return alert_duration(val, "--timeout", &a->timeout, err);
	case OPT_PASS:
		a->pass = 1;
		return 0;
	case OPT_ANOMALY:
	case OPT_NO_ANOMALY:
		a->anomaly = key == OPT_ANOMALY;
		return 0;
	}
	return dsim_error_set(err, DSIM_EX_USAGE, NULL, "unhandled option");
}

/* A setting: the option, else a variable, else the rules' notify.email. */
static const char *
alert_setting(const char *opt, const char *var, const json_t *email,
    const char *key)
{
	const char *v = getenv(var);

	if (opt != NULL)
		return opt;
	if (v != NULL && *v != '\0')
		return v;
	return json_string_value(json_object_get(email, key));
}

static char *
alert_strdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		abort();
	return p;
}

/* Add one recipient, or several from a comma-separated list. */
static void
alert_add_to(struct dsim_notifier *n, const char *list)
{
	char *copy = alert_strdup(list), *tok, *save;

	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		if (*tok == '\0')
			continue;
		n->to = realloc(n->to, (n->nto + 1) * sizeof *n->to);
		if (n->to == NULL)
			abort();
		n->to[n->nto++] = alert_strdup(tok);
	}
	free(copy);
}

/* Fill the e-mail notifier's server, sender and recipients. */
static int
alert_email(struct alert *a, struct dsim_notifier *n, struct dsim_error *err)
{
	const json_t *email = json_object_get(a->rules.notify, "email");
	const json_t *to = json_object_get(email, "to"), *v;
	const char *smtp = alert_setting(a->smtp, "DSIM_SMTP_URL", email,
	    "smtp");
	const char *from = alert_setting(a->from, "DSIM_ALERT_FROM", email,
	    "from");
	const char *var = getenv("DSIM_ALERT_TO");
	size_t i;

	if (smtp == NULL || from == NULL)
		return dsim_error_set(err, DSIM_EX_CONFIG, "email", "needs an "
		    "SMTP URL and a sender (--smtp and --from, DSIM_SMTP_URL "
		    "and DSIM_ALERT_FROM, or the rules' notify.email)");
	n->url = alert_strdup(smtp);
	n->from = alert_strdup(from);
	for (i = 0; i < a->nto; i++)
		alert_add_to(n, a->to[i]);
	if (n->nto == 0 && var != NULL && *var != '\0')
		alert_add_to(n, var);
	json_array_foreach(n->nto == 0 ? to : NULL, i, v)
		if (json_is_string(v))
			alert_add_to(n, json_string_value(v));
	if (n->nto == 0)
		return dsim_error_set(err, DSIM_EX_CONFIG, "email", "needs a "
		    "recipient (--to, DSIM_ALERT_TO or the rules' "
		    "notify.email.to)");
	return 0;
}

/* The rules' notify.group_by as a comma-separated list, kept. */
static const char *
alert_group_by(struct alert *a)
{
	const json_t *by = json_object_get(a->rules.notify, "group_by"), *v;
	size_t i, len = 0;

	a->group_by_buf[0] = '\0';
	json_array_foreach(by, i, v)
		if (json_is_string(v) && len < sizeof a->group_by_buf)
			len += (size_t)snprintf(a->group_by_buf + len,
			    sizeof a->group_by_buf - len, "%s%s",
			    len ? "," : "", json_string_value(v));
	return len ? a->group_by_buf : "alertname";
}

/*
 * Make the notifiers: --notify, else the rules' notify.default, else the
 * console; each with its settings.
 */
static int
alert_notifiers(struct alert *a, struct dsim_error *err)
{
	const json_t *def = json_object_get(a->rules.notify, "default"), *v;
	const char *specs[ALERT_NOTIFIERS];
	size_t n = 0, i;
	int email = 0;

	for (i = 0; i < a->nnotify; i++)
		specs[n++] = a->notify[i];
	json_array_foreach(n == 0 ? def : NULL, i, v)
		if (json_is_string(v) && n < ALERT_NOTIFIERS)
			specs[n++] = json_string_value(v);
	if (n == 0)
		specs[n++] = "console";
	for (i = 0; i < n; i++) {
		struct dsim_notifier *nt = &a->n[a->nn];

		if (dsim_notify_parse(nt, specs[i], err) != 0)
			return err->code;
		a->nn++;
		nt->fp = stderr;
		nt->timeout = a->timeout ? a->timeout : 10000;
		if (strcmp(nt->name, "alertmanager") == 0)
			a->alertmanager = 1;
		if (strcmp(nt->name, "email") == 0) {
			email = 1;
			if (alert_email(a, nt, err) != 0)
				return err->code;
		}
	}
	if (a->group_by == NULL)
		a->group_by = alert_group_by(a);
	if (!email && (a->smtp || a->from || a->nto))
		return dsim_error_set(err, DSIM_EX_USAGE, "--smtp",
		    "--smtp, --from and --to need --notify email");
	return 0;
}

/* Load the rules: --rules, else share/dsim/alerts/ENV.json. */
static int
alert_load_rules(struct alert *a, struct dsim_error *err)
{
	char path[PATH_MAX];

	if (a->rules_path == NULL) {
		snprintf(path, sizeof path, "%s/alerts/%s.json",
		    dsim_template_dir(), a->cli.env);
		if (access(path, R_OK) == -1)
			return dsim_error_set(err, DSIM_EX_CONFIG, path,
			    "no alerting rules for environment '%s' "
			    "(use --rules FILE)", a->cli.env);
		return dsim_rule_load(&a->rules, path, err);
	}
	if (access(a->rules_path, R_OK) == -1)
		return dsim_error_errno(err, DSIM_EX_NOINPUT, a->rules_path,
		    "cannot read");
	return dsim_rule_load(&a->rules, a->rules_path, err);
}

/* The group-by labels of a change, and its group's key as Alertmanager's. */
static json_t *
alert_group_labels(const struct alert *a, const struct dsim_alert_event *e,
    char *key, size_t len)
{
	const char *by = a->group_by ? a->group_by : "alertname";
	char *copy = alert_strdup(by), *tok, *save;
	json_t *labels = json_object(), *v;
	size_t n = (size_t)snprintf(key, len, "{}:{");

	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if ((v = json_object_get(e->labels, tok)) == NULL)
			continue;
		json_object_set(labels, tok, v);
		if (n < len)
			n += (size_t)snprintf(key + n, len - n, "%s%s=\"%s\"",
			    json_object_size(labels) > 1 ? "," : "", tok,
			    json_string_value(v));
	}
	if (n < len)
		snprintf(key + n, len - n, "}");
	free(copy);
	return labels;
}

/*
 * Hand one group to every notifier: the console at once, others queued;
 * a keep-alive goes to Alertmanager only.
 */
static void
alert_dispatch(struct alert *a, const struct dsim_notify_group *g,
    int resend)
{
	struct dsim_error err;
	size_t i;

	for (i = 0; i < a->nn; i++) {
		if (resend && strcmp(a->n[i].name, "alertmanager") != 0)
			continue;
		if (strcmp(a->n[i].name, "console") == 0) {
			dsim_notify_send(&a->n[i], g, &err);
			continue;
		}
		if (dsim_notify_put(&a->queue, &a->n[i], g, resend) == 0)
			continue;
		dsim_error_set(&err, DSIM_EX_UNAVAILABLE, a->n[i].name,
		    "delivery queue full: the receiver is too slow");
		dsim_log_report(&err);
		a->failed++;
		dsim_rec_begin(&a->rec, "alert.delivery", g->ev[0]->at,
		    g->ev[0]->env[0] ? g->ev[0]->env : NULL);
		dsim_rec_str(&a->rec, "status", "failed");
		dsim_rec_str(&a->rec, "notifier", a->n[i].name);
		dsim_rec_str(&a->rec, "group", g->key);
		dsim_rec_int(&a->rec, "attempts", 0);
		dsim_rec_str(&a->rec, "error", err.reason);
		dsim_rec_put(&a->cli.out.sink, &a->rec);
	}
}

/* Group n changes and send each group. */
static void
alert_send(struct alert *a, struct dsim_alert_event *evs, size_t n,
    int resend)
{
	struct dsim_notify_group g;
	struct dsim_alert_event *ev[512];
	char key[1024], other[1024];
	int *done = calloc(n + 1, sizeof *done);
	size_t i, j;

	if (done == NULL)
		abort();
	for (i = 0; i < n; i++) {
		if (done[i])
			continue;
		memset(&g, 0, sizeof g);
		g.labels = alert_group_labels(a, &evs[i], key, sizeof key);
		g.key = key;
		g.ev = ev;
		for (j = i; j < n && g.n < 512; j++) {
			json_t *l;

			if (done[j])
				continue;
			l = alert_group_labels(a, &evs[j], other,
			    sizeof other);
			json_decref(l);
			if (strcmp(key, other) != 0)
				continue;
			done[j] = 1;
			ev[g.n++] = &evs[j];
		}
		alert_dispatch(a, &g, resend);
		json_decref(g.labels);
	}
	free(done);
}

/*
 * Tell Alertmanager again, once a minute of wall-clock time, of every
 * alert still firing, as Prometheus does, so that its resolve_timeout does
 * not end them.
 */
static void
alert_keepalive(struct alert *a)
{
	struct dsim_alert_event *ev;
	dsim_ms now;
	size_t n;

	if (!a->alertmanager || (now = dsim_clock_now()) - a->resent <
	    a->resend)
		return;
	a->resent = now;
	if ((n = dsim_alert_firing(&a->engine, &ev)) > 0)
		alert_send(a, ev, n, 1);
	dsim_alert_events_free(ev, n);
}

/* Write the deliveries finished so far as alert.delivery records. */
static void
alert_results(struct alert *a)
{
	struct dsim_notify_result *r;
	struct dsim_sink *sink = &a->cli.out.sink;
	size_t n = dsim_notify_results(&a->queue, &r), i;

	for (i = 0; i < n; i++) {
		if (r[i].ok && r[i].resend) {
			dsim_log_info(r[i].notifier, "told again of %s",
			    r[i].alerts);
			continue;
		}
		dsim_rec_begin(&a->rec, "alert.delivery", r[i].at,
		    r[i].env[0] ? r[i].env : NULL);
		dsim_rec_str(&a->rec, "status", r[i].ok ? "sent" : "failed");
		dsim_rec_str(&a->rec, "notifier", r[i].notifier);
		dsim_rec_str(&a->rec, "group", r[i].key);
		dsim_rec_str(&a->rec, "alerts", r[i].alerts);
		dsim_rec_int(&a->rec, "attempts", r[i].attempts);
		if (!r[i].ok) {
			char why[1100];

			snprintf(why, sizeof why, "%s: %s", r[i].err.subject,
			    r[i].err.reason);
			dsim_rec_str(&a->rec, "error", why);
			dsim_log_error(r[i].notifier, "%s: %s (after %d "
			    "attempt%s)", r[i].err.subject, r[i].err.reason,
			    r[i].attempts, r[i].attempts == 1 ? "" : "s");
			a->failed++;
		} else
			dsim_log_info(r[i].notifier, "sent %s, %s (%d "
			    "attempt%s)", r[i].key, r[i].alerts,
			    r[i].attempts, r[i].attempts == 1 ? "" : "s");
		dsim_rec_put(sink, &a->rec);
	}
	dsim_notify_result_free(r, n);
}

/* Standard input, read in large blocks and cut into lines. */
struct alert_input {
	char		*buf;
	size_t		 cap;
	size_t		 start;		/* the next line begins here */
	size_t		 len;		/* bytes held */
	int		 eof;
	size_t		 line;
};

/* Whether reading stdin now would wait. */
static int
alert_would_wait(void)
{
	struct pollfd p = { STDIN_FILENO, POLLIN, 0 };

	return poll(&p, 1, 0) == 0;
}

static void alert_flush(struct alert *, int);

/*
 * Wait for input; meanwhile, each second, write the deliveries finished
 * and remind Alertmanager of the alerts firing when it is time.
 */
static void
alert_idle(struct alert *a)
{
	struct pollfd p = { STDIN_FILENO, POLLIN, 0 };

	for (;;) {
		alert_flush(a, 1);
		a->cli.out.sink.flush(&a->cli.out.sink);
		if (poll(&p, 1, 1000) != 0)
			return;
	}
}

/* Read more of stdin, keeping the unfinished line; -1 on error. */
static int
alert_fill(struct alert_input *in)
{
	ssize_t n;

	if (in->start > 0) {
		memmove(in->buf, in->buf + in->start, in->len - in->start);
		in->len -= in->start;
		in->start = 0;
	}
	if (in->cap - in->len < 65536) {
		in->cap = in->cap ? in->cap * 2 : 1 << 20;
		if ((in->buf = realloc(in->buf, in->cap)) == NULL)
			abort();
	}
	do
		n = read(STDIN_FILENO, in->buf + in->len,
		    in->cap - in->len - 1);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	if (n == 0)
		in->eof = 1;
	in->len += (size_t)n;
	return 0;
}

/* Handle one line of input. */
static void
alert_one(struct alert *a, char *line, size_t len, size_t lineno)
{
	struct dsim_error err;
	int other;

	while (len > 0 && line[len - 1] == '\r')
		len--;
	line[len] = '\0';
	if (len == 0)
		return;
	dsim_error_clear(&err);
	if (dsim_alert_line(&a->engine, line, len, &other, &err) != 0) {
		snprintf(err.subject, sizeof err.subject, "stdin:%zu", lineno);
		dsim_log_report(&err);
		a->bad++;
		return;
	}
	if (other && a->pass && !a->cli.quiet) {
		line[len] = '\n';
		fwrite(line, 1, len + 1, a->cli.out.fp);
	}
}

/* Notify what is due and record what was delivered. */
static void
alert_flush(struct alert *a, int everything)
{
	size_t due = dsim_alert_due(&a->engine, everything);

	if (due > 0) {
		alert_send(a, a->engine.ev, due, 0);
		dsim_alert_drop(&a->engine, due);
	}
	alert_keepalive(a);
	alert_results(a);
}

/*
 * Read records until the end of input; before waiting for more, notify
 * everything made so far and flush stdout.
 */
static int
alert_read(struct alert *a, struct dsim_error *err)
{
	struct alert_input in = { 0 };
	size_t series;
	char *nl;

	for (;;) {
		nl = in.len > in.start ? memchr(in.buf + in.start, '\n',
		    in.len - in.start) : NULL;
		if (nl == NULL && in.eof) {
			if (in.len > in.start)
				alert_one(a, in.buf + in.start,
				    in.len - in.start, ++in.line);
			break;
		}
		if (nl == NULL) {
			if (alert_would_wait())
				alert_idle(a);
			if (alert_fill(&in) != 0) {
				free(in.buf);
				return dsim_error_errno(err, DSIM_EX_IOERR,
				    "stdin", "read error");
			}
			continue;
		}
		alert_one(a, in.buf + in.start, (size_t)(nl - in.buf) -
		    in.start, ++in.line);
		in.start = (size_t)(nl - in.buf) + 1;
		if (a->engine.nev > 0 || in.line % 65536 == 0)
			alert_flush(a, 0);
	}
	free(in.buf);
	alert_flush(a, 1);
	dsim_notify_drain(&a->queue);
	alert_results(a);
	dsim_alert_series_count(&a->engine, &series);
	dsim_log_info("stdin", "%zu lines, %zu series alive at the end",
	    in.line, series);
	return 0;
}

/*
 * Whether the anomaly rules are in force: --anomaly or --no-anomaly, else
 * whether the environment's world, if there is one, has the flag
 * ENABLE_ADVANCED_MONITORING on.
 */
static int
alert_anomaly(struct alert *a, struct dsim_error *err)
{
	struct dsim_cli *cli = &a->cli;

	if (a->anomaly >= 0) {
		a->rules.anomaly = a->anomaly;
		return 0;
	}
	if (!dsim_store_exists(&cli->st))
		return 0;
	if (dsim_store_load(&cli->st, &cli->w, err) != 0)
		return err->code;
	cli->loaded = 1;
	a->rules.anomaly = json_is_true(json_object_get(cli->w.flags,
	    "ENABLE_ADVANCED_MONITORING"));
	if (a->rules.anomaly)
		dsim_log_info(cli->env, "ENABLE_ADVANCED_MONITORING is on: "
		    "anomaly rules apply");
	return 0;
}

static int
alert_run(struct alert *a, struct dsim_error *err)
{
	struct dsim_cli *cli = &a->cli;
	int rc;

	if (dsim_cli_start(cli, 0, err) != 0 ||
	    alert_load_rules(a, err) != 0 || alert_notifiers(a, err) != 0 ||
	    alert_anomaly(a, err) != 0)
		return err->code;
	dsim_alert_init(&a->engine, &a->rules, &cli->out.sink);
	a->engine.repeat = a->repeat;
	a->resent = dsim_clock_now();
	if (a->state != NULL && dsim_alert_load(&a->engine, a->state,
	    err) != 0)
		return err->code;
	if (dsim_notify_start(&a->queue, 1024, a->retries, 500, err) != 0)
		return err->code;
	rc = alert_read(a, err);
	dsim_notify_stop(&a->queue);
	if (rc != 0)
		return rc;
	if (a->state != NULL && dsim_alert_save(&a->engine, a->state,
	    err) != 0)
		return err->code;
	if (a->bad > 0)
		return dsim_error_set(err, DSIM_EX_DATAERR, "stdin", "%zu bad "
		    "line%s skipped", a->bad, a->bad == 1 ? "" : "s");
	if (a->failed > 0)
		return dsim_error_set(err, DSIM_EX_UNAVAILABLE, "notify",
		    "%zu notification%s not delivered", a->failed,
		    a->failed == 1 ? "" : "s");
	return 0;
}

int
main(int argc, char **argv)
{
	struct alert a;
	struct dsim_error err;
	size_t i;
	int rc, argi;

	memset(&a, 0, sizeof a);
	a.retries = 3;
	a.anomaly = -1;
	a.resend = 60000;
	dsim_cli_init(&a.cli, argv[0]);
	if ((rc = dsim_opt_parse(&alert_cmd, argc, argv, alert_option, &a,
	    &argi)) >= 0)
		return rc;
	if (argi < argc)
		return dsim_log_usage("unexpected argument '%s'", argv[argi]);
	dsim_error_clear(&err);
	if ((rc = alert_run(&a, &err)) != 0)
		dsim_log_report(&err);
	dsim_alert_free(&a.engine);
	for (i = 0; i < a.nn; i++)
		dsim_notify_free(&a.n[i]);
	dsim_rule_free(&a.rules);
	dsim_rec_free(&a.rec);
	return dsim_cli_finish(&a.cli, rc);
}
