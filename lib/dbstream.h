#ifndef DSIM_DBSTREAM_H
#define DSIM_DBSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/*
 * The database layer as a backup sees it: a source that yields DDL and
 * each table's rows as a COPY text stream, all from one snapshot, and a
 * target that takes DDL and COPY streams inside one transaction.  The
 * simulated database (simdb.c) and a real PostgreSQL server (pg.c) both
 * implement it, so that the backup operations run the same code on both.
 */

/* Names are PostgreSQL identifiers (63 bytes); quoted, two fit 520. */
#define DSIM_DBSTREAM_NAME	128

/* One table of a source, as the backup copies it. */
struct dsim_dbstream_table {
	char		 schema[DSIM_DBSTREAM_NAME];
	char		 name[DSIM_DBSTREAM_NAME];
	char		 qualified[4 * DSIM_DBSTREAM_NAME + 8]; /* quoted */
	size_t		 index;		/* its place in the source's list */
	uint64_t	 rows;		/* counted while copying */
	uint64_t	 bytes;		/* of COPY text */
};

/* What a source says about itself once its snapshot is taken. */
struct dsim_dbstream_info {
	char		 server_version[64];
	char		 snapshot[64];	/* the snapshot the data was read in */
	char		*pre_data;	/* schema DDL, malloc'd */
	size_t		 pre_len;
	char		*post_data;	/* indexes, constraints, sequences */
	size_t		 post_len;
	struct dsim_dbstream_table *tables;	/* malloc'd */
	size_t		 ntables;
};

/* Takes a stretch of a table's COPY text; returns 0 or an exit status. */
typedef int (*dsim_dbstream_write_fn)(void *, const char *, size_t,
    struct dsim_error *);

/*
 * A database to back up.  begin takes the snapshot and lists the tables
 * for jobs workers; copy_out may then run on each worker, from its own
 * thread, at the same time as the others, while ddl fills in the DDL.
 */
struct dsim_dbstream_source {
	int		(*begin)(struct dsim_dbstream_source *, int,
			    struct dsim_dbstream_info *, struct dsim_error *);
	int		(*ddl)(struct dsim_dbstream_source *,
			    struct dsim_dbstream_info *, struct dsim_error *);
	int		(*copy_out)(struct dsim_dbstream_source *, int,
			    struct dsim_dbstream_table *,
			    dsim_dbstream_write_fn, void *,
			    struct dsim_error *);
	void		(*end)(struct dsim_dbstream_source *);
	void		*ctx;
	char		 label[512];	/* "sim", or the connection string */
};

/*
 * A database to restore into.  begin checks that it is empty (or, with
 * clean, empties it) inside the transaction that commit ends; exec runs
 * a section's DDL ("pre-data", "post-data"); end rolls back whatever was
 * not committed and lets go.
 */
struct dsim_dbstream_target {
	int		(*begin)(struct dsim_dbstream_target *, int,
			    struct dsim_error *);
	int		(*exec)(struct dsim_dbstream_target *, const char *,
			    const char *, size_t, struct dsim_error *);
	int		(*copy_begin)(struct dsim_dbstream_target *,
			    const char *, const char *, struct dsim_error *);
	int		(*copy_data)(struct dsim_dbstream_target *,
			    const char *, size_t, struct dsim_error *);
	int		(*copy_end)(struct dsim_dbstream_target *,
			    const char *, uint64_t *, struct dsim_error *);
	int		(*commit)(struct dsim_dbstream_target *,
			    struct dsim_error *);
	void		(*end)(struct dsim_dbstream_target *);
	void		*ctx;
	char		 label[512];
};

void	 dsim_dbstream_info_free(struct dsim_dbstream_info *);
void	 dsim_dbstream_qualify(struct dsim_dbstream_table *);

#endif
