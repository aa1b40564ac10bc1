#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"

static void
rec_reserve(struct dsim_rec *r, size_t more)
{
	size_t cap;

	if (r->len + more < r->cap)
		return;
	cap = r->cap ? r->cap : 256;
	while (cap <= r->len + more)
		cap *= 2;
	if ((r->buf = realloc(r->buf, cap)) == NULL)
		abort();
	r->cap = cap;
}

static void
rec_raw(struct dsim_rec *r, const char *s, size_t n)
{
	rec_reserve(r, n);
	memcpy(r->buf + r->len, s, n);
	r->len += n;
}

/* Append s as a JSON string, escaping what JSON requires. */
static void
rec_quoted(struct dsim_rec *r, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	char *o;

	rec_reserve(r, strlen(s) * 6 + 2);
	o = r->buf + r->len;
	*o++ = '"';
	for (; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			*o++ = '\\';
			*o++ = (char)*p;
		} else if (*p == '\n') {
			*o++ = '\\';
			*o++ = 'n';
		} else if (*p == '\t') {
			*o++ = '\\';
			*o++ = 't';
		} else if (*p < 0x20 || *p == 0x7f) {
			memcpy(o, "\\u00", 4);
			o[4] = hex[*p >> 4];
			o[5] = hex[*p & 15];
			o += 6;
		} else
			*o++ = (char)*p;
	}
	*o++ = '"';
	r->len = (size_t)(o - r->buf);
}

static void
rec_key(struct dsim_rec *r, const char *key)
{
	if (r->count[r->depth]++ > 0)
		rec_raw(r, ",", 1);
	rec_quoted(r, key);
	rec_raw(r, ":", 1);
}

/* Start a record of a kind, stamped with a time and an environment. */
void
dsim_rec_begin(struct dsim_rec *r, const char *kind, dsim_ms ts,
    const char *env)
{
	r->len = 0;
	r->depth = 0;
	r->count[0] = 0;
	rec_raw(r, "{", 1);
	dsim_rec_str(r, "kind", kind);
	dsim_rec_time(r, "ts", ts);
	if (env != NULL)
		dsim_rec_str(r, "env", env);
}

/* Add a string member; NULL gives null. */
void
dsim_rec_str(struct dsim_rec *r, const char *key, const char *val)
{
	rec_key(r, key);
	if (val == NULL)
		rec_raw(r, "null", 4);
	else
		rec_quoted(r, val);
}

/* Add an integer member. */
void
dsim_rec_int(struct dsim_rec *r, const char *key, int64_t val)
{
	char num[24];

	rec_key(r, key);
	rec_raw(r, num, (size_t)snprintf(num, sizeof num, "%" PRId64, val));
}

/* Add a number member, as short as reads back exactly; NaN gives null. */
void
dsim_rec_num(struct dsim_rec *r, const char *key, double val)
{
	char num[32];
	int n;

	rec_key(r, key);
	if (!isfinite(val)) {
		rec_raw(r, "null", 4);
		return;
	}
	n = snprintf(num, sizeof num, "%.15g", val);
	if (strtod(num, NULL) != val)
		n = snprintf(num, sizeof num, "%.17g", val);
	rec_raw(r, num, (size_t)n);
}

/* Add a boolean member. */
void
dsim_rec_bool(struct dsim_rec *r, const char *key, int val)
{
	rec_key(r, key);
	if (val)
		rec_raw(r, "true", 4);
	else
		rec_raw(r, "false", 5);
}

/* Add a time member in RFC 3339. */
void
dsim_rec_time(struct dsim_rec *r, const char *key, dsim_ms t)
{
	char ts[DSIM_CLOCK_LEN];

	dsim_clock_format(t, ts);
	dsim_rec_str(r, key, ts);
}

/* Add a member holding any JSON value. */
void
dsim_rec_json(struct dsim_rec *r, const char *key, const json_t *val)
{
	char *text;

	rec_key(r, key);
	text = json_dumps(val, JSON_COMPACT | JSON_ENCODE_ANY |
	    JSON_PRESERVE_ORDER);
	if (text == NULL)
		abort();
	rec_raw(r, text, strlen(text));
	free(text);
}

/* Open a nested object under key. */
void
dsim_rec_open(struct dsim_rec *r, const char *key)
{
	rec_key(r, key);
	rec_raw(r, "{", 1);
	if (++r->depth >= DSIM_REC_DEPTH)
		abort();
	r->count[r->depth] = 0;
}

/* Close the innermost nested object. */
void
dsim_rec_close(struct dsim_rec *r)
{
	rec_raw(r, "}", 1);
	r->depth--;
}

/* Finish the record: the closing brace and the newline. */
void
dsim_rec_end(struct dsim_rec *r)
{
	while (r->depth > 0)
		dsim_rec_close(r);
	rec_raw(r, "}\n", 2);
}

/* Release a record's buffer. */
void
dsim_rec_free(struct dsim_rec *r)
{
	free(r->buf);
	memset(r, 0, sizeof *r);
}

/* Finish a record and hand it to a sink. */
int
dsim_rec_put(struct dsim_sink *sink, struct dsim_rec *r)
{
	dsim_rec_end(r);
	return sink->put(sink, r);
}

