#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "host.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "model.h"
#include "promql.h"

enum {
	OPT_SOURCE = DSIM_CLI_FIRST_OWN,
	OPT_URL,
	OPT_DURATION,
	OPT_STEP,
	OPT_FOLLOW,
	OPT_PUSH,
	OPT_FORMAT
};

enum { SOURCE_SIM, SOURCE_HOST, SOURCE_PROMETHEUS };

static const struct dsim_opt metrics_opts[] = {
	{ OPT_SOURCE, "source", "SRC", "sim (default: the world), host (this "
	    "machine) or prometheus" },
	{ OPT_URL, "url", "URL", "prometheus: the server's base URL" },
	{ OPT_DURATION, "duration", "DUR", "run the world forward DUR, "
	    "sampling every step" },
	{ OPT_STEP, "step", "DUR", "the time between samples (default 15s)" },
	{ OPT_FOLLOW, "follow", NULL, "sample until interrupted, paced to "
	    "the wall clock" },
	{ DSIM_CLI_SPEED, "speed", "X", "--follow: simulated seconds per "
	    "wall-clock second (default 1)" },
	{ OPT_PUSH, "push", "URL", "send each sample set to a Prometheus "
	    "Pushgateway" },
	DSIM_CLI_OPT_ENV,
	DSIM_CLI_OPT_WAIT,
	{ OPT_FORMAT, "format", "FMT", "records as json (default), text, or "
	    "prometheus (the text exposition format)" },
	DSIM_CLI_OPT_QUIET,
	DSIM_CLI_OPT_VERBOSE,
	{ 0, NULL, NULL, NULL }
};

static const struct dsim_cmd metrics_cmd = {
	"dsim-metrics",
	"[--source SRC] [--duration DUR | --follow] [--push URL] [OPTION]...",
	"Sample CPU, memory, disk and network of the world, this host, or "
	    "a Prometheus server.",
	metrics_opts
};

/* dsim-metrics's options and state. */
struct metrics {
	struct dsim_cli	 cli;
	int		 source;	/* --source */
	const char	*url;		/* --url */
	dsim_ms		 duration;	/* --duration; 0: one sample */
	dsim_ms		 step;		/* --step */
	int		 follow;	/* --follow */
	double		 speed;		/* --speed */
	const char	*push;		/* --push */
	int		 exposition;	/* --format prometheus */
	int		 failed_push;	/* some push failed: exit 69 */
	struct dsim_metrics_set set;
	struct dsim_metrics_text text;
	struct dsim_rec	 rec;
	struct dsim_host host;
};

static volatile sig_atomic_t metrics_stop;

static void
metrics_signal(int sig)
{
	(void)sig;
	metrics_stop = 1;
}

static int
metrics_duration(const char *val, const char *name, dsim_ms *out,
    struct dsim_error *err)
{
	if (dsim_clock_parse_duration(val, out) != 0 || *out <= 0)
		return dsim_error_set(err, DSIM_EX_USAGE, name, "'%s' is not a "
		    "duration (such as 90s, 10m, 1h30m)", val);
	return 0;
}

static int
metrics_option(void *arg, int key, const char *val, struct dsim_error *err)
{
	static const char *const sources[] = { "sim", "host", "prometheus" };
	struct metrics *m = arg;
	int rc, i;

	if (key == OPT_FORMAT && strcmp(val, "prometheus") == 0) {
		m->exposition = 1;
		return 0;
	}
	if (key == OPT_FORMAT)
		key = DSIM_CLI_FORMAT;
	if ((rc = dsim_cli_option(&m->cli, key, val, err)) >= 0)
		return rc;
	switch (key) {
	case OPT_SOURCE:
		for (i = 0; i < 3; i++)
			if (strcmp(val, sources[i]) == 0) {
				m->source = i;
				return 0;
			}
		return dsim_error_set(err, DSIM_EX_USAGE, "--source", "'%s' is "
		    "not sim, host or prometheus", val);
	case OPT_URL:
		m->url = val;
		return 0;
	case OPT_DURATION:
		return metrics_duration(val, "--duration", &m->duration, err);
	case OPT_STEP:
		return metrics_duration(val, "--step", &m->step, err);
	case OPT_FOLLOW:
		m->follow = 1;
		return 0;
	case DSIM_CLI_SPEED:
		return dsim_opt_double(val, "--speed", 0.001, 1e6, &m->speed,
		    err);
	case OPT_PUSH:
		m->push = val;
		return 0;
	}
	return dsim_error_set(err, DSIM_EX_USAGE, NULL, "unhandled option");
}

