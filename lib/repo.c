#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lockfile.h"
#include "repo.h"

/* Make a directory and its parents. */
static int
repo_mkdirs(const char *path, struct dsim_error *err)
{
	char buf[PATH_MAX], *p;
	char c;

	snprintf(buf, sizeof buf, "%s", path);
	for (p = buf + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		c = *p;
		*p = '\0';
		if (mkdir(buf, 0755) == -1 && errno != EEXIST)
			return dsim_error_errno(err, DSIM_EX_CANTCREAT, buf,
			    "cannot create directory");
		if ((*p = c) == '\0')
			break;
	}
	return 0;
}

/*
 * Open the repository in dir, making it when create is set; a missing one
 * is 66 otherwise.
 */
int
dsim_repo_open(struct dsim_repo *r, const char *dir, int create,
    struct dsim_error *err)
{
	struct stat sb;

	r->lockfd = r->readfd = -1;
	if (strlen(dir) >= sizeof r->dir - 80)
		return dsim_error_set(err, DSIM_EX_USAGE, dir,
		    "path is too long");
	snprintf(r->dir, sizeof r->dir, "%s", dir);
	if (create && repo_mkdirs(dir, err) != 0)
		return err->code;
	if (stat(dir, &sb) == -1)
		return dsim_error_errno(err, errno == ENOENT ?
		    DSIM_EX_NOINPUT : DSIM_EX_IOERR, dir, "no repository");
	if (!S_ISDIR(sb.st_mode))
		return dsim_error_set(err, DSIM_EX_NOINPUT, dir,
		    "no repository: not a directory");
	return 0;
}

/* The path of name inside the repository. */
int
dsim_repo_path(const struct dsim_repo *r, const char *name, char *buf,
    size_t len, struct dsim_error *err)
{
	int n = snprintf(buf, len, "%s/%s", r->dir, name);

	if (n < 0 || (size_t)n >= len)
		return dsim_error_set(err, DSIM_EX_USAGE, r->dir,
		    "path is too long");
	return 0;
}

/*
 * Take the repository's lock for program, at once: 75 naming the holder
 * when another run has it, as when cron starts a backup over a slow one.
 */
int
dsim_repo_lock(struct dsim_repo *r, const char *program,
    struct dsim_error *err)
{
	char path[PATH_MAX], holder[256], held[256];
	int fd;

	if (dsim_repo_path(r, ".lock", path, sizeof path, err) != 0)
		return err->code;
	snprintf(holder, sizeof holder, "%s (pid %ld)\n", program,
	    (long)getpid());
	fd = dsim_lockfile_take(path, 0, holder, held, sizeof held, err);
	if (fd == DSIM_LOCKFILE_HELD)
		return dsim_error_set(err, DSIM_EX_TEMPFAIL, r->dir,
		    "repository is locked by %s; try again later",
		    *held ? held : "another run");
	if (fd < 0)
		return err->code;
	r->lockfd = fd;
	return 0;
}

/*
 * Hold the readers' lock: shared (waiting for a prune to end) to read
 * backups, or with remove, whole and at once (75 while anything reads).
 * A repository we may not write to is only read: no lock is needed.
 */
int
dsim_repo_read(struct dsim_repo *r, int remove, struct dsim_error *err)
{
	char path[PATH_MAX];
	int fd;

	if (dsim_repo_path(r, ".readers", path, sizeof path, err) != 0)
		return err->code;
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1) {
		if (!remove && (errno == EACCES || errno == EROFS))
			return 0;
		return dsim_error_errno(err, DSIM_EX_CANTCREAT, path,
		    "cannot open lock");
	}
	while (flock(fd, remove ? LOCK_EX | LOCK_NB : LOCK_SH) == -1) {
		if (errno == EINTR)
			continue;
		close(fd);
		if (errno == EWOULDBLOCK)
			return dsim_error_set(err, DSIM_EX_TEMPFAIL, r->dir,
			    "a restore or verify is reading the repository; "
			    "try again later");
		return dsim_error_errno(err, DSIM_EX_IOERR, path, "lock");
	}
	r->readfd = fd;
	return 0;
}

/* Release the locks that are held. */
void
dsim_repo_close(struct dsim_repo *r)
{
	if (r->lockfd != -1)
		close(r->lockfd);
	if (r->readfd != -1)
		close(r->readfd);
	r->lockfd = r->readfd = -1;
}

/* Whether s ends with suffix. */
static int
repo_has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Sync the repository directory, so that renames in it last. */
static int
repo_sync_dir(struct dsim_repo *r, struct dsim_error *err)
{
	int fd = open(r->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd == -1 || fsync(fd) == -1) {
		dsim_error_errno(err, DSIM_EX_IOERR, r->dir, "fsync");
		if (fd != -1)
			close(fd);
		return err->code;
	}
	close(fd);
	return 0;
}

