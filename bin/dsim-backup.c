#include "config.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup.h"
#include "cli.h"
#include "log.h"
#include "pg.h"
#include "restore.h"
#include "simdb.h"
#include "tarball.h"

enum {
	OPT_SOURCE = DSIM_CLI_FIRST_OWN,
	OPT_REPO,
	OPT_COPY_TO,
	OPT_COMPRESSION,
	OPT_JOBS,
	OPT_ALL,
	OPT_TARGET,
	OPT_CLEAN,
	OPT_KEEP_LAST,
	OPT_KEEP_HOURLY,
	OPT_KEEP_DAILY,
	OPT_KEEP_WEEKLY,
	OPT_KEEP_MONTHLY,
	OPT_KEEP_YEARLY,
	OPT_KEEP_WITHIN,
	OPT_DRY_RUN,
	OPT_LAST
};

static const struct dsim_opt backup_opts[] = {
	{ OPT_SOURCE, "source", "SRC", "create: sim (default), or a "
	    "PostgreSQL connection string, URI, or pg for the PG* variables" },
	{ OPT_REPO, "repo", "DIR", "the repository (default "
	    "$DSIM_BACKUP_REPO or STATE/ENV/backups)" },
	{ OPT_COPY_TO, "copy-to", "DIR", "a second repository that create "
	    "copies to and verify checks" },
	{ OPT_COMPRESSION, "compression", "ALG", "create: zstd (default), "
	    "gzip or none" },
	{ OPT_JOBS, "jobs", "N", "create: tables copied at once, one "
	    "connection each (default 1)" },
	{ OPT_ALL, "all", NULL, "verify: every backup" },
	{ OPT_TARGET, "target", "DB", "restore: sim, or a PostgreSQL "
	    "connection string" },
	{ OPT_CLEAN, "clean", NULL, "restore: replace what the target holds" },
	{ OPT_KEEP_LAST, "keep-last", "N", "prune: the N newest backups" },
	{ OPT_KEEP_HOURLY, "keep-hourly", "N", "prune: the newest of each "
	    "of the last N hours" },
	{ OPT_KEEP_DAILY, "keep-daily", "N", "prune: the newest of each of "
	    "the last N days" },
	{ OPT_KEEP_WEEKLY, "keep-weekly", "N", "prune: the newest of each "
	    "of the last N weeks" },
	{ OPT_KEEP_MONTHLY, "keep-monthly", "N", "prune: the newest of "
	    "each of the last N months" },
	{ OPT_KEEP_YEARLY, "keep-yearly", "N", "prune: the newest of each "
	    "of the last N years" },
	{ OPT_KEEP_WITHIN, "keep-within", "DUR", "prune: every backup "
	    "within DUR of the newest" },
	{ OPT_DRY_RUN, "dry-run", NULL, "prune: say what would go and why, "
	    "remove nothing" },
	DSIM_CLI_OPT_WAIT,
	DSIM_CLI_OPT_ENV,
	DSIM_CLI_OPT_FORMAT,
	DSIM_CLI_OPT_QUIET,
	DSIM_CLI_OPT_VERBOSE,
	{ 0, NULL, NULL, NULL }
};

static const struct dsim_cmd backup_cmd = {
	"dsim-backup",
	"create [--source SRC] [--repo DIR] [--compression ALG] [--jobs N] "
	    "[--quiet]\n"
	    "list [--repo DIR]\n"
	    "verify ID | --all [--repo DIR]\n"
	    "restore ID --target DB [--clean] [--repo DIR]\n"
	    "prune --keep-RULE N... [--keep-within DUR] [--dry-run] "
	    "[--repo DIR]\n"
	    "pin ID | unpin ID [--repo DIR]",
	"Create, list, verify, restore and prune backups of the database.",
	backup_opts
};