/* Check that the options make one sensible run. */
static int
metrics_check(struct metrics *m)
{
	if (m->duration && m->follow)
		return dsim_log_usage("--duration and --follow exclude each "
		    "other");
	if (m->step && !m->duration && !m->follow)
		return dsim_log_usage("--step needs --duration or --follow");
	if (m->speed > 0 && !m->follow)
		return dsim_log_usage("--speed needs --follow");
	if ((m->source == SOURCE_PROMETHEUS) != (m->url != NULL))
		return dsim_log_usage(m->url ?
		    "--url needs --source prometheus" :
		    "--source prometheus needs --url");
	if (m->exposition && (m->duration || m->follow))
		return dsim_log_usage("--format prometheus holds one sample; "
		    "use json, or --push, with --duration or --follow");
	if (m->source != SOURCE_SIM && m->duration)
		return dsim_log_usage("--duration runs the simulated world; "
		    "use --follow with --source %s",
		    m->source == SOURCE_HOST ? "host" : "prometheus");
	if (m->step == 0)
		m->step = 15000;
	if (m->speed == 0)
		m->speed = 1;
	return 0;
}

/* Send the set to the Pushgateway, replacing the group job=dsim, env. */
static int
metrics_push(struct metrics *m, struct dsim_error *err)
{
	struct dsim_http_reply reply;
	char url[2048];
	int rc;

	if (strstr(m->push, "/metrics/job/") != NULL)
		snprintf(url, sizeof url, "%s", m->push);
	else
		snprintf(url, sizeof url, "%s%smetrics/job/dsim/env/%s",
		    m->push, m->push[strlen(m->push) - 1] == '/' ? "" : "/",
		    m->cli.env);
	dsim_metrics_exposition(&m->set, &m->text, 0);
	rc = dsim_http_request("PUT", url, "text/plain; version=0.0.4",
	    m->text.buf, m->text.len, 10000, &reply, err);
	dsim_http_reply_free(&reply);
	if (rc == 0)
		dsim_log_info("--push", "%zu samples sent", m->set.npoints);
	return rc;
}

/* Write one sample set: records or the exposition format, and a push. */
static int
metrics_emit(struct metrics *m, struct dsim_error *err)
{
	struct dsim_cli *cli = &m->cli;

	if (m->push != NULL && metrics_push(m, err) != 0) {
		if (!m->duration && !m->follow)
			return err->code;
		dsim_log_report(err);
		m->failed_push = 1;
	}
	if (cli->quiet)
		return 0;
	if (m->exposition) {
		dsim_metrics_exposition(&m->set, &m->text, 0);
		if (fwrite(m->text.buf, 1, m->text.len, stdout) != m->text.len)
			cli->out.failed = errno ? errno : EIO;
		return 0;
	}
	dsim_metrics_records(&m->set, cli->w.env[0] ? cli->w.env : cli->env,
	    &cli->out.sink, &m->rec);
	return 0;
}

/* One sample of the world as it is: no lock, nothing changes. */
static int
metrics_sim_once(struct metrics *m, struct dsim_error *err)
{
	struct dsim_model model;

	if (dsim_cli_start(&m->cli, DSIM_CLI_LOAD, err) != 0)
		return err->code;
	dsim_model_init(&model, &m->cli.w);
	dsim_model_sample(&model, &m->set);
	dsim_model_free(&model);
	return metrics_emit(m, err);
}

/*
 * Run the world forward --duration in steps, sampling after each; the
 * world is locked, the autoscaler's changes are committed as they happen,
 * and the world is saved at the end with its clock moved on.
 */
static int
metrics_sim_duration(struct metrics *m, struct dsim_error *err)
{
	struct dsim_cli *cli = &m->cli;
	struct dsim_model model;
	char clock[DSIM_CLOCK_LEN];
	dsim_ms end, dt;
	int rc = 0;

	if (dsim_cli_start(cli, DSIM_CLI_LOCK | DSIM_CLI_LOAD, err) != 0)
		return err->code;
	dsim_model_init(&model, &cli->w);
	dsim_model_sample(&model, &m->set);
	end = cli->w.clock + m->duration;
	while (rc == 0 && cli->w.clock < end && !metrics_stop) {
		dt = end - cli->w.clock;
		if (dt > m->step)
			dt = m->step;
		dsim_model_advance(&model, dt, &cli->out.sink, &m->rec);
		if (model.changed && (rc = dsim_store_commit(&cli->st, &cli->w,
		    "autoscale", err)) != 0)
			break;
		model.changed = 0;
		dsim_model_sample(&model, &m->set);
		rc = metrics_emit(m, err);
	}
	dsim_model_settle(&model);
	dsim_model_free(&model);
	if (rc == 0)
		rc = dsim_store_save(&cli->st, &cli->w, "metrics --duration",
		    err);
	dsim_clock_format(cli->w.clock, clock);
	dsim_log_info(cli->env, "saved at %s with %u replicas", clock,
	    (unsigned)cli->w.replicas);
	return rc;
}

