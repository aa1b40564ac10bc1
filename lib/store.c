#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lockfile.h"
#include "snapshot.h"
#include "store.h"

#define STORE_FORMAT	"dsim-world/1"

/* Find the state home: $DSIM_HOME, $XDG_STATE_HOME/dsim, ~/.local/state. */
static int
store_home(char *buf, size_t len, struct dsim_error *err)
{
	const char *v;
	struct passwd *pw;
	int n;

	if ((v = getenv("DSIM_HOME")) != NULL && *v != '\0')
		n = snprintf(buf, len, "%s", v);
	else if ((v = getenv("XDG_STATE_HOME")) != NULL && *v == '/')
		n = snprintf(buf, len, "%s/dsim", v);
	else {
		if ((v = getenv("HOME")) == NULL || *v == '\0')
			v = (pw = getpwuid(getuid())) ? pw->pw_dir : NULL;
		if (v == NULL)
			return dsim_error_set(err, DSIM_EX_CONFIG, "DSIM_HOME",
			    "no state directory: set DSIM_HOME or HOME");
		n = snprintf(buf, len, "%s/.local/state/dsim", v);
	}
	if (n < 0 || (size_t)n >= len)
		return dsim_error_set(err, DSIM_EX_CONFIG, "DSIM_HOME",
		    "path is too long");
	return 0;
}

/* Make a directory and its parents. */
static int
store_mkdirs(const char *path, struct dsim_error *err)
{
	char buf[PATH_MAX], *p;

	snprintf(buf, sizeof buf, "%s", path);
	for (p = buf + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(buf, 0755) == -1 && errno != EEXIST)
			return dsim_error_errno(err, DSIM_EX_CANTCREAT, buf,
			    "cannot create directory");
		if ((*p = c) == '\0')
			break;
	}
	return 0;
}

static void
store_actor(struct dsim_store *st)
{
	const char *v = getenv("DSIM_ACTOR");
	struct passwd *pw;
	char host[64];

	if (v != NULL && *v != '\0') {
		snprintf(st->actor, sizeof st->actor, "%s", v);
		return;
	}
	if (gethostname(host, sizeof host) == -1)
		strcpy(host, "localhost");
	host[sizeof host - 1] = '\0';
	pw = getpwuid(getuid());
	snprintf(st->actor, sizeof st->actor, "%s@%s",
	    pw ? pw->pw_name : "unknown", host);
}

/*
 * Open the store of environment env for program (named in the journal
 * and in the lock); touches nothing on disk.
 */
int
dsim_store_open(struct dsim_store *st, const char *env, const char *program,
    struct dsim_error *err)
{
	const char *state = getenv("DSIM_STATE");

	memset(st, 0, sizeof *st);
	st->lockfd = -1;
	if (state != NULL && *state != '\0' && strcmp(state, "embedded") != 0)
		return dsim_error_set(err, DSIM_EX_CONFIG, "DSIM_STATE",
		    "only the embedded state store is available in this build");
	if (store_home(st->home, sizeof st->home, err) != 0)
		return err->code;
	if (snprintf(st->dir, sizeof st->dir, "%s/%s", st->home, env) >=
	    (int)sizeof st->dir)
		return dsim_error_set(err, DSIM_EX_CONFIG, st->home,
		    "path is too long");
	snprintf(st->env, sizeof st->env, "%s", env);
	snprintf(st->program, sizeof st->program, "%s", program);
	store_actor(st);
	return 0;
}

static void
store_path(const struct dsim_store *st, const char *name, char *buf,
    size_t len)
{
	snprintf(buf, len, "%s/%s", st->dir, name);
}

/*
 * Take the world's exclusive lock, at once (75 naming the holder when it
 * is held) or, with wait, when it is free.
 */
int
dsim_store_lock(struct dsim_store *st, int wait, struct dsim_error *err)
{
	char path[PATH_MAX + 8], holder[256], held[256], since[DSIM_CLOCK_LEN];
	int fd;

	if (store_mkdirs(st->home, err) != 0)
		return err->code;
	snprintf(path, sizeof path, "%s.lock", st->dir);
	dsim_clock_format(dsim_clock_now(), since);
	snprintf(holder, sizeof holder, "%s (pid %ld, %s, since %s)\n",
	    st->program, (long)getpid(), st->actor, since);
	fd = dsim_lockfile_take(path, wait, holder, held, sizeof held, err);
	if (fd == DSIM_LOCKFILE_HELD)
		return dsim_error_set(err, DSIM_EX_TEMPFAIL, st->env,
		    "world is locked by %s; try again, or use --wait to queue",
		    *held ? held : "another command");
	if (fd < 0)
		return err->code;
	st->lockfd = fd;
	return 0;
}

