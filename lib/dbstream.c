#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "dbstream.h"

/* Free what a source's begin allocated in info. */
void
dsim_dbstream_info_free(struct dsim_dbstream_info *info)
{
	free(info->pre_data);
	free(info->post_data);
	free(info->tables);
	memset(info, 0, sizeof *info);
}

/* Append name as a double-quoted SQL identifier to out. */
static char *
dbstream_quote(char *out, const char *name)
{
	*out++ = '"';
	for (; *name != '\0'; name++) {
		if (*name == '"')
			*out++ = '"';
		*out++ = *name;
	}
	*out++ = '"';
	*out = '\0';
	return out;
}

/* Set a table's qualified name, "schema"."name", from its two parts. */
void
dsim_dbstream_qualify(struct dsim_dbstream_table *t)
{
	char *p;

	/* Each part is under 128 bytes: quoted, at most 2 * 127 + 2. */
	p = dbstream_quote(t->qualified, t->schema);
	*p++ = '.';
	dbstream_quote(p, t->name);
}