/*
 * Remove the temporary files that interrupted runs left.  An archive
 * whose manifest was never written (a run killed between the two
 * renames) is not a backup, but it is left for the operator: nothing
 * here deletes what might be someone's only copy.  Only the lock holder
 * may call this.
 */
int
dsim_repo_clean(struct dsim_repo *r, struct dsim_error *err)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if ((d = opendir(r->dir)) == NULL)
		return dsim_error_errno(err, DSIM_EX_IOERR, r->dir, "opendir");
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.' || !repo_has_suffix(de->d_name,
		    ".tmp"))
			continue;
		if (dsim_repo_path(r, de->d_name, path, sizeof path, err) ==
		    0 && unlink(path) == -1 && errno != ENOENT) {
			dsim_error_errno(err, DSIM_EX_IOERR, path, "unlink");
			closedir(d);
			return err->code;
		}
	}
	closedir(d);
	return 0;
}

/* Create a temporary file for name in the repository; path and fd out. */
int
dsim_repo_temp(struct dsim_repo *r, const char *name, char *path,
    size_t len, int *fd, struct dsim_error *err)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof tmp, ".%s.%ld.tmp", name, (long)getpid());
	if (dsim_repo_path(r, tmp, path, len, err) != 0)
		return err->code;
	*fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (*fd == -1)
		return dsim_error_errno(err, DSIM_EX_CANTCREAT, path,
		    "cannot create");
	return 0;
}

/* Rename a synced temporary file to name, and sync the directory. */
int
dsim_repo_commit(struct dsim_repo *r, const char *tmp, const char *name,
    struct dsim_error *err)
{
	char path[PATH_MAX];

	if (dsim_repo_path(r, name, path, sizeof path, err) != 0)
		return err->code;
	if (rename(tmp, path) == -1)
		return dsim_error_errno(err, DSIM_EX_IOERR, path, "rename");
	return repo_sync_dir(r, err);
}

/* Write a small file whole: temporary name, fsync, rename. */
int
dsim_repo_write(struct dsim_repo *r, const char *name, const char *buf,
    size_t len, struct dsim_error *err)
{
	char tmp[PATH_MAX];
	ssize_t n;
	int fd;

	if (dsim_repo_temp(r, name, tmp, sizeof tmp, &fd, err) != 0)
		return err->code;
	while (len > 0 && (n = write(fd, buf, len)) > 0) {
		buf += n;
		len -= (size_t)n;
	}
	if (len > 0 || fsync(fd) == -1) {
		dsim_error_errno(err, DSIM_EX_IOERR, tmp, "write");
		close(fd);
		unlink(tmp);
		return err->code;
	}
	close(fd);
	if (dsim_repo_commit(r, tmp, name, err) != 0) {
		unlink(tmp);
		return err->code;
	}
	return 0;
}

/* Copy the bytes of one open file to another. */
static int
repo_copy_fd(int in, int out)
{
	char buf[1 << 16];
	ssize_t n, w;
	char *p;

	while ((n = read(in, buf, sizeof buf)) != 0) {
		if (n == -1)
			return -1;
		for (p = buf; n > 0; p += w, n -= w)
			if ((w = write(out, p, (size_t)n)) == -1)
				return -1;
	}
	return fsync(out);
}

/* Copy file name from one repository to another, crash-safely. */
int
dsim_repo_copy(struct dsim_repo *from, struct dsim_repo *to, const char *name,
    struct dsim_error *err)
{
	char src[PATH_MAX], tmp[PATH_MAX];
	int in, out;

	if (dsim_repo_path(from, name, src, sizeof src, err) != 0)
		return err->code;
	if ((in = open(src, O_RDONLY | O_CLOEXEC)) == -1)
		return dsim_error_errno(err, DSIM_EX_IOERR, src, "open");
	if (dsim_repo_temp(to, name, tmp, sizeof tmp, &out, err) != 0) {
		close(in);
		return err->code;
	}
	if (repo_copy_fd(in, out) == -1) {
		dsim_error_errno(err, DSIM_EX_IOERR, tmp, "copy");
		close(in);
		close(out);
		unlink(tmp);
		return err->code;
	}
	close(in);
	close(out);
	if (dsim_repo_commit(to, tmp, name, err) != 0) {
		unlink(tmp);
		return err->code;
	}
	return 0;
}

/* Whether the repository holds a file called name. */
int
dsim_repo_exists(const struct dsim_repo *r, const char *name)
{
	char path[PATH_MAX];

	if (dsim_repo_path(r, name, path, sizeof path, NULL) != 0)
		return 0;
	return access(path, F_OK) == 0;
}

/* Check that a backup id is one this program could have made. */
int
dsim_repo_id_check(const char *id, struct dsim_error *err)
{
	const char *p;

	if (*id == '\0' || strlen(id) >= DSIM_REPO_ID)
		return dsim_error_set(err, DSIM_EX_USAGE, id,
		    "not a backup id");
	for (p = id; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '-')
			return dsim_error_set(err, DSIM_EX_USAGE, id,
			    "not a backup id (letters, digits and '-' only)");
	return 0;
}