/* 0 when the environment has a world, else 66 saying how to make one. */
int
dsim_store_require(const struct dsim_store *st, struct dsim_error *err)
{
	if (dsim_store_exists(st))
		return 0;
	return dsim_error_set(err, DSIM_EX_NOINPUT, st->env,
	    "no such world; create it with dsim-init --env %s", st->env);
}

/* Whether the environment has a world. */
int
dsim_store_exists(const struct dsim_store *st)
{
	char path[PATH_MAX + 16];

	store_path(st, "world.json", path, sizeof path);
	return access(path, F_OK) == 0;
}

/* Turn a jansson parse error into "file:line:column: text", exit 65. */
static int
store_parse_error(const char *path, const json_error_t *jerr,
    uint64_t line0, struct dsim_error *err)
{
	char subject[PATH_MAX + 48];

	snprintf(subject, sizeof subject, "%s:%" PRIu64 ":%d", path,
	    (uint64_t)jerr->line + line0, jerr->column);
	return dsim_error_set(err, DSIM_EX_DATAERR, subject, "%s", jerr->text);
}

/* Check what loading left: every instance has an id and known version. */
static int
store_check(const struct dsim_world *w, const char *path,
    struct dsim_error *err)
{
	size_t i;

	for (i = 0; i < w->ninstances; i++)
		if (w->instances[i].id == 0 ||
		    w->instances[i].version >= w->nversions)
			return dsim_error_set(err, DSIM_EX_DATAERR, path,
			    "instance %zu is not described by any run", i);
	return 0;
}

/* Apply one journal entry or snapshot body: header, then runs. */
static int
store_apply(struct dsim_world *w, const json_t *body, const char *subject,
    struct dsim_error *err)
{
	json_t *header = json_object_get(body, "world");
	json_t *n = json_object_get(body, "instances");

	if (!json_is_object(header) || !json_is_integer(n))
		return dsim_error_set(err, DSIM_EX_DATAERR, subject,
		    "world or instances is missing");
	if (dsim_snapshot_load_header(w, header, subject, err) != 0)
		return err->code;
	return dsim_snapshot_apply_runs(w, json_integer_value(n),
	    json_object_get(body, "runs"), subject, err);
}

