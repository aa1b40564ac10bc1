#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "backup.h"
#include "repo.h"
#include "sha256.h"
#include "tarball.h"

/*
 * Creating a backup.  Workers (one per --jobs connection) copy tables out
 * of the source's snapshot and cut each COPY stream into parts of a fixed
 * size, which the main thread writes into the archive in table order: a
 * tar member needs its size before its data, and fixed parts bound the
 * memory to a few parts per worker whatever the size of the database.
 */

#define BACKUP_PART	(4 << 20)	/* bytes of COPY text per member */
#define BACKUP_DEPTH	2		/* parts a table may have waiting */

/* A part of a table's COPY text, made by a worker. */
struct part {
	struct part	*next;
	char		*buf;
	size_t		 len;
	uint64_t	 rows;
	char		 sha[DSIM_SHA256_HEX];
};

/* A table's parts on their way from its worker to the archive. */
struct queue {
	struct part	*head;
	struct part	*tail;
	int		 waiting;
	int		 done;		/* the last part is pushed */
};

/* What the workers and the writer share. */
struct pump {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	struct dsim_dbstream_source *src;
	struct dsim_dbstream_info *info;
	struct queue	*queues;
	struct part	*spare;		/* written parts, to be used again */
	size_t		 next;		/* the next table to take */
	int		 failed;
	struct dsim_error err;		/* the first failure */
};

/* One worker's state while it copies a table. */
struct worker {
	struct pump	*pump;
	int		 index;
	size_t		 table;
	struct part	*cur;
	pthread_t	 thread;
};

