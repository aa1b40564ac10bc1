#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "prng.h"
#include "simdb.h"

/*
 * The simulated database: two tables, users and orders, whose rows are
 * drawn from the world's seed, so that the same world always holds the
 * same data; or, once a backup has been restored into it, the restored
 * tables, kept as COPY text in the state directory (simdb/).  Restored
 * contents belong to the world they were restored into: a world made
 * afresh by dsim-init --force goes back to generated tables.
 */

#define SIMDB_FORMAT	"dsim-simdb/1"
#define SIMDB_BUF	(64 * 1024)

/* What both variants know of the world. */
struct simdb {
	char		 dir[PATH_MAX];		/* STATE/ENV/simdb */
	char		 origin[96];		/* seed and creation time */
	char		 version[32];		/* the db nodes' version */
	uint64_t	 seed;
	uint64_t	 rows;
	dsim_ms		 created;
	dsim_ms		 clock;
	json_t		*meta;			/* restored contents, or NULL */
	/* the target's */
	char		 tmpdir[PATH_MAX + 32];
	json_t		*tables;
	FILE		*fp;
	uint64_t	 total;
	uint64_t	 nrows;
	int		 committed;
};

static const char simdb_pre[] =
    "SET client_encoding = 'UTF8';\n"
    "SET standard_conforming_strings = on;\n\n"
    "CREATE TABLE public.users (\n"
    "    id bigint NOT NULL,\n"
    "    name text NOT NULL,\n"
    "    email text NOT NULL,\n"
    "    note text,\n"
    "    created timestamp with time zone NOT NULL\n"
    ");\n\n"
    "CREATE TABLE public.orders (\n"
    "    id bigint NOT NULL,\n"
    "    user_id bigint NOT NULL,\n"
    "    amount numeric(10,2) NOT NULL,\n"
    "    status text NOT NULL,\n"
    "    created timestamp with time zone NOT NULL\n"
    ");\n";

static const char simdb_post[] =
    "ALTER TABLE ONLY public.users\n"
    "    ADD CONSTRAINT users_pkey PRIMARY KEY (id);\n\n"
    "ALTER TABLE ONLY public.orders\n"
    "    ADD CONSTRAINT orders_pkey PRIMARY KEY (id);\n\n"
    "CREATE UNIQUE INDEX users_email_key ON public.users USING btree "
    "(email);\n\n"
    "CREATE INDEX orders_user_id_idx ON public.orders USING btree "
    "(user_id);\n\n"
    "ALTER TABLE ONLY public.orders\n"
    "    ADD CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) "
    "REFERENCES public.users(id);\n";

static const char *const simdb_first[] = { "Ada", "Grace", "Linus", "Ken",
    "Barbara", "Dennis", "Margaret", "Edsger", "Frances", "Niklaus",
    "Radia", "Leslie", "Jean", "Tony", "Hedy", "Alan" };
static const char *const simdb_last[] = { "Lovelace", "Hopper", "Thompson",
    "Liskov", "Ritchie", "Hamilton", "Dijkstra", "Allen", "Wirth",
    "Perlman", "Lamport", "Sammet", "Hoare", "Lamarr", "Kay", "Müller" };
/* Values that stress the COPY text format, as a real table would. */
static const char *const simdb_notes[] = { "\\N", "tab\\there",
    "two\\nlines", "back\\\\slash", "naïve café ☕", "quote \" and '",
    "\\\\N is not null", "" };
static const char *const simdb_status[] = { "paid", "shipped", "refunded",
    "pending" };

/* Take from the world what the simulated database is made of. */
static void
simdb_world(struct simdb *s, const struct dsim_world *w, const char *dir)
{
	snprintf(s->dir, sizeof s->dir, "%s/simdb", dir);
	snprintf(s->version, sizeof s->version, "%s",
	    w->ndb > 0 ? w->db[0].version : "14");
	s->seed = w->seed;
	s->rows = w->db_rows;
	s->created = w->created;
	s->clock = w->clock;
	snprintf(s->origin, sizeof s->origin, "%" PRIu64 "@%" PRId64,
	    w->seed, (int64_t)w->created);
}

