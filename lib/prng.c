#include "config.h"

#include <math.h>

#include "prng.h"

static uint64_t
prng_splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t
prng_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* Start the generator from a seed. */
void
dsim_prng_seed(struct dsim_prng *r, uint64_t seed)
{
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = prng_splitmix(&seed);
}

/* The next 64 random bits. */
uint64_t
dsim_prng_next(struct dsim_prng *r)
{
	uint64_t result = prng_rotl(r->s[1] * 5, 7) * 9;
	uint64_t t = r->s[1] << 17;

	r->s[2] ^= r->s[0];
	r->s[3] ^= r->s[1];
	r->s[1] ^= r->s[2];
	r->s[0] ^= r->s[3];
	r->s[2] ^= t;
	r->s[3] = prng_rotl(r->s[3], 45);
	return result;
}

/* A number in [0, 1). */
double
dsim_prng_uniform(struct dsim_prng *r)
{
	return (double)(dsim_prng_next(r) >> 11) * 0x1.0p-53;
}

/* A whole number in [0, n), without modulo bias; 0 when n is 0. */
uint64_t
dsim_prng_below(struct dsim_prng *r, uint64_t n)
{
	uint64_t x, limit;

	if (n == 0)
		return 0;
	limit = -n % n;
	do
		x = dsim_prng_next(r);
	while (x < limit);
	return x % n;
}

/* A standard normal deviate (Box-Muller, one of the pair). */
double
dsim_prng_normal(struct dsim_prng *r)
{
	double u = 1.0 - dsim_prng_uniform(r);
	double v = dsim_prng_uniform(r);

	return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}