/* Record the first failure and wake everyone, so that all stop. */
static void
pump_fail(struct pump *p, const struct dsim_error *err)
{
	pthread_mutex_lock(&p->mu);
	if (!p->failed) {
		p->failed = 1;
		p->err = *err;
	}
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* A new, empty part. */
static struct part *
part_new(void)
{
	struct part *pt = calloc(1, sizeof *pt);

	if (pt == NULL || (pt->buf = malloc(BACKUP_PART)) == NULL)
		abort();
	return pt;
}

/* Free a part, if there is one. */
static void
part_free(struct part *pt)
{
	if (pt != NULL)
		free(pt->buf);
	free(pt);
}

/* An empty part: a spare one, or a new one. */
static struct part *
pump_take(struct pump *p)
{
	struct part *pt;

	pthread_mutex_lock(&p->mu);
	if ((pt = p->spare) != NULL)
		p->spare = pt->next;
	pthread_mutex_unlock(&p->mu);
	if (pt == NULL)
		return part_new();
	pt->next = NULL;
	pt->len = 0;
	pt->rows = 0;
	return pt;
}

/* Keep a part that is done with for the next, so that memory is reused. */
static void
pump_give(struct pump *p, struct part *pt)
{
	if (pt == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	pt->next = p->spare;
	p->spare = pt;
	pthread_mutex_unlock(&p->mu);
}

/* Hash a full part and queue it, waiting while its table's queue is full. */
static int
pump_push(struct worker *w, int last, struct dsim_error *err)
{
	struct pump *p = w->pump;
	struct queue *q = &p->queues[w->table];
	struct part *pt = w->cur;
	const char *s, *end = pt->buf + pt->len;

	w->cur = NULL;
	for (s = pt->buf; (s = memchr(s, '\n', (size_t)(end - s))) != NULL;
	    s++)
		pt->rows++;
	dsim_sha256_hex(pt->buf, pt->len, pt->sha);
	pthread_mutex_lock(&p->mu);
	while (q->waiting >= BACKUP_DEPTH && !p->failed)
		pthread_cond_wait(&p->cv, &p->mu);
	if (p->failed) {
		pthread_mutex_unlock(&p->mu);
		pump_give(p, pt);
		return dsim_error_set(err, DSIM_EX_FAILED, NULL, "cancelled");
	}
	if (q->tail != NULL)
		q->tail->next = pt;
	else
		q->head = pt;
	q->tail = pt;
	q->waiting++;
	q->done = last;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return 0;
}

/* Take COPY text from the source into parts. */
static int
pump_write(void *arg, const char *buf, size_t len, struct dsim_error *err)
{
	struct worker *w = arg;
	size_t n;

	while (len > 0) {
		if (w->cur == NULL)
			w->cur = pump_take(w->pump);
		n = BACKUP_PART - w->cur->len;
		n = n < len ? n : len;
		memcpy(w->cur->buf + w->cur->len, buf, n);
		w->cur->len += n;
		buf += n;
		len -= n;
		if (w->cur->len == BACKUP_PART && pump_push(w, 0, err) != 0)
			return err->code;
	}
	return 0;
}

/* A worker: take the next table, copy it out, until none are left. */
static void *
pump_worker(void *arg)
{
	struct worker *w = arg;
	struct pump *p = w->pump;
	struct dsim_error err;

	dsim_error_clear(&err);
	for (;;) {
		pthread_mutex_lock(&p->mu);
		if (p->failed || p->next == p->info->ntables) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		w->table = p->next++;
		pthread_mutex_unlock(&p->mu);
		if (p->src->copy_out(p->src, w->index,
		    &p->info->tables[w->table], pump_write, w, &err) != 0) {
			pump_fail(p, &err);
			break;
		}
		if (w->cur == NULL)
			w->cur = pump_take(w->pump);
		if (pump_push(w, 1, &err) != 0)
			break;
	}
	pump_give(p, w->cur);
	w->cur = NULL;
	return NULL;
}

/* Keep the characters of a name that are safe in a member's path. */
static void
backup_clean_name(char *out, const char *name, size_t len)
{
	size_t i;

	for (i = 0; name[i] != '\0' && i + 1 < len; i++)
		out[i] = (char)((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= '0' && name[i] <= '9') || name[i] == '_' ||
		    name[i] == '-' ? name[i] : '_');
	out[i] = '\0';
}

/* What a create builds as it goes: the manifest's lists. */
struct build {
	struct dsim_tarball *tar;
	json_t		*members;
	json_t		*tables;
	uint64_t	 rows;
};

/* Add a member to the archive and to the manifest's list. */
static int
build_add(struct build *b, const char *name, const char *buf, size_t len,
    const char *sha, struct dsim_error *err)
{
	char hex[DSIM_SHA256_HEX];

	if (sha == NULL) {
		dsim_sha256_hex(buf, len, hex);
		sha = hex;
	}
	if (dsim_tarball_add(b->tar, name, buf, len, err) != 0)
		return err->code;
	json_array_append_new(b->members, json_pack("{s:s, s:I, s:s}",
	    "name", name, "size", (json_int_t)len, "sha256", sha));
	return 0;
}

/* Write one table's parts as they come; 1 when the pump has failed. */
static int
build_table(struct build *b, struct pump *p, size_t i, struct dsim_error *err)
{
	struct dsim_dbstream_table *t = &p->info->tables[i];
	struct queue *q = &p->queues[i];
	json_t *names = json_array();
	char schema[64], table[64], name[200];
	struct part *pt;
	int n, rc = 0;

	backup_clean_name(schema, t->schema, sizeof schema);
	backup_clean_name(table, t->name, sizeof table);
	for (n = 0; rc == 0; n++) {
		pthread_mutex_lock(&p->mu);
		while (q->head == NULL && !q->done && !p->failed)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->failed || q->head == NULL) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		pt = q->head;
		if ((q->head = pt->next) == NULL)
			q->tail = NULL;
		q->waiting--;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		snprintf(name, sizeof name, "data/%03zu-%s.%s.%04d.copy", i,
		    schema, table, n);
		t->rows += pt->rows;
		t->bytes += pt->len;
		if ((rc = build_add(b, name, pt->buf, pt->len, pt->sha, err)))
			pump_fail(p, err);
		json_array_append_new(names, json_string(name));
		pump_give(p, pt);
	}
	b->rows += t->rows;
	json_array_append_new(b->tables, json_pack("{s:s, s:s, s:I, s:I, s:o}",
	    "schema", t->schema, "name", t->name, "rows", (json_int_t)t->rows,
	    "bytes", (json_int_t)t->bytes, "members", names));
	return p->failed;
}

/*
 * Run the workers, write the schema as soon as the source has it, then
 * every table's data; 0 or an exit status.
 */
static int
build_data(struct build *b, struct dsim_dbstream_source *src,
    struct dsim_dbstream_info *info, int jobs, struct dsim_error *err)
{
	struct pump p;
	struct worker *w;
	struct part *pt;
	size_t i;
	int j;

	memset(&p, 0, sizeof p);
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.cv, NULL);
	p.src = src;
	p.info = info;
	if ((p.queues = calloc(info->ntables + 1, sizeof *p.queues)) == NULL ||
	    (w = calloc((size_t)jobs, sizeof *w)) == NULL)
		abort();
	for (j = 0; j < jobs; j++) {
		w[j].pump = &p;
		w[j].index = j;
		if (pthread_create(&w[j].thread, NULL, pump_worker, &w[j]))
			abort();
	}
	/* The DDL comes first in the archive; the workers start meanwhile. */
	if (src->ddl(src, info, err) != 0 || build_add(b, "schema.sql",
	    info->pre_data, info->pre_len, NULL, err) != 0)
		pump_fail(&p, err);
	for (i = 0; i < info->ntables && build_table(b, &p, i, err) == 0; i++)
		continue;
	for (j = 0; j < jobs; j++)
		pthread_join(w[j].thread, NULL);
	for (i = 0; i < info->ntables; i++)
		while ((pt = p.queues[i].head) != NULL) {
			p.queues[i].head = pt->next;
			part_free(pt);
		}
	while ((pt = p.spare) != NULL) {
		p.spare = pt->next;
		part_free(pt);
	}
	if (p.failed)
		*err = p.err;
	free(w);
	free(p.queues);
	pthread_cond_destroy(&p.cv);
	pthread_mutex_destroy(&p.mu);
	return p.failed ? err->code : 0;
}