/* Read one manifest into an entry; 0, or -1 when it is not one. */
static int
repo_load(struct dsim_repo *r, const char *name, struct dsim_repo_entry *e)
{
	char path[PATH_MAX], marker[DSIM_REPO_ID + 16];
	const char *id, *created;
	json_error_t jerr;

	memset(e, 0, sizeof *e);
	if (dsim_repo_path(r, name, path, sizeof path, NULL) != 0 ||
	    (e->manifest = json_load_file(path, 0, &jerr)) == NULL)
		return -1;
	if (json_unpack(e->manifest, "{s:s, s:s}", "id", &id, "created",
	    &created) != 0 || dsim_repo_id_check(id, NULL) != 0 ||
	    strncmp(name, id, strlen(id)) != 0 ||
	    strcmp(name + strlen(id), ".json") != 0 ||
	    dsim_clock_parse(created, &e->created) != 0) {
		json_decref(e->manifest);
		return -1;
	}
	snprintf(e->id, sizeof e->id, "%s", id);
	snprintf(marker, sizeof marker, "%s.pin", id);
	e->pinned = dsim_repo_exists(r, marker);
	snprintf(marker, sizeof marker, "%s.damaged", id);
	e->damaged = dsim_repo_exists(r, marker);
	return 0;
}

/* Order backups by creation time, then id. */
static int
repo_cmp(const void *a, const void *b)
{
	const struct dsim_repo_entry *x = a, *y = b;

	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	if (strlen(x->id) != strlen(y->id))
		return strlen(x->id) < strlen(y->id) ? -1 : 1;
	return strcmp(x->id, y->id);
}

/*
 * Read every backup's manifest, oldest first.  Files that are not
 * manifests, or not readable ones, are not backups and are passed over.
 */
int
dsim_repo_scan(struct dsim_repo *r, struct dsim_repo_entry **out,
    size_t *n, struct dsim_error *err)
{
	struct dsim_repo_entry *v = NULL;
	size_t len = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	if ((d = opendir(r->dir)) == NULL)
		return dsim_error_errno(err, DSIM_EX_IOERR, r->dir, "opendir");
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || !repo_has_suffix(de->d_name,
		    ".json"))
			continue;
		if (len == cap && (v = realloc(v, (cap = cap ? 2 * cap : 16) *
		    sizeof *v)) == NULL)
			abort();
		if (repo_load(r, de->d_name, &v[len]) == 0)
			len++;
	}
	closedir(d);
	if (len > 0)
		qsort(v, len, sizeof *v, repo_cmp);
	*out = v;
	*n = len;
	return 0;
}

/* Free what dsim_repo_scan returned. */
void
dsim_repo_free_entries(struct dsim_repo_entry *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		json_decref(v[i].manifest);
	free(v);
}

/* The entry with this id, or NULL. */
struct dsim_repo_entry *
dsim_repo_find(struct dsim_repo_entry *v, size_t n, const char *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i].id, id) == 0)
			return &v[i];
	return NULL;
}

/* Put a marker (".pin", ".damaged") for a backup, holding text. */
int
dsim_repo_mark(struct dsim_repo *r, const char *id, const char *suffix,
    const char *text, struct dsim_error *err)
{
	char name[DSIM_REPO_ID + 16];

	snprintf(name, sizeof name, "%s%s", id, suffix);
	return dsim_repo_write(r, name, text, strlen(text), err);
}

/* Take a marker away; its absence is no error. */
int
dsim_repo_unmark(struct dsim_repo *r, const char *id, const char *suffix,
    struct dsim_error *err)
{
	char name[DSIM_REPO_ID + 16], path[PATH_MAX];

	snprintf(name, sizeof name, "%s%s", id, suffix);
	if (dsim_repo_path(r, name, path, sizeof path, err) != 0)
		return err->code;
	if (unlink(path) == -1 && errno != ENOENT)
		return dsim_error_errno(err, DSIM_EX_IOERR, path, "unlink");
	return 0;
}

/*
 * Remove a backup: its manifest first (so that it is no longer listed
 * even if the rest fails), then its archive and markers.
 */
int
dsim_repo_remove(struct dsim_repo *r, const char *id, const char *archive,
    struct dsim_error *err)
{
	char name[DSIM_REPO_ID + 16], path[PATH_MAX];
	const char *const suffixes[] = { ".json", "", ".pin", ".damaged",
	    NULL };
	int i;

	for (i = 0; suffixes[i] != NULL; i++) {
		if (*suffixes[i] == '\0')
			snprintf(name, sizeof name, "%s", archive);
		else
			snprintf(name, sizeof name, "%s%s", id, suffixes[i]);
		if (dsim_repo_path(r, name, path, sizeof path, err) != 0)
			return err->code;
		if (unlink(path) == -1 && errno != ENOENT)
			return dsim_error_errno(err, DSIM_EX_IOERR, path,
			    "unlink");
	}
	return repo_sync_dir(r, err);
}
