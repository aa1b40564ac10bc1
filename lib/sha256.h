#ifndef DSIM_SHA256_H
#define DSIM_SHA256_H

#include <stddef.h>

#define DSIM_SHA256_HEX	65	/* 64 hex digits and the NUL */

/* A SHA-256 being computed (OpenSSL's libcrypto does the work). */
struct dsim_sha256 {
	void		*ctx;
};

void	 dsim_sha256_init(struct dsim_sha256 *);
void	 dsim_sha256_update(struct dsim_sha256 *, const void *, size_t);
void	 dsim_sha256_final(struct dsim_sha256 *, char *);
void	 dsim_sha256_free(struct dsim_sha256 *);
void	 dsim_sha256_hex(const void *, size_t, char *);
int	 dsim_sha256_file(const char *, char *);

#endif
