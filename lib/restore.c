#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "repo.h"
#include "restore.h"
#include "sha256.h"
#include "tarball.h"

/*
 * Reading a backup back: every member is checked against the manifest,
 * in order, by size and SHA-256, and the archive file as a whole against
 * the SHA-256 beside it.  verify does only that; restore does it while it
 * feeds the members to a target, inside the target's transaction, so
 * that damage found half way leaves the target as it was.
 */

#define RESTORE_CHUNK	(256 * 1024)
#define RESTORE_DDL_MAX	(256ULL << 20)

enum role { ROLE_PRE, ROLE_DATA, ROLE_POST, ROLE_MANIFEST };

/* What a member is for, worked out from the manifest before reading. */
struct step {
	const char	*name;
	uint64_t	 size;
	const char	*sha;
	int		 role;		/* enum role */
	size_t		 table;		/* ROLE_DATA: which */
	int		 first;		/* the table's first part */
	int		 last;		/* and its last */
};

/* A read of one archive against its manifest. */
struct reader {
	json_t		*sidecar;
	struct step	*steps;
	size_t		 nsteps;
	json_t		*tables;
	struct dsim_dbstream_target *tgt;	/* NULL: only check */
	int		 in_copy;
	uint64_t	 rows;			/* restored */
	char		*buf;
};

/* Whether a member's path stays inside the archive: no /x, no "..". */
static int
restore_safe(const char *name)
{
	const char *p = name;
	size_t n;

	if (*name == '\0' || *name == '/')
		return 0;
	for (;;) {
		n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return 0;
		if (p[n] == '\0')
			return 1;
		p += n + 1;
	}
}

/* Refuse a member path that leaves the archive: 65. */
static int
restore_unsafe(const char *name, struct dsim_error *err)
{
	return dsim_error_set(err, DSIM_EX_DATAERR, name,
	    "member path is absolute or climbs with '..'; refused");
}

/* Which table and part a data member is, from the manifest's tables. */
static int
restore_place(struct reader *rd, struct step *s)
{
	json_t *t, *m;
	size_t i, j;

	json_array_foreach(rd->tables, i, t) {
		json_array_foreach(json_object_get(t, "members"), j, m) {
			if (!json_is_string(m) ||
			    strcmp(json_string_value(m), s->name) != 0)
				continue;
			s->role = ROLE_DATA;
			s->table = i;
			s->first = j == 0;
			s->last = j + 1 == json_array_size(json_object_get(t,
			    "members"));
			return 0;
		}
	}
	return -1;
}

/* Check that every table has a schema and name we can quote. */
static int
restore_check_tables(struct reader *rd, struct dsim_error *err)
{
	const char *schema, *name;
	json_t *t;
	size_t i;

	json_array_foreach(rd->tables, i, t)
		if (json_unpack(t, "{s:s, s:s}", "schema", &schema, "name",
		    &name) != 0 || !json_is_array(json_object_get(t,
		    "members")) ||
		    strlen(schema) >= DSIM_DBSTREAM_NAME ||
		    strlen(name) >= DSIM_DBSTREAM_NAME)
			return dsim_error_set(err, DSIM_EX_DATAERR, "manifest",
			    "table %zu is malformed", i);
	return 0;
}

/* Work out the steps of a read from the manifest beside the archive. */
static int
restore_plan(struct reader *rd, struct dsim_error *err)
{
	json_t *members = json_object_get(rd->sidecar, "members"), *m;
	struct step *s;
	json_int_t size;
	size_t i, n = json_array_size(members);

	rd->tables = json_object_get(rd->sidecar, "tables");
	if (!json_is_array(members) || !json_is_array(rd->tables) || n < 2 ||
	    restore_check_tables(rd, err) != 0)
		return dsim_error_set(err, DSIM_EX_DATAERR, "manifest",
		    "members or tables are malformed");
	if ((rd->steps = calloc(n + 1, sizeof *rd->steps)) == NULL)
		abort();
	rd->nsteps = n + 1;
	json_array_foreach(members, i, m) {
		s = &rd->steps[i];
		if (json_unpack(m, "{s:s, s:I, s:s}", "name", &s->name, "size",
		    &size, "sha256", &s->sha) != 0 || size < 0)
			return dsim_error_set(err, DSIM_EX_DATAERR, "manifest",
			    "member %zu is malformed", i);
		if (!restore_safe(s->name))
			return restore_unsafe(s->name, err);
		s->size = (uint64_t)size;
		s->role = i == 0 ? ROLE_PRE : i + 1 == n ? ROLE_POST :
		    ROLE_DATA;
		if (s->role == ROLE_DATA && restore_place(rd, s) != 0)
			return dsim_error_set(err, DSIM_EX_DATAERR, s->name,
			    "member belongs to no table in the manifest");
	}
	s = &rd->steps[n];
	s->name = "manifest.json";
	s->role = ROLE_MANIFEST;
	s->sha = json_string_value(json_object_get(rd->sidecar,
	    "manifest_sha256"));
	s->size = UINT64_MAX;
	return s->sha != NULL ? 0 : dsim_error_set(err, DSIM_EX_DATAERR,
	    "manifest", "manifest_sha256 is missing");
}

