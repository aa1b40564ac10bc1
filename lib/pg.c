#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "dynlib.h"
#include "pg.h"

/*
 * libpq is opened when a connection is first made, not when dsim-backup
 * starts: it and the libraries it needs (GSSAPI, LDAP, TLS) would cost
 * every run five milliseconds, --help and the simulated source included.
 */
static struct {
	__typeof__(PQclear)	*clear;
	__typeof__(PQcmdTuples)	*cmdTuples;
	__typeof__(PQconnectdb)	*connectdb;
	__typeof__(PQconninfo)	*conninfo;
	__typeof__(PQconninfoFree)	*conninfoFree;
	__typeof__(PQconninfoParse)	*conninfoParse;
	__typeof__(PQdb)	*db;
	__typeof__(PQerrorMessage)	*errorMessage;
	__typeof__(PQexec)	*exec;
	__typeof__(PQfinish)	*finish;
	__typeof__(PQfreemem)	*freemem;
	__typeof__(PQgetCopyData)	*getCopyData;
	__typeof__(PQgetResult)	*getResult;
	__typeof__(PQgetlength)	*getlength;
	__typeof__(PQgetvalue)	*getvalue;
	__typeof__(PQhost)	*host;
	__typeof__(PQntuples)	*ntuples;
	__typeof__(PQparameterStatus)	*parameterStatus;
	__typeof__(PQpass)	*pass;
	__typeof__(PQport)	*port;
	__typeof__(PQputCopyData)	*putCopyData;
	__typeof__(PQputCopyEnd)	*putCopyEnd;
	__typeof__(PQresultErrorMessage)	*resultErrorMessage;
	__typeof__(PQresultStatus)	*resultStatus;
	__typeof__(PQserverVersion)	*serverVersion;
	__typeof__(PQsetNoticeReceiver)	*setNoticeReceiver;
	__typeof__(PQstatus)	*status;
	__typeof__(PQuser)	*user;
} pq;
static pthread_once_t pg_once = PTHREAD_ONCE_INIT;
static char pg_missing[256];		/* why libpq could not be had */

/* Open libpq and find its functions; once, whatever thread asks. */
static void
pg_load(void)
{
	static const struct dsim_dynlib_sym syms[] = {
		{ "PQclear", &pq.clear },
		{ "PQcmdTuples", &pq.cmdTuples },
		{ "PQconnectdb", &pq.connectdb },
		{ "PQconninfo", &pq.conninfo },
		{ "PQconninfoFree", &pq.conninfoFree },
		{ "PQconninfoParse", &pq.conninfoParse },
		{ "PQdb", &pq.db },
		{ "PQerrorMessage", &pq.errorMessage },
		{ "PQexec", &pq.exec },
		{ "PQfinish", &pq.finish },
		{ "PQfreemem", &pq.freemem },
		{ "PQgetCopyData", &pq.getCopyData },
		{ "PQgetResult", &pq.getResult },
		{ "PQgetlength", &pq.getlength },
		{ "PQgetvalue", &pq.getvalue },
		{ "PQhost", &pq.host },
		{ "PQntuples", &pq.ntuples },
		{ "PQparameterStatus", &pq.parameterStatus },
		{ "PQpass", &pq.pass },
		{ "PQport", &pq.port },
		{ "PQputCopyData", &pq.putCopyData },
		{ "PQputCopyEnd", &pq.putCopyEnd },
		{ "PQresultErrorMessage", &pq.resultErrorMessage },
		{ "PQresultStatus", &pq.resultStatus },
		{ "PQserverVersion", &pq.serverVersion },
		{ "PQsetNoticeReceiver", &pq.setNoticeReceiver },
		{ "PQstatus", &pq.status },
		{ "PQuser", &pq.user },
	};
	size_t n = sizeof syms / sizeof syms[0];

	dsim_dynlib_open("libpq.so.5", syms, n, pg_missing, sizeof pg_missing);
}

/* Whether libpq is there to use; 0, or 69 naming subject and why not. */
static int
pg_ready(const char *subject, struct dsim_error *err)
{
	pthread_once(&pg_once, pg_load);
	if (pg_missing[0] == '\0')
		return 0;
	return dsim_error_set(err, DSIM_EX_UNAVAILABLE, subject, "%s",
	    pg_missing);
}

/*
 * PostgreSQL through libpq, as a backup source and a restore target.  A
 * source reads in one REPEATABLE READ transaction whose snapshot it
 * exports, so that pg_dump (for the DDL) and the other workers' own
 * connections see exactly the same data; a target applies a whole
 * restore in one transaction.
 */

