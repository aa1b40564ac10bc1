#ifndef DSIM_LOCKFILE_H
#define DSIM_LOCKFILE_H

#include <stddef.h>

#include "error.h"

#define DSIM_LOCKFILE_HELD	(-2)

int	 dsim_lockfile_take(const char *, int, const char *, char *, size_t,
	    struct dsim_error *);

#endif
