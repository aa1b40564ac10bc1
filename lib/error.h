#ifndef DSIM_ERROR_H
#define DSIM_ERROR_H

/*
 * Exit status, as DESIGN.md section 7 and every man page's EXIT STATUS
 * section list them.  The library returns these in struct dsim_error; only
 * a program turns one into its exit status.
 */
enum dsim_exit {
	DSIM_EX_OK = 0,
	DSIM_EX_FAILED = 1,		/* the operation ran and failed */
	DSIM_EX_USAGE = 64,
	DSIM_EX_DATAERR = 65,
	DSIM_EX_NOINPUT = 66,
	DSIM_EX_UNAVAILABLE = 69,
	DSIM_EX_CANTCREAT = 73,
	DSIM_EX_IOERR = 74,
	DSIM_EX_TEMPFAIL = 75,
	DSIM_EX_NOPERM = 77,
	DSIM_EX_CONFIG = 78
};

/* What went wrong, filled by the library, reported by the program. */
struct dsim_error {
	int	 code;			/* an enum dsim_exit value */
	char	 subject[512];		/* what it is about: a file, a name */
	char	 reason[512];		/* why, lower case, no final period */
};

#define DSIM_PRINTF(f, a) __attribute__((format(printf, f, a)))

int	 dsim_error_set(struct dsim_error *, int, const char *,
	    const char *, ...) DSIM_PRINTF(4, 5);
int	 dsim_error_errno(struct dsim_error *, int, const char *,
	    const char *);
void	 dsim_error_clear(struct dsim_error *);

#endif