/* The settings under which COPY text means the same on both sides. */
#define PG_SESSION \
	"SET DateStyle = ISO; SET IntervalStyle = postgres; " \
	"SET extra_float_digits = 3; SET statement_timeout = 0; " \
	"SET lock_timeout = 0; SET idle_in_transaction_session_timeout = 0"

#define PG_USER_REL \
	"FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n " \
	"ON n.oid = c.relnamespace WHERE n.nspname <> 'information_schema' " \
	"AND n.nspname !~ '^pg_' AND NOT EXISTS (SELECT 1 FROM " \
	"pg_catalog.pg_depend d WHERE d.classid = " \
	"'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid " \
	"AND d.deptype = 'e') "

/* A pg_dump under way. */
struct pg_dump {
	pid_t		 pid;
	int		 fd;		/* its standard output */
	FILE		*errs;		/* its standard error */
};

struct pg;
static int	 pg_dump_finish(struct pg *, struct pg_dump *, char **,
		    size_t *, struct dsim_error *);

struct pg {
	char		*conninfo;
	const char	*label;		/* the struct's label: no password */
	PGconn		**conns;	/* a source's workers; [0] holds the */
	int		 nconns;	/* snapshot */
	int		 committed;
	struct pg_dump	 dumps[2];	/* pre-data and post-data DDL */
	char		*seq;		/* statements that set sequences */
	size_t		 seqlen;
	char		 pg_dump[64];	/* the pg_dump to run */
};

/* Copy a URI with the password taken out of its user part and query. */
static void
pg_display_uri(const char *uri, char *buf, size_t len)
{
	const char *rest = strstr(uri, "://") + 3, *at, *colon, *q;
	size_t n = (size_t)(rest - uri), span;
	char *o = buf;

	span = strcspn(rest, "/?");
	at = memchr(rest, '@', span);
	for (q = rest; at != NULL && (q = memchr(q, '@', span - (size_t)(q -
	    rest))) != NULL; q++)
		at = q;
	colon = at != NULL ? memchr(rest, ':', (size_t)(at - rest)) : NULL;
	if (colon != NULL)
		snprintf(o, len, "%.*s%.*s%s", (int)n, uri,
		    (int)(colon - rest), rest, at);
	else
		snprintf(o, len, "%s", uri);
	/* A password=... parameter in the query goes too. */
	while ((q = strstr(buf, "password=")) != NULL &&
	    (q[-1] == '?' || q[-1] == '&')) {
		span = strcspn(q, "&");
		memmove((char *)q, q + span + (q[span] == '&'),
		    strlen(q + span + (q[span] == '&')) + 1);
	}
	n = strlen(buf);
	if (n > 0 && (buf[n - 1] == '?' || buf[n - 1] == '&'))
		buf[n - 1] = '\0';
}

/* Append a key=value pair, quoting the value when it needs it. */
static void
pg_display_pair(char *buf, size_t len, const char *key, const char *val)
{
	size_t n = strlen(buf);
	const char *p;
	int quote = *val == '\0' || strpbrk(val, " '\\\t\n") != NULL;

	n += (size_t)snprintf(buf + n, len - n, "%s%s=%s", n > 0 ? " " : "",
	    key, quote ? "'" : "");
	for (p = val; *p != '\0' && n + 3 < len; p++) {
		if (*p == '\'' || *p == '\\')
			buf[n++] = '\\';
		buf[n++] = *p;
	}
	snprintf(buf + n, len - n, "%s", quote ? "'" : "");
}

/* Read one value of a key=value string, as libpq does; past it out. */
static const char *
pg_display_value(const char *p, char *val, size_t len)
{
	size_t n = 0;
	int quoted = *p == '\'';

	for (p += quoted; *p != '\0'; p++) {
		if (quoted ? *p == '\'' : isspace((unsigned char)*p)) {
			p += quoted;
			break;
		}
		if (*p == '\\' && p[1] != '\0')
			p++;
		if (n + 1 < len)
			val[n++] = *p;
	}
	val[n] = '\0';
	return p;
}

/*
 * Write conninfo as messages and records show it: the same connection
 * string, in the same order, with any password removed.
 */
