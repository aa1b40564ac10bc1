#ifndef DSIM_PG_H
#define DSIM_PG_H

#include <stddef.h>

#include "dbstream.h"
#include "error.h"

void	 dsim_pg_display(const char *, char *, size_t);
void	 dsim_pg_source(struct dsim_dbstream_source *, const char *);
void	 dsim_pg_target(struct dsim_dbstream_target *, const char *);

#endif
