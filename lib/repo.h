#ifndef DSIM_REPO_H
#define DSIM_REPO_H

#include <limits.h>
#include <stddef.h>

#include <jansson.h>

#include "clock.h"
#include "error.h"

#define DSIM_REPO_ID	64

/*
 * A backup repository: a directory of archives, each with its manifest
 * beside it (ID.json, written last, so that only whole backups have one),
 * marker files ID.pin and ID.damaged, and two locks: .lock, which the one
 * command that adds or removes backups holds, and .readers, which verify
 * and restore share and prune takes whole, so that no backup is removed
 * while it is read.  Work in progress has a name that starts with a dot
 * and ends in .tmp; nothing else reads such files.
 */
struct dsim_repo {
	char		 dir[PATH_MAX];
	int		 lockfd;	/* -1 unless the lock is held */
	int		 readfd;	/* -1 unless .readers is held */
};

/* One backup found in a repository, from its manifest. */
struct dsim_repo_entry {
	char		 id[DSIM_REPO_ID];
	dsim_ms		 created;
	json_t		*manifest;	/* the whole ID.json */
	int		 pinned;	/* ID.pin exists */
	int		 damaged;	/* ID.damaged exists */
};

int	 dsim_repo_open(struct dsim_repo *, const char *, int,
	    struct dsim_error *);
int	 dsim_repo_lock(struct dsim_repo *, const char *, struct dsim_error *);
int	 dsim_repo_read(struct dsim_repo *, int, struct dsim_error *);
void	 dsim_repo_close(struct dsim_repo *);
int	 dsim_repo_path(const struct dsim_repo *, const char *, char *,
	    size_t, struct dsim_error *);
int	 dsim_repo_clean(struct dsim_repo *, struct dsim_error *);
int	 dsim_repo_temp(struct dsim_repo *, const char *, char *, size_t,
	    int *, struct dsim_error *);
int	 dsim_repo_commit(struct dsim_repo *, const char *, const char *,
	    struct dsim_error *);
int	 dsim_repo_write(struct dsim_repo *, const char *, const char *,
	    size_t, struct dsim_error *);
int	 dsim_repo_copy(struct dsim_repo *, struct dsim_repo *, const char *,
	    struct dsim_error *);
int	 dsim_repo_exists(const struct dsim_repo *, const char *);
int	 dsim_repo_scan(struct dsim_repo *, struct dsim_repo_entry **,
	    size_t *, struct dsim_error *);
void	 dsim_repo_free_entries(struct dsim_repo_entry *, size_t);
struct dsim_repo_entry *dsim_repo_find(struct dsim_repo_entry *, size_t,
	    const char *);
int	 dsim_repo_mark(struct dsim_repo *, const char *, const char *,
	    const char *, struct dsim_error *);
int	 dsim_repo_unmark(struct dsim_repo *, const char *, const char *,
	    struct dsim_error *);
int	 dsim_repo_remove(struct dsim_repo *, const char *, const char *,
	    struct dsim_error *);
int	 dsim_repo_id_check(const char *, struct dsim_error *);

#endif
