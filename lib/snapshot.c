#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot.h"

static json_t *
snapshot_time(dsim_ms t)
{
	char ts[DSIM_CLOCK_LEN];

	dsim_clock_format(t, ts);
	return json_string(ts);
}

static json_t *
snapshot_history(const struct dsim_world *w)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < w->nhistory; i++) {
		const struct dsim_revision *r = &w->history[i];

		json_array_append_new(a, json_pack("{s:i, s:s, s:o, s:s, s:s}",
		    "revision", r->number, "version", r->version,
		    "created", snapshot_time(r->created), "cause", r->cause,
		    "status", r->status));
	}
	return a;
}

static json_t *
snapshot_faults(const struct dsim_world *w)
{
	json_t *a = json_array(), *f;
	size_t i;

	for (i = 0; i < w->nfaults; i++) {
		const struct dsim_fault *ft = &w->faults[i];

		f = json_pack("{s:I, s:s, s:o}", "id", (json_int_t)ft->id,
		    "kind", dsim_fault_kinds[ft->kind],
		    "created", snapshot_time(ft->created));
		if (ft->kind == DSIM_FAULT_BAD_RELEASE) {
			json_object_set_new(f, "version",
			    json_string(ft->version));
			json_object_set_new(f, "failure_rate",
			    json_real(ft->rate));
		} else if (ft->kind == DSIM_FAULT_CRASH)
			json_object_set_new(f, "instances",
			    json_integer(ft->count));
		else if (ft->kind == DSIM_FAULT_LATENCY)
			json_object_set_new(f, "ms", json_integer(ft->ms));
		else {
			json_object_set_new(f, "amount",
			    json_real(ft->amount));
			json_object_set_new(f, "target",
			    json_string(ft->target));
		}
		json_array_append_new(a, f);
	}
	return a;
}

static json_t *
snapshot_db(const struct dsim_world *w)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < w->ndb; i++) {
		const struct dsim_db_node *d = &w->db[i];

		json_array_append_new(a, json_pack(
		    "{s:s, s:s, s:s, s:s, s:s, s:i}", "name", d->name,
		    "role", d->role, "state", d->state, "version", d->version,
		    "region", w->cfg.regions[d->region], "port", d->port));
	}
	return a;
}

/* Everything of a world but its instances, as JSON. */
json_t *
dsim_snapshot_header(const struct dsim_world *w)
{
	char seed[24], prng[4][20];
	int i;

	snprintf(seed, sizeof seed, "%" PRIu64, w->seed);
	for (i = 0; i < 4; i++)
		snprintf(prng[i], sizeof prng[i], "%016" PRIx64, w->prng.s[i]);
	return json_pack("{s:s, s:s, s:[s,s,s,s], s:o, s:o, s:I, s:I, s:i,"
	    " s:O, s:O, s:o, s:o, s:I, s:o, s:I, s:O}",
	    "env", w->env, "seed", seed,
	    "prng", prng[0], prng[1], prng[2], prng[3],
	    "created", snapshot_time(w->created),
	    "clock", snapshot_time(w->clock),
	    "replicas", (json_int_t)w->replicas,
	    "next_id", (json_int_t)w->next_id,
	    "revision", w->revision,
	    "rollout", w->rollout ? w->rollout : json_null(),
	    "flags", w->flags,
	    "history", snapshot_history(w),
	    "faults", snapshot_faults(w),
	    "next_fault", (json_int_t)w->next_fault,
	    "db", snapshot_db(w), "db_rows", (json_int_t)w->db_rows,
	    "config", w->config);
}

static int
snapshot_bad(struct dsim_error *err, const char *subject, const char *what)
{
	return dsim_error_set(err, DSIM_EX_DATAERR, subject,
	    "%s is missing or malformed", what);
}

static int
snapshot_get_time(json_t *obj, const char *key, dsim_ms *out)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s == NULL ? -1 : dsim_clock_parse(s, out);
}

static int
snapshot_region(const struct dsim_world *w, const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < w->cfg.nregions; i++)
		if (strcmp(w->cfg.regions[i], name) == 0)
			return (int)i;
	return -1;
}