void
dsim_pg_display(const char *conninfo, char *buf, size_t len)
{
	PQconninfoOption *opts;
	char key[64], val[512];
	const char *p = conninfo;
	size_t n;

	buf[0] = '\0';
	if (strncmp(conninfo, "postgresql://", 13) == 0 ||
	    strncmp(conninfo, "postgres://", 11) == 0) {
		pg_display_uri(conninfo, buf, len);
		return;
	}
	if (pg_ready(NULL, NULL) != 0 ||
	    (opts = pq.conninfoParse(conninfo, NULL)) == NULL) {
		snprintf(buf, len, "(unparsable connection string)");
		return;
	}
	pq.conninfoFree(opts);
	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		n = strcspn(p, "= \t\n");
		snprintf(key, sizeof key, "%.*s", (int)n, p);
		for (p += n; isspace((unsigned char)*p) || *p == '='; p++)
			continue;
		p = pg_display_value(p, val, sizeof val);
		if (strcmp(key, "password") != 0)
			pg_display_pair(buf, len, key, val);
	}
}

/* The first line of a libpq message, for err. */
static int
pg_fail(struct pg *p, PGconn *conn, const PGresult *res, const char *doing,
    struct dsim_error *err)
{
	const char *msg = res != NULL ? pq.resultErrorMessage(res) : "";
	int code = conn == NULL || pq.status(conn) == CONNECTION_BAD ?
	    DSIM_EX_UNAVAILABLE : DSIM_EX_FAILED;

	if (*msg == '\0' && conn != NULL)
		msg = pq.errorMessage(conn);
	return dsim_error_set(err, code, p->label, "%s: %.*s", doing,
	    (int)strcspn(msg, "\n"), msg);
}

/* Run commands that return no rows; 0 or an exit status. */
static int
pg_exec(struct pg *p, PGconn *conn, const char *sql, const char *doing,
    struct dsim_error *err)
{
	PGresult *res = pq.exec(conn, sql);
	int rc = 0;

	if (pq.resultStatus(res) != PGRES_COMMAND_OK &&
	    pq.resultStatus(res) != PGRES_TUPLES_OK)
		rc = pg_fail(p, conn, res, doing, err);
	pq.clear(res);
	return rc;
}

/* The server's notices (NOTICE: drop cascades to ...) are not ours to print. */
static void
pg_quiet(void *arg, const PGresult *res)
{
	(void)arg;
	(void)res;
}

/* Connect, and set the session up so that COPY text travels intact. */
static int
pg_connect(struct pg *p, char *label, size_t labellen, PGconn **out,
    struct dsim_error *err)
{
	PGconn *conn;
	const char *enc;
	char set[96];

	*out = NULL;
	if (pg_ready(p->label, err) != 0)
		return err->code;
	*out = conn = pq.connectdb(p->conninfo);
	if (conn == NULL)
		abort();
	if (*p->conninfo == '\0' && labellen > 0)
		snprintf(label, labellen, "host=%s port=%s dbname=%s user=%s",
		    pq.host(conn), pq.port(conn), pq.db(conn), pq.user(conn));
	if (pq.status(conn) != CONNECTION_OK)
		return dsim_error_set(err, DSIM_EX_UNAVAILABLE, p->label,
		    "cannot connect: %.*s", (int)strcspn(pq.errorMessage(conn),
		    "\n"), pq.errorMessage(conn));
	pq.setNoticeReceiver(conn, pg_quiet, NULL);
	enc = pq.parameterStatus(conn, "server_encoding");
	snprintf(set, sizeof set, "SET client_encoding = '%s'",
	    enc != NULL && strchr(enc, '\'') == NULL ? enc : "UTF8");
	if (pg_exec(p, conn, PG_SESSION, "session", err) != 0 ||
	    pg_exec(p, conn, set, "session", err) != 0)
		return err->code;
	return 0;
}

/* A source or target for conninfo, its label set without password. */
static struct pg *
pg_new(const char *conninfo, char *label, size_t len)
{
	struct pg *p = calloc(1, sizeof *p);

	if (p == NULL || (p->conninfo = strdup(conninfo)) == NULL)
		abort();
	p->label = label;
	p->dumps[0].pid = p->dumps[1].pid = -1;
	if (*conninfo == '\0')
		snprintf(label, len, "(PG* variables)");
	else
		dsim_pg_display(conninfo, label, len);
	return p;
}

/* Close every connection (rolling back what is open) and free. */
static void
pg_free(struct pg *p)
{
	struct dsim_error ignore;
	char *junk;
	size_t n;
	int i;

	for (i = 0; i < 2; i++) {
		if (p->dumps[i].pid == -1)
			continue;
		kill(p->dumps[i].pid, SIGTERM);
		junk = NULL;
		pg_dump_finish(p, &p->dumps[i], &junk, &n, &ignore);
		free(junk);
	}
	free(p->seq);

	for (i = 0; i < p->nconns; i++)
		if (p->conns[i] != NULL)
			pq.finish(p->conns[i]);
	free(p->conns);
	free(p->conninfo);
	free(p);
}

