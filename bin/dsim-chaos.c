#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "fault.h"
#include "log.h"

enum {
	OPT_VERSION = DSIM_CLI_FIRST_OWN,
	OPT_RATE,
	OPT_INSTANCES,
	OPT_MS,
	OPT_TARGET,
	OPT_MIB,
	OPT_PERCENT,
	OPT_CPU,
	OPT_ALL
};

static const struct dsim_opt chaos_opts[] = {
	{ OPT_VERSION, "version", "V", "bad-release: the version that fails" },
	{ OPT_RATE, "failure-rate", "R", "bad-release: the share of its "
	    "instances that fail (default 1)" },
	{ OPT_INSTANCES, "instances", "N", "crash: how many ready instances" },
	{ OPT_MS, "ms", "N", "latency: milliseconds added to every request" },
	{ OPT_TARGET, "target", "NODE", "memory-leak, disk-fill, cpu-hog, "
	    "network-partition: the node hit (default every app instance)" },
	{ OPT_MIB, "mib-per-minute", "N", "memory-leak: growth (default 16)" },
	{ OPT_PERCENT, "percent-per-minute", "N", "disk-fill: growth of the "
	    "disk's use (default 1)" },
	{ OPT_CPU, "cpu-ratio", "R", "cpu-hog: the share of the CPU taken "
	    "(default 1)" },
	{ OPT_ALL, "all", NULL, "clear: every active fault" },
	DSIM_CLI_OPT_WAIT,
	DSIM_CLI_OPT_ENV,
	DSIM_CLI_OPT_FORMAT,
	DSIM_CLI_OPT_QUIET,
	DSIM_CLI_OPT_VERBOSE,
	{ 0, NULL, NULL, NULL }
};

static const struct dsim_cmd chaos_cmd = {
	"dsim-chaos",
	"inject bad-release --version V [--failure-rate R]\n"
	    "inject crash --instances N\n"
	    "inject latency --ms N\n"
	    "inject memory-leak [--target NODE] [--mib-per-minute N]\n"
	    "inject disk-fill [--target NODE] [--percent-per-minute N]\n"
	    "inject cpu-hog [--target NODE] [--cpu-ratio R]\n"
	    "inject network-partition [--target NODE]\n"
	    "list\n"
	    "clear ID | --all",
	"Inject, list and clear faults in the world.",
	chaos_opts
};

/* dsim-chaos's options and state. */
struct chaos {
	struct dsim_cli	 cli;
	struct dsim_fault fault;	/* inject: what --version etc. set */
	int		 given[OPT_ALL - OPT_VERSION + 1]; /* which were */
	int		 all;		/* --all */
	uint32_t	 id;		/* clear ID */
};

static int
chaos_option(void *arg, int key, const char *val, struct dsim_error *err)
{
	struct chaos *c = arg;
	struct dsim_fault *f = &c->fault;
	uint64_t n;
	int rc;

	if ((rc = dsim_cli_option(&c->cli, key, val, err)) >= 0)
		return rc;
	if (key >= OPT_VERSION && key <= OPT_ALL)
		c->given[key - OPT_VERSION] = 1;
	switch (key) {
	case OPT_VERSION:
		if (dsim_version_check(val, err) != 0)
			return err->code;
		snprintf(f->version, sizeof f->version, "%s", val);
		return 0;
	case OPT_RATE:
		return dsim_opt_double(val, "--failure-rate", 0, 1, &f->rate,
		    err);
	case OPT_INSTANCES:
		rc = dsim_opt_uint(val, "--instances", 1, 10000000, &n, err);
		f->count = (int64_t)n;
		return rc;
	case OPT_MS:
		rc = dsim_opt_uint(val, "--ms", 1, 3600000, &n, err);
		f->ms = (int64_t)n;
		return rc;
	case OPT_TARGET:
		if (strlen(val) >= sizeof f->target || *val == '\0')
			return dsim_error_set(err, DSIM_EX_USAGE, "--target",
			    "'%s' is not a node name", val);
		snprintf(f->target, sizeof f->target, "%s", val);
		return 0;
	case OPT_MIB:
		return dsim_opt_double(val, "--mib-per-minute", 0.001, 1e6,
		    &f->amount, err);
	case OPT_PERCENT:
		return dsim_opt_double(val, "--percent-per-minute", 0.001, 100,
		    &f->amount, err);
	case OPT_CPU:
		return dsim_opt_double(val, "--cpu-ratio", 0.01, 1,
		    &f->amount, err);
	case OPT_ALL:
		c->all = 1;
		return 0;
	}
	return dsim_error_set(err, DSIM_EX_USAGE, NULL, "unhandled option");
}

/* Check that inject got the options its kind needs and no others. */
static int
chaos_check_inject(struct chaos *c)
{
	static const int needs[DSIM_FAULT_NKINDS][OPT_ALL - OPT_VERSION + 1] = {
		[DSIM_FAULT_BAD_RELEASE] = { 1, 2, 0, 0 },
		[DSIM_FAULT_CRASH] = { 0, 0, 1, 0 },
		[DSIM_FAULT_LATENCY] = { 0, 0, 0, 1 },
		[DSIM_FAULT_MEMORY_LEAK] = { 0, 0, 0, 0, 2, 2 },
		[DSIM_FAULT_DISK_FILL] = { 0, 0, 0, 0, 2, 0, 2 },
		[DSIM_FAULT_CPU_HOG] = { 0, 0, 0, 0, 2, 0, 0, 2 },
		[DSIM_FAULT_NETWORK_PARTITION] = { 0, 0, 0, 0, 2 },
	};
	static const double amounts[DSIM_FAULT_NKINDS] = {
		[DSIM_FAULT_MEMORY_LEAK] = 16,
		[DSIM_FAULT_DISK_FILL] = 1,
		[DSIM_FAULT_CPU_HOG] = 1,
	};
	const int *need = needs[c->fault.kind];
	int i;

	for (i = 0; i <= OPT_ALL - OPT_VERSION; i++) {
		if (need[i] == 1 && !c->given[i])
			return dsim_log_usage("inject %s needs --%s",
			    dsim_fault_kinds[c->fault.kind],
			    chaos_opts[i].name);
		if (need[i] == 0 && c->given[i])
			return dsim_log_usage("inject %s takes no --%s",
			    dsim_fault_kinds[c->fault.kind],
			    chaos_opts[i].name);
	}
	if (!c->given[OPT_RATE - OPT_VERSION])
		c->fault.rate = 1.0;
	if (c->fault.amount == 0)
		c->fault.amount = amounts[c->fault.kind];
	return 0;
}

