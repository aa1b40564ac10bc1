#ifndef DSIM_RESTORE_H
#define DSIM_RESTORE_H

#include <jansson.h>

#include "backup.h"
#include "dbstream.h"
#include "error.h"
#include "jsonl.h"

int	 dsim_restore_verify(const struct dsim_backup_opts *, const char *,
	    struct dsim_sink *, struct dsim_error *);
int	 dsim_restore_run(const struct dsim_backup_opts *, const char *,
	    struct dsim_dbstream_target *, int, struct dsim_sink *,
	    struct dsim_error *);

#endif
