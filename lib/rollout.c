#include "config.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "rollout.h"
#include "traffic.h"

/*
 * The rollout engine, shared by deploys, rollbacks and the automatic
 * rollback of a failed deploy.  It moves the fleet to a target version in
 * steps, as a Kubernetes Deployment controller does: stop old instances
 * as far as max-unavailable allows, start new ones up to max-surge above
 * the desired count, wait for their health checks, repeat.  Each step is
 * committed to the journal before the next begins.
 */

const char *const dsim_rollout_statuses[] = {
	"succeeded", "rolled_back", "failed", NULL
};

#define ROLLOUT_GONE	0xff	/* an instance marked for removal */

struct rollout {
	struct dsim_world *w;
	struct dsim_store *st;		/* NULL for a dry run */
	struct dsim_health *health;
	struct dsim_sink *sink;
	const struct dsim_rollout_opts *o;
	struct dsim_rollout_result *res;
	struct dsim_rec	 rec;
	int		 strategy;
	uint64_t	 surge;
	uint64_t	 unavailable;
	uint64_t	 max_failures;
	dsim_ms		 health_timeout;
	const char	*phase;		/* "rollout" or "rollback" */
	const char	*target;
	uint16_t	 target_idx;
	size_t		 failures;	/* in this phase */
	dsim_ms		 started;	/* simulated, for duration and pace */
	dsim_ms		 wall;		/* wall clock at the start */
};

/* Resolve the strategy and the bounds against the desired count. */
static int
rollout_resolve(struct rollout *r, struct dsim_error *err)
{
	const struct dsim_rollout_opts *o = r->o;
	const struct dsim_config *cfg = &r->w->cfg;
	uint64_t n = r->w->replicas;

	r->strategy = o->strategy ? o->strategy : cfg->strategy;
	r->unavailable = dsim_opt_amount_of(o->has_unavailable ?
	    &o->max_unavailable : &cfg->max_unavailable, n, 0);
	r->surge = dsim_opt_amount_of(o->has_surge ? &o->max_surge :
	    &cfg->max_surge, n, 1);
	r->max_failures = dsim_opt_amount_of(&o->max_failures, n, 0);
	r->health_timeout = o->health_timeout ? o->health_timeout :
	    cfg->health_timeout;
	if (r->strategy == DSIM_STRATEGY_ROLLING && r->unavailable == 0 &&
	    r->surge == 0)
		return dsim_error_set(err, DSIM_EX_USAGE, "--max-unavailable",
		    "max-unavailable and max-surge cannot both be 0 "
		    "(for %llu instances)", (unsigned long long)n);
	return 0;
}

/* Count ready instances, those of the target, and the ready old ones. */
static void
rollout_tally(const struct rollout *r, size_t *ready, size_t *new_live,
    size_t *old_ready)
{
	const struct dsim_instance *in = r->w->instances;
	size_t i;

	*ready = *new_live = *old_ready = 0;
	for (i = 0; i < r->w->ninstances; i++) {
		int is_ready = in[i].state == DSIM_INSTANCE_READY;

		*ready += is_ready;
		if (in[i].version == r->target_idx)
			(*new_live)++;
		else
			*old_ready += is_ready;
	}
}

static int
rollout_gone(const struct dsim_instance *in, void *arg)
{
	(void)arg;
	return in->state == ROLLOUT_GONE;
}

/*
 * Remove what no longer serves: failed and crashed instances, and those
 * an interrupted rollout left starting; and, once no old instance is left,
 * new ones beyond the desired count.  Returns how many went.
 */
static size_t
rollout_cleanup(struct rollout *r)
{
	struct dsim_world *w = r->w;
	size_t i, gone = 0, ready, new_live, old_ready;

	for (i = 0; i < w->ninstances; i++)
		if (w->instances[i].state != DSIM_INSTANCE_READY) {
			w->instances[i].state = ROLLOUT_GONE;
			gone++;
		}
	dsim_world_remove_if(w, rollout_gone, NULL);
	rollout_tally(r, &ready, &new_live, &old_ready);
	for (i = w->ninstances; i > 0 && old_ready == 0 &&
	    new_live > w->replicas; i--, new_live--, gone++)
		w->instances[i - 1].state = ROLLOUT_GONE;
	dsim_world_remove_if(w, rollout_gone, NULL);
	return gone;
}

