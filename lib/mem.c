#include "config.h"

#include <stdlib.h>

#include "mem.h"

/*
 * Make an array of elements of size hold at least want of them, doubling
 * its capacity *cap as needed; aborts when memory runs out.
 */
void *
dsim_mem_grow(void *p, size_t *cap, size_t want, size_t size)
{
	size_t n = *cap ? *cap : 16;

	if (want <= *cap)
		return p;
	while (n < want)
		n *= 2;
	if ((p = realloc(p, n * size)) == NULL)
		abort();
	*cap = n;
	return p;
}