/* Load the restored contents, if there are any and they are this world's. */
static void
simdb_load_meta(struct simdb *s)
{
	char path[PATH_MAX + 16];
	const char *origin;

	snprintf(path, sizeof path, "%s/meta.json", s->dir);
	if ((s->meta = json_load_file(path, 0, NULL)) == NULL)
		return;
	if (json_unpack(s->meta, "{s:s}", "origin", &origin) != 0 ||
	    strcmp(origin, s->origin) != 0 ||
	    !json_is_array(json_object_get(s->meta, "tables"))) {
		json_decref(s->meta);
		s->meta = NULL;
	}
}

/* Read a small file of the restored contents whole. */
static char *
simdb_slurp(const char *dir, const char *name, size_t *len,
    struct dsim_error *err)
{
	char path[PATH_MAX + 128], *buf;
	struct stat sb;
	FILE *fp;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((fp = fopen(path, "rb")) == NULL || fstat(fileno(fp), &sb) == -1) {
		dsim_error_errno(err, DSIM_EX_IOERR, path, "cannot read");
		if (fp != NULL)
			fclose(fp);
		return NULL;
	}
	if ((buf = malloc((size_t)sb.st_size + 1)) == NULL)
		abort();
	*len = fread(buf, 1, (size_t)sb.st_size, fp);
	buf[*len] = '\0';
	fclose(fp);
	return buf;
}

/* Fill a table entry from its schema and name. */
static void
simdb_table(struct dsim_dbstream_table *t, const char *schema,
    const char *name)
{
	memset(t, 0, sizeof *t);
	snprintf(t->schema, sizeof t->schema, "%s", schema);
	snprintf(t->name, sizeof t->name, "%s", name);
	dsim_dbstream_qualify(t);
}

/* The restored contents' DDL and tables. */
static int
simdb_begin_restored(struct simdb *s, struct dsim_dbstream_info *info,
    struct dsim_error *err)
{
	json_t *tables = json_object_get(s->meta, "tables"), *t;
	const char *schema, *name;
	size_t i;

	if ((info->pre_data = simdb_slurp(s->dir, "pre-data.sql",
	    &info->pre_len, err)) == NULL ||
	    (info->post_data = simdb_slurp(s->dir, "post-data.sql",
	    &info->post_len, err)) == NULL)
		return err->code;
	info->ntables = json_array_size(tables);
	if ((info->tables = calloc(info->ntables + 1,
	    sizeof *info->tables)) == NULL)
		abort();
	json_array_foreach(tables, i, t) {
		if (json_unpack(t, "{s:s, s:s}", "schema", &schema, "name",
		    &name) != 0 || strlen(schema) >= DSIM_DBSTREAM_NAME ||
		    strlen(name) >= DSIM_DBSTREAM_NAME)
			return dsim_error_set(err, DSIM_EX_DATAERR, s->dir,
			    "meta.json: table %zu is malformed", i);
		simdb_table(&info->tables[i], schema, name);
		info->tables[i].index = i;
	}
	return 0;
}

/* The DDL was read or made with the tables. */
static int
simdb_src_ddl(struct dsim_dbstream_source *src,
    struct dsim_dbstream_info *info, struct dsim_error *err)
{
	(void)src;
	(void)info;
	(void)err;
	return 0;
}

/* The DDL and tables: restored ones, or the generated two. */
static int
simdb_src_begin(struct dsim_dbstream_source *src, int jobs,
    struct dsim_dbstream_info *info, struct dsim_error *err)
{
	struct simdb *s = src->ctx;
	char clock[DSIM_CLOCK_LEN];

	(void)jobs;
	memset(info, 0, sizeof *info);
	snprintf(info->server_version, sizeof info->server_version,
	    "PostgreSQL %s (simulated)", s->version);
	dsim_clock_format(s->clock, clock);
	snprintf(info->snapshot, sizeof info->snapshot, "sim@%s", clock);
	simdb_load_meta(s);
	if (s->meta != NULL)
		return simdb_begin_restored(s, info, err);
	info->pre_data = strdup(simdb_pre);
	info->post_data = strdup(simdb_post);
	if (info->pre_data == NULL || info->post_data == NULL)
		abort();
	info->pre_len = strlen(simdb_pre);
	info->post_len = strlen(simdb_post);
	info->ntables = 2;
	if ((info->tables = calloc(2, sizeof *info->tables)) == NULL)
		abort();
	simdb_table(&info->tables[0], "public", "users");
	simdb_table(&info->tables[1], "public", "orders");
	info->tables[1].index = 1;
	return 0;
}

