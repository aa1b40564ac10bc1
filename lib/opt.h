#ifndef DSIM_OPT_H
#define DSIM_OPT_H

#include <stdint.h>

#include "error.h"

/*
 * Every program describes its options in one table; getopt_long's array,
 * --help and the completions' word lists are all made from it.
 */
struct dsim_opt {
	int		 key;		/* a short option's letter, or >255 */
	const char	*name;		/* long name, without the dashes */
	const char	*arg;		/* the value's name; NULL: none */
	const char	*help;		/* one line for --help */
};

/* A program's description: what --help prints. */
struct dsim_cmd {
	const char	*name;		/* "dsim-deploy" */
	const char	*synopsis;	/* usage lines, newline separated */
	const char	*about;		/* one sentence */
	const struct dsim_opt *opts;	/* ends with a zeroed entry */
};

/* Takes one parsed option; returns 0 or an exit status with err filled. */
typedef int (*dsim_opt_fn)(void *, int, const char *, struct dsim_error *);

/* A count given as a number or as a percentage of a whole. */
struct dsim_amount {
	int		 percent;	/* 1 if the value was P% */
	uint64_t	 value;
};

int	 dsim_opt_parse(const struct dsim_cmd *, int, char **, dsim_opt_fn,
	    void *, int *);
int	 dsim_opt_uint(const char *, const char *, uint64_t, uint64_t,
	    uint64_t *, struct dsim_error *);
int	 dsim_opt_double(const char *, const char *, double, double, double *,
	    struct dsim_error *);
int	 dsim_opt_amount(const char *, const char *, struct dsim_amount *,
	    struct dsim_error *);
uint64_t dsim_opt_amount_of(const struct dsim_amount *, uint64_t, int);
int	 dsim_opt_name(const char *, const char *, struct dsim_error *);

#endif