static int
snapshot_load_history(struct dsim_world *w, json_t *a,
    const char *subject, struct dsim_error *err)
{
	json_t *e;
	size_t i;

	if (!json_is_array(a) || json_array_size(a) > DSIM_HISTORY_MAX)
		return snapshot_bad(err, subject, "history");
	free(w->history);
	w->nhistory = json_array_size(a);
	if ((w->history = calloc(w->nhistory + 1, sizeof *w->history)) == NULL)
		abort();
	json_array_foreach(a, i, e) {
		struct dsim_revision *r = &w->history[i];
		const char *version, *cause, *status;
		json_int_t number;

		if (json_unpack(e, "{s:I, s:s, s:s, s:s}", "revision", &number,
		    "version", &version, "cause", &cause, "status",
		    &status) != 0 ||
		    snapshot_get_time(e, "created", &r->created) != 0 ||
		    strlen(version) >= sizeof r->version ||
		    strlen(cause) >= sizeof r->cause ||
		    strlen(status) >= sizeof r->status)
			return snapshot_bad(err, subject, "a history entry");
		r->number = (int)number;
		strcpy(r->version, version);
		strcpy(r->cause, cause);
		strcpy(r->status, status);
	}
	return 0;
}

static int
snapshot_load_fault(struct dsim_fault *f, json_t *e)
{
	const char *kind, *version = "", *target = "";
	json_int_t id;
	int k;

	if (json_unpack(e, "{s:I, s:s}", "id", &id, "kind", &kind) != 0 ||
	    snapshot_get_time(e, "created", &f->created) != 0 || id <= 0)
		return -1;
	for (k = 0; dsim_fault_kinds[k] != NULL; k++)
		if (strcmp(dsim_fault_kinds[k], kind) == 0)
			break;
	if (dsim_fault_kinds[k] == NULL)
		return -1;
	f->id = (uint32_t)id;
	f->kind = k;
	if (k == DSIM_FAULT_BAD_RELEASE && json_unpack(e, "{s:s, s:F}",
	    "version", &version, "failure_rate", &f->rate) != 0)
		return -1;
	if (k == DSIM_FAULT_CRASH && json_unpack(e, "{s:I}", "instances",
	    &f->count) != 0)
		return -1;
	if (k == DSIM_FAULT_LATENCY && json_unpack(e, "{s:I}", "ms",
	    &f->ms) != 0)
		return -1;
	if (k >= DSIM_FAULT_MEMORY_LEAK && (json_unpack(e, "{s:F, s:s}",
	    "amount", &f->amount, "target", &target) != 0 ||
	    strlen(target) >= sizeof f->target))
		return -1;
	strcpy(f->target, target);
	if (strlen(version) >= sizeof f->version)
		return -1;
	strcpy(f->version, version);
	return 0;
}

static int
snapshot_load_faults(struct dsim_world *w, json_t *a,
    const char *subject, struct dsim_error *err)
{
	json_t *e;
	size_t i;

	if (!json_is_array(a))
		return snapshot_bad(err, subject, "faults");
	free(w->faults);
	w->nfaults = json_array_size(a);
	if ((w->faults = calloc(w->nfaults + 1, sizeof *w->faults)) == NULL)
		abort();
	json_array_foreach(a, i, e)
		if (snapshot_load_fault(&w->faults[i], e) != 0)
			return snapshot_bad(err, subject, "a fault");
	return 0;
}

static int
snapshot_load_db(struct dsim_world *w, json_t *a, const char *subject,
    struct dsim_error *err)
{
	const char *name, *role, *state, *version, *region;
	json_t *e;
	size_t i;
	int port, r;

