#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "model.h"
#include "traffic.h"

#define MODEL_MIB		1048576.0
#define MODEL_APP_MEMORY	(1024 * MODEL_MIB)
#define MODEL_DB_MEMORY		(8192 * MODEL_MIB)
#define MODEL_LINK		125e6	/* bytes per second: 1 Gbit/s */
#define MODEL_REQUEST		1200.0	/* bytes received per request */
#define MODEL_RESPONSE		9000.0	/* bytes sent per request */
#define MODEL_DAY		86400000.0
#define MODEL_SCALE_DOWN	300000	/* the autoscaler's patience, ms */
#define MODEL_REMOVED		0xff	/* a state marking an instance to go */

/* What the active faults do to one node at one moment. */
struct model_faults {
	double		 leak;		/* bytes leaked */
	double		 fill;		/* disk share filled */
	double		 hog;		/* CPU share taken */
	int		 partitioned;
};

/* The moment's load, shared by every node's sample. */
struct model_load {
	dsim_ms		 t;
	double		 rps;		/* the fleet's requests per second */
	double		 per;		/* one serving instance's share */
	double		 fleet;		/* rps over the fleet's capacity */
	double		 served;	/* requests one instance has served */
	size_t		 serving;
};

static uint64_t
model_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* A uniform draw in [0, 1) that depends only on the seed, a and b. */
static double
model_unit(uint64_t seed, uint64_t a, uint64_t b)
{
	return (double)(model_mix(seed ^ model_mix(a ^ model_mix(b))) >> 11) *
	    0x1p-53;
}

/* A draw of mean 0 and deviation 1 (a sum of three uniforms). */
static double
model_noise(uint64_t seed, uint64_t a, uint64_t b)
{
	return (model_unit(seed, a, 3 * b) + model_unit(seed, a, 3 * b + 1) +
	    model_unit(seed, a, 3 * b + 2) - 1.5) * 2.0;
}

