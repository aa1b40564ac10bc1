#include "config.h"

#include <string.h>

#include "status.h"

/* Write the world record: versions, counts by state, the rollout. */
void
dsim_status_world(struct dsim_sink *sink, struct dsim_rec *r,
    const struct dsim_world *w)
{
	size_t counts[DSIM_INSTANCE_NSTATES], i;
	json_t *regions = json_array();

	dsim_world_count(w, counts);
	for (i = 0; i < w->cfg.nregions; i++)
		json_array_append_new(regions, json_string(w->cfg.regions[i]));
	dsim_rec_begin(r, "world", w->clock, w->env);
	dsim_rec_time(r, "clock", w->clock);
	dsim_rec_time(r, "created", w->created);
	dsim_rec_int(r, "revision", w->revision);
	dsim_rec_str(r, "version", dsim_world_current_version(w));
	dsim_rec_int(r, "replicas", w->replicas);
	dsim_rec_int(r, "instances", (int64_t)w->ninstances);
	dsim_rec_open(r, "states");
	for (i = 0; i < DSIM_INSTANCE_NSTATES; i++)
		dsim_rec_int(r, dsim_instance_states[i], (int64_t)counts[i]);
	dsim_rec_close(r);
	dsim_rec_int(r, "faults", (int64_t)w->nfaults);
	dsim_rec_int(r, "db_nodes", (int64_t)w->ndb);
	dsim_rec_str(r, "strategy", dsim_strategies[w->cfg.strategy]);
	dsim_rec_int(r, "port", w->cfg.port);
	dsim_rec_json(r, "regions", regions);
	if (w->rollout != NULL)
		dsim_rec_json(r, "rollout", w->rollout);
	else
		dsim_rec_str(r, "rollout", NULL);
	dsim_rec_put(sink, r);
	json_decref(regions);
}

/* Write one instance record per app instance, in fleet order. */
void
dsim_status_instances(struct dsim_sink *sink, struct dsim_rec *r,
    const struct dsim_world *w)
{
	char name[32];
	size_t i;

	for (i = 0; i < w->ninstances; i++) {
		const struct dsim_instance *in = &w->instances[i];

		dsim_instance_name(in, name, sizeof name);
		dsim_rec_begin(r, "instance", w->clock, w->env);
		dsim_rec_str(r, "id", name);
		dsim_rec_str(r, "version", w->versions[in->version]);
		dsim_rec_str(r, "state", dsim_instance_states[in->state]);
		dsim_rec_int(r, "port", w->cfg.port);
		dsim_rec_str(r, "region", w->cfg.regions[in->region]);
		dsim_rec_bool(r, "ready", in->state == DSIM_INSTANCE_READY);
		dsim_rec_put(sink, r);
	}
}

/* Write one db.node record per database node. */
void
dsim_status_db(struct dsim_sink *sink, struct dsim_rec *r,
    const struct dsim_world *w)
{
	size_t i;

	for (i = 0; i < w->ndb; i++) {
		const struct dsim_db_node *d = &w->db[i];

		dsim_rec_begin(r, "db.node", w->clock, w->env);
		dsim_rec_str(r, "name", d->name);
		dsim_rec_str(r, "role", d->role);
		dsim_rec_str(r, "state", d->state);
		dsim_rec_str(r, "engine", "postgresql");
		dsim_rec_str(r, "version", d->version);
		dsim_rec_str(r, "region", w->cfg.regions[d->region]);
		dsim_rec_int(r, "port", d->port);
		dsim_rec_put(sink, r);
	}
}

/* Write one revision record per history entry, oldest first. */
void
dsim_status_history(struct dsim_sink *sink, struct dsim_rec *r,
    const struct dsim_world *w)
{
	size_t i;

	for (i = 0; i < w->nhistory; i++) {
		const struct dsim_revision *rev = &w->history[i];

		dsim_rec_begin(r, "revision", w->clock, w->env);
		dsim_rec_int(r, "revision", rev->number);
		dsim_rec_str(r, "version", rev->version);
		dsim_rec_time(r, "created", rev->created);
		dsim_rec_str(r, "cause", rev->cause);
		dsim_rec_str(r, "status", rev->status);
		dsim_rec_bool(r, "current", rev->number == w->revision);
		dsim_rec_put(sink, r);
	}
}
