#ifndef DSIM_PRNG_H
#define DSIM_PRNG_H

#include <stdint.h>

/*
 * The simulation's only source of chance: xoshiro256** seeded through
 * splitmix64.  Its state is saved in the world, so that a run continued
 * by the next command draws what one long run would have drawn.
 */
struct dsim_prng {
	uint64_t	 s[4];
};

void	 dsim_prng_seed(struct dsim_prng *, uint64_t);
uint64_t dsim_prng_next(struct dsim_prng *);
double	 dsim_prng_uniform(struct dsim_prng *);
uint64_t dsim_prng_below(struct dsim_prng *, uint64_t);
double	 dsim_prng_normal(struct dsim_prng *);

#endif