/* Report damage to a member: 1, subject the member. */
static int DSIM_PRINTF(3, 4)
restore_damage(const char *member, struct dsim_error *err, const char *fmt,
    ...)
{
	char reason[sizeof err->reason], subject[sizeof err->subject];
	va_list ap;

	snprintf(subject, sizeof subject, "%s", member);
	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	return dsim_error_set(err, DSIM_EX_FAILED, subject, "%s", reason);
}

/* Hand a table's part to the target, starting its COPY at the first. */
static int
restore_feed(struct reader *rd, const struct step *s, const char *buf,
    size_t len, struct dsim_error *err)
{
	json_t *t = json_array_get(rd->tables, s->table);

	if (rd->tgt == NULL)
		return 0;
	if (s->first && !rd->in_copy) {
		if (rd->tgt->copy_begin(rd->tgt, json_string_value(
		    json_object_get(t, "schema")), json_string_value(
		    json_object_get(t, "name")), err) != 0)
			return err->code;
		rd->in_copy = 1;
	}
	return len > 0 ? rd->tgt->copy_data(rd->tgt, buf, len, err) : 0;
}

/* End a table's COPY and compare its rows with the manifest's count. */
static int
restore_table_end(struct reader *rd, const struct step *s,
    struct dsim_error *err)
{
	json_t *t = json_array_get(rd->tables, s->table);
	uint64_t rows = 0, want;
	char detail[160];

	rd->in_copy = 0;
	if (rd->tgt->copy_end(rd->tgt, NULL, &rows, err) != 0)
		return err->code;
	rd->rows += rows;
	want = (uint64_t)json_integer_value(json_object_get(t, "rows"));
	if (rows == want)
		return 0;
	snprintf(detail, sizeof detail, "%" PRIu64 " rows went in, the "
	    "manifest says %" PRIu64, rows, want);
	return restore_damage(s->name, err, "%s", detail);
}

/* Turn a reading error into damage to member, unless it is I/O. */
static int
restore_read_error(const char *member, struct dsim_error *err)
{
	char detail[512];

	if (err->code != DSIM_EX_FAILED)
		return err->code;
	snprintf(detail, sizeof detail, "%s", err->reason);
	return restore_damage(member, err, "archive is damaged: %.400s",
	    detail);
}

/* Open the next member and check that it is the one the step expects. */
static int
restore_open_member(struct dsim_tarball *tar, const struct step *s,
    uint64_t *sizep, struct dsim_error *err)
{
	const char *name;
	uint64_t size;
	int r = dsim_tarball_next(tar, &name, &size, err);

	if (r == 0)
		return restore_damage(s->name, err, "%s", "member is missing: "
		    "the archive ends early");
	if (r < 0)
		return restore_read_error(s->name, err);
	if (!restore_safe(name))
		return restore_unsafe(name, err);
	if (strcmp(name, s->name) != 0)
		return restore_damage(s->name, err, "member '%s' is in its "
		    "place", name);
	if (s->size != UINT64_MAX && size != s->size)
		return restore_damage(s->name, err, "%s", "size differs from "
		    "the manifest's");
	*sizep = size;
	return 0;
}

/*
 * The manifest in the archive must say what the copy beside it says of
 * the backup's id, tables and members: the copy is what was checked.
 */