	if (!json_is_array(a))
		return snapshot_bad(err, subject, "db");
	free(w->db);
	w->ndb = json_array_size(a);
	if ((w->db = calloc(w->ndb + 1, sizeof *w->db)) == NULL)
		abort();
	json_array_foreach(a, i, e) {
		struct dsim_db_node *d = &w->db[i];

		if (json_unpack(e, "{s:s, s:s, s:s, s:s, s:s, s:i}", "name",
		    &name, "role", &role, "state", &state, "version",
		    &version, "region", &region, "port", &port) != 0 ||
		    strlen(name) >= sizeof d->name ||
		    strlen(role) >= sizeof d->role ||
		    strlen(state) >= sizeof d->state ||
		    strlen(version) >= sizeof d->version ||
		    (r = snapshot_region(w, region)) < 0)
			return snapshot_bad(err, subject, "a database node");
		strcpy(d->name, name);
		strcpy(d->role, role);
		strcpy(d->state, state);
		strcpy(d->version, version);
		d->region = (uint8_t)r;
		d->port = port;
	}
	return 0;
}

static int
snapshot_load_prng(struct dsim_world *w, json_t *h)
{
	const char *s[4], *seed;
	char *end;
	int i;

	if (json_unpack(h, "{s:s, s:[ssss]}", "seed", &seed, "prng", &s[0],
	    &s[1], &s[2], &s[3]) != 0)
		return -1;
	w->seed = strtoull(seed, &end, 10);
	if (*end != '\0')
		return -1;
	for (i = 0; i < 4; i++) {
		w->prng.s[i] = strtoull(s[i], &end, 16);
		if (*end != '\0' || end - s[i] != 16)
			return -1;
	}
	return 0;
}

/* Set a world's everything but instances from a header; 0 or 65. */
int
dsim_snapshot_load_header(struct dsim_world *w, json_t *h,
    const char *subject, struct dsim_error *err)
{
	json_int_t replicas, next_id, revision, next_fault;
	const char *env;
	json_t *config, *flags, *rollout;

	if (json_unpack(h, "{s:s, s:I, s:I, s:I, s:I, s:o, s:o, s:o}",
	    "env", &env, "replicas", &replicas, "next_id", &next_id,
	    "revision", &revision, "next_fault", &next_fault,
	    "config", &config, "flags", &flags, "rollout", &rollout) != 0 ||
	    strlen(env) >= sizeof w->env || replicas < 0 ||
	    replicas > UINT32_MAX || next_id < 1 || next_id > UINT32_MAX ||
	    next_fault < 1 || next_fault > UINT32_MAX ||
	    !json_is_object(flags))
		return snapshot_bad(err, subject, "the world's header");
	if (snapshot_load_prng(w, h) != 0)
		return snapshot_bad(err, subject, "seed or prng");
	if (snapshot_get_time(h, "created", &w->created) != 0 ||
	    snapshot_get_time(h, "clock", &w->clock) != 0)
		return snapshot_bad(err, subject, "created or clock");
	if (dsim_world_config(&w->cfg, config, subject, err) != 0) {
		char why[sizeof err->reason];

		memcpy(why, err->reason, sizeof why);
		return dsim_error_set(err, DSIM_EX_DATAERR, subject,
		    "config: %.400s", why);
	}
	strcpy(w->env, env);
	json_decref(w->config);
	w->config = json_incref(config);
	json_decref(w->flags);
	w->flags = json_incref(flags);
	json_decref(w->rollout);
	w->rollout = json_is_object(rollout) ? json_incref(rollout) : NULL;
	w->replicas = (uint32_t)replicas;
	w->next_id = (uint32_t)next_id;
	w->revision = (int)revision;
	w->next_fault = (uint32_t)next_fault;
	/* Worlds saved before the simulated database had a size get one. */
	w->db_rows = DSIM_DB_ROWS;
	if (json_is_integer(json_object_get(h, "db_rows")) &&
	    json_integer_value(json_object_get(h, "db_rows")) > 0)
		w->db_rows = (uint64_t)json_integer_value(json_object_get(h,
		    "db_rows"));
	if (snapshot_load_history(w, json_object_get(h, "history"), subject,
	    err) || snapshot_load_faults(w, json_object_get(h, "faults"),
	    subject, err) || snapshot_load_db(w, json_object_get(h, "db"),
	    subject, err))
		return err->code;
	return 0;
}