static double
model_clamp(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Round to six decimals, so records stay short. */
static double
model_round(double v)
{
	return round(v * 1e6) / 1e6;
}

/* Set up the model of a world. */
void
dsim_model_init(struct dsim_model *m, struct dsim_world *w)
{
	memset(m, 0, sizeof *m);
	m->w = w;
}

/* Release what the model holds. */
void
dsim_model_free(struct dsim_model *m)
{
	free(m->pending);
	memset(m, 0, sizeof *m);
}

/*
 * Requests one instance has served from the world's creation to t at the
 * configured share of its capacity: the daily curve's integral.
 */
static double
model_served(const struct dsim_world *w, dsim_ms t)
{
	double omega = 2.0 * M_PI / 86400.0, phase = 2.0 * M_PI * 10.0 / 24.0;
	double a = (double)w->created / 1000.0, b = (double)t / 1000.0;
	double per = w->cfg.peak_utilization * w->cfg.capacity_rps;

	if (b <= a)
		return 0;
	return per * (0.6 * (b - a) + 0.4 * (cos(omega * a - phase) -
	    cos(omega * b - phase)) / omega);
}

/*
 * The load at t, with the noise drawn from a generator keyed by the time,
 * so that a sample is a function of the world and its clock alone.
 */
static void
model_load(struct dsim_model *m, struct model_load *ld)
{
	struct dsim_world *w = m->w;
	struct dsim_prng saved = w->prng;
	struct dsim_fault *f;
	size_t i, j;
	char name[32];

	ld->t = w->clock;
	dsim_prng_seed(&w->prng, model_mix(w->seed ^ (uint64_t)(w->clock /
	    1000)));
	ld->rps = dsim_traffic_rps(w, w->clock);
	w->prng = saved;
	ld->serving = 0;
	for (i = 0; i < w->ninstances; i++) {
		int cut = 0;

		if (w->instances[i].state != DSIM_INSTANCE_READY)
			continue;
		dsim_instance_name(&w->instances[i], name, sizeof name);
		for (j = 0; j < w->nfaults; j++) {
			f = &w->faults[j];
			if (f->kind == DSIM_FAULT_NETWORK_PARTITION &&
			    dsim_fault_hits(f, name))
				cut = 1;
		}
		ld->serving += !cut;
	}
	ld->per = ld->serving ? ld->rps / (double)ld->serving : 0;
	ld->fleet = ld->rps / (w->cfg.capacity_rps * (w->cfg.demand > 0 ?
	    w->cfg.demand : w->replicas ? w->replicas : 1));
	ld->served = model_served(w, w->clock);
}

/* What the active faults do to the node named name at t. */
static void
model_faults(const struct dsim_world *w, const char *name, dsim_ms t,
    struct model_faults *mf)
{
	size_t i;

	memset(mf, 0, sizeof *mf);
	for (i = 0; i < w->nfaults; i++) {
		const struct dsim_fault *f = &w->faults[i];
		double minutes = (double)(t - f->created) / 60000.0;

		if (f->kind < DSIM_FAULT_MEMORY_LEAK ||
		    !dsim_fault_hits(f, name))
			continue;
		if (minutes < 0)
			minutes = 0;
		if (f->kind == DSIM_FAULT_MEMORY_LEAK)
			mf->leak += f->amount * MODEL_MIB * minutes;
		else if (f->kind == DSIM_FAULT_DISK_FILL)
			mf->fill += f->amount / 100.0 * minutes;
		else if (f->kind == DSIM_FAULT_CPU_HOG)
			mf->hog = fmax(mf->hog, f->amount);
		else
			mf->partitioned = 1;
	}
}

/*
 * Memory in use: a base, a share that follows the load, and a leak that
 * grows until the process meets its limit and is restarted (OOM).
 */
static double
model_memory(double limit, double base, double leak)
{
	double room = limit * 0.98 - base;

	if (leak > 0 && room > 0)
		leak = fmod(leak, room);
	return base + leak;
}

/* The samples of one app instance. */
static void
model_instance(struct dsim_model *m, struct dsim_metrics_set *set,
    const struct dsim_instance *in, const struct model_load *ld,
    double *cpusum)
{
	const struct dsim_world *w = m->w;
	uint64_t s = w->seed, id = in->id, tk = (uint64_t)(ld->t / 1000);
	char name[32], instance[48];
	struct model_faults mf;
	double util, cpu, mem, disk, days;
	uint32_t node;

	dsim_instance_name(in, name, sizeof name);
	snprintf(instance, sizeof instance, "%s:%d", name, w->cfg.port);
	node = dsim_metrics_node(set, instance, "app", name,
	    w->cfg.regions[in->region]);
	model_faults(w, name, ld->t, &mf);
	if (in->state != DSIM_INSTANCE_READY || mf.partitioned) {
		dsim_metrics_add(set, node, DSIM_METRIC_UP, 0);
		return;
	}
	util = ld->per / w->cfg.capacity_rps;
	cpu = 0.03 + 0.85 * util * (0.95 + 0.1 * model_unit(s, id, 1)) +
	    0.015 * model_noise(s, id * 16 + 1, tk);
	cpu = model_round(model_clamp(fmax(cpu, mf.hog), 0.001, 1));
	*cpusum += cpu;
	mem = MODEL_APP_MEMORY * (0.17 + 0.08 * model_unit(s, id, 2) +
	    0.12 * fmin(util, 1.5) + 0.004 * model_noise(s, id * 16 + 2, tk));
	mem = floor(model_memory(MODEL_APP_MEMORY, mem, mf.leak));
	days = (double)(ld->t - w->created) / MODEL_DAY;
	disk = 0.22 + 0.15 * model_unit(s, id, 3) + 0.002 * days + mf.fill;
	dsim_metrics_add(set, node, DSIM_METRIC_UP, 1);
	dsim_metrics_add(set, node, DSIM_METRIC_CPU, cpu);
	dsim_metrics_add(set, node, DSIM_METRIC_MEMORY_BYTES, mem);
	dsim_metrics_add(set, node, DSIM_METRIC_MEMORY_RATIO,
	    model_round(mem / MODEL_APP_MEMORY));
	dsim_metrics_add(set, node, DSIM_METRIC_DISK,
	    model_round(model_clamp(disk, 0, 1)));
	dsim_metrics_add(set, node, DSIM_METRIC_NETWORK, model_round(
	    model_clamp(ld->per * MODEL_RESPONSE / MODEL_LINK, 0, 1)));
	dsim_metrics_add(set, node, DSIM_METRIC_RECEIVE,
	    floor(ld->served * MODEL_REQUEST));
	dsim_metrics_add(set, node, DSIM_METRIC_TRANSMIT,
	    floor(ld->served * MODEL_RESPONSE));
	dsim_metrics_add(set, node, DSIM_METRIC_REQUESTS, floor(ld->served));
}

/* The samples of one database node: the primary carries the writes. */
static void
model_db(struct dsim_model *m, struct dsim_metrics_set *set, size_t i,
    const struct model_load *ld)
{
	const struct dsim_world *w = m->w;
	const struct dsim_db_node *d = &w->db[i];
	uint64_t s = w->seed, id = 1000000000ULL + i;
	uint64_t tk = (uint64_t)(ld->t / 1000);
	int primary = strcmp(d->role, "primary") == 0;
	double cpu, mem, disk, traffic, served;
	char instance[48];
	struct model_faults mf;
	uint32_t node;

	snprintf(instance, sizeof instance, "%s:%d", d->name, d->port);
	node = dsim_metrics_node(set, instance, "postgresql", d->name,
	    w->cfg.regions[d->region]);
	model_faults(w, d->name, ld->t, &mf);
	if (strcmp(d->state, "running") != 0 || mf.partitioned) {
		dsim_metrics_add(set, node, DSIM_METRIC_UP, 0);
		return;
	}
	cpu = (primary ? 0.06 + 0.45 * ld->fleet : 0.04 + 0.2 * ld->fleet) +
	    0.01 * model_noise(s, id * 16 + 1, tk);
	cpu = model_round(model_clamp(fmax(cpu, mf.hog), 0.001, 1));
	mem = MODEL_DB_MEMORY * (0.55 + 0.05 * model_unit(s, id, 2) +
	    0.1 * fmin(ld->fleet, 1.5));
	mem = floor(model_memory(MODEL_DB_MEMORY, mem, mf.leak));
	disk = 0.35 + 0.1 * model_unit(s, id, 3) + 0.004 *
	    (double)(ld->t - w->created) / MODEL_DAY + mf.fill;
	traffic = ld->rps * (primary ? 2000.0 : 600.0);
	served = ld->served * w->cfg.default_instances;
	dsim_metrics_add(set, node, DSIM_METRIC_UP, 1);
	dsim_metrics_add(set, node, DSIM_METRIC_CPU, cpu);
	dsim_metrics_add(set, node, DSIM_METRIC_MEMORY_BYTES, mem);
	dsim_metrics_add(set, node, DSIM_METRIC_MEMORY_RATIO,
	    model_round(mem / MODEL_DB_MEMORY));
	dsim_metrics_add(set, node, DSIM_METRIC_DISK,
	    model_round(model_clamp(disk, 0, 1)));
	dsim_metrics_add(set, node, DSIM_METRIC_NETWORK,
	    model_round(model_clamp(traffic / MODEL_LINK, 0, 1)));
	dsim_metrics_add(set, node, DSIM_METRIC_RECEIVE,
	    floor(served * 600.0));
	dsim_metrics_add(set, node, DSIM_METRIC_TRANSMIT,
	    floor(served * (primary ? 2000.0 : 600.0)));
}

/*
 * Sample every app instance and database node of the world at its clock
 * into set; the app tier's mean CPU is kept for the autoscaler.
 */
void
dsim_model_sample(struct dsim_model *m, struct dsim_metrics_set *set)
{
	struct dsim_world *w = m->w;
	struct model_load ld;
	double cpusum = 0;
	size_t i;

	dsim_metrics_reset(set, w->clock);
	model_load(m, &ld);
	for (i = 0; i < w->ninstances; i++)
		model_instance(m, set, &w->instances[i], &ld, &cpusum);
	for (i = 0; i < w->ndb; i++)
		model_db(m, set, i, &ld);
	m->cpu = ld.serving ? cpusum / (double)ld.serving : 0;
}

/* Mark the instances started by the autoscaler that are ready by now. */
static void
model_ready(struct dsim_model *m)
{
	struct dsim_world *w = m->w;
	size_t i, j, kept = 0;

	for (j = 0; j < m->npending; j++) {
		if (m->pending[j].ready_at > w->clock) {
			m->pending[kept++] = m->pending[j];
			continue;
		}
		for (i = 0; i < w->ninstances; i++)
			if (w->instances[i].id == m->pending[j].id &&
			    w->instances[i].state == DSIM_INSTANCE_STARTING) {
				w->instances[i].state = DSIM_INSTANCE_READY;
				m->changed = 1;
			}
	}
	m->npending = kept;
}

/* Start n instances of the current version, ready after their start-up. */
static void
model_scale_up(struct dsim_model *m, uint32_t n)
{
	struct dsim_world *w = m->w;
	struct dsim_instance *in;
	dsim_ms jitter;

	m->pending = realloc(m->pending, (m->npending + n) *
	    sizeof *m->pending);
	if (m->pending == NULL)
		abort();
	while (n-- > 0) {
		in = dsim_world_add(w, dsim_world_current_version(w),
		    DSIM_INSTANCE_STARTING);
		in->region = (uint8_t)(in->id % w->cfg.nregions);
		jitter = w->cfg.startup_jitter > 0 ? (dsim_ms)(model_unit(
		    w->seed, in->id, 4) * (double)w->cfg.startup_jitter) : 0;
		m->pending[m->npending].id = in->id;
		m->pending[m->npending++].ready_at = w->clock +
		    w->cfg.startup + jitter + w->cfg.health_interval;
	}
}

static int
model_marked(const struct dsim_instance *in, void *arg)
{
	(void)arg;
	return in->state == MODEL_REMOVED;
}

/* Stop the n newest instances that are starting or ready. */
static void
model_scale_down(struct dsim_model *m, uint32_t n)
{
	struct dsim_world *w = m->w;
	size_t i = w->ninstances, j, kept = 0;

	while (n > 0 && i-- > 0) {
		if (w->instances[i].state != DSIM_INSTANCE_READY &&
		    w->instances[i].state != DSIM_INSTANCE_STARTING)
			continue;
		for (j = 0; j < m->npending; j++)
			if (m->pending[j].id == w->instances[i].id)
				m->pending[j].id = 0;
		w->instances[i].state = MODEL_REMOVED;
		n--;
	}
	dsim_world_remove_if(w, model_marked, NULL);
	for (j = 0; j < m->npending; j++)
		if (m->pending[j].id != 0)
			m->pending[kept++] = m->pending[j];
	m->npending = kept;
}

/*
 * The fleet the autoscaler wants, as Kubernetes's HPA reckons it: the
 * current count times the CPU over its target, rounded up, within a
 * tolerance of 10% and the bounds; or 0 when autoscaling is off.
 */
static uint32_t
model_desired(const struct dsim_model *m, double *target)
{
	const json_t *as = json_object_get(json_object_get(m->w->config,
	    "app"), "autoscaling");
	json_int_t lo = json_integer_value(json_object_get(as, "min"));
	json_int_t hi = json_integer_value(json_object_get(as, "max"));
	double want;

	*target = json_number_value(json_object_get(as, "target_cpu_ratio"));
	if (!json_is_true(json_object_get(as, "enabled")) || *target <= 0 ||
	    lo < 1 || hi < lo || m->w->rollout != NULL || m->cpu <= 0)
		return 0;
	if (fabs(m->cpu / *target - 1.0) <= 0.1)
		want = m->w->replicas;
	else
		want = ceil(m->w->replicas * m->cpu / *target);
	return (uint32_t)model_clamp(want, (double)lo, (double)hi);
}

/* Write an autoscale record and change the fleet's desired size. */
static void
model_scale(struct dsim_model *m, uint32_t to, double target,
    struct dsim_sink *sink, struct dsim_rec *rec)
{
	struct dsim_world *w = m->w;

	dsim_rec_begin(rec, "autoscale", w->clock, w->env);
	dsim_rec_int(rec, "from", w->replicas);
	dsim_rec_int(rec, "to", to);
	dsim_rec_num(rec, "cpu_ratio", m->cpu);
	dsim_rec_num(rec, "target_cpu_ratio", target);
	if (sink != NULL)
		dsim_rec_put(sink, rec);
	if (w->cfg.demand <= 0) {
		/* The load stays what it was made for as the fleet grows. */
		w->cfg.demand = w->replicas;
		json_object_set_new(json_object_get(w->config, "load"),
		    "instances", json_integer(w->replicas));
	}
	if (to > w->replicas)
		model_scale_up(m, to - w->replicas);
	else
		model_scale_down(m, w->replicas - to);
	w->replicas = to;
	m->low_since = 0;
	m->changed = 1;
}

/*
 * Run the world forward dt: the clock moves, instances the autoscaler
 * started become ready, and the autoscaler acts on the last sample: up at
 * once, down after it has wanted fewer for five minutes.
 */
void
dsim_model_advance(struct dsim_model *m, dsim_ms dt, struct dsim_sink *sink,
    struct dsim_rec *rec)
{
	struct dsim_world *w = m->w;
	uint32_t want;
	double target;

	dsim_world_advance(w, dt);
	model_ready(m);
	want = model_desired(m, &target);
	if (want == 0 || want == w->replicas) {
		m->low_since = 0;
		return;
	}
	if (want < w->replicas && m->low_since == 0)
		m->low_since = w->clock;
	if (want > w->replicas || w->clock - m->low_since >= MODEL_SCALE_DOWN)
		model_scale(m, want, target, sink, rec);
}

/* Let the instances still starting finish: the clock moves to the last. */
void
dsim_model_settle(struct dsim_model *m)
{
	dsim_ms last = m->w->clock;
	size_t j;

	for (j = 0; j < m->npending; j++)
		if (m->pending[j].ready_at > last)
			last = m->pending[j].ready_at;
	dsim_world_advance(m->w, last - m->w->clock);
	model_ready(m);
}
