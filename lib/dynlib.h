#ifndef DSIM_DYNLIB_H
#define DSIM_DYNLIB_H

#include <stddef.h>

/* A function to look up in a library, and where its address goes. */
struct dsim_dynlib_sym {
	const char	*name;
	void		*slot;		/* a pointer to a function pointer */
};

int	 dsim_dynlib_open(const char *, const struct dsim_dynlib_sym *,
	    size_t, char *, size_t);

#endif
