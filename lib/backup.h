#ifndef DSIM_BACKUP_H
#define DSIM_BACKUP_H

#include <stdint.h>

#include "clock.h"
#include "dbstream.h"
#include "error.h"
#include "jsonl.h"
#include "repo.h"

#define DSIM_BACKUP_FORMAT	"dsim-backup/1"

/* Where backups go and how they are made: what every operation needs. */
struct dsim_backup_opts {
	const char	*repo;		/* the repository directory */
	const char	*copy_to;	/* the second repository, or NULL */
	const char	*env;		/* for records */
	const char	*program;	/* named in the repository's lock */
	int		 compression;	/* enum dsim_tarball_compression */
	int		 jobs;		/* connections copying at once */
	int		 simulated;	/* times come from the world's clock */
	int		 repo_given;	/* a missing repository is an error */
	dsim_ms		 now;		/* the clock records are dated by */
};

/* What prune keeps; -1 leaves a rule out, as restic's forget does. */
struct dsim_backup_policy {
	int64_t		 last;
	int64_t		 hourly;
	int64_t		 daily;
	int64_t		 weekly;
	int64_t		 monthly;
	int64_t		 yearly;
	dsim_ms		 within;	/* of the newest backup's time */
	int		 dry_run;
};

int	 dsim_backup_create(const struct dsim_backup_opts *,
	    struct dsim_dbstream_source *, struct dsim_sink *,
	    struct dsim_error *);
int	 dsim_backup_list(const struct dsim_backup_opts *, struct dsim_sink *,
	    struct dsim_error *);
int	 dsim_backup_pin(const struct dsim_backup_opts *, const char *, int,
	    struct dsim_sink *, struct dsim_error *);
void	 dsim_backup_record(struct dsim_rec *, const struct dsim_backup_opts *,
	    const struct dsim_repo_entry *);
const char *dsim_backup_archive(const struct dsim_repo_entry *);
int	 dsim_backup_prune(const struct dsim_backup_opts *,
	    const struct dsim_backup_policy *, struct dsim_sink *,
	    struct dsim_error *);

#endif