/* A new backup's id: its creation time, with -N when that is taken. */
static void
backup_new_id(struct dsim_repo *r, dsim_ms t, char *id)
{
	char base[32], name[DSIM_REPO_ID + 16];
	time_t secs = (time_t)(t / 1000);
	struct tm tm;
	int n, i, taken;

	gmtime_r(&secs, &tm);
	strftime(base, sizeof base, "%Y%m%dT%H%M%SZ", &tm);
	for (n = 1; ; n++) {
		if (n == 1)
			snprintf(id, DSIM_REPO_ID, "%s", base);
		else
			snprintf(id, DSIM_REPO_ID, "%s-%d", base, n);
		snprintf(name, sizeof name, "%s.json", id);
		taken = dsim_repo_exists(r, name);
		for (i = 0; dsim_tarball_suffixes[i] != NULL; i++) {
			snprintf(name, sizeof name, "%s%s", id,
			    dsim_tarball_suffixes[i]);
			taken |= dsim_repo_exists(r, name);
		}
		if (!taken)
			return;
	}
}

/* A time as the manifest writes it. */
static json_t *
backup_time(dsim_ms t)
{
	char ts[DSIM_CLOCK_LEN];

	dsim_clock_format(t, ts);
	return json_string(ts);
}

/* Milliseconds of a monotonic clock, for durations. */
static dsim_ms
backup_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (dsim_ms)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The manifest that ends the archive. */
static json_t *
backup_manifest(const struct dsim_backup_opts *o, const char *id,
    struct dsim_dbstream_source *src, const struct dsim_dbstream_info *info,
    struct build *b)
{
	return json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:s, s:s, s:I, s:O,"
	    " s:O}", "format", DSIM_BACKUP_FORMAT, "id", id, "env", o->env,
	    "created", backup_time(o->now), "source", src->label,
	    "server_version", info->server_version,
	    "snapshot", info->snapshot,
	    "compression", dsim_tarball_compressions[o->compression],
	    "rows", (json_int_t)b->rows, "tables", b->tables,
	    "members", b->members);
}