static int
snapshot_same_run(const struct dsim_instance *a, const struct dsim_instance *b)
{
	return b->id == a->id + 1 && b->version == a->version &&
	    b->state == a->state && b->region == a->region &&
	    b->fault == a->fault;
}

static int
snapshot_differs(const struct dsim_world *w, const struct dsim_instance *base,
    size_t nbase, size_t i)
{
	const struct dsim_instance *a = &w->instances[i];

	if (base == NULL || i >= nbase)
		return 1;
	return a->id != base[i].id || a->version != base[i].version ||
	    a->state != base[i].state || a->region != base[i].region ||
	    a->fault != base[i].fault;
}

/*
 * The runs of the instances that differ from base (nbase of them); with
 * base NULL, the runs of every instance.
 */
json_t *
dsim_snapshot_runs(const struct dsim_world *w,
    const struct dsim_instance *base, size_t nbase)
{
	json_t *runs = json_array();
	size_t i = 0, j;

	while (i < w->ninstances) {
		const struct dsim_instance *first = &w->instances[i];

		if (!snapshot_differs(w, base, nbase, i)) {
			i++;
			continue;
		}
		for (j = i + 1; j < w->ninstances &&
		    snapshot_differs(w, base, nbase, j) &&
		    snapshot_same_run(&w->instances[j - 1], &w->instances[j]);
		    j++)
			;
		json_array_append_new(runs, json_pack("[I,I,I,s,s,s,I]",
		    (json_int_t)i, (json_int_t)(j - i),
		    (json_int_t)first->id, w->versions[first->version],
		    dsim_instance_states[first->state],
		    w->cfg.regions[first->region], (json_int_t)first->fault));
		i = j;
	}
	return runs;
}

static int
snapshot_apply_run(struct dsim_world *w, json_t *run, size_t n)
{
	json_int_t index, count, id, fault;
	const char *version, *state, *region;
	struct dsim_instance in;
	int s, r;
	size_t k;

	if (json_unpack(run, "[IIIsssI]", &index, &count, &id, &version,
	    &state, &region, &fault) != 0 || index < 0 || count < 1 ||
	    (size_t)index > n || (size_t)count > n - (size_t)index ||
	    id < 1 || id + count > UINT32_MAX || fault < 0 ||
	    fault > UINT32_MAX || dsim_version_check(version, NULL) != 0)
		return -1;
	for (s = 0; dsim_instance_states[s] != NULL; s++)
		if (strcmp(dsim_instance_states[s], state) == 0)
			break;
	if (dsim_instance_states[s] == NULL ||
	    (r = snapshot_region(w, region)) < 0)
		return -1;
	in.version = dsim_world_version(w, version);
	in.state = (uint8_t)s;
	in.region = (uint8_t)r;
	in.fault = (uint32_t)fault;
	for (k = 0; k < (size_t)count; k++) {
		in.id = (uint32_t)(id + (json_int_t)k);
		w->instances[index + (json_int_t)k] = in;
	}
	return 0;
}

/* Resize the fleet to n instances and apply runs to it; 0 or 65. */
int
dsim_snapshot_apply_runs(struct dsim_world *w, json_int_t n,
    json_t *runs, const char *subject, struct dsim_error *err)
{
	json_t *run;
	size_t i;

	if (n < 0 || n > 100000000 || !json_is_array(runs))
		return snapshot_bad(err, subject, "instances");
	if ((size_t)n > w->capinstances) {
		w->instances = realloc(w->instances, (size_t)n *
		    sizeof *w->instances);
		if (w->instances == NULL)
			abort();
		w->capinstances = (size_t)n;
	}
	if ((size_t)n > w->ninstances)
		memset(w->instances + w->ninstances, 0, ((size_t)n -
		    w->ninstances) * sizeof *w->instances);
	w->ninstances = (size_t)n;
	json_array_foreach(runs, i, run)
		if (snapshot_apply_run(w, run, (size_t)n) != 0)
			return dsim_error_set(err, DSIM_EX_DATAERR, subject,
			    "instance run %zu is malformed", i);
	return 0;
}