static int
store_load_snapshot(struct dsim_store *st, struct dsim_world *w,
    const char *path, struct dsim_error *err)
{
	json_error_t jerr;
	json_int_t seq, offset, line;
	const char *format;
	json_t *snap;
	int rc;

	if ((snap = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL) {
		if (access(path, F_OK) == -1 && errno == ENOENT)
			return dsim_store_require(st, err);
		return store_parse_error(path, &jerr, 0, err);
	}
	if (json_unpack(snap, "{s:s, s:I, s:I, s:I}", "format", &format,
	    "seq", &seq, "journal_offset", &offset, "journal_line",
	    &line) != 0 || strcmp(format, STORE_FORMAT) != 0 || seq < 0 ||
	    offset < 0 || line < 0) {
		json_decref(snap);
		return dsim_error_set(err, DSIM_EX_DATAERR, path,
		    "not a %s snapshot", STORE_FORMAT);
	}
	st->seq = (uint64_t)seq;
	st->journal_end = (off_t)offset;
	st->journal_line = (uint64_t)line;
	rc = store_apply(w, snap, path, err);
	json_decref(snap);
	return rc;
}

/* Replay one whole journal line; 0 or 65. */
static int
store_replay_line(struct dsim_store *st, struct dsim_world *w,
    const char *path, const char *line, size_t len, struct dsim_error *err)
{
	char subject[PATH_MAX + 32];
	json_error_t jerr;
	json_int_t seq;
	json_t *e;
	int rc;

	snprintf(subject, sizeof subject, "%s:%" PRIu64, path,
	    st->journal_line + 1);
	if ((e = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return store_parse_error(path, &jerr, st->journal_line, err);
	if (json_unpack(e, "{s:I}", "seq", &seq) != 0 ||
	    (uint64_t)seq != st->seq + 1) {
		json_decref(e);
		return dsim_error_set(err, DSIM_EX_DATAERR, subject,
		    "journal entry out of sequence (expected %" PRIu64 ")",
		    st->seq + 1);
	}
	rc = store_apply(w, e, subject, err);
	json_decref(e);
	return rc;
}

/*
 * Replay the journal from the snapshot's offset.  A last line without its
 * newline is a write that a crash cut short: it never counted, and is
 * left for the next writer to cut off.
 */
static int
store_replay(struct dsim_store *st, struct dsim_world *w, const char *path,
    struct dsim_error *err)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *fp;
	int rc = 0;

	if ((fp = fopen(path, "r")) == NULL) {
		if (errno == ENOENT && st->journal_end == 0)
			return 0;
		return dsim_error_errno(err, DSIM_EX_DATAERR, path,
		    "cannot open journal");
	}
	if (fseeko(fp, st->journal_end, SEEK_SET) == -1)
		rc = dsim_error_errno(err, DSIM_EX_DATAERR, path, "seek");
	while (rc == 0 && (n = getline(&line, &cap, fp)) > 0) {
		if (line[n - 1] != '\n')
			break;
		rc = store_replay_line(st, w, path, line, (size_t)n, err);
		if (rc == 0) {
			st->seq++;
			st->journal_end += n;
			st->journal_line++;
		}
	}
	if (rc == 0 && ferror(fp))
		rc = dsim_error_errno(err, DSIM_EX_IOERR, path, "read error");
	free(line);
	fclose(fp);
	return rc;
}

static void
store_rebase(struct dsim_store *st, const struct dsim_world *w)
{
	free(st->base);
	st->nbase = w->ninstances;
	st->base = malloc((w->ninstances + 1) * sizeof *st->base);
	if (st->base == NULL)
		abort();
	memcpy(st->base, w->instances, w->ninstances * sizeof *st->base);
}

/*
 * Load the world: its snapshot, then the journal after it.  66 when there
 * is none; 65, naming file and position, when it cannot be read; on any
 * failure nothing of the world is left allocated.
 */
int
dsim_store_load(struct dsim_store *st, struct dsim_world *w,
    struct dsim_error *err)
{
	char snap[PATH_MAX + 16], journal[PATH_MAX + 16];

	memset(w, 0, sizeof *w);
	store_path(st, "world.json", snap, sizeof snap);
	store_path(st, "journal.jsonl", journal, sizeof journal);
	if (store_load_snapshot(st, w, snap, err) != 0 ||
	    store_replay(st, w, journal, err) != 0 ||
	    store_check(w, snap, err) != 0) {
		dsim_world_free(w);
		return err->code;
	}
	store_rebase(st, w);
	return 0;
}

/* Write all of buf to fd. */
static int
store_write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The journal entry for what changed since the last commit. */
static char *
store_entry(struct dsim_store *st, struct dsim_world *w, const char *note)
{
	char now[DSIM_CLOCK_LEN];
	json_t *e;
	char *text;

	dsim_clock_format(dsim_clock_now(), now);
	e = json_pack("{s:I, s:s, s:s, s:s, s:s, s:o, s:I, s:o}",
	    "seq", (json_int_t)(st->seq + 1), "time", now,
	    "actor", st->actor, "program", st->program, "note", note,
	    "world", dsim_snapshot_header(w),
	    "instances", (json_int_t)w->ninstances,
	    "runs", dsim_snapshot_runs(w, st->base, st->nbase));
	text = json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(e);
	if (text == NULL)
		abort();
	return text;
}

/* Cut a journal back to its last whole entry after a failed append. */
static void
store_cut(const char *path, off_t end)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd == -1)
		return;
	if (ftruncate(fd, end) == 0)
		fdatasync(fd);
	close(fd);
}

/*
 * Record a change in the journal, synced before this returns: from then
 * on it survives any crash.  The lock must be held.
 */
