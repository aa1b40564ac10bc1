#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "world.h"

const char *const dsim_instance_states[] = {
	"starting", "ready", "failed", "crashed", NULL
};
const char *const dsim_fault_kinds[] = {
	"bad-release", "crash", "latency", "memory-leak", "disk-fill",
	"cpu-hog", "network-partition", NULL
};
const char *const dsim_strategies[] = {
	"default", "rolling", "recreate", NULL
};

static int
world_lookup(const char *const *names, const char *name)
{
	int i;

	for (i = 0; names[i] != NULL; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

/* Read a number of milliseconds from obj.key, keeping *out if absent. */
static void
config_ms(const json_t *obj, const char *key, dsim_ms *out)
{
	json_t *v = json_object_get(obj, key);

	if (json_is_integer(v))
		*out = json_integer_value(v);
}

static void
config_num(const json_t *obj, const char *key, double *out)
{
	json_t *v = json_object_get(obj, key);

	if (json_is_number(v))
		*out = json_number_value(v);
}

static int
config_amount(const json_t *deploy, const char *key, struct dsim_amount *a,
    const char *subject, struct dsim_error *err)
{
	json_t *v = json_object_get(deploy, key);

	if (v == NULL)
		return 0;
	if (!json_is_string(v) ||
	    dsim_opt_amount(json_string_value(v), key, a, err) != 0)
		return dsim_error_set(err, DSIM_EX_CONFIG, subject,
		    "deploy.%s is not a count or a percentage", key);
	return 0;
}

static int
config_regions(struct dsim_config *cfg, const json_t *config,
    const char *subject, struct dsim_error *err)
{
	json_t *regions = json_object_get(config, "regions"), *r;
	size_t i;

	if (!json_is_array(regions) || json_array_size(regions) == 0 ||
	    json_array_size(regions) > 8)
		return dsim_error_set(err, DSIM_EX_CONFIG, subject,
		    "regions must list one to eight regions");
	json_array_foreach(regions, i, r) {
		if (!json_is_string(r) || json_string_length(r) >= 32)
			return dsim_error_set(err, DSIM_EX_CONFIG, subject,
			    "regions[%zu] is not a region name", i);
		strcpy(cfg->regions[i], json_string_value(r));
	}
	cfg->nregions = json_array_size(regions);
	return 0;
}

/* Read the deploy object: strategy, budgets, automatic rollback. */
static int
config_deploy(struct dsim_config *cfg, const json_t *deploy,
    const char *subject, struct dsim_error *err)
{
	const char *strategy = json_string_value(json_object_get(deploy,
	    "strategy"));

	cfg->strategy = strategy ? world_lookup(dsim_strategies, strategy) : -1;
	if (cfg->strategy <= DSIM_STRATEGY_DEFAULT)
		return dsim_error_set(err, DSIM_EX_CONFIG, subject,
		    "deploy.strategy must be rolling or recreate");
	cfg->max_unavailable.percent = cfg->max_surge.percent = 1;
	cfg->max_unavailable.value = cfg->max_surge.value = 25;
	if (config_amount(deploy, "max_unavailable", &cfg->max_unavailable,
	    subject, err) ||
	    config_amount(deploy, "max_surge", &cfg->max_surge, subject, err))
		return err->code;
	cfg->auto_rollback = !json_is_false(json_object_get(deploy,
	    "auto_rollback"));
	return 0;
}

/* Read the load object and the app's capacity and times. */
static int
config_model(struct dsim_config *cfg, const json_t *config,
    const json_t *app, const char *subject, struct dsim_error *err)
{
	const json_t *load = json_object_get(config, "load");
	const json_t *health = json_object_get(app, "health");

	cfg->capacity_rps = 100;
	cfg->peak_utilization = 0.5;
	config_num(app, "capacity_rps", &cfg->capacity_rps);
	config_num(load, "peak_utilization", &cfg->peak_utilization);
	config_num(load, "noise", &cfg->noise);
	config_num(load, "instances", &cfg->demand);
	cfg->startup = 5000;
	cfg->health_interval = 2000;
	cfg->health_timeout = 60000;
	cfg->probe_timeout = 1000;
	config_ms(app, "startup_ms", &cfg->startup);
	config_ms(app, "startup_jitter_ms", &cfg->startup_jitter);
	config_ms(health, "interval_ms", &cfg->health_interval);
	config_ms(health, "timeout_ms", &cfg->health_timeout);
	config_ms(health, "probe_timeout_ms", &cfg->probe_timeout);
	if (cfg->capacity_rps <= 0 || cfg->startup < 0 ||
	    cfg->startup_jitter < 0 || cfg->health_interval <= 0 ||
	    cfg->health_timeout <= 0)
		return dsim_error_set(err, DSIM_EX_CONFIG, subject,
		    "app capacity and times must be positive");
	return 0;
}

/*
 * Read the facts the model needs from an environment's configuration;
 * subject names the configuration in errors.
 */
int
dsim_world_config(struct dsim_config *cfg, const json_t *config,
    const char *subject, struct dsim_error *err)
{
	const json_t *app = json_object_get(config, "app");
	const json_t *deploy = json_object_get(config, "deploy");
	const char *initial = json_string_value(json_object_get(app,
	    "initial_version"));
	json_int_t instances;

	memset(cfg, 0, sizeof *cfg);
	if (!json_is_object(app) || !json_is_object(deploy))
		return dsim_error_set(err, DSIM_EX_CONFIG, subject,
		    "an environment needs \"app\" and \"deploy\" objects");
	cfg->port = (int)json_integer_value(json_object_get(app, "port"));
	if (cfg->port <= 0 || cfg->port > 65535)
		return dsim_error_set(err, DSIM_EX_CONFIG, subject,
		    "app.port is not a port number");
	if (config_deploy(cfg, deploy, subject, err) != 0 ||
	    config_model(cfg, config, app, subject, err) != 0)
		return err->code;
	if (initial == NULL || dsim_version_check(initial, NULL) != 0)
		return dsim_error_set(err, DSIM_EX_CONFIG, subject,
		    "app.initial_version is not a version");
	snprintf(cfg->initial_version, sizeof cfg->initial_version, "%s",
	    initial);
	instances = json_integer_value(json_object_get(app, "instances"));
	if (instances < 1 || instances > 10000000)
		return dsim_error_set(err, DSIM_EX_CONFIG, subject,
		    "app.instances must be from 1 to 10000000");
	cfg->default_instances = (uint32_t)instances;
	return config_regions(cfg, config, subject, err);
}

/* Add the database nodes the configuration describes. */
static void
world_add_db(struct dsim_world *w)
{
	const json_t *db = json_object_get(w->config, "database");
	const char *version = json_string_value(json_object_get(db,
	    "version"));
	json_int_t replicas = json_integer_value(json_object_get(db,
	    "replicas"));
	json_int_t port = json_integer_value(json_object_get(db, "port"));
	size_t i;

	if (replicas < 0 || replicas > 16)
		replicas = 0;
	w->ndb = 1 + (size_t)replicas;
	if ((w->db = calloc(w->ndb, sizeof *w->db)) == NULL)
		abort();
	for (i = 0; i < w->ndb; i++) {
		snprintf(w->db[i].name, sizeof w->db[i].name, "db-%zu", i);
		strcpy(w->db[i].role, i == 0 ? "primary" : "replica");
		strcpy(w->db[i].state, "running");
		snprintf(w->db[i].version, sizeof w->db[i].version, "%s",
		    version ? version : "14");
		w->db[i].region = 0;
		w->db[i].port = port > 0 && port < 65536 ? (int)port : 5432;
	}
}

/*
 * Make a new world for environment env from its configuration (the world
 * takes the reference), with n instances (0: the configuration's number)
 * of the initial version, all ready, its clock at start.
 */
int
dsim_world_create(struct dsim_world *w, const char *env, json_t *config,
    uint32_t n, uint64_t seed, dsim_ms start, struct dsim_error *err)
{
	struct dsim_revision *rev;
	uint32_t i;

	memset(w, 0, sizeof *w);
	snprintf(w->env, sizeof w->env, "%s", env);
	w->config = config;
	if (dsim_world_config(&w->cfg, config, env, err) != 0)
		return err->code;
	w->seed = seed;
	dsim_prng_seed(&w->prng, seed);
	w->created = w->clock = start;
	w->replicas = n ? n : w->cfg.default_instances;
	w->next_id = 1;
	w->next_fault = 1;
	w->db_rows = DSIM_DB_ROWS;
	w->flags = json_object();
	rev = dsim_world_add_revision(w, w->cfg.initial_version, "init");
	strcpy(rev->status, "succeeded");
	for (i = 0; i < w->replicas; i++)
		dsim_world_add(w, w->cfg.initial_version,
		    DSIM_INSTANCE_READY)->region =
		    (uint8_t)(i % w->cfg.nregions);
	world_add_db(w);
	return 0;
}

/* Release everything a world holds. */
void
dsim_world_free(struct dsim_world *w)
{
	size_t i;

	for (i = 0; i < w->nversions; i++)
		free(w->versions[i]);
	free(w->versions);
	free(w->instances);
	free(w->history);
	free(w->faults);
	free(w->db);
	json_decref(w->config);
	json_decref(w->rollout);
	json_decref(w->flags);
	memset(w, 0, sizeof *w);
}

/* The index of a version string, interned on first use. */
uint16_t
dsim_world_version(struct dsim_world *w, const char *version)
{
	size_t i;

	for (i = 0; i < w->nversions; i++)
		if (strcmp(w->versions[i], version) == 0)
			return (uint16_t)i;
	if (w->nversions == UINT16_MAX)
		abort();
	w->versions = realloc(w->versions, (w->nversions + 1) *
	    sizeof *w->versions);
	if (w->versions == NULL ||
	    (w->versions[w->nversions] = strdup(version)) == NULL)
		abort();
	return (uint16_t)w->nversions++;
}

/* Add an instance of a version in a state, with the next id. */
struct dsim_instance *
dsim_world_add(struct dsim_world *w, const char *version, int state)
{
	struct dsim_instance *in;

	w->instances = dsim_mem_grow(w->instances, &w->capinstances,
	    w->ninstances + 1, sizeof *w->instances);
	in = &w->instances[w->ninstances++];
	in->id = w->next_id++;
	in->version = dsim_world_version(w, version);
	in->state = (uint8_t)state;
	in->region = 0;
	in->fault = 0;
	return in;
}

/* Remove, keeping the order of the rest, every instance pred accepts. */
void
dsim_world_remove_if(struct dsim_world *w,
    int (*pred)(const struct dsim_instance *, void *), void *arg)
{
	size_t i, kept = 0;

	for (i = 0; i < w->ninstances; i++)
		if (!pred(&w->instances[i], arg))
			w->instances[kept++] = w->instances[i];
	w->ninstances = kept;
}

/* Count instances by state into counts[DSIM_INSTANCE_NSTATES]. */
void
dsim_world_count(const struct dsim_world *w, size_t *counts)
{
	size_t i;

	memset(counts, 0, DSIM_INSTANCE_NSTATES * sizeof *counts);
	for (i = 0; i < w->ninstances; i++)
		counts[w->instances[i].state]++;
}

/* The history entry of a revision number, or NULL. */
struct dsim_revision *
dsim_world_revision(struct dsim_world *w, int number)
{
	size_t i;

	for (i = 0; i < w->nhistory; i++)
		if (w->history[i].number == number)
			return &w->history[i];
	return NULL;
}

/*
 * Start a new revision of a version, made current; the oldest entries go
 * once the history holds DSIM_HISTORY_MAX.
 */
struct dsim_revision *
dsim_world_add_revision(struct dsim_world *w, const char *version,
    const char *cause)
{
	struct dsim_revision *rev;
	int number = w->nhistory ? w->history[w->nhistory - 1].number + 1 : 1;

	if (w->nhistory == DSIM_HISTORY_MAX) {
		memmove(w->history, w->history + 1,
		    (DSIM_HISTORY_MAX - 1) * sizeof *w->history);
		w->nhistory--;
	}
	w->history = realloc(w->history, (w->nhistory + 1) *
	    sizeof *w->history);
	if (w->history == NULL)
		abort();
	rev = &w->history[w->nhistory++];
	memset(rev, 0, sizeof *rev);
	rev->number = number;
	snprintf(rev->version, sizeof rev->version, "%s", version);
	snprintf(rev->cause, sizeof rev->cause, "%s", cause);
	strcpy(rev->status, "in_progress");
	rev->created = w->clock;
	w->revision = number;
	return rev;
}

/* The version of the current revision. */
const char *
dsim_world_current_version(const struct dsim_world *w)
{
	size_t i;

	for (i = 0; i < w->nhistory; i++)
		if (w->history[i].number == w->revision)
			return w->history[i].version;
	return "unknown";
}

/* Move the simulated clock forward. */
void
dsim_world_advance(struct dsim_world *w, dsim_ms dt)
{
	if (dt > 0)
		w->clock += dt;
}

/* A version is MAJOR.MINOR.PATCH with optional -pre and +build (SemVer). */
int
dsim_version_check(const char *v, struct dsim_error *err)
{
	const char *p = v;
	int part;

	for (part = 0; part < 3; part++) {
		if (!isdigit((unsigned char)*p) || (p[0] == '0' &&
		    isdigit((unsigned char)p[1])))
			goto bad;
		while (isdigit((unsigned char)*p))
			p++;
		if (part < 2 && *p++ != '.')
			goto bad;
	}
	if (*p == '-' || *p == '+') {
		for (p++; *p != '\0'; p++)
			if (!isalnum((unsigned char)*p) && *p != '.' &&
			    *p != '-' && *p != '+')
				goto bad;
		if (p[-1] == '.' || p[-1] == '-' || p[-1] == '+')
			goto bad;
	}
	if (*p == '\0' && p - v < DSIM_VERSION_MAX)
		return 0;
bad:
	return dsim_error_set(err, DSIM_EX_USAGE, "--version",
	    "'%s' is not a version (MAJOR.MINOR.PATCH, as SemVer)", v);
}

/* An instance's name, as records show it: app-000042. */
int
dsim_instance_name(const struct dsim_instance *in, char *buf, size_t len)
{
	return snprintf(buf, len, "app-%06" PRIu32, in->id);
}