static int
restore_same_manifest(struct reader *rd, const struct step *s,
    const char *text, size_t len, struct dsim_error *err)
{
	const char *const keys[] = { "id", "tables", "members", NULL };
	json_t *m = json_loadb(text, len, 0, NULL);
	int i, same = m != NULL;

	for (i = 0; same && keys[i] != NULL; i++)
		same = json_equal(json_object_get(m, keys[i]),
		    json_object_get(rd->sidecar, keys[i]));
	json_decref(m);
	return same ? 0 : restore_damage(s->name, err, "%s", "differs from "
	    "the manifest beside the archive");
}

/*
 * Read a member's bytes through its SHA-256, keeping them in whole when
 * whole is set (size bytes) and feeding a table's to the target.
 */
static int
restore_stream(struct reader *rd, struct dsim_tarball *tar,
    const struct step *s, char *whole, uint64_t size, uint64_t *got,
    struct dsim_error *err)
{
	struct dsim_sha256 h;
	char sha[DSIM_SHA256_HEX];
	ssize_t n;
	int rc = 0;

	dsim_sha256_init(&h);
	while ((n = dsim_tarball_read(tar, rd->buf, RESTORE_CHUNK, err)) != 0) {
		if (n < 0) {
			dsim_sha256_free(&h);
			return restore_read_error(s->name, err);
		}
		dsim_sha256_update(&h, rd->buf, (size_t)n);
		if (whole != NULL && *got + (uint64_t)n <= size)
			memcpy(whole + *got, rd->buf, (size_t)n);
		*got += (uint64_t)n;
		if (s->role == ROLE_DATA &&
		    (rc = restore_feed(rd, s, rd->buf, (size_t)n, err)) != 0) {
			dsim_sha256_free(&h);
			return rc;
		}
	}
	dsim_sha256_final(&h, sha);
	if (strcmp(sha, s->sha) != 0)
		return restore_damage(s->name, err, "%s", "SHA-256 does not "
		    "match the manifest");
	return 0;
}

/* Read one member through its checks, feeding the target as it goes. */
static int
restore_member(struct reader *rd, struct dsim_tarball *tar,
    const struct step *s, struct dsim_error *err)
{
	char *whole = NULL;
	uint64_t got = 0, size = 0;
	int rc;

	if ((rc = restore_open_member(tar, s, &size, err)) != 0)
		return rc;
	/* DDL and the manifest are read whole; data streams through. */
	if (s->role != ROLE_DATA && (size > RESTORE_DDL_MAX ||
	    (whole = malloc(size + 1)) == NULL))
		return restore_damage(s->name, err, "%s", "is too large");
	rc = restore_stream(rd, tar, s, whole, size, &got, err);
	if (rc == 0 && s->role == ROLE_MANIFEST)
		rc = restore_same_manifest(rd, s, whole, (size_t)got, err);
	if (rc == 0 && rd->tgt != NULL && (s->role == ROLE_PRE ||
	    s->role == ROLE_POST))
		rc = rd->tgt->exec(rd->tgt, s->role == ROLE_PRE ? "pre-data" :
		    "post-data", whole, (size_t)got, err);
	if (rc == 0 && rd->tgt != NULL && s->role == ROLE_DATA &&
	    (rc = restore_feed(rd, s, NULL, 0, err)) == 0 && s->last)
		rc = restore_table_end(rd, s, err);
	free(whole);
	return rc;
}

/* Check what follows the manifest, and the file's own SHA-256. */
static int
restore_tail(struct reader *rd, struct dsim_tarball *tar,
    struct dsim_error *err)
{
	json_t *a = json_object_get(rd->sidecar, "archive");
	const char *want = json_string_value(json_object_get(a, "sha256"));
	const char *name;
	char sha[DSIM_SHA256_HEX];
	uint64_t size;
	int r = dsim_tarball_next(tar, &name, &size, err);

	if (r < 0)
		return restore_read_error("manifest.json", err);
	if (r > 0)
		return restore_damage(name, err, "%s", "member follows the "
		    "manifest");
	if (dsim_tarball_drain(tar, sha, &size, err) != 0)
		return err->code;
	if (want == NULL || strcmp(sha, want) != 0 ||
	    size != (uint64_t)json_integer_value(json_object_get(a, "size")))
		return restore_damage("archive", err, "%s", "the file's "
		    "SHA-256 or size does not match the manifest");
	return 0;
}

