#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fault.h"

/* The member that holds a node fault's amount, by kind. */
const char *const dsim_fault_amounts[DSIM_FAULT_NKINDS] = {
	[DSIM_FAULT_MEMORY_LEAK] = "mib_per_minute",
	[DSIM_FAULT_DISK_FILL] = "percent_per_minute",
	[DSIM_FAULT_CPU_HOG] = "cpu_ratio",
};

/* The kind a name stands for, or -1. */
int
dsim_fault_kind(const char *name)
{
	int k;

	for (k = 0; dsim_fault_kinds[k] != NULL; k++)
		if (strcmp(dsim_fault_kinds[k], name) == 0)
			return k;
	return -1;
}

/* Take count ready instances down at random, marked with the fault. */
static int
fault_crash(struct dsim_world *w, struct dsim_fault *f, struct dsim_error *err)
{
	size_t i, ready = 0, pick;
	int64_t left;

	for (i = 0; i < w->ninstances; i++)
		ready += w->instances[i].state == DSIM_INSTANCE_READY;
	if (f->count < 1 || (size_t)f->count > ready)
		return dsim_error_set(err, DSIM_EX_DATAERR, "--instances",
		    "cannot crash %lld of %zu ready instances",
		    (long long)f->count, ready);
	for (left = f->count; left > 0; left--, ready--) {
		pick = dsim_prng_below(&w->prng, ready);
		for (i = 0; ; i++) {
			if (w->instances[i].state != DSIM_INSTANCE_READY)
				continue;
			if (pick-- == 0)
				break;
		}
		w->instances[i].state = DSIM_INSTANCE_CRASHED;
		w->instances[i].fault = f->id;
	}
	return 0;
}

/* Check that a fault's target names an app instance or a database node. */
static int
fault_check_target(const struct dsim_world *w, const struct dsim_fault *f,
    struct dsim_error *err)
{
	char name[32];
	size_t i;

	if (f->target[0] == '\0')
		return 0;
	for (i = 0; i < w->ndb; i++)
		if (strcmp(w->db[i].name, f->target) == 0)
			return 0;
	for (i = 0; i < w->ninstances; i++) {
		dsim_instance_name(&w->instances[i], name, sizeof name);
		if (strcmp(name, f->target) == 0)
			return 0;
	}
	return dsim_error_set(err, DSIM_EX_DATAERR, "--target",
	    "no app instance or database node is named '%s'", f->target);
}

/*
 * Add a fault to the world, with the next id, and let it act at once
 * where it acts on what exists (a crash); f is completed in place.
 */
int
dsim_fault_inject(struct dsim_world *w, struct dsim_fault *f,
    struct dsim_error *err)
{
	f->id = w->next_fault;
	f->created = w->clock;
	if (f->kind >= DSIM_FAULT_MEMORY_LEAK &&
	    fault_check_target(w, f, err) != 0)
		return err->code;
	if (f->kind == DSIM_FAULT_CRASH && fault_crash(w, f, err) != 0)
		return err->code;
	w->faults = realloc(w->faults, (w->nfaults + 1) * sizeof *w->faults);
	if (w->faults == NULL)
		abort();
	w->faults[w->nfaults++] = *f;
	w->next_fault++;
	return 0;
}

/*
 * Remove fault id (copied to *out); the instances a crash holds down start
 * again, and the clock moves on by the time they take.
 */
int
dsim_fault_clear(struct dsim_world *w, uint32_t id, struct dsim_fault *out,
    struct dsim_error *err)
{
	size_t i, restarted = 0;

	for (i = 0; i < w->nfaults && w->faults[i].id != id; i++)
		;
	if (i == w->nfaults)
		return dsim_error_set(err, DSIM_EX_DATAERR, "fault",
		    "no active fault has id %u", (unsigned)id);
	*out = w->faults[i];
	memmove(&w->faults[i], &w->faults[i + 1],
	    (w->nfaults - i - 1) * sizeof *w->faults);
	w->nfaults--;
	for (i = 0; i < w->ninstances; i++) {
		if (w->instances[i].fault != id)
			continue;
		w->instances[i].fault = 0;
		if (w->instances[i].state == DSIM_INSTANCE_CRASHED) {
			w->instances[i].state = DSIM_INSTANCE_READY;
			restarted++;
		}
	}
	if (restarted > 0)
		dsim_world_advance(w, w->cfg.startup + w->cfg.health_interval);
	return 0;
}

/* Whether a new instance of version fails its checks: a bad release's draw. */
int
dsim_fault_fails_release(struct dsim_world *w, const char *version)
{
	size_t i;

	for (i = 0; i < w->nfaults; i++) {
		const struct dsim_fault *f = &w->faults[i];

		if (f->kind == DSIM_FAULT_BAD_RELEASE &&
		    strcmp(f->version, version) == 0 &&
		    dsim_prng_uniform(&w->prng) < f->rate)
			return 1;
	}
	return 0;
}

/* The latency that faults add to every request, in milliseconds. */
int64_t
dsim_fault_latency(const struct dsim_world *w)
{
	int64_t ms = 0;
	size_t i;

	for (i = 0; i < w->nfaults; i++)
		if (w->faults[i].kind == DSIM_FAULT_LATENCY)
			ms += w->faults[i].ms;
	return ms;
}

/* Start a fault record: kind "fault", with status active or cleared. */
void
dsim_fault_record(struct dsim_rec *r, const struct dsim_world *w,
    const struct dsim_fault *f, const char *status)
{
	dsim_rec_begin(r, "fault", w->clock, w->env);
	dsim_rec_int(r, "id", f->id);
	dsim_rec_str(r, "fault", dsim_fault_kinds[f->kind]);
	dsim_rec_str(r, "status", status);
	dsim_rec_time(r, "created", f->created);
	if (f->kind == DSIM_FAULT_BAD_RELEASE) {
		dsim_rec_str(r, "version", f->version);
		dsim_rec_num(r, "failure_rate", f->rate);
	} else if (f->kind == DSIM_FAULT_CRASH)
		dsim_rec_int(r, "instances", f->count);
	else if (f->kind == DSIM_FAULT_LATENCY)
		dsim_rec_int(r, "ms", f->ms);
	else if (f->kind != DSIM_FAULT_NETWORK_PARTITION)
		dsim_rec_num(r, dsim_fault_amounts[f->kind], f->amount);
	if (f->kind >= DSIM_FAULT_MEMORY_LEAK)
		dsim_rec_str(r, "target", *f->target ? f->target : "*");
}

/* Whether a fault of the node kinds hits the node named name. */
int
dsim_fault_hits(const struct dsim_fault *f, const char *name)
{
	return f->target[0] == '\0' ? strncmp(name, "app-", 4) == 0 :
	    strcmp(f->target, name) == 0;
}