/*
 * What goes beside the archive: the manifest, finished, with the
 * archive's own name, size and SHA-256, which it cannot hold itself.
 */
static json_t *
backup_sidecar(json_t *manifest, const char *manifest_sha,
    const char *archive, uint64_t size, const char *sha, dsim_ms duration,
    dsim_ms finished)
{
	json_t *m = json_deep_copy(manifest);

	json_object_set_new(m, "finished", backup_time(finished));
	json_object_set_new(m, "duration_ms", json_integer(duration));
	json_object_set_new(m, "manifest_sha256", json_string(manifest_sha));
	json_object_set_new(m, "archive", json_pack("{s:s, s:I, s:s}",
	    "name", archive, "size", (json_int_t)size, "sha256", sha));
	return m;
}

/* Write the archive's members: DDL, data, DDL, manifest. */
static int
backup_write(const struct dsim_backup_opts *o, const char *id,
    struct dsim_dbstream_source *src, struct dsim_dbstream_info *info,
    struct build *b, json_t **manifest, char *manifest_sha,
    struct dsim_error *err)
{
	char *text;
	int rc;

	if (build_data(b, src, info, o->jobs, err) != 0 ||
	    build_add(b, "post-data.sql", info->post_data, info->post_len,
	    NULL, err) != 0)
		return err->code;
	*manifest = backup_manifest(o, id, src, info, b);
	text = json_dumps(*manifest, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (text == NULL)
		abort();
	dsim_sha256_hex(text, strlen(text), manifest_sha);
	rc = dsim_tarball_add(b->tar, "manifest.json", text, strlen(text),
	    err);
	free(text);
	return rc;
}

/* Copy a finished backup to the second repository: archive, then manifest. */
static int
backup_copy(const struct dsim_backup_opts *o, struct dsim_repo *r,
    const char *id, const char *archive, struct dsim_error *err)
{
	struct dsim_repo copy;
	char name[DSIM_REPO_ID + 8];
	int rc;

	if (dsim_repo_open(&copy, o->copy_to, 1, err) != 0 ||
	    dsim_repo_lock(&copy, o->program, err) != 0)
		return err->code;
	snprintf(name, sizeof name, "%s.json", id);
	if ((rc = dsim_repo_clean(&copy, err)) == 0 &&
	    (rc = dsim_repo_copy(r, &copy, archive, err)) == 0)
		rc = dsim_repo_copy(r, &copy, name, err);
	dsim_repo_close(&copy);
	return rc;
}

/* A backup's record, from its manifest. */
void
dsim_backup_record(struct dsim_rec *rec, const struct dsim_backup_opts *o,
    const struct dsim_repo_entry *e)
{
	json_t *m = e->manifest, *a = json_object_get(m, "archive");
	const char *const strs[] = { "source", "server_version", "snapshot",
	    "compression", NULL };
	int i;

	dsim_rec_begin(rec, "backup", o->now, o->env);
	dsim_rec_str(rec, "id", e->id);
	dsim_rec_time(rec, "created", e->created);
	for (i = 0; strs[i] != NULL; i++)
		dsim_rec_str(rec, strs[i], json_string_value(
		    json_object_get(m, strs[i])) ? json_string_value(
		    json_object_get(m, strs[i])) : "");
	dsim_rec_int(rec, "tables", (int64_t)json_array_size(
	    json_object_get(m, "tables")));
	dsim_rec_int(rec, "rows", json_integer_value(json_object_get(m,
	    "rows")));
	/* The members the manifest lists, and the manifest itself. */
	dsim_rec_int(rec, "members", (int64_t)json_array_size(
	    json_object_get(m, "members")) + 1);
	dsim_rec_int(rec, "size", json_integer_value(json_object_get(a,
	    "size")));
	dsim_rec_str(rec, "sha256", json_string_value(json_object_get(a,
	    "sha256")) ? json_string_value(json_object_get(a, "sha256")) : "");
	dsim_rec_int(rec, "duration_ms", json_integer_value(
	    json_object_get(m, "duration_ms")));
	dsim_rec_bool(rec, "pinned", e->pinned);
	dsim_rec_bool(rec, "damaged", e->damaged);
	dsim_rec_str(rec, "repo", o->repo);
	if (o->copy_to != NULL)
		dsim_rec_str(rec, "copy", o->copy_to);
}

/* How long a simulated backup takes: 100 MB/s, and half a second. */
static dsim_ms
backup_sim_duration(const struct dsim_dbstream_info *info)
{
	uint64_t bytes = info->pre_len + info->post_len;
	size_t i;

	for (i = 0; i < info->ntables; i++)
		bytes += info->tables[i].bytes;
	return 500 + (dsim_ms)(bytes / 100000);
}

/* Finish the archive, check it reads back, and move it into place. */
static int
backup_commit(const struct dsim_backup_opts *o, struct dsim_repo *r,
    const char *id, const char *tmp, const char *archive, struct build *b,
    json_t *manifest, const char *msha, dsim_ms duration,
    struct dsim_rec *rec, struct dsim_error *err)
{
	char sha[DSIM_SHA256_HEX], check[DSIM_SHA256_HEX];
	char name[DSIM_REPO_ID + 8], *text;
	struct dsim_repo_entry e;
	uint64_t size;
	int rc;

