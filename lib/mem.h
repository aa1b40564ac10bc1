#ifndef DSIM_MEM_H
#define DSIM_MEM_H

#include <stddef.h>

void	*dsim_mem_grow(void *, size_t *, size_t, size_t);

#endif