/*
 * One tick of --follow on the world: with the lock free (or once it is,
 * with wait), take it, run the world forward a step and commit; with
 * another command holding it, sample the world as that command leaves it.
 * The store is let go after.
 */
static int
metrics_sim_tick(struct metrics *m, struct dsim_model *model, int wait,
    struct dsim_error *err)
{
	struct dsim_cli *cli = &m->cli;
	struct dsim_error busy;
	int rc = 0;

	if (dsim_store_open(&cli->st, cli->env, cli->program, err) != 0)
		return err->code;
	dsim_error_clear(&busy);
	if (dsim_store_lock(&cli->st, wait, &busy) != 0 &&
	    busy.code != DSIM_EX_TEMPFAIL)
		rc = dsim_error_set(err, busy.code, busy.subject, "%s",
		    busy.reason);
	if (rc == 0 && (rc = dsim_store_load(&cli->st, &cli->w, err)) == 0) {
		cli->loaded = 1;
		model->w = &cli->w;
		if (cli->st.lockfd != -1) {
			dsim_model_advance(model, m->step, &cli->out.sink,
			    &m->rec);
			if (metrics_stop)
				dsim_model_settle(model);
			rc = dsim_store_commit(&cli->st, &cli->w,
			    "metrics --follow", err);
		}
		dsim_model_sample(model, &m->set);
		if (rc == 0)
			rc = metrics_emit(m, err);
		dsim_world_free(&cli->w);
		cli->loaded = 0;
	}
	dsim_store_close(&cli->st);
	return rc;
}

/* Sleep until the wall-clock time due, waking early when interrupted. */
static void
metrics_wait(dsim_ms due)
{
	dsim_ms left;

	while (!metrics_stop && (left = due - dsim_clock_now()) > 0)
		dsim_clock_sleep(left < 100 ? left : 100);
}

/* Sample this host or a Prometheus server once into the set. */
static int
metrics_sample_other(struct metrics *m, struct dsim_error *err)
{
	if (m->source == SOURCE_PROMETHEUS)
		return dsim_promql_sample(m->url, &m->set, err);
	return dsim_host_sample(&m->host, &m->set, err);
}

/* Sample every step (paced by --speed) until interrupted. */
static int
metrics_follow(struct metrics *m, struct dsim_error *err)
{
	struct dsim_model model;
	dsim_ms due = dsim_clock_now();
	int rc = 0;

	dsim_model_init(&model, NULL);
	if (dsim_cli_start(&m->cli, 0, err) != 0)
		return err->code;
	dsim_store_close(&m->cli.st);
	while (rc == 0 && !metrics_stop) {
		if (m->source == SOURCE_SIM)
			rc = metrics_sim_tick(m, &model, 0, err);
		else if ((rc = metrics_sample_other(m, err)) == 0)
			rc = metrics_emit(m, err);
		m->cli.out.sink.flush(&m->cli.out.sink);
		due += (dsim_ms)((double)m->step / m->speed);
		metrics_wait(due);
	}
	/* Instances the autoscaler started must not stay starting. */
	if (rc == 0 && m->source == SOURCE_SIM && model.npending > 0)
		rc = metrics_sim_tick(m, &model, 1, err);
	dsim_model_free(&model);
	return rc;
}

static int
metrics_run(struct metrics *m, struct dsim_error *err)
{
	if (m->follow)
		return metrics_follow(m, err);
	if (m->source == SOURCE_SIM)
		return m->duration ? metrics_sim_duration(m, err) :
		    metrics_sim_once(m, err);
	if (dsim_cli_start(&m->cli, 0, err) != 0)
		return err->code;
	if (metrics_sample_other(m, err) != 0)
		return err->code;
	return metrics_emit(m, err);
}

int
main(int argc, char **argv)
{
	struct metrics m;
	struct dsim_error err;
	int rc, argi;

	memset(&m, 0, sizeof m);
	dsim_cli_init(&m.cli, argv[0]);
	if ((rc = dsim_opt_parse(&metrics_cmd, argc, argv, metrics_option, &m,
	    &argi)) >= 0)
		return rc;
	if (argi < argc)
		return dsim_log_usage("unexpected argument '%s'", argv[argi]);
	if ((rc = metrics_check(&m)) != 0)
		return rc;
	signal(SIGINT, metrics_signal);
	signal(SIGTERM, metrics_signal);
	dsim_error_clear(&err);
	if ((rc = metrics_run(&m, &err)) != 0)
		dsim_log_report(&err);
	else if (m.failed_push)
		rc = DSIM_EX_UNAVAILABLE;
	dsim_metrics_free(&m.set);
	dsim_metrics_text_free(&m.text);
	dsim_rec_free(&m.rec);
	return dsim_cli_finish(&m.cli, rc);
}