/* List the tables to copy, largest first, and lock them against DDL. */
static int
pg_tables(struct pg *p, struct dsim_dbstream_info *info,
    struct dsim_error *err)
{
	PGconn *conn = p->conns[0];
	PGresult *res = pq.exec(conn, "SELECT n.nspname, c.relname "
	    PG_USER_REL "AND c.relkind = 'r' AND c.relpersistence <> 't' "
	    "ORDER BY pg_catalog.pg_relation_size(c.oid) DESC, 1, 2");
	int i, n, rc = 0;
	char *lock;

	if (pq.resultStatus(res) != PGRES_TUPLES_OK) {
		rc = pg_fail(p, conn, res, "listing tables", err);
		pq.clear(res);
		return rc;
	}
	n = pq.ntuples(res);
	info->ntables = (size_t)n;
	if ((info->tables = calloc((size_t)n + 1, sizeof *info->tables)) ==
	    NULL || (lock = malloc((size_t)n * 530 + 64)) == NULL)
		abort();
	strcpy(lock, "LOCK TABLE ");
	for (i = 0; i < n; i++) {
		struct dsim_dbstream_table *t = &info->tables[i];

		snprintf(t->schema, sizeof t->schema, "%s",
		    pq.getvalue(res, i, 0));
		snprintf(t->name, sizeof t->name, "%s", pq.getvalue(res, i, 1));
		t->index = (size_t)i;
		dsim_dbstream_qualify(t);
		strcat(lock, i > 0 ? ", " : "");
		strcat(lock, t->qualified);
	}
	pq.clear(res);
	strcat(lock, " IN ACCESS SHARE MODE");
	if (n > 0)
		rc = pg_exec(p, conn, lock, "locking tables", err);
	free(lock);
	return rc;
}

/* The statements that set every sequence where the snapshot saw it. */
static int
pg_sequences(struct pg *p, char **out, size_t *len, struct dsim_error *err)
{
	PGconn *conn = p->conns[0];
	PGresult *res = pq.exec(conn, "SELECT pg_catalog.format("
	    "'SELECT pg_catalog.setval(%L, %s, %s);', "
	    "pg_catalog.quote_ident(schemaname) || '.' || "
	    "pg_catalog.quote_ident(sequencename), "
	    "COALESCE(last_value, start_value), CASE WHEN last_value IS "
	    "NULL THEN 'false' ELSE 'true' END) "
	    "FROM pg_catalog.pg_sequences WHERE schemaname <> "
	    "'information_schema' AND schemaname !~ '^pg_' ORDER BY 1");
	size_t cap = 64, n;
	int i;

	if (pq.resultStatus(res) != PGRES_TUPLES_OK) {
		pg_fail(p, conn, res, "reading sequences", err);
		pq.clear(res);
		return err->code;
	}
	for (i = 0; i < pq.ntuples(res); i++)
		cap += (size_t)pq.getlength(res, i, 0) + 1;
	if ((*out = malloc(cap)) == NULL)
		abort();
	*len = 0;
	for (i = 0; i < pq.ntuples(res); i++) {
		n = (size_t)pq.getlength(res, i, 0);
		memcpy(*out + *len, pq.getvalue(res, i, 0), n);
		(*out)[*len + n] = '\n';
		*len += n + 1;
	}
	(*out)[*len] = '\0';
	pq.clear(res);
	return 0;
}

/* The connection string for pg_dump: the live one's, password apart. */
static char *
pg_dump_conninfo(PGconn *conn)
{
	PQconninfoOption *opts = pq.conninfo(conn), *o;
	size_t cap = 4096;
	char *buf = malloc(cap);

	if (buf == NULL || opts == NULL)
		abort();
	buf[0] = '\0';
	for (o = opts; o->keyword != NULL; o++)
		if (o->val != NULL && *o->val != '\0' &&
		    strcmp(o->keyword, "password") != 0 &&
		    strlen(buf) + 2 * strlen(o->val) + 64 < cap)
			pg_display_pair(buf, cap, o->keyword, o->val);
	pq.conninfoFree(opts);
	return buf;
}

/* Drop the psql meta-commands (\restrict) that pg_dump brackets DDL in. */
static void
pg_strip_meta(char *buf, size_t *len)
{
	char *line = buf, *end = buf + *len, *nl, *o = buf;
	size_t n;

	while (line < end) {
		nl = memchr(line, '\n', (size_t)(end - line));
		n = nl != NULL ? (size_t)(nl - line) + 1 : (size_t)(end - line);
		if (strncmp(line, "\\restrict ", 10) != 0 &&
		    strncmp(line, "\\unrestrict ", 12) != 0) {
			memmove(o, line, n);
			o += n;
		}
		line += n;
	}
	*o = '\0';
	*len = (size_t)(o - buf);
}

