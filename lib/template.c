#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "template.h"

/* Where share/dsim is: $DSIM_DATADIR, else where it was installed. */
const char *
dsim_template_dir(void)
{
	const char *v = getenv("DSIM_DATADIR");

	return v != NULL && *v != '\0' ? v : DSIM_DATADIR;
}

/*
 * Load the template of environment name from share/dsim/environments;
 * 64 when there is no such environment, 78 when it cannot be read.
 */
json_t *
dsim_template_load(const char *name, struct dsim_error *err)
{
	char path[PATH_MAX], subject[PATH_MAX + 32];
	json_error_t jerr;
	json_t *t;

	snprintf(path, sizeof path, "%s/environments/%s.json",
	    dsim_template_dir(), name);
	if (access(path, R_OK) == -1) {
		if (errno == ENOENT)
			dsim_error_set(err, DSIM_EX_USAGE, "--env",
			    "no template for environment '%s' (production or "
			    "development)", name);
		else
			dsim_error_errno(err, DSIM_EX_CONFIG, path, NULL);
		return NULL;
	}
	if ((t = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		snprintf(subject, sizeof subject, "%s:%d:%d", path, jerr.line,
		    jerr.column);
		dsim_error_set(err, DSIM_EX_CONFIG, subject, "%s", jerr.text);
		return NULL;
	}
	if (!json_is_object(t)) {
		json_decref(t);
		dsim_error_set(err, DSIM_EX_CONFIG, path,
		    "a template must be a JSON object");
		return NULL;
	}
	return t;
}