int
dsim_store_commit(struct dsim_store *st, struct dsim_world *w,
    const char *note, struct dsim_error *err)
{
	char path[PATH_MAX + 16], *text;
	size_t len;
	int fd, rc = 0;

	store_path(st, "journal.jsonl", path, sizeof path);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) == -1)
		return dsim_error_errno(err, DSIM_EX_CANTCREAT, path,
		    "cannot open journal");
	text = store_entry(st, w, note);
	len = strlen(text);
	text[len++] = '\n';
	if (ftruncate(fd, st->journal_end) == -1 ||
	    lseek(fd, st->journal_end, SEEK_SET) == -1 ||
	    store_write_all(fd, text, len) == -1 || fdatasync(fd) == -1)
		rc = dsim_error_errno(err, DSIM_EX_IOERR, path,
		    "cannot write journal");
	if (close(fd) == -1 && rc == 0)
		rc = dsim_error_errno(err, DSIM_EX_IOERR, path,
		    "cannot write journal");
	free(text);
	if (rc != 0) {
		store_cut(path, st->journal_end);
		return rc;
	}
	st->seq++;
	st->journal_end += (off_t)len;
	st->journal_line++;
	store_rebase(st, w);
	return 0;
}

static int
store_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Write the snapshot aside, sync it, and rename it over world.json. */
static int
store_snapshot(struct dsim_store *st, struct dsim_world *w,
    struct dsim_error *err)
{
	char path[PATH_MAX + 16], tmp[PATH_MAX + 32], *text;
	json_t *snap;
	int fd, rc = 0;

	store_path(st, "world.json", path, sizeof path);
	snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
	snap = json_pack("{s:s, s:I, s:I, s:I, s:o, s:I, s:o}",
	    "format", STORE_FORMAT, "seq", (json_int_t)st->seq,
	    "journal_offset", (json_int_t)st->journal_end,
	    "journal_line", (json_int_t)st->journal_line,
	    "world", dsim_snapshot_header(w),
	    "instances", (json_int_t)w->ninstances,
	    "runs", dsim_snapshot_runs(w, NULL, 0));
	text = json_dumps(snap, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(snap);
	if (text == NULL)
		abort();
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1) {
		free(text);
		return dsim_error_errno(err, DSIM_EX_CANTCREAT, tmp,
		    "cannot create");
	}
	if (store_write_all(fd, text, strlen(text)) == -1 ||
	    store_write_all(fd, "\n", 1) == -1 || fsync(fd) == -1)
		rc = dsim_error_errno(err, DSIM_EX_IOERR, tmp, "write");
	if (close(fd) == -1 && rc == 0)
		rc = dsim_error_errno(err, DSIM_EX_IOERR, tmp, "write");
	free(text);
	if (rc == 0 && rename(tmp, path) == -1)
		rc = dsim_error_errno(err, DSIM_EX_IOERR, path, "rename");
	if (rc != 0) {
		unlink(tmp);
		return rc;
	}
	if (store_fsync_dir(st->dir) == -1)
		return dsim_error_errno(err, DSIM_EX_IOERR, st->dir, "fsync");
	return 0;
}

/* Commit a change and write a new snapshot: what a command does last. */
int
dsim_store_save(struct dsim_store *st, struct dsim_world *w,
    const char *note, struct dsim_error *err)
{
	if (dsim_store_commit(st, w, note, err) != 0)
		return err->code;
	return store_snapshot(st, w, err);
}

/*
 * Store a new world, replacing any there (the caller has asked for
 * --force); the old journal stays as history and goes on.
 */
int
dsim_store_create(struct dsim_store *st, struct dsim_world *w,
    struct dsim_error *err)
{
	char path[PATH_MAX + 16];
	struct stat sb;

	if (store_mkdirs(st->dir, err) != 0)
		return err->code;
	store_path(st, "journal.jsonl", path, sizeof path);
	st->journal_end = stat(path, &sb) == 0 ? sb.st_size : 0;
	st->seq = 0;
	st->journal_line = 0;
	if (st->journal_end > 0 && dsim_store_exists(st)) {
		struct dsim_world old;
		struct dsim_store probe = *st;

		probe.base = NULL;
		if (dsim_store_load(&probe, &old, err) == 0) {
			st->seq = probe.seq;
			st->journal_end = probe.journal_end;
			st->journal_line = probe.journal_line;
		}
		dsim_world_free(&old);
		free(probe.base);
		dsim_error_clear(err);
	}
	free(st->base);
	st->base = NULL;
	st->nbase = 0;
	return dsim_store_save(st, w, "init", err);
}

/* Release the lock and what the store holds. */
void
dsim_store_close(struct dsim_store *st)
{
	if (st->lockfd != -1) {
		close(st->lockfd);
		st->lockfd = -1;
	}
	free(st->base);
	st->base = NULL;
}