static int
chaos_inject(struct chaos *c, struct dsim_rec *rec, struct dsim_error *err)
{
	struct dsim_cli *cli = &c->cli;

	if (dsim_fault_inject(&cli->w, &c->fault, err) != 0)
		return err->code;
	if (dsim_store_save(&cli->st, &cli->w, "chaos inject", err) != 0)
		return err->code;
	dsim_fault_record(rec, &cli->w, &c->fault, "active");
	dsim_rec_put(&cli->out.sink, rec);
	return 0;
}

static int
chaos_clear(struct chaos *c, struct dsim_rec *rec, struct dsim_error *err)
{
	struct dsim_cli *cli = &c->cli;
	struct dsim_fault gone;
	uint32_t id = c->id;

	while (c->all ? cli->w.nfaults > 0 : id != 0) {
		if (dsim_fault_clear(&cli->w, c->all ? cli->w.faults[0].id :
		    id, &gone, err) != 0)
			return err->code;
		dsim_fault_record(rec, &cli->w, &gone, "cleared");
		dsim_rec_put(&cli->out.sink, rec);
		id = 0;
	}
	return dsim_store_save(&cli->st, &cli->w, "chaos clear", err);
}

/* Run a command once its operands are checked. */
static int
chaos_run(struct chaos *c, const char *cmd, struct dsim_error *err)
{
	struct dsim_cli *cli = &c->cli;
	struct dsim_rec rec = { 0 };
	int rc = 0;
	size_t i;

	if (dsim_cli_start(cli, (strcmp(cmd, "list") == 0 ? 0 :
	    DSIM_CLI_LOCK) | DSIM_CLI_LOAD, err) != 0)
		return err->code;
	if (strcmp(cmd, "inject") == 0)
		rc = chaos_inject(c, &rec, err);
	else if (strcmp(cmd, "clear") == 0)
		rc = chaos_clear(c, &rec, err);
	else
		for (i = 0; i < cli->w.nfaults; i++) {
			dsim_fault_record(&rec, &cli->w, &cli->w.faults[i],
			    "active");
			dsim_rec_put(&cli->out.sink, &rec);
		}
	dsim_rec_free(&rec);
	return rc;
}

/* Check the operands: a command, then a kind or an id. */
static int
chaos_operands(struct chaos *c, int argc, char **argv)
{
	const char *cmd = argv[0];
	struct dsim_error err;
	int i, extra = 2;
	uint64_t n;

	if (strcmp(cmd, "inject") == 0) {
		if (argc < 2)
			return dsim_log_usage("inject needs a kind: "
			    "bad-release, crash, latency, memory-leak, "
			    "disk-fill, cpu-hog or network-partition");
		if ((c->fault.kind = dsim_fault_kind(argv[1])) < 0)
			return dsim_log_usage("unknown fault '%s' "
			    "(bad-release, crash, latency, memory-leak, "
			    "disk-fill, cpu-hog or network-partition)",
			    argv[1]);
		if (chaos_check_inject(c) != 0)
			return DSIM_EX_USAGE;
	} else if (strcmp(cmd, "clear") == 0) {
		if ((argc < 2) == !c->all)
			return dsim_log_usage("clear needs a fault id or "
			    "--all, not both");
		if (argc >= 2 && (dsim_opt_uint(argv[1], "fault", 1,
		    UINT32_MAX, &n, &err) != 0))
			return dsim_log_report(&err);
		c->id = argc >= 2 ? (uint32_t)n : 0;
		extra = c->all ? 1 : 2;
	} else if (strcmp(cmd, "list") == 0)
		extra = 1;
	else
		return dsim_log_usage("unknown command '%s' (inject, list or "
		    "clear)", cmd);
	for (i = 0; i <= OPT_ALL - OPT_VERSION; i++)
		if (strcmp(cmd, "inject") != 0 && c->given[i] &&
		    !(i == OPT_ALL - OPT_VERSION && strcmp(cmd, "clear") == 0))
			return dsim_log_usage("%s takes no --%s", cmd,
			    chaos_opts[i].name);
	if (argc > extra)
		return dsim_log_usage("unexpected argument '%s'", argv[extra]);
	return 0;
}

int
main(int argc, char **argv)
{
	struct chaos c = { 0 };
	struct dsim_error err;
	int rc, argi;

	dsim_cli_init(&c.cli, argv[0]);
	if ((rc = dsim_opt_parse(&chaos_cmd, argc, argv, chaos_option, &c,
	    &argi)) >= 0)
		return rc;
	if (argi >= argc)
		return dsim_log_usage("a command is needed: inject, list or "
		    "clear");
	if ((rc = chaos_operands(&c, argc - argi, argv + argi)) != 0)
		return rc;
	dsim_error_clear(&err);
	if ((rc = chaos_run(&c, argv[argi], &err)) != 0)
		dsim_log_report(&err);
	return dsim_cli_finish(&c.cli, rc);
}