/* Write one scalar of a record in text form. */
static void
out_text_value(FILE *fp, const json_t *v)
{
	char *s;

	if (json_is_string(v)) {
		const char *str = json_string_value(v);

		if (*str == '\0' || strpbrk(str, " \t\"=") != NULL)
			fprintf(fp, "\"%s\"", str);
		else
			fputs(str, fp);
		return;
	}
	if (json_is_real(v)) {
		fprintf(fp, "%.15g", json_real_value(v));
		return;
	}
	s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	fputs(s != NULL ? s : "?", fp);
	free(s);
}

/* Render a record as "ts kind key=value ..." for a human. */
static void
out_text(FILE *fp, const char *line, size_t len)
{
	json_t *rec = json_loadb(line, len, 0, NULL), *v;
	const char *key;

	if (rec == NULL)
		return;
	fprintf(fp, "%s %-14s", json_string_value(json_object_get(rec, "ts")),
	    json_string_value(json_object_get(rec, "kind")));
	json_object_foreach(rec, key, v) {
		if (strcmp(key, "kind") == 0 || strcmp(key, "ts") == 0 ||
		    strcmp(key, "env") == 0)
			continue;
		fprintf(fp, " %s=", key);
		out_text_value(fp, v);
	}
	fputc('\n', fp);
	json_decref(rec);
}

static int
out_put(struct dsim_sink *sink, const struct dsim_rec *r)
{
	struct dsim_out *out = (struct dsim_out *)sink;

	if (out->quiet)
		return 0;
	if (out->format == DSIM_FORMAT_TEXT)
		out_text(out->fp, r->buf, r->len);
	else if (fwrite(r->buf, 1, r->len, out->fp) != r->len)
		out->failed = errno ? errno : EIO;
	return 0;
}

static int
out_flush(struct dsim_sink *sink)
{
	struct dsim_out *out = (struct dsim_out *)sink;

	if (fflush(out->fp) != 0)
		out->failed = errno ? errno : EIO;
	return 0;
}

/* Make a sink on a stream in a format (enum dsim_format). */
void
dsim_out_init(struct dsim_out *out, FILE *fp, int format)
{
	memset(out, 0, sizeof *out);
	out->sink.put = out_put;
	out->sink.flush = out_flush;
	out->fp = fp;
	out->format = format;
}

/* Flush and close the stream; a failure is an I/O error (exit 74). */
int
dsim_out_close(struct dsim_out *out, struct dsim_error *err)
{
	errno = 0;
	if (fflush(out->fp) != 0 && !out->failed)
		out->failed = errno ? errno : EIO;
	if (fclose(out->fp) != 0 && !out->failed)
		out->failed = errno ? errno : EIO;
	if (out->failed) {
		errno = out->failed;
		return dsim_error_errno(err, DSIM_EX_IOERR, "stdout",
		    "write error");
	}
	return 0;
}

/* Parse a --format value: json or text. */
int
dsim_out_format(const char *arg, int *format, struct dsim_error *err)
{
	if (strcmp(arg, "json") == 0)
		*format = DSIM_FORMAT_JSON;
	else if (strcmp(arg, "text") == 0)
		*format = DSIM_FORMAT_TEXT;
	else
		return dsim_error_set(err, DSIM_EX_USAGE, "--format",
		    "'%s' is not json or text", arg);
	return 0;
}

/* Start reading records from a stream named name in messages. */
void
dsim_jsonl_open(struct dsim_jsonl_reader *rd, FILE *fp, const char *name)
{
	memset(rd, 0, sizeof *rd);
	rd->fp = fp;
	rd->name = name;
}

/*
 * Read the next record: 1 with *out set, 0 at the end, or -1 for a line
 * that is not a JSON object (err names "NAME:LINE"; reading may go on).
 * Blank lines are skipped.
 */
int
dsim_jsonl_read(struct dsim_jsonl_reader *rd, json_t **out,
    struct dsim_error *err)
{
	json_error_t jerr;
	char subject[300];
	ssize_t n;

	for (;;) {
		errno = 0;
		if ((n = getline(&rd->buf, &rd->cap, rd->fp)) == -1) {
			if (!ferror(rd->fp))
				return 0;
			dsim_error_errno(err, DSIM_EX_IOERR, rd->name,
			    "read error");
			return -1;
		}
		rd->line++;
		while (n > 0 && (rd->buf[n - 1] == '\n' ||
		    rd->buf[n - 1] == '\r'))
			n--;
		if (n > 0)
			break;
	}
	snprintf(subject, sizeof subject, "%s:%zu", rd->name, rd->line);
	*out = json_loadb(rd->buf, (size_t)n, JSON_REJECT_DUPLICATES, &jerr);
	if (*out == NULL) {
		dsim_error_set(err, DSIM_EX_DATAERR, subject, "column %d: %s",
		    jerr.column, jerr.text);
		return -1;
	}
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		dsim_error_set(err, DSIM_EX_DATAERR, subject,
		    "a record must be a JSON object");
		return -1;
	}
	return 1;
}

/* Release what the reader holds; the stream stays open. */
void
dsim_jsonl_close(struct dsim_jsonl_reader *rd)
{
	free(rd->buf);
	rd->buf = NULL;
}