/* Stop the first n ready instances not of the target version. */
static void
rollout_stop_old(struct rollout *r, size_t n)
{
	struct dsim_world *w = r->w;
	size_t i;

	for (i = 0; i < w->ninstances && n > 0; i++) {
		if (w->instances[i].version != r->target_idx &&
		    w->instances[i].state == DSIM_INSTANCE_READY) {
			w->instances[i].state = ROLLOUT_GONE;
			n--;
		}
	}
	dsim_world_remove_if(w, rollout_gone, NULL);
}

/*
 * Start n instances of the target and check their health; returns the
 * time the slowest took, and counts those that failed.
 */
static dsim_ms
rollout_start_new(struct rollout *r, size_t n, size_t *failed)
{
	struct dsim_world *w = r->w;
	struct dsim_health_result hr;
	struct dsim_instance *in;
	dsim_ms longest = 0;
	size_t i;

	*failed = 0;
	for (i = 0; i < n; i++) {
		in = dsim_world_add(w, r->target, DSIM_INSTANCE_STARTING);
		in->region = (uint8_t)(in->id % w->cfg.nregions);
		r->health->check(r->health, w, in, r->health_timeout, &hr);
		in->state = hr.verdict == DSIM_HEALTH_READY ?
		    DSIM_INSTANCE_READY : DSIM_INSTANCE_FAILED;
		if (hr.verdict != DSIM_HEALTH_READY) {
			if ((*failed)++ == 0)
				dsim_log_info(w->env, "app-%06u: %s",
				    (unsigned)in->id, hr.reason);
		}
		if (hr.after > longest)
			longest = hr.after;
	}
	return longest;
}

/* Hold the wall clock back to the simulated one, when asked to pace. */
static void
rollout_pace(struct rollout *r)
{
	dsim_ms due;

	if (r->o->speed <= 0)
		return;
	due = r->wall + (dsim_ms)((double)(r->w->clock - r->started) /
	    r->o->speed);
	dsim_clock_sleep(due - dsim_clock_now());
}

static int
rollout_commit(struct rollout *r, const char *note, struct dsim_error *err)
{
	if (r->st == NULL)
		return 0;
	return dsim_store_commit(r->st, r->w, note, err);
}

/* Write the deploy.step record of a step that has just ended. */
static void
rollout_step_record(struct rollout *r, size_t stopped, size_t started,
    size_t min_ready, size_t failed, dsim_ms took, double lost)
{
	struct dsim_rec *rec = &r->rec;
	size_t ready, new_live, old_ready, updated = 0, i;

	rollout_tally(r, &ready, &new_live, &old_ready);
	for (i = 0; i < r->w->ninstances; i++)
		updated += r->w->instances[i].version == r->target_idx &&
		    r->w->instances[i].state == DSIM_INSTANCE_READY;
	dsim_rec_begin(rec, "deploy.step", r->w->clock, r->w->env);
	dsim_rec_str(rec, "operation", r->o->operation);
	dsim_rec_str(rec, "phase", r->phase);
	dsim_rec_int(rec, "step", r->res->steps);
	dsim_rec_str(rec, "version", r->target);
	dsim_rec_int(rec, "terminated", (int64_t)stopped);
	dsim_rec_int(rec, "launched", (int64_t)started);
	dsim_rec_int(rec, "min_ready", (int64_t)min_ready);
	dsim_rec_int(rec, "ready", (int64_t)ready);
	dsim_rec_int(rec, "updated", (int64_t)updated);
	dsim_rec_int(rec, "failed", (int64_t)failed);
	dsim_rec_int(rec, "instances", (int64_t)r->w->ninstances);
	dsim_rec_num(rec, "duration_s", (double)took / 1000.0);
	dsim_rec_int(rec, "failed_requests", (int64_t)(lost + 0.5));
	dsim_rec_put(r->sink, rec);
}

/*
 * One step: clean up, stop old instances as far as availability allows,
 * start new ones as far as surge allows, wait for their checks.  Returns
 * 1 when the fleet had already converged, 0 after a step, or an error.
 */