/*
 * Read the archive at path against sidecar; with a target, restore it
 * (clean: empty the target first).  0, 1 for damage (err names the
 * member), or another exit status.
 */
static int
restore_read(const char *path, json_t *sidecar,
    struct dsim_dbstream_target *tgt, int clean, uint64_t *rows,
    struct dsim_error *err)
{
	struct reader rd = { .sidecar = sidecar, .tgt = tgt };
	struct dsim_tarball *tar = NULL;
	struct dsim_error ignore;
	uint64_t dummy;
	size_t i;
	int rc;

	if ((rd.buf = malloc(RESTORE_CHUNK)) == NULL)
		abort();
	if ((rc = restore_plan(&rd, err)) == 0 &&
	    (rc = dsim_tarball_open(&tar, path, err)) == DSIM_EX_FAILED)
		rc = restore_read_error(rd.steps[0].name, err);
	if (rc == 0 && tgt != NULL)
		rc = tgt->begin(tgt, clean, err);
	for (i = 0; rc == 0 && i < rd.nsteps; i++)
		rc = restore_member(&rd, tar, &rd.steps[i], err);
	if (rc == 0)
		rc = restore_tail(&rd, tar, err);
	if (rc != 0 && rd.in_copy)
		tgt->copy_end(tgt, "restore abandoned", &dummy, &ignore);
	if (rc == 0 && tgt != NULL)
		rc = tgt->commit(tgt, err);
	*rows = rd.rows;
	dsim_tarball_free(tar);
	free(rd.steps);
	free(rd.buf);
	return rc;
}


/* The path of a backup's archive, when its manifest names its own. */
static int
restore_archive_path(struct dsim_repo *r, const struct dsim_repo_entry *e,
    char *path, size_t len, struct dsim_error *err)
{
	const char *archive = dsim_backup_archive(e);

	if (archive == NULL)
		return dsim_error_set(err, DSIM_EX_FAILED, e->id,
		    "manifest names no archive of its own");
	return dsim_repo_path(r, archive, path, len, err);
}

/*
 * Verify one backup in one repository and note the verdict there (a
 * damaged backup gets an ID.damaged marker); 0, 1 with err naming the
 * member, or another exit status.
 */
static int
restore_verify_one(struct dsim_repo *r, struct dsim_repo_entry *e,
    struct dsim_error *err)
{
	char path[PATH_MAX], note[1200];
	struct dsim_error ignore;
	uint64_t rows;
	int rc;

	if ((rc = restore_archive_path(r, e, path, sizeof path, err)) == 0)
		rc = restore_read(path, e->manifest, NULL, 0, &rows, err);
	if (rc == DSIM_EX_NOINPUT)
		rc = dsim_error_set(err, DSIM_EX_FAILED, "archive",
		    "the archive file is missing");
	if (rc == DSIM_EX_FAILED || rc == DSIM_EX_DATAERR) {
		snprintf(note, sizeof note, "%s: %s\n", err->subject,
		    err->reason);
		dsim_repo_mark(r, e->id, ".damaged", note, &ignore);
		e->damaged = 1;
	} else if (rc == 0) {
		dsim_repo_unmark(r, e->id, ".damaged", &ignore);
		e->damaged = 0;
	}
	return rc;
}

/* One backup's verdict as a backup.verify record. */
static void
restore_verify_record(struct dsim_rec *rec, const struct dsim_backup_opts *o,
    const char *repo, const struct dsim_repo_entry *e, int rc,
    const struct dsim_error *err)
{
	dsim_rec_begin(rec, "backup.verify", o->now, o->env);
	dsim_rec_str(rec, "id", e->id);
	dsim_rec_str(rec, "repo", repo);
	dsim_rec_bool(rec, "ok", rc == 0);
	dsim_rec_int(rec, "members", (int64_t)json_array_size(
	    json_object_get(e->manifest, "members")) + 1);
	if (rc != 0) {
		dsim_rec_str(rec, "member", err->subject);
		dsim_rec_str(rec, "reason", err->reason);
	}
}

/* What a verify run found, for its closing message. */
struct tally {
	int		 damaged;
	struct dsim_error first;
};

/* Count a damaged backup; the first one's damage is kept for the message. */
static void
restore_tally(struct tally *t, const char *id, const struct dsim_error *one)
{
	if (t->damaged++ > 0)
		return;
	t->first = *one;
	snprintf(t->first.subject, sizeof t->first.subject, "%s", id);
	snprintf(t->first.reason, sizeof t->first.reason,
	    "member %.200s: %.300s", one->subject, one->reason);
}

