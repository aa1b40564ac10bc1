#ifndef DSIM_FAULT_H
#define DSIM_FAULT_H

#include "error.h"
#include "jsonl.h"
#include "world.h"

extern const char *const dsim_fault_amounts[];

int	 dsim_fault_kind(const char *);
int	 dsim_fault_hits(const struct dsim_fault *, const char *);
int	 dsim_fault_inject(struct dsim_world *, struct dsim_fault *,
	    struct dsim_error *);
int	 dsim_fault_clear(struct dsim_world *, uint32_t, struct dsim_fault *,
	    struct dsim_error *);
int	 dsim_fault_fails_release(struct dsim_world *, const char *);
int64_t	 dsim_fault_latency(const struct dsim_world *);
void	 dsim_fault_record(struct dsim_rec *, const struct dsim_world *,
	    const struct dsim_fault *, const char *);

#endif
