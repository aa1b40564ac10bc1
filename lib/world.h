#ifndef DSIM_WORLD_H
#define DSIM_WORLD_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "clock.h"
#include "error.h"
#include "opt.h"
#include "prng.h"

#define DSIM_VERSION_MAX	64
#define DSIM_HISTORY_MAX	100
#define DSIM_DB_ROWS		10000	/* the simulated database's default */

enum dsim_instance_state {
	DSIM_INSTANCE_STARTING,
	DSIM_INSTANCE_READY,
	DSIM_INSTANCE_FAILED,		/* failed its health checks */
	DSIM_INSTANCE_CRASHED,
	DSIM_INSTANCE_NSTATES
};

enum dsim_strategy {
	DSIM_STRATEGY_DEFAULT,		/* the environment's */
	DSIM_STRATEGY_ROLLING,
	DSIM_STRATEGY_RECREATE
};

/*
 * One app instance.  Kept small: a world of a hundred thousand of them is
 * an array of two megabytes.
 */
struct dsim_instance {
	uint32_t	 id;
	uint16_t	 version;	/* index into dsim_world.versions */
	uint8_t		 state;		/* enum dsim_instance_state */
	uint8_t		 region;	/* index into dsim_config.regions */
	uint32_t	 fault;		/* the crash fault that holds it down */
};

/* One entry of the revision history, as kubectl rollout history has. */
struct dsim_revision {
	int		 number;
	char		 version[DSIM_VERSION_MAX];
	dsim_ms		 created;
	char		 cause[32];	/* init, deploy, rollback, ... */
	char		 status[16];	/* in_progress, succeeded, ... */
};

/* A database node of the world. */
struct dsim_db_node {
	char		 name[32];
	char		 role[16];	/* primary, replica */
	char		 state[16];	/* running, down */
	char		 version[16];
	uint8_t		 region;
	int		 port;
};

/* What a fault is; the values are the names dsim-chaos takes. */
enum dsim_fault_kind {
	DSIM_FAULT_BAD_RELEASE,
	DSIM_FAULT_CRASH,
	DSIM_FAULT_LATENCY,
	DSIM_FAULT_MEMORY_LEAK,
	DSIM_FAULT_DISK_FILL,
	DSIM_FAULT_CPU_HOG,
	DSIM_FAULT_NETWORK_PARTITION,
	DSIM_FAULT_NKINDS
};

/* An injected fault, active until cleared. */
struct dsim_fault {
	uint32_t	 id;
	int		 kind;		/* enum dsim_fault_kind */
	dsim_ms		 created;
	char		 version[DSIM_VERSION_MAX]; /* bad-release */
	double		 rate;		/* bad-release failure rate */
	int64_t		 count;		/* crash: instances taken down */
	int64_t		 ms;		/* latency */
	double		 amount;	/* MiB/min, %/min or CPU ratio */
	char		 target[32];	/* its node; "": every app */
};

/* The facts of an environment that the simulation reads, from its config. */
struct dsim_config {
	int		 port;		/* app instances listen here */
	int		 strategy;	/* enum dsim_strategy */
	struct dsim_amount max_unavailable;
	struct dsim_amount max_surge;
	int		 auto_rollback;
	double		 capacity_rps;	/* what one instance serves */
	double		 peak_utilization; /* peak load over capacity */
	double		 noise;		/* relative spread of the load */
	double		 demand;	/* load sized for; 0: replicas */
	dsim_ms		 startup;	/* an instance's start-up time */
	dsim_ms		 startup_jitter;
	dsim_ms		 health_interval;
	dsim_ms		 health_timeout; /* time to pass before failing */
	dsim_ms		 probe_timeout;	/* one probe's timeout */
	char		 regions[8][32];
	size_t		 nregions;
	char		 initial_version[DSIM_VERSION_MAX];
	uint32_t	 default_instances;
};

/* One environment's world: topology, versions, faults, clock. */
struct dsim_world {
	char		 env[65];
	json_t		*config;	/* the environment's configuration */
	struct dsim_config cfg;		/* the parts of it the model reads */
	uint64_t	 seed;
	struct dsim_prng prng;
	dsim_ms		 created;
	dsim_ms		 clock;		/* the simulated clock */
	uint32_t	 replicas;	/* desired number of app instances */
	uint32_t	 next_id;
	int		 revision;	/* the revision the fleet runs */
	json_t		*rollout;	/* the rollout under way, or NULL */
	json_t		*flags;		/* feature flags, name to boolean */

	char		**versions;	/* interned version strings */
	size_t		 nversions;
	struct dsim_instance *instances;
	size_t		 ninstances;
	size_t		 capinstances;
	struct dsim_revision *history;
	size_t		 nhistory;
	struct dsim_fault *faults;
	size_t		 nfaults;
	uint32_t	 next_fault;
	struct dsim_db_node *db;
	size_t		 ndb;
	uint64_t	 db_rows;	/* rows of the simulated database */
};

extern const char *const dsim_instance_states[];
extern const char *const dsim_fault_kinds[];
extern const char *const dsim_strategies[];

int	 dsim_world_create(struct dsim_world *, const char *, json_t *,
	    uint32_t, uint64_t, dsim_ms, struct dsim_error *);
void	 dsim_world_free(struct dsim_world *);
int	 dsim_world_config(struct dsim_config *, const json_t *, const char *,
	    struct dsim_error *);
uint16_t dsim_world_version(struct dsim_world *, const char *);
struct dsim_instance *dsim_world_add(struct dsim_world *, const char *,
	    int);
void	 dsim_world_remove_if(struct dsim_world *,
	    int (*)(const struct dsim_instance *, void *), void *);
void	 dsim_world_count(const struct dsim_world *, size_t *);
struct dsim_revision *dsim_world_revision(struct dsim_world *, int);
struct dsim_revision *dsim_world_add_revision(struct dsim_world *,
	    const char *, const char *);
const char *dsim_world_current_version(const struct dsim_world *);
void	 dsim_world_advance(struct dsim_world *, dsim_ms);

int	 dsim_version_check(const char *, struct dsim_error *);
int	 dsim_instance_name(const struct dsim_instance *, char *, size_t);

#endif