/* Rows are written through a buffer, a batch at a time. */
struct simdb_out {
	char		 buf[SIMDB_BUF];
	size_t		 len;
	dsim_dbstream_write_fn write;
	void		*arg;
};

/* Hand the buffered rows to the writer. */
static int
simdb_flush(struct simdb_out *o, struct dsim_error *err)
{
	int rc = o->len > 0 ? o->write(o->arg, o->buf, o->len, err) : 0;

	o->len = 0;
	return rc;
}

/* A timestamp in the year before the world was made. */
static void
simdb_time(struct simdb *s, struct dsim_prng *p, char *buf, size_t len)
{
	time_t t = (time_t)(s->created / 1000) -
	    (time_t)dsim_prng_below(p, 365 * 86400);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S+00", &tm);
}

/* Generate the users table from the seed. */
static int
simdb_users(struct simdb *s, struct simdb_out *o, uint64_t n,
    struct dsim_error *err)
{
	struct dsim_prng p;
	char when[40];
	uint64_t i;
	size_t f, l;

	dsim_prng_seed(&p, s->seed ^ 0x7573657273ULL);
	for (i = 1; i <= n; i++) {
		if (o->len > SIMDB_BUF - 512 && simdb_flush(o, err) != 0)
			return err->code;
		f = dsim_prng_below(&p, 16);
		l = dsim_prng_below(&p, 16);
		simdb_time(s, &p, when, sizeof when);
		o->len += (size_t)snprintf(o->buf + o->len, SIMDB_BUF - o->len,
		    "%" PRIu64 "\t%s %s\tuser%" PRIu64 "@example.com\t%s\t%s\n",
		    i, simdb_first[f], simdb_last[l], i,
		    simdb_notes[dsim_prng_below(&p, 8)], when);
	}
	return simdb_flush(o, err);
}

/* Generate the orders table from the seed. */
static int
simdb_orders(struct simdb *s, struct simdb_out *o, uint64_t n,
    uint64_t users, struct dsim_error *err)
{
	struct dsim_prng p;
	char when[40];
	uint64_t i, cents;

	dsim_prng_seed(&p, s->seed ^ 0x6f7264657273ULL);
	for (i = 1; i <= n; i++) {
		if (o->len > SIMDB_BUF - 256 && simdb_flush(o, err) != 0)
			return err->code;
		cents = 100 + dsim_prng_below(&p, 50000);
		simdb_time(s, &p, when, sizeof when);
		o->len += (size_t)snprintf(o->buf + o->len, SIMDB_BUF - o->len,
		    "%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 ".%02" PRIu64
		    "\t%s\t%s\n", i, 1 + dsim_prng_below(&p, users),
		    cents / 100, cents % 100,
		    simdb_status[dsim_prng_below(&p, 4)], when);
	}
	return simdb_flush(o, err);
}

/* Stream a restored table's file. */
static int
simdb_copy_file(struct simdb *s, size_t index, struct simdb_out *o,
    struct dsim_error *err)
{
	char path[PATH_MAX + 128];
	FILE *fp;

	snprintf(path, sizeof path, "%s/t%zu.copy", s->dir, index);
	if ((fp = fopen(path, "rb")) == NULL)
		return dsim_error_errno(err, DSIM_EX_IOERR, path,
		    "cannot read");
	while ((o->len = fread(o->buf, 1, SIMDB_BUF, fp)) > 0)
		if (simdb_flush(o, err) != 0)
			break;
	if (err->code == 0 && ferror(fp))
		dsim_error_errno(err, DSIM_EX_IOERR, path, "read");
	fclose(fp);
	return err->code;
}

/* Copy one table out: from its file, or generated. */
static int
simdb_src_copy(struct dsim_dbstream_source *src, int worker,
    struct dsim_dbstream_table *t, dsim_dbstream_write_fn write, void *arg,
    struct dsim_error *err)
{
	struct simdb *s = src->ctx;
	struct simdb_out *o = malloc(sizeof *o);
	uint64_t users = s->rows / 5 > 0 ? s->rows / 5 : 1;
	int rc;