/*
 * Open a repository to verify, holding the readers' lock, and scan it;
 * the one with id must be there.
 */
static int
restore_verify_scan(const struct dsim_backup_opts *o, const char *dir,
    const char *id, struct dsim_repo *r, struct dsim_repo_entry **v,
    size_t *n, struct dsim_error *err)
{
	*v = NULL;
	*n = 0;
	if (dsim_repo_open(r, dir, 0, err) != 0) {
		/* The default repository, never made, holds no backups. */
		if (err->code != DSIM_EX_NOINPUT || o->repo_given ||
		    dir != o->repo || id != NULL)
			return err->code;
		dsim_error_clear(err);
		return 0;
	}
	if (dsim_repo_read(r, 0, err) != 0 || dsim_repo_scan(r, v, n, err)) {
		dsim_repo_close(r);
		return err->code;
	}
	if (id != NULL && dsim_repo_find(*v, *n, id) == NULL) {
		dsim_repo_free_entries(*v, *n);
		dsim_repo_close(r);
		return dsim_error_set(err, DSIM_EX_NOINPUT, id,
		    "no such backup in %s", dir);
	}
	return 0;
}

/* Verify the backups of one repository (all, or the one with id). */
static int
restore_verify_repo(const struct dsim_backup_opts *o, const char *dir,
    const char *id, struct tally *t, struct dsim_sink *sink,
    struct dsim_error *err)
{
	struct dsim_rec rec = { 0 };
	struct dsim_repo_entry *v;
	struct dsim_repo r;
	struct dsim_error one;
	size_t n, i;
	int rc;

	if (restore_verify_scan(o, dir, id, &r, &v, &n, err) != 0)
		return err->code;
	for (i = 0, rc = 0; i < n && (rc == 0 || rc == DSIM_EX_FAILED); i++) {
		if (id != NULL && strcmp(v[i].id, id) != 0)
			continue;
		dsim_error_clear(&one);
		rc = restore_verify_one(&r, &v[i], &one);
		if (rc != 0 && rc != DSIM_EX_FAILED && rc != DSIM_EX_DATAERR) {
			*err = one;
			break;
		}
		restore_verify_record(&rec, o, dir, &v[i], rc, &one);
		dsim_rec_put(sink, &rec);
		if (rc != 0)
			restore_tally(t, v[i].id, &one);
		rc = rc == DSIM_EX_DATAERR ? DSIM_EX_FAILED : rc;
	}
	dsim_rec_free(&rec);
	dsim_repo_free_entries(v, n);
	dsim_repo_close(&r);
	return rc == DSIM_EX_FAILED ? 0 : rc;
}

/*
 * Verify the backup id, or every backup (id NULL), in the repository and
 * in its copy; 1 when any is damaged, err naming the first.
 */
int
dsim_restore_verify(const struct dsim_backup_opts *o, const char *id,
    struct dsim_sink *sink, struct dsim_error *err)
{
	struct tally t;

	memset(&t, 0, sizeof t);
	if (id != NULL && dsim_repo_id_check(id, err) != 0)
		return err->code;
	if (restore_verify_repo(o, o->repo, id, &t, sink, err) != 0)
		return err->code;
	if (o->copy_to != NULL &&
	    restore_verify_repo(o, o->copy_to, id, &t, sink, err) != 0) {
		if (err->code != DSIM_EX_NOINPUT)
			return err->code;
		if (t.damaged++ == 0)
			t.first = *err;
		snprintf(t.first.reason, sizeof t.first.reason,
		    "missing from the copy in %s", o->copy_to);
	}
	if (t.damaged == 0)
		return 0;
	*err = t.first;
	err->code = DSIM_EX_FAILED;
	if (t.damaged > 1) {
		size_t len = strlen(err->reason);

		snprintf(err->reason + len, sizeof err->reason - len,
		    " (%d damaged in all)", t.damaged);
	}
	return DSIM_EX_FAILED;
}

/*
 * Refuse an archive that fails verification before touching the target:
 * its file's SHA-256 is checked first (cheap: the file is compressed),
 * and when that differs a full read names the damaged member.
 */
