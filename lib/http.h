#ifndef DSIM_HTTP_H
#define DSIM_HTTP_H

#include <stddef.h>

#include "error.h"

/* What a server answered: its status and body (NUL-terminated). */
struct dsim_http_reply {
	long		 status;
	char		*body;
	size_t		 len;
};

void	 dsim_http_init(void);
int	 dsim_http_request(const char *, const char *, const char *,
	    const char *, size_t, long, struct dsim_http_reply *,
	    struct dsim_error *);
int	 dsim_http_mail(const char *, const char *, const char *const *,
	    size_t, const char *, size_t, long, struct dsim_error *);
void	 dsim_http_reply_free(struct dsim_http_reply *);
void	 dsim_http_redact(const char *, char *, size_t);

#endif