	(void)worker;
	if (o == NULL)
		abort();
	o->len = 0;
	o->write = write;
	o->arg = arg;
	if (s->meta != NULL)
		rc = simdb_copy_file(s, t->index, o, err);
	else if (strcmp(t->name, "users") == 0)
		rc = simdb_users(s, o, users, err);
	else
		rc = simdb_orders(s, o, s->rows - users, users, err);
	free(o);
	return rc;
}

/* Let the source go. */
static void
simdb_src_end(struct dsim_dbstream_source *src)
{
	struct simdb *s = src->ctx;

	json_decref(s->meta);
	free(s);
	src->ctx = NULL;
}

/* Make src the simulated database of world w, whose state is in dir. */
void
dsim_simdb_source(struct dsim_dbstream_source *src,
    const struct dsim_world *w, const char *dir)
{
	struct simdb *s = calloc(1, sizeof *s);

	if (s == NULL)
		abort();
	simdb_world(s, w, dir);
	memset(src, 0, sizeof *src);
	src->begin = simdb_src_begin;
	src->ddl = simdb_src_ddl;
	src->copy_out = simdb_src_copy;
	src->end = simdb_src_end;
	src->ctx = s;
	snprintf(src->label, sizeof src->label, "sim");
}

/* Remove a directory of plain files. */
static void
simdb_rmdir(const char *dir)
{
	char path[PATH_MAX + 260];
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/*
 * The simulated database always holds data, so a restore into it needs
 * clean; what is restored goes to a new directory until commit.
 */
static int
simdb_tgt_begin(struct dsim_dbstream_target *tgt, int clean,
    struct dsim_error *err)
{
	struct simdb *s = tgt->ctx;

	if (!clean)
		return dsim_error_set(err, DSIM_EX_CANTCREAT, "sim",
		    "the simulated database is not empty; use --clean to "
		    "replace its contents");
	snprintf(s->tmpdir, sizeof s->tmpdir, "%s.%ld.tmp", s->dir,
	    (long)getpid());
	simdb_rmdir(s->tmpdir);
	if (mkdir(s->tmpdir, 0755) == -1)
		return dsim_error_errno(err, DSIM_EX_CANTCREAT, s->tmpdir,
		    "cannot create directory");
	if ((s->tables = json_array()) == NULL)
		abort();
	return 0;
}

/* Write a whole file into the new directory, synced. */
static int
simdb_put(struct simdb *s, const char *name, const char *buf, size_t len,
    struct dsim_error *err)
{
	char path[PATH_MAX + 128];
	FILE *fp;
	int bad;

	snprintf(path, sizeof path, "%s/%s", s->tmpdir, name);
	if ((fp = fopen(path, "wb")) == NULL)
		return dsim_error_errno(err, DSIM_EX_CANTCREAT, path,
		    "cannot create");
	bad = fwrite(buf, 1, len, fp) != len || fflush(fp) != 0 ||
	    fsync(fileno(fp)) == -1;
	if (fclose(fp) != 0 || bad)
		return dsim_error_errno(err, DSIM_EX_IOERR, path, "write");
	return 0;
}

/* Keep a section's DDL as a file. */
static int
simdb_tgt_exec(struct dsim_dbstream_target *tgt, const char *section,
    const char *sql, size_t len, struct dsim_error *err)
{
	char name[64];

	snprintf(name, sizeof name, "%s.sql", section);
	return simdb_put(tgt->ctx, name, sql, len, err);
}

/* Start a table's file, noting the table. */
static int
simdb_tgt_copy_begin(struct dsim_dbstream_target *tgt, const char *schema,
    const char *name, struct dsim_error *err)
{
	struct simdb *s = tgt->ctx;
	char path[PATH_MAX + 128];

	snprintf(path, sizeof path, "%s/t%zu.copy", s->tmpdir,
	    json_array_size(s->tables));
	if ((s->fp = fopen(path, "wb")) == NULL)
		return dsim_error_errno(err, DSIM_EX_CANTCREAT, path,
		    "cannot create");
	json_array_append_new(s->tables, json_pack("{s:s, s:s}", "schema",
	    schema, "name", name));
	s->nrows = 0;
	return 0;
}

/* Append COPY text, counting rows, within the size cap. */
static int
simdb_tgt_copy_data(struct dsim_dbstream_target *tgt, const char *buf,
    size_t len, struct dsim_error *err)
{
	struct simdb *s = tgt->ctx;
	const char *p = buf, *end = buf + len;

	if ((s->total += len) > DSIM_SIMDB_MAX)
		return dsim_error_set(err, DSIM_EX_CANTCREAT, "sim",
		    "the simulated database holds at most %llu MiB",
		    (unsigned long long)(DSIM_SIMDB_MAX >> 20));
	while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		s->nrows++;
		p++;
	}
	if (fwrite(buf, 1, len, s->fp) != len)
		return dsim_error_errno(err, DSIM_EX_IOERR, s->tmpdir,
		    "write");
	return 0;
}