	if (dsim_tarball_finish(b->tar, sha, &size, err) != 0)
		return err->code;
	check[0] = '\0';
	memset(&e, 0, sizeof e);
	snprintf(e.id, sizeof e.id, "%s", id);
	e.created = o->now;
	e.manifest = backup_sidecar(manifest, msha, archive, size, sha,
	    duration, o->now + duration);
	/* What is on disk must be the bytes that were hashed as written. */
	if (dsim_sha256_file(tmp, check) != 0 || strcmp(check, sha) != 0) {
		json_decref(e.manifest);
		if (check[0] == '\0')
			return dsim_error_errno(err, DSIM_EX_IOERR, tmp,
			    "cannot read the archive back");
		return dsim_error_set(err, DSIM_EX_IOERR, tmp,
		    "the archive does not read back as written");
	}
	text = json_dumps(e.manifest, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (text == NULL)
		abort();
	snprintf(name, sizeof name, "%s.json", id);
	rc = dsim_repo_commit(r, tmp, archive, err) ||
	    dsim_repo_write(r, name, text, strlen(text), err);
	free(text);
	if (rc == 0 && o->copy_to != NULL)
		rc = backup_copy(o, r, id, archive, err);
	if (rc == 0)
		dsim_backup_record(rec, o, &e);
	json_decref(e.manifest);
	return rc != 0 ? err->code : 0;
}

/* Take the snapshot, write the archive aside, and commit it. */
static int
backup_make(const struct dsim_backup_opts *o, struct dsim_repo *r,
    struct dsim_dbstream_source *src, struct dsim_rec *rec,
    struct dsim_error *err)
{
	struct dsim_dbstream_info info;
	struct build b = { 0 };
	char id[DSIM_REPO_ID], archive[DSIM_REPO_ID + 16], tmp[PATH_MAX];
	char msha[DSIM_SHA256_HEX], final[PATH_MAX];
	json_t *manifest = NULL;
	dsim_ms t0 = backup_mono();
	int fd = -1, rc;