static int
rollout_step(struct rollout *r, struct dsim_error *err)
{
	struct dsim_world *w = r->w;
	size_t gone, ready, new_live, old_ready, down, up, failed, min_avail;
	size_t after_down;
	dsim_ms took;
	double lost;

	gone = rollout_cleanup(r);
	rollout_tally(r, &ready, &new_live, &old_ready);
	if (gone == 0 && old_ready == 0 && new_live == w->replicas &&
	    ready == w->replicas)
		return 1;
	min_avail = w->replicas > r->unavailable ?
	    w->replicas - (size_t)r->unavailable : 0;
	if (r->strategy == DSIM_STRATEGY_RECREATE)
		down = old_ready;
	else
		down = ready > min_avail ? ready - min_avail : 0;
	down = down < old_ready ? down : old_ready;
	rollout_stop_old(r, down);
	after_down = w->ninstances;
	up = new_live < w->replicas ? w->replicas - new_live : 0;
	if (r->strategy == DSIM_STRATEGY_ROLLING) {
		size_t room = w->replicas + (size_t)r->surge > after_down ?
		    w->replicas + (size_t)r->surge - after_down : 0;

		up = up < room ? up : room;
	}
	if (up == 0 && down == 0 && gone == 0)
		return dsim_error_set(err, DSIM_EX_FAILED, w->env,
		    "rollout cannot make progress");
	r->res->steps++;
	took = rollout_start_new(r, up, &failed);
	lost = dsim_traffic_failed(w, took, ready - down);
	dsim_world_advance(w, took);
	if (ready - down < r->res->min_available)
		r->res->min_available = ready - down;
	r->res->failed_requests += lost;
	r->res->failed_instances += failed;
	r->failures += failed;
	json_object_set_new(w->rollout, "step", json_integer(r->res->steps));
	rollout_step_record(r, down + gone, up, ready - down, failed, took,
	    lost);
	dsim_log_info(w->env, "step %d: stopped %zu, started %zu, %zu failed",
	    r->res->steps, down + gone, up, failed);
	if (rollout_commit(r, "rollout step", err) != 0)
		return err->code;
	r->sink->flush(r->sink);
	rollout_pace(r);
	return 0;
}

/*
 * Move the fleet to version; returns succeeded, or failed once more new
 * instances failed than allowed (err says why), or another error.
 */
static int
rollout_phase(struct rollout *r, const char *version, const char *phase,
    struct dsim_error *err)
{
	int rc;

	r->target = version;
	r->target_idx = dsim_world_version(r->w, version);
	r->phase = phase;
	r->failures = 0;
	json_object_set_new(r->w->rollout, "phase", json_string(phase));
	json_object_set_new(r->w->rollout, "target_version",
	    json_string(version));
	for (;;) {
		if ((rc = rollout_step(r, err)) == 1)
			return DSIM_ROLLOUT_SUCCEEDED;
		if (rc != 0)
			return rc;
		if (r->failures > r->max_failures) {
			dsim_error_set(err, DSIM_EX_FAILED, r->w->env,
			    "%zu new instance%s of %s failed health checks "
			    "(%llu allowed)", r->failures,
			    r->failures == 1 ? "" : "s", version,
			    (unsigned long long)r->max_failures);
			return -1;
		}
	}
}

/*
 * Estimate the steps a rollout to the target takes, for the plan: the
 * instances not yet ready on the target, replaced surge + unavailable at
 * a time.
 */
static int64_t
rollout_batches(const struct rollout *r)
{
	const struct dsim_world *w = r->w;
	size_t done = 0, todo, per, i;

	for (i = 0; i < w->ninstances; i++)
		done += w->instances[i].version == r->target_idx &&
		    w->instances[i].state == DSIM_INSTANCE_READY;
	todo = w->replicas > done ? w->replicas - done : 0;
	if (r->strategy == DSIM_STRATEGY_RECREATE)
		return todo > 0;
	per = (size_t)(r->surge + r->unavailable);
	return (int64_t)((todo + per - 1) / per);
}

static void
rollout_plan_record(struct rollout *r, const char *from, int revision)
{
	struct dsim_rec *rec = &r->rec;

	dsim_rec_begin(rec, "deploy.plan", r->w->clock, r->w->env);
	dsim_rec_str(rec, "operation", r->o->operation);
	dsim_rec_str(rec, "strategy", dsim_strategies[r->strategy]);
	dsim_rec_int(rec, "revision", revision);
	dsim_rec_str(rec, "from_version", from);
	dsim_rec_str(rec, "to_version", r->o->version);
	dsim_rec_int(rec, "instances", r->w->replicas);
	dsim_rec_int(rec, "max_unavailable", (int64_t)r->unavailable);
	dsim_rec_int(rec, "max_surge", (int64_t)r->surge);
	dsim_rec_int(rec, "max_failures", (int64_t)r->max_failures);
	dsim_rec_num(rec, "health_timeout_s",
	    (double)r->health_timeout / 1000.0);
	dsim_rec_int(rec, "batches", rollout_batches(r));
	dsim_rec_bool(rec, "dry_run", r->o->dry_run);
	dsim_rec_put(r->sink, rec);
}