/* Read all of fd into a growing buffer. */
static char *
pg_read_all(int fd, size_t *len)
{
	size_t cap = 1 << 16;
	char *buf = malloc(cap);
	ssize_t n;

	*len = 0;
	if (buf == NULL)
		abort();
	for (;;) {
		if (*len + 1 >= cap && (buf = realloc(buf, cap *= 2)) == NULL)
			abort();
		n = read(fd, buf + *len, cap - *len - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		*len += (size_t)n;
	}
	buf[*len] = '\0';
	return buf;
}

/* In the child: pg_dump with stdout on out, stderr on errfd. */
static void
pg_dump_exec(const char *prog, const char *section, const char *snapshot,
    const char *conninfo, const char *password, int out, int errfd)
{
	char sec[64], snap[96], *db;

	if ((db = malloc(strlen(conninfo) + 16)) == NULL)
		_exit(126);
	sprintf(db, "--dbname=%s", conninfo);
	snprintf(sec, sizeof sec, "--section=%s", section);
	snprintf(snap, sizeof snap, "--snapshot=%s", snapshot);
	if (password != NULL)
		setenv("PGPASSWORD", password, 1);
	dup2(out, STDOUT_FILENO);
	dup2(errfd, STDERR_FILENO);
	execlp(prog, prog, sec, snap, "--no-password", db, (char *)NULL);
	fprintf(stderr, "%s: %s\n", prog, strerror(errno));
	_exit(127);
}

/* Say why pg_dump failed, from the first line it wrote to stderr. */
static int
pg_dump_failed(struct pg *p, FILE *errs, int status, struct dsim_error *err)
{
	char line[400] = "";

	rewind(errs);
	if (fgets(line, sizeof line, errs) == NULL)
		snprintf(line, sizeof line, "exit status %d", status);
	line[strcspn(line, "\n")] = '\0';
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return dsim_error_set(err, DSIM_EX_UNAVAILABLE, "pg_dump",
		    "%s (install postgresql-client, or set DSIM_PG_DUMP)",
		    line);
	return dsim_error_set(err, DSIM_EX_UNAVAILABLE, p->label,
	    "pg_dump: %s", line);
}

/* Start pg_dump for one section in the exported snapshot. */
static int
pg_dump_start(struct pg *p, const char *section, const char *snapshot,
    struct pg_dump *d, struct dsim_error *err)
{
	char *conninfo = pg_dump_conninfo(p->conns[0]);
	const char *password = pq.pass(p->conns[0]);
	int fds[2];

	d->pid = -1;
	/* Close-on-exec, so that a second pg_dump does not hold this pipe. */
	if ((d->errs = tmpfile()) == NULL || pipe2(fds, O_CLOEXEC) == -1 ||
	    (d->pid = fork()) == -1) {
		free(conninfo);
		if (d->errs != NULL)
			fclose(d->errs);
		d->errs = NULL;
		return dsim_error_errno(err, DSIM_EX_IOERR, "pg_dump",
		    "cannot start");
	}
	if (d->pid == 0)
		pg_dump_exec(getenv("DSIM_PG_DUMP") != NULL &&
		    *getenv("DSIM_PG_DUMP") != '\0' ? getenv("DSIM_PG_DUMP") :
		    p->pg_dump, section, snapshot, conninfo, password, fds[1],
		    fileno(d->errs));
	free(conninfo);
	close(fds[1]);
	d->fd = fds[0];
	return 0;
}

/* Read what a pg_dump writes, and wait for it; its SQL out. */
static int
pg_dump_finish(struct pg *p, struct pg_dump *d, char **out, size_t *len,
    struct dsim_error *err)
{
	int status;

	if (d->pid == -1)
		return 0;
	*out = pg_read_all(d->fd, len);
	close(d->fd);
	while (waitpid(d->pid, &status, 0) == -1 && errno == EINTR)
		continue;
	d->pid = -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		pg_dump_failed(p, d->errs, status, err);
		fclose(d->errs);
		return err->code;
	}
	fclose(d->errs);
	pg_strip_meta(*out, len);
	return 0;
}

/* Begin the REPEATABLE READ transaction, importing snapshot if given. */
static int
pg_begin_snapshot(struct pg *p, PGconn *conn, const char *snapshot,
    struct dsim_error *err)
{
	char sql[128];