	memset(&info, 0, sizeof info);
	tmp[0] = '\0';
	b.members = json_array();
	b.tables = json_array();
	if ((rc = src->begin(src, o->jobs, &info, err)) == 0) {
		backup_new_id(r, o->now, id);
		snprintf(archive, sizeof archive, "%s%s", id,
		    dsim_tarball_suffixes[o->compression]);
		rc = dsim_repo_path(r, archive, final, sizeof final, err) ||
		    dsim_repo_temp(r, archive, tmp, sizeof tmp, &fd, err);
	}
	/* Messages name the archive as it would have been called. */
	if (rc == 0)
		rc = dsim_tarball_create(&b.tar, fd, final, o->compression,
		    1, o->now, err) || backup_write(o, id, src, &info,
		    &b, &manifest, msha, err);
	if (rc == 0)
		rc = backup_commit(o, r, id, tmp, archive, &b, manifest, msha,
		    o->simulated ? backup_sim_duration(&info) :
		    backup_mono() - t0, rec, err);
	dsim_tarball_free(b.tar);
	if (fd != -1)
		close(fd);
	if (rc != 0 && tmp[0] != '\0')
		unlink(tmp);
	json_decref(manifest);
	json_decref(b.members);
	json_decref(b.tables);
	dsim_dbstream_info_free(&info);
	return rc != 0 ? err->code : 0;
}

/*
 * Back up src into the repository, holding its lock, and write the new
 * backup's record.
 */
int
dsim_backup_create(const struct dsim_backup_opts *o,
    struct dsim_dbstream_source *src, struct dsim_sink *sink,
    struct dsim_error *err)
{
	struct dsim_rec rec = { 0 };
	struct dsim_repo r;
	int rc;

	if (dsim_repo_open(&r, o->repo, 1, err) != 0)
		return err->code;
	if ((rc = dsim_repo_lock(&r, o->program, err)) == 0 &&
	    (rc = dsim_repo_clean(&r, err)) == 0 &&
	    (rc = backup_make(o, &r, src, &rec, err)) == 0)
		dsim_rec_put(sink, &rec);
	src->end(src);
	dsim_repo_close(&r);
	dsim_rec_free(&rec);
	return rc;
}

/*
 * Open the repository for reading and scan it.  The default repository
 * that was never made holds no backups; one named on the command line
 * must exist.
 */
static int
backup_scan(const struct dsim_backup_opts *o, struct dsim_repo *r,
    struct dsim_repo_entry **v, size_t *n, struct dsim_error *err)
{
	*v = NULL;
	*n = 0;
	if (dsim_repo_open(r, o->repo, 0, err) != 0) {
		if (err->code == DSIM_EX_NOINPUT && !o->repo_given) {
			dsim_error_clear(err);
			return 0;
		}
		return err->code;
	}
	return dsim_repo_scan(r, v, n, err);
}

/* Write a record for every complete backup, oldest first. */
int
dsim_backup_list(const struct dsim_backup_opts *o, struct dsim_sink *sink,
    struct dsim_error *err)
{
	struct dsim_rec rec = { 0 };
	struct dsim_repo_entry *v;
	struct dsim_repo r;
	size_t n, i;

	if (backup_scan(o, &r, &v, &n, err) != 0)
		return err->code;
	for (i = 0; i < n; i++) {
		dsim_backup_record(&rec, o, &v[i]);
		dsim_rec_put(sink, &rec);
	}
	dsim_rec_free(&rec);
	dsim_repo_free_entries(v, n);
	return 0;
}

/* Pin a backup (prune keeps it forever), or with unpin let it go. */
int
dsim_backup_pin(const struct dsim_backup_opts *o, const char *id, int unpin,
    struct dsim_sink *sink, struct dsim_error *err)
{
	struct dsim_rec rec = { 0 };
	struct dsim_repo_entry *v, *e;
	struct dsim_repo r;
	char when[DSIM_CLOCK_LEN + 1];
	size_t n;
	int rc;