static void
rollout_result_record(struct rollout *r)
{
	struct dsim_rollout_result *res = r->res;
	struct dsim_rec *rec = &r->rec;

	dsim_rec_begin(rec, "deploy.result", r->w->clock, r->w->env);
	dsim_rec_str(rec, "operation", r->o->operation);
	dsim_rec_str(rec, "status", dsim_rollout_statuses[res->status]);
	dsim_rec_int(rec, "revision", res->revision);
	if (res->rollback_revision) {
		dsim_rec_int(rec, "rollback_revision",
		    res->rollback_revision);
		dsim_rec_str(rec, "rollback_version", res->rollback_version);
	}
	dsim_rec_str(rec, "from_version", res->from_version);
	dsim_rec_str(rec, "to_version", r->o->version);
	dsim_rec_int(rec, "steps", res->steps);
	dsim_rec_num(rec, "duration_s", (double)res->duration / 1000.0);
	dsim_rec_int(rec, "min_available", (int64_t)res->min_available);
	dsim_rec_int(rec, "failed_requests",
	    (int64_t)(res->failed_requests + 0.5));
	dsim_rec_int(rec, "failed_instances", (int64_t)res->failed_instances);
	if (res->status != DSIM_ROLLOUT_SUCCEEDED)
		dsim_rec_str(rec, "reason", res->reason);
	dsim_rec_put(r->sink, rec);
}

/* The version of the latest succeeded revision, the last known good. */
static const char *
rollout_last_good(struct dsim_world *w)
{
	size_t i;

	for (i = w->nhistory; i > 0; i--)
		if (strcmp(w->history[i - 1].status, "succeeded") == 0)
			return w->history[i - 1].version;
	return dsim_world_current_version(w);
}

/*
 * The version dsim-rollback returns to from the current revision: the
 * latest succeeded revision before it whose version differs.  NULL (err
 * set, 65) when there is none.
 */
const char *
dsim_rollout_previous(struct dsim_world *w, int revision,
    struct dsim_error *err)
{
	const char *current = dsim_world_current_version(w);
	size_t i;

	for (i = w->nhistory; i > 0; i--) {
		const struct dsim_revision *rev = &w->history[i - 1];

		if (rev->number < revision &&
		    strcmp(rev->status, "succeeded") == 0 &&
		    strcmp(rev->version, current) != 0)
			return rev->version;
	}
	dsim_error_set(err, DSIM_EX_DATAERR, w->env,
	    "no earlier revision to roll back to");
	return NULL;
}

/* Whether every instance runs the version, ready, at the desired count. */
static int
rollout_converged(struct rollout *r)
{
	size_t ready, new_live, old_ready;

	r->target_idx = dsim_world_version(r->w, r->o->version);
	rollout_tally(r, &ready, &new_live, &old_ready);
	return r->w->ninstances == r->w->replicas && ready == new_live &&
	    new_live == r->w->replicas &&
	    strcmp(dsim_world_current_version(r->w), r->o->version) == 0;
}

/*
 * Mark what a killed command left in progress as interrupted: the rollout
 * and, if it died rolling back, the automatic rollback too.
 */
static void
rollout_recover(struct dsim_world *w)
{
	size_t i;

	if (w->rollout == NULL)
		return;
	for (i = 0; i < w->nhistory; i++)
		if (strcmp(w->history[i].status, "in_progress") == 0)
			strcpy(w->history[i].status, "interrupted");
	dsim_log_warn(w->env, "taking over from an interrupted rollout of "
	    "revision %lld", (long long)json_integer_value(json_object_get(
	    w->rollout, "revision")));
	json_decref(w->rollout);
	w->rollout = NULL;
}

static void
rollout_begin(struct rollout *r, struct dsim_revision *rev, const char *from)
{
	char ts[DSIM_CLOCK_LEN];

	dsim_clock_format(r->w->clock, ts);
	r->w->rollout = json_pack("{s:i, s:s, s:s, s:s, s:s, s:i}",
	    "revision", rev->number, "operation", r->o->operation,
	    "from_version", from, "to_version", rev->version,
	    "started", ts, "step", 0);
}