/* The commands, and which of the program's own options each takes. */
static const struct {
	const char	*name;
	int		 operand;	/* 1: an ID; 2: an ID or --all */
	unsigned	 opts;		/* bits of OPT_x - OPT_SOURCE */
} backup_cmds[] = {
	{ "create", 0, 0x1f },
	{ "list", 0, 0x02 },
	{ "verify", 2, 0x26 },
	{ "restore", 1, 0xc2 },
	{ "prune", 0, 0xff06 },
	{ "pin", 1, 0x02 },
	{ "unpin", 1, 0x02 },
	{ NULL, 0, 0 }
};

/* dsim-backup's options and state. */
struct backup {
	struct dsim_cli	 cli;
	struct dsim_backup_opts o;
	struct dsim_backup_policy policy;	/* --keep-*, --dry-run */
	const char	*source;		/* --source */
	const char	*target;		/* --target */
	int		 clean;			/* --clean */
	int		 all;			/* --all */
	uint64_t	 jobs;			/* --jobs */
	unsigned	 given;			/* own options seen */
	char		 repo[PATH_MAX];
	char		 copy[PATH_MAX];
};

/* Take a --keep-* rule. */
static int
backup_keep(struct backup *b, int key, const char *val,
    struct dsim_error *err)
{
	int64_t *const rule[] = { &b->policy.last, &b->policy.hourly,
	    &b->policy.daily, &b->policy.weekly, &b->policy.monthly,
	    &b->policy.yearly };
	uint64_t n;

	if (key == OPT_KEEP_WITHIN) {
		if (dsim_clock_parse_duration(val, &b->policy.within) != 0 ||
		    b->policy.within < 0)
			return dsim_error_set(err, DSIM_EX_USAGE,
			    "--keep-within", "'%s' is not a duration (such as "
			    "7d, 36h, 90m)", val);
		return 0;
	}
	if (dsim_opt_uint(val, backup_opts[key - OPT_SOURCE].name, 0,
	    1000000, &n, err) != 0)
		return err->code;
	*rule[key - OPT_KEEP_LAST] = (int64_t)n;
	return 0;
}

/* Take one option. */
static int
backup_option(void *arg, int key, const char *val, struct dsim_error *err)
{
	struct backup *b = arg;
	int rc;

	if ((rc = dsim_cli_option(&b->cli, key, val, err)) >= 0)
		return rc;
	b->given |= 1u << (key - OPT_SOURCE);
	switch (key) {
	case OPT_SOURCE:
		b->source = val;
		return 0;
	case OPT_REPO:
		b->o.repo = val;
		return 0;
	case OPT_COPY_TO:
		b->o.copy_to = val;
		return 0;
	case OPT_COMPRESSION:
		if ((b->o.compression = dsim_tarball_compression(val)) < 0)
			return dsim_error_set(err, DSIM_EX_USAGE,
			    "--compression", "'%s' is not zstd, gzip or none",
			    val);
		return 0;
	case OPT_JOBS:
		return dsim_opt_uint(val, "--jobs", 1, 16, &b->jobs, err);
	case OPT_ALL:
		b->all = 1;
		return 0;
	case OPT_TARGET:
		b->target = val;
		return 0;
	case OPT_CLEAN:
		b->clean = 1;
		return 0;
	case OPT_DRY_RUN:
		b->policy.dry_run = 1;
		return 0;
	}
	return backup_keep(b, key, val, err);
}

