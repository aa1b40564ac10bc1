#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "opt.h"

/* The commands dsim knows, for dsim help. */
static const struct {
	const char	*name;
	const char	*about;
} dsim_commands[] = {
	{ "init", "create an environment's world from a template" },
	{ "status", "show the world: topology, versions, health, clock" },
	{ "deploy", "roll a new version out, rolling back on failure" },
	{ "rollback", "return to the previous or a named revision" },
	{ "chaos", "inject, list and clear faults" },
	{ "metrics", "sample CPU, memory, disk and network" },
	{ "alert", "evaluate alerting rules and send notifications" },
	{ "backup", "create, verify, restore and prune database backups" },
	{ NULL, NULL }
};

static const struct dsim_opt dsim_opts[] = {
	{ 0, NULL, NULL, NULL }
};

static const struct dsim_cmd dsim_cmd = {
	"dsim",
	"COMMAND [ARGS...]\nhelp [COMMAND]",
	"Run a dsim command: dsim deploy ... runs dsim-deploy ....",
	dsim_opts
};

static int
dsim_no_option(void *arg, int key, const char *val, struct dsim_error *err)
{
	(void)arg;
	(void)key;
	(void)val;
	return dsim_error_set(err, DSIM_EX_USAGE, NULL, "unhandled option");
}

/* Exec dsim-NAME from beside this program, the install's bin, or PATH. */
static int
dsim_exec(const char *name, char **argv)
{
	char prog[128], self[PATH_MAX], path[PATH_MAX + 160], *slash;
	ssize_t n;

	snprintf(prog, sizeof prog, "dsim-%s", name);
	argv[0] = prog;
	if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			snprintf(path, sizeof path, "%s/%s", self, prog);
			execv(path, argv);
		}
	}
	snprintf(path, sizeof path, "%s/%s", DSIM_LIBEXECDIR, prog);
	execv(path, argv);
	execvp(prog, argv);
	if (errno == ENOENT)
		return dsim_log_usage("'%s' is not a dsim command (see dsim "
		    "help)", name);
	dsim_log_error(prog, "cannot run: %s", strerror(errno));
	return DSIM_EX_UNAVAILABLE;
}

static int
dsim_help(void)
{
	int i;

	printf("usage: dsim COMMAND [ARGS...]\n\ncommands:\n");
	for (i = 0; dsim_commands[i].name != NULL; i++)
		printf("  %-10s %s\n", dsim_commands[i].name,
		    dsim_commands[i].about);
	printf("\n'dsim help COMMAND' shows a command's options.\n");
	return 0;
}

int
main(int argc, char **argv)
{
	char *help[] = { NULL, (char *)"--help", NULL };
	int rc, argi;

	dsim_log_init(argv[0]);
	if ((rc = dsim_opt_parse(&dsim_cmd, argc > 1 ? 2 : argc, argv,
	    dsim_no_option, NULL, &argi)) >= 0)
		return rc;
	if (argi >= argc)
		return dsim_log_usage("a command is needed (see dsim help)");
	if (strcmp(argv[argi], "help") == 0) {
		if (argi + 1 >= argc)
			return dsim_help();
		return dsim_exec(argv[argi + 1], help);
	}
	return dsim_exec(argv[argi], argv + argi);
}