	if (dsim_repo_id_check(id, err) != 0 ||
	    dsim_repo_open(&r, o->repo, 0, err) != 0)
		return err->code;
	if ((rc = dsim_repo_lock(&r, o->program, err)) != 0 ||
	    (rc = dsim_repo_scan(&r, &v, &n, err)) != 0) {
		dsim_repo_close(&r);
		return rc;
	}
	if ((e = dsim_repo_find(v, n, id)) == NULL)
		rc = dsim_error_set(err, DSIM_EX_NOINPUT, id,
		    "no such backup in %s", o->repo);
	else {
		dsim_clock_format(o->now, when);
		strcat(when, "\n");
		rc = unpin ? dsim_repo_unmark(&r, id, ".pin", err) :
		    dsim_repo_mark(&r, id, ".pin", when, err);
		e->pinned = !unpin;
	}
	if (rc == 0) {
		dsim_backup_record(&rec, o, e);
		dsim_rec_put(sink, &rec);
	}
	dsim_rec_free(&rec);
	dsim_repo_free_entries(v, n);
	dsim_repo_close(&r);
	return rc;
}

/*
 * The archive a manifest names, if it is this backup's own (ID plus a
 * suffix of ours): a manifest never sends a reader outside the repository.
 */
const char *
dsim_backup_archive(const struct dsim_repo_entry *e)
{
	const char *name = json_string_value(json_object_get(
	    json_object_get(e->manifest, "archive"), "name"));
	size_t n = strlen(e->id);
	int i;

	if (name == NULL || strncmp(name, e->id, n) != 0)
		return NULL;
	for (i = 0; dsim_tarball_suffixes[i] != NULL; i++)
		if (strcmp(name + n, dsim_tarball_suffixes[i]) == 0)
			return name;
	return NULL;
}

enum { BUCKET_HOUR, BUCKET_DAY, BUCKET_WEEK, BUCKET_MONTH, BUCKET_YEAR };

/* The bucket a time falls in: its hour, day, ISO week, month or year. */
static void
prune_key(int bucket, dsim_ms ms, char *key, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	switch (bucket) {
	case BUCKET_HOUR:
		strftime(key, len, "%Y-%m-%dT%H", &tm);
		break;
	case BUCKET_DAY:
		strftime(key, len, "%Y-%m-%d", &tm);
		break;
	case BUCKET_WEEK:
		strftime(key, len, "%G-W%V", &tm);
		break;
	case BUCKET_MONTH:
		strftime(key, len, "%Y-%m", &tm);
		break;
	default:
		strftime(key, len, "%Y", &tm);
	}
}

/* Keep the newest backup of each of the count newest buckets. */
static void
prune_bucket(const struct dsim_repo_entry *v, size_t n, json_t **why,
    int64_t count, const char *rule, int bucket)
{
	char last[32] = "", key[32], reason[64];
	size_t i;

	for (i = n; i-- > 0 && count > 0; ) {
		prune_key(bucket, v[i].created, key, sizeof key);
		if (strcmp(key, last) == 0)
			continue;
		snprintf(last, sizeof last, "%s", key);
		snprintf(reason, sizeof reason, "%s %s", rule, key);
		json_array_append_new(why[i], json_string(reason));
		count--;
	}
}

/* Decide, for each backup, the reasons to keep it (none: it goes). */
static void
prune_decide(const struct dsim_backup_policy *p,
    const struct dsim_repo_entry *v, size_t n, json_t **why)
{
	char reason[64];
	size_t i;
	int verified = 0;

	for (i = n; i-- > 0; ) {
		if ((int64_t)(n - 1 - i) < p->last)
			json_array_append_new(why[i], json_string("last"));
		if (p->within >= 0 && v[i].created >= v[n - 1].created -
		    p->within) {
			snprintf(reason, sizeof reason, "within %" PRId64 "s",
			    (int64_t)(p->within / 1000));
			json_array_append_new(why[i], json_string(reason));
		}
		if (v[i].pinned)
			json_array_append_new(why[i], json_string("pinned"));
		if (!verified && !v[i].damaged) {
			json_array_append_new(why[i],
			    json_string("newest verified"));
			verified = 1;
		}
	}
	prune_bucket(v, n, why, p->hourly, "hourly", BUCKET_HOUR);
	prune_bucket(v, n, why, p->daily, "daily", BUCKET_DAY);
	prune_bucket(v, n, why, p->weekly, "weekly", BUCKET_WEEK);
	prune_bucket(v, n, why, p->monthly, "monthly", BUCKET_MONTH);
	prune_bucket(v, n, why, p->yearly, "yearly", BUCKET_YEAR);
}

/* Remove a backup from the repository and from its copy, if any. */
static int
prune_remove(struct dsim_repo *r, struct dsim_repo *copy,
    const struct dsim_repo_entry *e, struct dsim_error *err)
{
	const char *archive = dsim_backup_archive(e);

	if (archive == NULL)
		return dsim_error_set(err, DSIM_EX_DATAERR, e->id,
		    "manifest names no archive of its own");
	if (dsim_repo_remove(r, e->id, archive, err) != 0)
		return err->code;
	if (copy->lockfd != -1)
		return dsim_repo_remove(copy, e->id, archive, err);
	return 0;
}

/* One backup's verdict as a backup.prune record. */
static void
prune_record(struct dsim_rec *rec, const struct dsim_backup_opts *o,
    const struct dsim_backup_policy *p, const struct dsim_repo_entry *e,
    json_t *why)
{
	dsim_rec_begin(rec, "backup.prune", o->now, o->env);
	dsim_rec_str(rec, "id", e->id);
	dsim_rec_time(rec, "created", e->created);
	dsim_rec_str(rec, "action", json_array_size(why) > 0 ? "keep" :
	    "remove");
	if (json_array_size(why) == 0)
		json_array_append_new(why, json_string("matched no rule"));
	dsim_rec_json(rec, "reasons", why);
	dsim_rec_bool(rec, "dry_run", p->dry_run);
}

/* Lock the copy repository, when there is one to prune too. */
static int
prune_open_copy(const struct dsim_backup_opts *o, struct dsim_repo *copy,
    struct dsim_error *err)
{
	copy->lockfd = copy->readfd = -1;
	if (o->copy_to == NULL)
		return 0;
	if (dsim_repo_open(copy, o->copy_to, 0, err) != 0) {
		dsim_error_clear(err);
		return 0;
	}
	if (dsim_repo_lock(copy, o->program, err) != 0)
		return err->code;
	return dsim_repo_read(copy, 1, err);
}

/* Apply decided reasons: a record per backup, oldest first; remove. */
static int
prune_apply(const struct dsim_backup_opts *o,
    const struct dsim_backup_policy *p, struct dsim_repo *r,
    struct dsim_repo_entry *v, size_t n, json_t **why,
    struct dsim_sink *sink, struct dsim_error *err)
{
	struct dsim_rec rec = { 0 };
	struct dsim_repo copy;
	size_t i;
	int rc = 0;

