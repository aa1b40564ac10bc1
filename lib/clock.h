#ifndef DSIM_CLOCK_H
#define DSIM_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Milliseconds since the Unix epoch, UTC: the simulated or the wall clock. */
typedef int64_t dsim_ms;

#define DSIM_CLOCK_LEN	sizeof("2026-12-03T12:00:00.000Z")

void	 dsim_clock_format(dsim_ms, char *);
int	 dsim_clock_parse(const char *, dsim_ms *);
int	 dsim_clock_parse_duration(const char *, dsim_ms *);
dsim_ms	 dsim_clock_now(void);
int	 dsim_clock_sleep(dsim_ms);

#endif
