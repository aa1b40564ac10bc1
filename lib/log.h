#ifndef DSIM_LOG_H
#define DSIM_LOG_H

#include "error.h"

/* How much a program says on stderr. */
enum dsim_verbosity {
	DSIM_LOG_QUIET = -1,	/* -q: errors only */
	DSIM_LOG_NORMAL = 0,
	DSIM_LOG_VERBOSE = 1	/* -v: progress and decisions */
};

void	 dsim_log_init(const char *);
const char *dsim_log_program(void);
void	 dsim_log_set_verbosity(int);
int	 dsim_log_verbosity(void);
void	 dsim_log_error(const char *, const char *, ...) DSIM_PRINTF(2, 3);
void	 dsim_log_warn(const char *, const char *, ...) DSIM_PRINTF(2, 3);
void	 dsim_log_info(const char *, const char *, ...) DSIM_PRINTF(2, 3);
int	 dsim_log_report(const struct dsim_error *);
int	 dsim_log_usage(const char *, ...) DSIM_PRINTF(1, 2);

#endif
