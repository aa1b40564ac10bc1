#ifndef DSIM_STORE_H
#define DSIM_STORE_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "world.h"

/*
 * The embedded state store: one directory per environment under the state
 * home, holding world.json (a snapshot, replaced whole by rename) and
 * journal.jsonl (every change, appended and synced before it counts).  A
 * world is its snapshot with the journal entries after it replayed, so a
 * change is whole or absent whenever the writer dies.  ENV.lock beside the
 * directory is held (flock) by the one command that may change the world.
 */
struct dsim_store {
	char		 home[PATH_MAX];	/* the state home */
	char		 dir[PATH_MAX];		/* home/ENV */
	char		 env[65];
	char		 program[64];		/* who changes it */
	char		 actor[128];
	int		 lockfd;		/* -1 unless the lock is held */
	uint64_t	 seq;			/* the last journal entry's */
	off_t		 journal_end;		/* after the last whole entry */
	uint64_t	 journal_line;		/* lines before journal_end */
	struct dsim_instance *base;		/* as last committed */
	size_t		 nbase;
};

int	 dsim_store_open(struct dsim_store *, const char *, const char *,
	    struct dsim_error *);
int	 dsim_store_lock(struct dsim_store *, int, struct dsim_error *);
int	 dsim_store_load(struct dsim_store *, struct dsim_world *,
	    struct dsim_error *);
int	 dsim_store_exists(const struct dsim_store *);
int	 dsim_store_require(const struct dsim_store *, struct dsim_error *);
int	 dsim_store_create(struct dsim_store *, struct dsim_world *,
	    struct dsim_error *);
int	 dsim_store_commit(struct dsim_store *, struct dsim_world *,
	    const char *, struct dsim_error *);
int	 dsim_store_save(struct dsim_store *, struct dsim_world *,
	    const char *, struct dsim_error *);
void	 dsim_store_close(struct dsim_store *);

#endif
