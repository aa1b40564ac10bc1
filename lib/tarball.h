#ifndef DSIM_TARBALL_H
#define DSIM_TARBALL_H

#include <stdint.h>
#include <sys/types.h>

#include "clock.h"
#include "error.h"
#include "sha256.h"

/* How an archive is compressed. */
enum dsim_tarball_compression {
	DSIM_TARBALL_ZSTD,
	DSIM_TARBALL_GZIP,
	DSIM_TARBALL_NONE
};

/*
 * A tar archive written or read through libarchive, with a SHA-256 of
 * the file's own bytes kept as they pass.
 */
struct dsim_tarball;

extern const char *const dsim_tarball_compressions[];
extern const char *const dsim_tarball_suffixes[];

int	 dsim_tarball_compression(const char *);
int	 dsim_tarball_create(struct dsim_tarball **, int, const char *, int,
	    int, dsim_ms, struct dsim_error *);
int	 dsim_tarball_add(struct dsim_tarball *, const char *, const void *,
	    size_t, struct dsim_error *);
int	 dsim_tarball_finish(struct dsim_tarball *, char *, uint64_t *,
	    struct dsim_error *);
int	 dsim_tarball_open(struct dsim_tarball **, const char *,
	    struct dsim_error *);
int	 dsim_tarball_next(struct dsim_tarball *, const char **, uint64_t *,
	    struct dsim_error *);
ssize_t	 dsim_tarball_read(struct dsim_tarball *, void *, size_t,
	    struct dsim_error *);
int	 dsim_tarball_drain(struct dsim_tarball *, char *, uint64_t *,
	    struct dsim_error *);
void	 dsim_tarball_free(struct dsim_tarball *);

#endif