	dsim_error_clear(err);
	if (!p->dry_run && (rc = prune_open_copy(o, &copy, err)) != 0)
		return rc;
	for (i = 0; i < n && rc == 0; i++) {
		int keep = json_array_size(why[i]) > 0;

		if (!keep && !p->dry_run)
			rc = prune_remove(r, &copy, &v[i], err);
		if (rc == 0) {
			prune_record(&rec, o, p, &v[i], why[i]);
			dsim_rec_put(sink, &rec);
		}
	}
	if (!p->dry_run)
		dsim_repo_close(&copy);
	dsim_rec_free(&rec);
	return rc;
}

/*
 * Remove the backups no rule keeps.  Pinned backups and the newest one
 * not found damaged are always kept; with dry_run, only say.
 */
int
dsim_backup_prune(const struct dsim_backup_opts *o,
    const struct dsim_backup_policy *p, struct dsim_sink *sink,
    struct dsim_error *err)
{
	struct dsim_repo_entry *v = NULL;
	struct dsim_repo r;
	json_t **why;
	size_t n = 0, i;
	int rc;

	if ((rc = dsim_repo_open(&r, o->repo, 0, err)) != 0)
		return rc;
	if ((!p->dry_run && ((rc = dsim_repo_lock(&r, o->program, err)) != 0 ||
	    (rc = dsim_repo_read(&r, 1, err)) != 0)) ||
	    (rc = dsim_repo_scan(&r, &v, &n, err)) != 0) {
		dsim_repo_close(&r);
		return rc;
	}
	if ((why = calloc(n + 1, sizeof *why)) == NULL)
		abort();
	for (i = 0; i < n; i++)
		why[i] = json_array();
	if (n > 0)
		prune_decide(p, v, n, why);
	rc = prune_apply(o, p, &r, v, n, why, sink, err);
	for (i = 0; i < n; i++)
		json_decref(why[i]);
	free(why);
	dsim_repo_free_entries(v, n);
	dsim_repo_close(&r);
	return rc;
}