	if (pg_exec(p, conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
	    "begin", err) != 0)
		return err->code;
	if (snapshot == NULL)
		return 0;
	snprintf(sql, sizeof sql, "SET TRANSACTION SNAPSHOT '%s'", snapshot);
	return pg_exec(p, conn, sql, "importing the snapshot", err);
}

/* Export the snapshot from the first connection. */
static int
pg_export(struct pg *p, struct dsim_dbstream_info *info,
    struct dsim_error *err)
{
	PGresult *res;
	const char *v;

	if (pg_begin_snapshot(p, p->conns[0], NULL, err) != 0)
		return err->code;
	res = pq.exec(p->conns[0], "SELECT pg_catalog.pg_export_snapshot()");
	if (pq.resultStatus(res) != PGRES_TUPLES_OK || pq.ntuples(res) != 1) {
		pg_fail(p, p->conns[0], res, "exporting a snapshot", err);
		pq.clear(res);
		return err->code;
	}
	snprintf(info->snapshot, sizeof info->snapshot, "%s",
	    pq.getvalue(res, 0, 0));
	pq.clear(res);
	v = pq.parameterStatus(p->conns[0], "server_version");
	snprintf(info->server_version, sizeof info->server_version,
	    "PostgreSQL %s", v != NULL ? v : "unknown");
	return 0;
}

/*
 * The pg_dump to run: the one of the server's major version or a newer
 * one from Debian's /usr/lib/postgresql (which spares the start-up of
 * the pg_wrapper script), else pg_dump on PATH.
 */
static void
pg_dump_choose(struct pg *p)
{
	int major = pq.serverVersion(p->conns[0]) / 10000;
	char path[64];

	snprintf(p->pg_dump, sizeof p->pg_dump, "pg_dump");
	for (; major >= 9 && major < 40; major++) {
		snprintf(path, sizeof path,
		    "/usr/lib/postgresql/%d/bin/pg_dump", major);
		if (access(path, X_OK) == 0) {
			snprintf(p->pg_dump, sizeof p->pg_dump, "%s", path);
			return;
		}
	}
}

/*
 * Start the two pg_dumps for the DDL before and after the data; they run
 * in the exported snapshot while the tables are copied.
 */
static int
pg_ddl_start(struct pg *p, const char *snapshot, struct dsim_error *err)
{
	if (pg_sequences(p, &p->seq, &p->seqlen, err) != 0)
		return err->code;
	pg_dump_choose(p);
	if (pg_dump_start(p, "pre-data", snapshot, &p->dumps[0], err) != 0)
		return err->code;
	return pg_dump_start(p, "post-data", snapshot, &p->dumps[1], err);
}

/* Wait for the DDL; the statements that set sequences go before post-data. */
static int
pg_src_ddl(struct dsim_dbstream_source *src, struct dsim_dbstream_info *info,
    struct dsim_error *err)
{
	struct pg *p = src->ctx;
	char *ddl = NULL;
	size_t ddllen = 0;

	if (pg_dump_finish(p, &p->dumps[0], &info->pre_data, &info->pre_len,
	    err) != 0 || pg_dump_finish(p, &p->dumps[1], &ddl, &ddllen,
	    err) != 0) {
		free(ddl);
		return err->code;
	}
	if ((info->post_data = malloc(p->seqlen + ddllen + 1)) == NULL)
		abort();
	memcpy(info->post_data, p->seq, p->seqlen);
	memcpy(info->post_data + p->seqlen, ddl, ddllen + 1);
	info->post_len = p->seqlen + ddllen;
	free(ddl);
	return 0;
}

/* Connect, take and export the snapshot, list tables, start the DDL. */
static int
pg_src_begin(struct dsim_dbstream_source *src, int jobs,
    struct dsim_dbstream_info *info, struct dsim_error *err)
{
	struct pg *p = src->ctx;
	int i;

	memset(info, 0, sizeof *info);
	if ((p->conns = calloc((size_t)jobs, sizeof *p->conns)) == NULL)
		abort();
	p->nconns = 1;
	if (pg_connect(p, src->label, sizeof src->label, &p->conns[0], err) ||
	    pg_export(p, info, err) || pg_tables(p, info, err) ||
	    pg_ddl_start(p, info->snapshot, err))
		return err->code;
	for (i = 1; i < jobs; i++) {
		p->nconns++;
		if (pg_connect(p, NULL, 0, &p->conns[i], err) != 0 ||
		    pg_begin_snapshot(p, p->conns[i], info->snapshot, err) != 0)
			return err->code;
	}
	return 0;
}