/* Roll back to from after a failed rollout; the result says how it went. */
static int
rollout_back(struct rollout *r, const char *from, struct dsim_error *err)
{
	struct dsim_revision *rev;
	struct dsim_error why;
	int rc;

	rev = dsim_world_add_revision(r->w, from, "auto-rollback");
	r->res->rollback_revision = rev->number;
	snprintf(r->res->rollback_version, sizeof r->res->rollback_version,
	    "%s", from);
	dsim_log_warn(r->w->env, "%s; rolling back to %s", err->reason, from);
	dsim_error_clear(&why);
	rc = rollout_phase(r, from, "rollback", &why);
	if (rc == DSIM_ROLLOUT_SUCCEEDED) {
		strcpy(rev->status, "succeeded");
		return DSIM_ROLLOUT_ROLLED_BACK;
	}
	strcpy(rev->status, "failed");
	if (why.code != DSIM_EX_FAILED) {
		*err = why;
		return -1;
	}
	snprintf(r->res->reason, sizeof r->res->reason,
	    "rollback failed: %s", why.reason);
	return DSIM_ROLLOUT_FAILED;
}

/*
 * Run the phases and settle the revision's status; on failure, roll back
 * to good, the last version that succeeded.
 */
static int
rollout_execute(struct rollout *r, struct dsim_revision *rev,
    const char *good, struct dsim_error *err)
{
	int rc, number = rev->number;

	rc = rollout_phase(r, r->o->version, "rollout", err);
	rev = dsim_world_revision(r->w, number);
	if (rc == DSIM_ROLLOUT_SUCCEEDED) {
		strcpy(rev->status, "succeeded");
		return rc;
	}
	if (err->code != DSIM_EX_FAILED)
		return -1;
	snprintf(r->res->reason, sizeof r->res->reason, "%s", err->reason);
	if (r->o->no_rollback || strcmp(good, r->o->version) == 0) {
		strcpy(rev->status, "failed");
		return DSIM_ROLLOUT_FAILED;
	}
	strcpy(rev->status, "rolled_back");
	return rollout_back(r, good, err);
}

/*
 * Roll the fleet out to o->version, writing deploy.plan, deploy.step and
 * deploy.result records to sink.  With st NULL (a dry run) only the plan
 * is written.  Returns 0 with res filled, whatever the rollout's outcome,
 * or an exit status with err filled when it could not run.
 */
int
dsim_rollout_run(struct dsim_world *w, struct dsim_store *st,
    struct dsim_health *health, const struct dsim_rollout_opts *o,
    struct dsim_sink *sink, struct dsim_rollout_result *res,
    struct dsim_error *err)
{
	struct rollout r = { w, st, health, sink, o, res, { 0 }, 0, 0, 0, 0,
	    0, NULL, NULL, 0, 0, w->clock, dsim_clock_now() };
	struct dsim_revision *rev;
	char from[DSIM_VERSION_MAX], good[DSIM_VERSION_MAX];
	int rc;

	memset(res, 0, sizeof *res);
	if (rollout_resolve(&r, err) != 0)
		return err->code;
	snprintf(from, sizeof from, "%s", dsim_world_current_version(w));
	snprintf(good, sizeof good, "%s", rollout_last_good(w));
	snprintf(res->from_version, sizeof res->from_version, "%s", from);
	res->min_available = w->replicas;
	if (o->dry_run || rollout_converged(&r)) {
		res->revision = w->revision;
		rollout_plan_record(&r, from, o->dry_run && !rollout_converged(
		    &r) ? w->revision + 1 : w->revision);
		if (!o->dry_run)
			rollout_result_record(&r);
		dsim_rec_free(&r.rec);
		return 0;
	}
	rollout_recover(w);
	rev = dsim_world_add_revision(w, o->version, o->cause);
	res->revision = rev->number;
	rollout_begin(&r, rev, from);
	rollout_plan_record(&r, from, rev->number);
	if (rollout_commit(&r, "rollout start", err) != 0)
		goto out;
	rc = rollout_execute(&r, rev, good, err);
	if (rc < 0)
		goto out;
	res->status = rc;
	res->duration = w->clock - r.started;
	json_decref(w->rollout);
	w->rollout = NULL;
	rollout_result_record(&r);
	dsim_error_clear(err);
out:
	dsim_rec_free(&r.rec);
	return err->code;
}
