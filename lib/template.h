#ifndef DSIM_TEMPLATE_H
#define DSIM_TEMPLATE_H

#include <jansson.h>

#include "error.h"

json_t	*dsim_template_load(const char *, struct dsim_error *);
const char *dsim_template_dir(void);

#endif