/* Copy one table out through worker's connection, in the snapshot. */
static int
pg_src_copy(struct dsim_dbstream_source *src, int worker,
    struct dsim_dbstream_table *t, dsim_dbstream_write_fn write, void *arg,
    struct dsim_error *err)
{
	struct pg *p = src->ctx;
	PGconn *conn = p->conns[worker];
	char sql[600], *buf;
	PGresult *res;
	int n, rc = 0;

	snprintf(sql, sizeof sql, "COPY %s TO STDOUT", t->qualified);
	res = pq.exec(conn, sql);
	if (pq.resultStatus(res) != PGRES_COPY_OUT) {
		pg_fail(p, conn, res, t->qualified, err);
		pq.clear(res);
		return err->code;
	}
	pq.clear(res);
	while ((n = pq.getCopyData(conn, &buf, 0)) > 0) {
		if (rc == 0)
			rc = write(arg, buf, (size_t)n, err);
		pq.freemem(buf);
		if (rc != 0)
			break;
	}
	if (rc != 0) {
		/* Dropping the connection ends the COPY at once. */
		pq.finish(conn);
		p->conns[worker] = NULL;
		return rc;
	}
	res = pq.getResult(conn);
	if (n == -2 || pq.resultStatus(res) != PGRES_COMMAND_OK)
		rc = pg_fail(p, conn, res, t->qualified, err);
	pq.clear(res);
	while ((res = pq.getResult(conn)) != NULL)
		pq.clear(res);
	return rc;
}

/* Let the source go: its transactions end with the connections. */
static void
pg_src_end(struct dsim_dbstream_source *src)
{
	pg_free(src->ctx);
	src->ctx = NULL;
}

/* Make src the PostgreSQL server that conninfo names. */
void
dsim_pg_source(struct dsim_dbstream_source *src, const char *conninfo)
{
	memset(src, 0, sizeof *src);
	src->ctx = pg_new(conninfo, src->label, sizeof src->label);
	src->begin = pg_src_begin;
	src->ddl = pg_src_ddl;
	src->copy_out = pg_src_copy;
	src->end = pg_src_end;
}

/* Count what the target holds: relations, and schemas beyond public. */
static int
pg_count(struct pg *p, long *n, struct dsim_error *err)
{
	PGconn *conn = p->conns[0];
	PGresult *res = pq.exec(conn, "SELECT (SELECT count(*) " PG_USER_REL
	    "AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')) + (SELECT "
	    "count(*) FROM pg_catalog.pg_namespace WHERE nspname <> 'public' "
	    "AND nspname <> 'information_schema' AND nspname !~ '^pg_')");

	if (pq.resultStatus(res) != PGRES_TUPLES_OK) {
		pg_fail(p, conn, res, "inspecting the target", err);
		pq.clear(res);
		return err->code;
	}
	*n = atol(pq.getvalue(res, 0, 0));
	pq.clear(res);
	return 0;
}

/*
 * Empty the database: drop every user schema; public is made again as
 * initdb makes it (owned by pg_database_owner from PostgreSQL 15 on).
 */
static int
pg_clean(struct pg *p, struct dsim_error *err)
{
	PGconn *conn = p->conns[0];
	int modern = pq.serverVersion(conn) >= 150000;

	if (pg_exec(p, conn, "DO $dsim$ DECLARE s name; BEGIN FOR s IN "
	    "SELECT nspname FROM pg_catalog.pg_namespace WHERE nspname <> "
	    "'information_schema' AND nspname !~ '^pg_' LOOP EXECUTE "
	    "pg_catalog.format('DROP SCHEMA %I CASCADE', s); END LOOP; END "
	    "$dsim$", "cleaning the target", err) != 0)
		return err->code;
	return pg_exec(p, conn, modern ?
	    "CREATE SCHEMA public AUTHORIZATION pg_database_owner; "
	    "GRANT USAGE ON SCHEMA public TO PUBLIC; "
	    "COMMENT ON SCHEMA public IS 'standard public schema'" :
	    "CREATE SCHEMA public; GRANT ALL ON SCHEMA public TO PUBLIC; "
	    "COMMENT ON SCHEMA public IS 'standard public schema'",
	    "cleaning the target", err);
}

/* Connect, begin the transaction, check (or clean) the target. */
static int
pg_tgt_begin(struct dsim_dbstream_target *tgt, int clean,
    struct dsim_error *err)
{
	struct pg *p = tgt->ctx;
	long n = 0;