/* Check the command, its operand and its options; returns its index. */
static int
backup_operands(struct backup *b, int argc, char **argv, int *cmd)
{
	struct dsim_error err;
	unsigned extra;
	int i;

	for (i = 0; backup_cmds[i].name != NULL; i++)
		if (strcmp(argv[0], backup_cmds[i].name) == 0)
			break;
	if (backup_cmds[i].name == NULL)
		return dsim_log_usage("unknown command '%s' (create, list, "
		    "verify, restore, prune, pin or unpin)", argv[0]);
	*cmd = i;
	if ((extra = b->given & ~backup_cmds[i].opts) != 0)
		return dsim_log_usage("%s takes no --%s", argv[0],
		    backup_opts[__builtin_ctz(extra)].name);
	if (backup_cmds[i].operand == 2 && (argc > 1) == b->all)
		return dsim_log_usage("verify needs a backup id or --all, "
		    "not both");
	if (backup_cmds[i].operand == 1 && argc < 2)
		return dsim_log_usage("%s needs a backup id", argv[0]);
	if (backup_cmds[i].operand != 0 && argc > 1 &&
	    dsim_repo_id_check(argv[1], &err) != 0)
		return dsim_log_usage("%s: %s", err.subject, err.reason);
	if (argc > 1 + (backup_cmds[i].operand != 0))
		return dsim_log_usage("unexpected argument '%s'",
		    argv[1 + (backup_cmds[i].operand != 0)]);
	if (strcmp(argv[0], "restore") == 0 && b->target == NULL)
		return dsim_log_usage("restore needs --target (sim, or a "
		    "connection string)");
	if (strcmp(argv[0], "prune") == 0 && (b->given & 0x7f00) == 0)
		return dsim_log_usage("prune needs at least one --keep-* rule");
	return 0;
}

/* Whether the world has ENABLE_DISTRIBUTED_DB on. */
static int
backup_distributed(const struct dsim_world *w)
{
	return json_is_true(json_object_get(w->flags,
	    "ENABLE_DISTRIBUTED_DB"));
}

/* Set the repositories: options, DSIM_BACKUP_*, then the state home's. */
static int
backup_repos(struct backup *b, struct dsim_error *err)
{
	const char *v;

	if (b->o.repo != NULL)
		b->o.repo_given = 1;
	else if ((v = getenv("DSIM_BACKUP_REPO")) != NULL && *v != '\0') {
		b->o.repo = v;
		b->o.repo_given = 1;
	} else {
		if (snprintf(b->repo, sizeof b->repo, "%s/backups",
		    b->cli.st.dir) >= (int)sizeof b->repo)
			return dsim_error_set(err, DSIM_EX_CONFIG,
			    b->cli.st.dir, "path is too long");
		b->o.repo = b->repo;
	}
	if (b->o.copy_to != NULL || !b->cli.loaded ||
	    !backup_distributed(&b->cli.w))
		return 0;
	if ((v = getenv("DSIM_BACKUP_COPY_TO")) != NULL && *v != '\0')
		b->o.copy_to = v;
	else {
		snprintf(b->copy, sizeof b->copy, "%s-copy", b->o.repo);
		b->o.copy_to = b->copy;
	}
	return 0;
}

/*
 * Open the store and load the world when there is one: the simulated
 * database needs it, the rest take its clock and flags.  Restoring into
 * the simulated database changes the world, so it holds the world's lock.
 */
static int
backup_world(struct backup *b, int need, int lock, struct dsim_error *err)
{
	struct dsim_cli *cli = &b->cli;

	if (dsim_cli_start(cli, 0, err) != 0)
		return err->code;
	if (!dsim_store_exists(&cli->st)) {
		if (need)
			return dsim_error_set(err, DSIM_EX_NOINPUT, cli->env,
			    "no world for the simulated database; run "
			    "dsim-init first");
		return backup_repos(b, err);
	}
	if ((lock && dsim_store_lock(&cli->st, cli->wait, err) != 0) ||
	    dsim_store_load(&cli->st, &cli->w, err) != 0)
		return err->code;
	cli->loaded = 1;
	return backup_repos(b, err);
}