/* Close a table's file and note its rows. */
static int
simdb_tgt_copy_end(struct dsim_dbstream_target *tgt, const char *abort_why,
    uint64_t *rows, struct dsim_error *err)
{
	struct simdb *s = tgt->ctx;
	int bad;

	bad = fflush(s->fp) != 0 || fsync(fileno(s->fp)) == -1;
	if (fclose(s->fp) != 0)
		bad = 1;
	s->fp = NULL;
	if (abort_why != NULL)
		return 0;
	if (bad)
		return dsim_error_errno(err, DSIM_EX_IOERR, s->tmpdir,
		    "write");
	json_object_set_new(json_array_get(s->tables,
	    json_array_size(s->tables) - 1), "rows",
	    json_integer((json_int_t)s->nrows));
	*rows = s->nrows;
	return 0;
}

/* Swap the new directory in: meta.json last, then two renames. */
static int
simdb_tgt_commit(struct dsim_dbstream_target *tgt, struct dsim_error *err)
{
	struct simdb *s = tgt->ctx;
	char old[PATH_MAX + 16], *text;
	json_t *meta;
	int rc;

	meta = json_pack("{s:s, s:s, s:O}", "format", SIMDB_FORMAT, "origin",
	    s->origin, "tables", s->tables);
	text = json_dumps(meta, JSON_INDENT(2));
	json_decref(meta);
	if (text == NULL)
		abort();
	rc = simdb_put(s, "meta.json", text, strlen(text), err);
	free(text);
	if (rc != 0)
		return rc;
	snprintf(old, sizeof old, "%s.old", s->dir);
	simdb_rmdir(old);
	if ((rename(s->dir, old) == -1 && errno != ENOENT) ||
	    rename(s->tmpdir, s->dir) == -1)
		return dsim_error_errno(err, DSIM_EX_IOERR, s->dir, "rename");
	simdb_rmdir(old);
	s->committed = 1;
	return 0;
}

/* Let the target go, removing what was not committed. */
static void
simdb_tgt_end(struct dsim_dbstream_target *tgt)
{
	struct simdb *s = tgt->ctx;

	if (s->fp != NULL)
		fclose(s->fp);
	if (!s->committed && s->tmpdir[0] != '\0')
		simdb_rmdir(s->tmpdir);
	json_decref(s->tables);
	free(s);
	tgt->ctx = NULL;
}

/* Make tgt the simulated database of world w, whose state is in dir. */
void
dsim_simdb_target(struct dsim_dbstream_target *tgt,
    const struct dsim_world *w, const char *dir)
{
	struct simdb *s = calloc(1, sizeof *s);

	if (s == NULL)
		abort();
	simdb_world(s, w, dir);
	memset(tgt, 0, sizeof *tgt);
	tgt->begin = simdb_tgt_begin;
	tgt->exec = simdb_tgt_exec;
	tgt->copy_begin = simdb_tgt_copy_begin;
	tgt->copy_data = simdb_tgt_copy_data;
	tgt->copy_end = simdb_tgt_copy_end;
	tgt->commit = simdb_tgt_commit;
	tgt->end = simdb_tgt_end;
	tgt->ctx = s;
	snprintf(tgt->label, sizeof tgt->label, "sim");
}