	if ((p->conns = calloc(1, sizeof *p->conns)) == NULL)
		abort();
	p->nconns = 1;
	if (pg_connect(p, tgt->label, sizeof tgt->label, &p->conns[0], err) ||
	    pg_exec(p, p->conns[0], "BEGIN", "begin", err) ||
	    pg_count(p, &n, err))
		return err->code;
	if (n > 0 && !clean)
		return dsim_error_set(err, DSIM_EX_CANTCREAT, p->label,
		    "database is not empty (%ld objects); use --clean to "
		    "replace its contents", n);
	return n > 0 ? pg_clean(p, err) : 0;
}

/* Run a section's DDL, as one multi-statement query. */
static int
pg_tgt_exec(struct dsim_dbstream_target *tgt, const char *section,
    const char *sql, size_t len, struct dsim_error *err)
{
	struct pg *p = tgt->ctx;
	char *text;
	int rc;

	if ((text = malloc(len + 1)) == NULL)
		abort();
	memcpy(text, sql, len);
	text[len] = '\0';
	rc = pg_exec(p, p->conns[0], text, section, err);
	free(text);
	return rc;
}

/* Start COPY FROM STDIN into one table. */
static int
pg_tgt_copy_begin(struct dsim_dbstream_target *tgt, const char *schema,
    const char *name, struct dsim_error *err)
{
	struct pg *p = tgt->ctx;
	struct dsim_dbstream_table t;
	char sql[600];
	PGresult *res;
	int rc = 0;

	memset(&t, 0, sizeof t);
	snprintf(t.schema, sizeof t.schema, "%s", schema);
	snprintf(t.name, sizeof t.name, "%s", name);
	dsim_dbstream_qualify(&t);
	snprintf(sql, sizeof sql, "COPY %s FROM STDIN", t.qualified);
	res = pq.exec(p->conns[0], sql);
	if (pq.resultStatus(res) != PGRES_COPY_IN)
		rc = pg_fail(p, p->conns[0], res, t.qualified, err);
	pq.clear(res);
	return rc;
}

/* Send COPY text, a megabyte at most per message. */
static int
pg_tgt_copy_data(struct dsim_dbstream_target *tgt, const char *buf,
    size_t len, struct dsim_error *err)
{
	struct pg *p = tgt->ctx;
	size_t n;

	for (; len > 0; buf += n, len -= n) {
		n = len > (1 << 20) ? (1 << 20) : len;
		if (pq.putCopyData(p->conns[0], buf, (int)n) != 1)
			return pg_fail(p, p->conns[0], NULL, "copy", err);
	}
	return 0;
}

/* End the COPY (or abandon it, with a reason); rows out. */
static int
pg_tgt_copy_end(struct dsim_dbstream_target *tgt, const char *abort_why,
    uint64_t *rows, struct dsim_error *err)
{
	struct pg *p = tgt->ctx;
	PGconn *conn = p->conns[0];
	PGresult *res;
	int rc = 0;

	if (pq.putCopyEnd(conn, abort_why) != 1)
		return pg_fail(p, conn, NULL, "copy", err);
	res = pq.getResult(conn);
	if (abort_why == NULL && pq.resultStatus(res) != PGRES_COMMAND_OK)
		rc = pg_fail(p, conn, res, "copy", err);
	else if (abort_why == NULL)
		*rows = strtoull(pq.cmdTuples(res), NULL, 10);
	pq.clear(res);
	while ((res = pq.getResult(conn)) != NULL)
		pq.clear(res);
	return rc;
}

/* Commit the restore. */
static int
pg_tgt_commit(struct dsim_dbstream_target *tgt, struct dsim_error *err)
{
	struct pg *p = tgt->ctx;

	if (pg_exec(p, p->conns[0], "COMMIT", "commit", err) != 0)
		return err->code;
	p->committed = 1;
	return 0;
}

/* Let the target go; an uncommitted restore is rolled back. */
static void
pg_tgt_end(struct dsim_dbstream_target *tgt)
{
	pg_free(tgt->ctx);
	tgt->ctx = NULL;
}

/* Make tgt the PostgreSQL database that conninfo names. */
void
dsim_pg_target(struct dsim_dbstream_target *tgt, const char *conninfo)
{
	memset(tgt, 0, sizeof *tgt);
	tgt->ctx = pg_new(conninfo, tgt->label, sizeof tgt->label);
	tgt->begin = pg_tgt_begin;
	tgt->exec = pg_tgt_exec;
	tgt->copy_begin = pg_tgt_copy_begin;
	tgt->copy_data = pg_tgt_copy_data;
	tgt->copy_end = pg_tgt_copy_end;
	tgt->commit = pg_tgt_commit;
	tgt->end = pg_tgt_end;
}