/* create: from the simulated database or a real server. */
static int
backup_create(struct backup *b, struct dsim_error *err)
{
	struct dsim_dbstream_source src;
	const char *s = b->source;

	if (s == NULL && (s = getenv("DSIM_BACKUP_SOURCE")) != NULL &&
	    *s == '\0')
		s = NULL;
	if (s == NULL || strcmp(s, "sim") == 0) {
		if (backup_world(b, 1, 0, err) != 0)
			return err->code;
		dsim_simdb_source(&src, &b->cli.w, b->cli.st.dir);
		b->o.simulated = 1;
		b->o.now = b->cli.w.clock;
	} else {
		if (backup_world(b, 0, 0, err) != 0)
			return err->code;
		dsim_pg_source(&src, strcmp(s, "pg") == 0 ? "" : s);
		b->o.now = dsim_clock_now();
	}
	dsim_log_info(b->o.repo, "backing up %s", src.label);
	return dsim_backup_create(&b->o, &src, &b->cli.out.sink, err);
}

/* restore: into the simulated database or a real one. */
static int
backup_restore(struct backup *b, const char *id, struct dsim_error *err)
{
	struct dsim_dbstream_target tgt;
	int sim = strcmp(b->target, "sim") == 0;

	if (backup_world(b, sim, sim, err) != 0)
		return err->code;
	if (sim) {
		dsim_simdb_target(&tgt, &b->cli.w, b->cli.st.dir);
		b->o.simulated = 1;
		b->o.now = b->cli.w.clock;
	} else
		dsim_pg_target(&tgt, strcmp(b->target, "pg") == 0 ? "" :
		    b->target);
	if (!sim)
		b->o.now = dsim_clock_now();
	dsim_log_info(b->o.repo, "restoring %s into %s", id, tgt.label);
	return dsim_restore_run(&b->o, id, &tgt, b->clean, &b->cli.out.sink,
	    err);
}

/* Run a command once its operands are checked. */
static int
backup_run(struct backup *b, const char *cmd, const char *id,
    struct dsim_error *err)
{
	struct dsim_sink *sink = &b->cli.out.sink;

	b->o.env = b->cli.env;
	b->o.program = b->cli.program;
	b->o.jobs = (int)b->jobs;
	if (strcmp(cmd, "create") == 0)
		return backup_create(b, err);
	if (strcmp(cmd, "restore") == 0)
		return backup_restore(b, id, err);
	if (backup_world(b, 0, 0, err) != 0)
		return err->code;
	b->o.now = b->cli.loaded ? b->cli.w.clock : dsim_clock_now();
	dsim_log_info(b->o.repo, "%s%s%s", cmd, b->o.copy_to != NULL ?
	    ", and the copy in " : "", b->o.copy_to != NULL ? b->o.copy_to :
	    "");
	if (strcmp(cmd, "list") == 0)
		return dsim_backup_list(&b->o, sink, err);
	if (strcmp(cmd, "verify") == 0)
		return dsim_restore_verify(&b->o, id, sink, err);
	if (strcmp(cmd, "prune") == 0)
		return dsim_backup_prune(&b->o, &b->policy, sink, err);
	return dsim_backup_pin(&b->o, id, strcmp(cmd, "unpin") == 0, sink,
	    err);
}

int
main(int argc, char **argv)
{
	struct backup b = { .jobs = 1, .policy = { -1, -1, -1, -1, -1, -1,
	    -1, 0 } };
	struct dsim_error err;
	int rc, argi, cmd;

	dsim_cli_init(&b.cli, argv[0]);
	/* A file-size limit must fail a write (74), not kill the program. */
	signal(SIGXFSZ, SIG_IGN);
	if ((rc = dsim_opt_parse(&backup_cmd, argc, argv, backup_option, &b,
	    &argi)) >= 0)
		return rc;
	if (argi >= argc)
		return dsim_log_usage("a command is needed: create, list, "
		    "verify, restore, prune, pin or unpin");
	if ((rc = backup_operands(&b, argc - argi, argv + argi, &cmd)) != 0)
		return rc;
	dsim_error_clear(&err);
	if ((rc = backup_run(&b, argv[argi], argi + 1 < argc ?
	    argv[argi + 1] : NULL, &err)) != 0)
		dsim_log_report(&err);
	return dsim_cli_finish(&b.cli, rc);
}