static int
restore_precheck(struct dsim_repo *r, struct dsim_repo_entry *e,
    const char *path, struct dsim_error *err)
{
	const char *want = json_string_value(json_object_get(
	    json_object_get(e->manifest, "archive"), "sha256"));
	char sha[DSIM_SHA256_HEX], detail[1100];
	int rc;

	if (dsim_sha256_file(path, sha) != 0)
		return dsim_error_errno(err, errno == ENOENT ? DSIM_EX_FAILED :
		    DSIM_EX_IOERR, path, "cannot read the archive");
	if (want != NULL && strcmp(sha, want) == 0)
		return 0;
	if ((rc = restore_verify_one(r, e, err)) == 0)
		rc = dsim_error_set(err, DSIM_EX_FAILED, "archive",
		    "the file's SHA-256 does not match the manifest");
	if (rc != DSIM_EX_FAILED && rc != DSIM_EX_DATAERR)
		return rc;
	snprintf(detail, sizeof detail, "member %.200s: %.300s; refusing to "
	    "restore",
	    err->subject, err->reason);
	return dsim_error_set(err, rc, e->id, "%s", detail);
}

/* A finished restore as a backup.restore record. */
static void
restore_record(struct dsim_rec *rec, const struct dsim_backup_opts *o,
    const struct dsim_repo_entry *e, const struct dsim_dbstream_target *tgt,
    uint64_t rows, dsim_ms ms)
{
	dsim_rec_begin(rec, "backup.restore", o->now, o->env);
	dsim_rec_str(rec, "id", e->id);
	dsim_rec_str(rec, "target", tgt->label);
	dsim_rec_int(rec, "tables", (int64_t)json_array_size(
	    json_object_get(e->manifest, "tables")));
	dsim_rec_int(rec, "rows", (int64_t)rows);
	dsim_rec_int(rec, "duration_ms", ms);
}

/* How long a restore into the simulation takes: 100 MB/s, half a second. */
static dsim_ms
restore_sim_duration(const struct dsim_repo_entry *e)
{
	json_t *t;
	dsim_ms ms = 500;
	size_t i;

	json_array_foreach(json_object_get(e->manifest, "tables"), i, t)
		ms += (dsim_ms)(json_integer_value(json_object_get(t,
		    "bytes")) / 100000);
	return ms;
}

/* Milliseconds of a monotonic clock, for durations. */
static dsim_ms
restore_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (dsim_ms)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Restore backup id into tgt, in one transaction: schema, data by COPY,
 * then indexes and constraints.  A non-empty target is refused unless
 * clean; an archive that fails verification is refused.
 */
int
dsim_restore_run(const struct dsim_backup_opts *o, const char *id,
    struct dsim_dbstream_target *tgt, int clean, struct dsim_sink *sink,
    struct dsim_error *err)
{
	struct dsim_rec rec = { 0 };
	struct dsim_repo_entry *v = NULL, *e;
	struct dsim_repo r;
	char path[PATH_MAX];
	dsim_ms t0 = restore_mono();
	uint64_t rows = 0;
	size_t n = 0;
	int rc;

	r.lockfd = r.readfd = -1;
	if ((rc = dsim_repo_id_check(id, err)) != 0 ||
	    (rc = dsim_repo_open(&r, o->repo, 0, err)) != 0 ||
	    (rc = dsim_repo_read(&r, 0, err)) != 0 ||
	    (rc = dsim_repo_scan(&r, &v, &n, err)) != 0)
		goto out;
	if ((e = dsim_repo_find(v, n, id)) == NULL) {
		rc = dsim_error_set(err, DSIM_EX_NOINPUT, id,
		    "no such backup in %s", o->repo);
		goto out;
	}
	if ((rc = restore_archive_path(&r, e, path, sizeof path, err)) != 0 ||
	    (rc = restore_precheck(&r, e, path, err)) != 0 ||
	    (rc = restore_read(path, e->manifest, tgt, clean, &rows,
	    err)) != 0)
		goto out;
	restore_record(&rec, o, e, tgt, rows, o->simulated ?
	    restore_sim_duration(e) : restore_mono() - t0);
	dsim_rec_put(sink, &rec);
out:
	tgt->end(tgt);
	dsim_rec_free(&rec);
	dsim_repo_free_entries(v, n);
	dsim_repo_close(&r);
	return rc;
}
