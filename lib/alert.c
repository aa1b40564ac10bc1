#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert.h"

#define ALERT_DEPTH	64

enum { ALERT_INACTIVE, ALERT_PENDING, ALERT_FIRING };

/* One rule's state for one series. */
struct alert_state {
	const struct dsim_rule *rule;
	int		 state;
	dsim_ms		 active;	/* when the condition began to hold */
	dsim_ms		 fired;
	dsim_ms		 sent;		/* when last written as firing */
	double		 value;
	double		*past;		/* anomaly: the window, a ring */
	size_t		 npast;
	size_t		 next;		/* where the next sample goes */
};

/* A series: its key (name, then sorted label pairs) and its rules. */
struct alert_series {
	struct alert_series *next;
	uint64_t	 hash;
	size_t		 keylen;
	char		*key;
	struct dsim_labels labels;	/* pointers into key */
	char		 env[65];
	dsim_ms		 seen;
	size_t		 nstates;
	struct alert_state st[];
};

/* What a line holds that the engine reads. */
struct alert_rec {
	const char	*kind;
	const char	*ts;
	const char	*env;
	const char	*name;
	double		 value;
	int		 has_value;
	struct dsim_labels labels;
};

/* A line being parsed: where, and where strings are unescaped to. */
struct alert_parse {
	const char	*p;
	const char	*start;
	const char	*end;
	char		*out;
	const char	*why;
};

static void
alert_ws(struct alert_parse *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' ||
	    *ps->p == '\r' || *ps->p == '\n'))
		ps->p++;
}

static int
alert_hex(const char *p, unsigned *out)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static void
alert_utf8(char **o, unsigned c)
{
	char *p = *o;

	if (c < 0x80)
		*p++ = (char)c;
	else if (c < 0x800) {
		*p++ = (char)(0xc0 | c >> 6);
		*p++ = (char)(0x80 | (c & 0x3f));
	} else if (c < 0x10000) {
		*p++ = (char)(0xe0 | c >> 12);
		*p++ = (char)(0x80 | (c >> 6 & 0x3f));
		*p++ = (char)(0x80 | (c & 0x3f));
	} else {
		*p++ = (char)(0xf0 | c >> 18);
		*p++ = (char)(0x80 | (c >> 12 & 0x3f));
		*p++ = (char)(0x80 | (c >> 6 & 0x3f));
		*p++ = (char)(0x80 | (c & 0x3f));
	}
	*o = p;
}

/* Read an escape after a backslash into *o; -1 if it is not one. */
static int
alert_escape(struct alert_parse *ps, char **o)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *hit;
	unsigned c, lo;

	if (ps->p >= ps->end)
		return -1;
	if (*ps->p != 'u') {
		if ((hit = strchr(from, *ps->p)) == NULL || *ps->p == '\0')
			return -1;
		*(*o)++ = to[hit - from];
		ps->p++;
		return 0;
	}
	if (ps->end - ps->p < 5 || alert_hex(ps->p + 1, &c) != 0)
		return -1;
	ps->p += 5;
	if (c >= 0xd800 && c < 0xdc00) {
		if (ps->end - ps->p < 6 || ps->p[0] != '\\' ||
		    ps->p[1] != 'u' || alert_hex(ps->p + 2, &lo) != 0 ||
		    lo < 0xdc00 || lo > 0xdfff)
			return -1;
		c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
		ps->p += 6;
	} else if (c >= 0xdc00 && c < 0xe000)
		return -1;
	alert_utf8(o, c);
	return 0;
}

/* Read a string (at its quote) into the scratch space; NULL if bad. */
static const char *
alert_string(struct alert_parse *ps)
{
	char *start = ps->out, *o = ps->out;
	const char *run;

	ps->p++;
	for (;;) {
		run = ps->p;
		while (ps->p < ps->end && *ps->p != '"' && *ps->p != '\\' &&
		    (unsigned char)*ps->p >= 0x20)
			ps->p++;
		memcpy(o, run, (size_t)(ps->p - run));
		o += ps->p - run;
		if (ps->p >= ps->end || (unsigned char)*ps->p < 0x20) {
			ps->why = "unterminated string or control character";
			return NULL;
		}
		if (*ps->p++ == '"')
			break;
		if (alert_escape(ps, &o) != 0) {
			ps->why = "invalid escape in a string";
			return NULL;
		}
	}
	*o++ = '\0';
	ps->out = o;
	return start;
}

/* Read a number as JSON writes them. */
static int
alert_number(struct alert_parse *ps, double *v)
{
	const char *s = ps->p;
	char *end;

	if (ps->p < ps->end && *ps->p == '-')
		ps->p++;
	if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
		goto bad;
	if (*ps->p == '0' && ps->p + 1 < ps->end && ps->p[1] >= '0' &&
	    ps->p[1] <= '9')
		goto bad;
	*v = strtod(s, &end);
	if (end == s || end > ps->end)
		goto bad;
	ps->p = end;
	return 0;
bad:
	ps->why = "invalid number";
	return -1;
}

static int
alert_literal(struct alert_parse *ps, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) {
		ps->why = "invalid literal";
		return -1;
	}
	ps->p += n;
	return 0;
}

static int alert_value(struct alert_parse *, int);

/* Read an object or an array, checking it and keeping nothing. */
static int
alert_compound(struct alert_parse *ps, int depth)
{
	char close = *ps->p == '{' ? '}' : ']';
	int first = 1;

	if (depth > ALERT_DEPTH) {
		ps->why = "nested too deeply";
		return -1;
	}
	ps->p++;
	for (;;) {
		alert_ws(ps);
		if (ps->p < ps->end && *ps->p == close && first) {
			ps->p++;
			return 0;
		}
		if (close == '}') {
			if (ps->p >= ps->end || *ps->p != '"' ||
			    alert_string(ps) == NULL)
				goto bad;
			alert_ws(ps);
			if (ps->p >= ps->end || *ps->p++ != ':')
				goto bad;
		}
		if (alert_value(ps, depth + 1) != 0)
			return -1;
		alert_ws(ps);
		first = 0;
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p++ == close)
			return 0;
		goto bad;
	}
bad:
	if (ps->why == NULL)
		ps->why = close == '}' ? "expected a member or '}'" :
		    "expected a value or ']'";
	return -1;
}

/* Read any value, checking it and keeping nothing. */
static int
alert_value(struct alert_parse *ps, int depth)
{
	double v;

	alert_ws(ps);
	if (ps->p >= ps->end) {
		ps->why = "unexpected end of line";
		return -1;
	}
	switch (*ps->p) {
	case '"':
		return alert_string(ps) == NULL ? -1 : 0;
	case '{':
	case '[':
		return alert_compound(ps, depth);
	case 't':
		return alert_literal(ps, "true");
	case 'f':
		return alert_literal(ps, "false");
	case 'n':
		return alert_literal(ps, "null");
	}
	return alert_number(ps, &v);
}

/* Read a record's "labels": an object of strings. */
static int
alert_labels(struct alert_parse *ps, struct dsim_labels *l)
{
	const char *k, *v;

	l->n = 0;
	if (*ps->p != '{') {
		ps->why = "labels must be an object";
		return -1;
	}
	ps->p++;
	alert_ws(ps);
	if (ps->p < ps->end && *ps->p == '}') {
		ps->p++;
		return 0;
	}
	for (;;) {
		alert_ws(ps);
		if (ps->p >= ps->end || *ps->p != '"' ||
		    (k = alert_string(ps)) == NULL)
			break;
		alert_ws(ps);
		if (ps->p >= ps->end || *ps->p++ != ':')
			break;
		alert_ws(ps);
		if (ps->p >= ps->end || *ps->p != '"' ||
		    (v = alert_string(ps)) == NULL) {
			ps->why = "label values must be strings";
			return -1;
		}
		if (l->n == 32) {
			ps->why = "more than 32 labels";
			return -1;
		}
		l->key[l->n] = k;
		l->val[l->n++] = v;
		alert_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p++ == '}')
			return 0;
		break;
	}
	if (ps->why == NULL)
		ps->why = "expected a label or '}'";
	return -1;
}

/* Read one member of a record, keeping the ones the engine reads. */
static int
alert_member(struct alert_parse *ps, struct alert_rec *r)
{
	const char *key, **slot = NULL;

	if (ps->p >= ps->end || *ps->p != '"' ||
	    (key = alert_string(ps)) == NULL) {
		if (ps->why == NULL)
			ps->why = "expected a member name";
		return -1;
	}
	alert_ws(ps);
	if (ps->p >= ps->end || *ps->p++ != ':') {
		ps->why = "expected ':'";
		return -1;
	}
	alert_ws(ps);
	if (strcmp(key, "kind") == 0)
		slot = &r->kind;
	else if (strcmp(key, "ts") == 0)
		slot = &r->ts;
	else if (strcmp(key, "env") == 0)
		slot = &r->env;
	else if (strcmp(key, "name") == 0)
		slot = &r->name;
	if (slot != NULL && ps->p < ps->end && *ps->p == '"')
		return (*slot = alert_string(ps)) == NULL ? -1 : 0;
	if (strcmp(key, "value") == 0 && ps->p < ps->end &&
	    (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))) {
		r->has_value = 1;
		return alert_number(ps, &r->value);
	}
	if (strcmp(key, "labels") == 0)
		return alert_labels(ps, &r->labels);
	return alert_value(ps, 1);
}

/*
 * Parse a line (followed in memory by a NUL) as a record; strings are
 * unescaped into out, which must hold len + 1 bytes.
 */
static int
alert_parse(const char *line, size_t len, char *out, struct alert_rec *r,
    struct dsim_error *err, const char *subject)
{
	struct alert_parse ps = { line, line, line + len, out, NULL };

	memset(r, 0, sizeof *r);
	alert_ws(&ps);
	if (ps.p >= ps.end || *ps.p != '{') {
		ps.why = "a record must be a JSON object";
		goto bad;
	}
	ps.p++;
	alert_ws(&ps);
	if (ps.p < ps.end && *ps.p == '}')
		ps.p++;
	else
		for (;;) {
			if (alert_member(&ps, r) != 0)
				goto bad;
			alert_ws(&ps);
			if (ps.p < ps.end && *ps.p == ',') {
				ps.p++;
				alert_ws(&ps);
				continue;
			}
			if (ps.p < ps.end && *ps.p++ == '}')
				break;
			ps.why = "expected ',' or '}'";
			goto bad;
		}
	alert_ws(&ps);
	if (ps.p == ps.end)
		return 0;
	ps.why = "text after the record";
bad:
	return dsim_error_set(err, DSIM_EX_DATAERR, subject, "column %d: %s",
	    (int)(ps.p - ps.start) + 1, ps.why ? ps.why : "invalid JSON");
}

/* Set up an engine over rules, writing alert records to sink. */
void
dsim_alert_init(struct dsim_alert *a, const struct dsim_rules *rules,
    struct dsim_sink *sink)
{
	memset(a, 0, sizeof *a);
	a->rules = rules;
	a->sink = sink;
	a->stale = 300000;
	a->nbuckets = 1024;
	if ((a->buckets = calloc(a->nbuckets, sizeof *a->buckets)) == NULL)
		abort();
}

static void
alert_reserve(char **buf, size_t *cap, size_t want)
{
	size_t n = *cap ? *cap : 4096;

	if (want <= *cap)
		return;
	while (n < want)
		n *= 2;
	free(*buf);
	if ((*buf = malloc(n)) == NULL)
		abort();
	*cap = n;
}

static uint64_t
alert_fnv(uint64_t h, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* Build a series' key: its name, then its labels sorted, NUL-separated. */
static size_t
alert_key(struct dsim_alert *a, const char *name, struct dsim_labels *l)
{
	size_t i, j, len = strlen(name) + 1, n;
	const char *k, *v;

	for (i = 1; i < l->n; i++)
		for (j = i; j > 0 && strcmp(l->key[j - 1], l->key[j]) > 0;
		    j--) {
			k = l->key[j];
			v = l->val[j];
			l->key[j] = l->key[j - 1];
			l->val[j] = l->val[j - 1];
			l->key[j - 1] = k;
			l->val[j - 1] = v;
		}
	for (i = 0; i < l->n; i++)
		len += strlen(l->key[i]) + strlen(l->val[i]) + 2;
	if (len > a->capkey) {
		free(a->key);
		a->capkey = len * 2;
		if ((a->key = malloc(a->capkey)) == NULL)
			abort();
	}
	memcpy(a->key, name, (len = strlen(name) + 1));
	for (i = 0; i < l->n; i++) {
		n = strlen(l->key[i]) + 1;
		memcpy(a->key + len, l->key[i], n);
		len += n;
		n = strlen(l->val[i]) + 1;
		memcpy(a->key + len, l->val[i], n);
		len += n;
	}
	return len;
}

static void
alert_grow_table(struct dsim_alert *a)
{
	struct alert_series **b, *s, *next;
	size_t n = a->nbuckets * 2, i;

	if ((b = calloc(n, sizeof *b)) == NULL)
		abort();
	for (i = 0; i < a->nbuckets; i++)
		for (s = a->buckets[i]; s != NULL; s = next) {
			next = s->next;
			s->next = b[s->hash & (n - 1)];
			b[s->hash & (n - 1)] = s;
		}
	free(a->buckets);
	a->buckets = b;
	a->nbuckets = n;
}

/* Make a series for a key, with a state for every rule that watches it. */
static struct alert_series *
alert_new_series(struct dsim_alert *a, uint64_t h, size_t keylen,
    const char *env)
{
	struct alert_series *s;
	const struct dsim_rule *watch[256];
	size_t n = 0, i;
	const char *p, *name;

	name = a->key;
	for (i = 0; i < a->rules->n && n < 256; i++)
		if (strcmp(a->rules->r[i].metric, name) == 0 &&
		    (a->rules->r[i].type == DSIM_RULE_THRESHOLD ||
		    a->rules->anomaly))
			watch[n++] = &a->rules->r[i];
	s = calloc(1, sizeof *s + n * sizeof s->st[0]);
	if (s == NULL || (s->key = malloc(keylen)) == NULL)
		abort();
	memcpy(s->key, a->key, keylen);
	s->keylen = keylen;
	s->hash = h;
	snprintf(s->env, sizeof s->env, "%s", env ? env : "");
	p = s->key + strlen(s->key) + 1;
	while (p < s->key + keylen && s->labels.n < 32) {
		s->labels.key[s->labels.n] = p;
		p += strlen(p) + 1;
		s->labels.val[s->labels.n++] = p;
		p += strlen(p) + 1;
	}
	for (i = 0; i < n; i++) {
		struct alert_state *st = &s->st[s->nstates];

		if (!dsim_rule_selects(watch[i], s->key, &s->labels))
			continue;
		st->rule = watch[i];
		if (watch[i]->type == DSIM_RULE_ANOMALY && (st->past =
		    calloc(watch[i]->window, sizeof *st->past)) == NULL)
			abort();
		s->nstates++;
	}
	if (++a->nseries > a->nbuckets)
		alert_grow_table(a);
	s->next = a->buckets[h & (a->nbuckets - 1)];
	a->buckets[h & (a->nbuckets - 1)] = s;
	return s;
}

/* The series of a record, found or made. */
static struct alert_series *
alert_series(struct dsim_alert *a, const struct alert_rec *r,
    struct dsim_labels *l)
{
	size_t len = alert_key(a, r->name, l);
	uint64_t h = alert_fnv(14695981039346656037ULL, a->key, len);
	struct alert_series *s;

	for (s = a->buckets[h & (a->nbuckets - 1)]; s != NULL; s = s->next)
		if (s->hash == h && s->keylen == len &&
		    memcmp(s->key, a->key, len) == 0)
			return s;
	return alert_new_series(a, h, len, r->env);
}

static int
alert_cmp_keys(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/*
 * The alert's labels, sorted by name: the series' labels, the rule's
 * (which win), and alertname; with the fingerprint Alertmanager gives
 * such a set (FNV-1a over names and values, 0xff after each).
 */
static json_t *
alert_labelset(const struct alert_series *s, const struct dsim_rule *r,
    char *fingerprint)
{
	json_t *all = json_object(), *sorted = json_object(), *v;
	const char *keys[64], *k;
	size_t n = 0, i;
	uint64_t h = 14695981039346656037ULL;
	const char sep = (char)0xff;

	for (i = 0; i < s->labels.n; i++)
		json_object_set_new(all, s->labels.key[i],
		    json_string(s->labels.val[i]));
	json_object_update(all, r->labels);
	json_object_set_new(all, "alertname", json_string(r->name));
	json_object_foreach(all, k, v)
		if (n < 64)
			keys[n++] = k;
	qsort(keys, n, sizeof *keys, alert_cmp_keys);
	for (i = 0; i < n; i++) {
		v = json_object_get(all, keys[i]);
		json_object_set(sorted, keys[i], v);
		h = alert_fnv(h, keys[i], strlen(keys[i]));
		h = alert_fnv(h, &sep, 1);
		h = alert_fnv(h, json_string_value(v),
		    strlen(json_string_value(v)));
		h = alert_fnv(h, &sep, 1);
	}
	json_decref(all);
	snprintf(fingerprint, 17, "%016llx", (unsigned long long)h);
	return sorted;
}

/* The rule's annotations rendered for a series and a value. */
static json_t *
alert_annotations(const struct alert_series *s, const struct dsim_rule *r,
    double value)
{
	struct dsim_labels l = s->labels;
	json_t *out = json_object(), *v;
	const char *k, *bad;
	char *text;

	if (l.n < 32) {
		l.key[l.n] = "alertname";
		l.val[l.n++] = r->name;
	}
	json_object_foreach(r->annotations, k, v) {
		text = dsim_rule_render(json_string_value(v), &l, value, &bad);
		json_object_set_new(out, k, json_string(text ? text : ""));
		free(text);
	}
	return out;
}

/*
 * An alert changed: write its record, and keep firing and resolved
 * changes for the notifiers.
 */
static void
alert_change(struct dsim_alert *a, const struct alert_series *s,
    const struct alert_state *st, const char *status, dsim_ms at)
{
	struct dsim_alert_event ev;
	struct dsim_rec *rec = &a->rec;

	memset(&ev, 0, sizeof ev);
	ev.labels = alert_labelset(s, st->rule, ev.fingerprint);
	ev.annotations = alert_annotations(s, st->rule, st->value);
	ev.firing = strcmp(status, "resolved") != 0;
	ev.starts = strcmp(status, "pending") == 0 ? st->active : st->fired;
	ev.ends = ev.firing ? 0 : at;
	ev.at = at;
	ev.value = st->value;
	snprintf(ev.env, sizeof ev.env, "%s", s->env);
	dsim_rec_begin(rec, "alert", at, s->env[0] ? s->env : NULL);
	dsim_rec_str(rec, "status", status);
	dsim_rec_json(rec, "labels", ev.labels);
	dsim_rec_json(rec, "annotations", ev.annotations);
	dsim_rec_time(rec, "startsAt", ev.starts);
	if (ev.firing)
		dsim_rec_str(rec, "endsAt", NULL);
	else
		dsim_rec_time(rec, "endsAt", ev.ends);
	dsim_rec_num(rec, "value", ev.value);
	dsim_rec_str(rec, "fingerprint", ev.fingerprint);
	dsim_rec_put(a->sink, rec);
	if (strcmp(status, "pending") == 0) {
		json_decref(ev.labels);
		json_decref(ev.annotations);
		return;
	}
	if (a->nev == a->capev) {
		a->capev = a->capev ? a->capev * 2 : 16;
		a->ev = realloc(a->ev, a->capev * sizeof *a->ev);
		if (a->ev == NULL)
			abort();
	}
	a->ev[a->nev++] = ev;
}

/*
 * Whether v is an outlier against the rule's window of the series' past
 * samples (once it holds enough of them); v then joins the window.
 */
static int
alert_anomalous(struct dsim_alert *a, struct alert_state *st, double v)
{
	const struct dsim_rule *r = st->rule;
	int out = 0;

	if (isnan(v))
		return 0;
	if (st->npast >= r->min_samples) {
		if (a->capz < r->window) {
			free(a->z);
			if ((a->z = malloc(r->window * sizeof *a->z)) == NULL)
				abort();
			a->capz = r->window;
		}
		out = fabs(dsim_rule_zscore(st->past, st->npast, v, a->z)) >
		    r->z;
	}
	st->past[st->next] = v;
	st->next = (st->next + 1) % r->window;
	if (st->npast < r->window)
		st->npast++;
	return out;
}

/*
 * Move one rule's state for a sample at t, as Prometheus does: pending
 * when the condition starts to hold, firing once it has held "for",
 * resolved (inactive) when it stops, keeping the last value that held; a
 * pending alert that stops holding goes quietly.
 */
static void
alert_step(struct dsim_alert *a, const struct alert_series *s,
    struct alert_state *st, double v, dsim_ms t)
{
	int holds = st->rule->type == DSIM_RULE_ANOMALY ?
	    alert_anomalous(a, st, v) : !isnan(v) &&
	    dsim_rule_holds(st->rule, v);

	if (holds)
		st->value = v;
	if (!holds) {
		if (st->state == ALERT_FIRING)
			alert_change(a, s, st, "resolved", t);
		st->state = ALERT_INACTIVE;
		return;
	}
	if (st->state == ALERT_INACTIVE) {
		st->state = ALERT_PENDING;
		st->active = t;
		if (st->rule->hold > 0)
			alert_change(a, s, st, "pending", t);
	}
	if (st->state == ALERT_PENDING && t - st->active >= st->rule->hold) {
		st->state = ALERT_FIRING;
		st->fired = st->sent = t;
		alert_change(a, s, st, "firing", t);
	} else if (st->state == ALERT_FIRING && a->repeat > 0 &&
	    t - st->sent >= a->repeat) {
		st->sent = t;
		alert_change(a, s, st, "firing", t);
	}
}

static void
alert_free_series(struct alert_series *s)
{
	size_t i;

	for (i = 0; i < s->nstates; i++)
		free(s->st[i].past);
	free(s->key);
	free(s);
}

/*
 * Forget the series not seen for the staleness period while the input
 * went on, as Prometheus marks series stale: their firing alerts resolve.
 */
static void
alert_sweep(struct dsim_alert *a)
{
	struct alert_series **pp, *s;
	size_t i, j;

	a->swept = a->now;
	for (i = 0; i < a->nbuckets; i++)
		for (pp = &a->buckets[i]; (s = *pp) != NULL; ) {
			if (a->now - s->seen < a->stale) {
				pp = &s->next;
				continue;
			}
			for (j = 0; j < s->nstates; j++)
				if (s->st[j].state == ALERT_FIRING)
					alert_change(a, s, &s->st[j],
					    "resolved", a->now);
			*pp = s->next;
			alert_free_series(s);
			a->nseries--;
		}
}

/* The time of a ts string, remembered for the next record's. */
static int
alert_time(struct dsim_alert *a, const char *ts, dsim_ms *t)
{
	size_t n = strlen(ts);

	if (n < sizeof a->lastts && memcmp(ts, a->lastts, n + 1) == 0) {
		*t = a->lastms;
		return 0;
	}
	if (dsim_clock_parse(ts, t) != 0)
		return -1;
	if (n < sizeof a->lastts) {
		memcpy(a->lastts, ts, n + 1);
		a->lastms = *t;
	}
	return 0;
}

/*
 * Take one line of input (followed in memory by a NUL): a metric record
 * moves the rules that watch its series; *other is set for a record of
 * another kind.  Returns 0, or -1 with err filled for a bad line (its
 * subject is for the caller to set).
 */
int
dsim_alert_line(struct dsim_alert *a, const char *line, size_t len,
    int *other, struct dsim_error *err)
{
	struct alert_series *s;
	struct alert_rec r;
	dsim_ms t;
	size_t i;

	*other = 0;
	alert_reserve(&a->scratch, &a->capscratch, len + 1);
	if (alert_parse(line, len, a->scratch, &r, err, "stdin") != 0)
		return -1;
	if (r.kind == NULL || strcmp(r.kind, "metric") != 0) {
		*other = 1;
		return 0;
	}
	if (r.name == NULL || r.ts == NULL || !r.has_value) {
		dsim_error_set(err, DSIM_EX_DATAERR, "stdin", "a metric record "
		    "needs a name, a numeric value and a ts");
		return -1;
	}
	if (alert_time(a, r.ts, &t) != 0) {
		dsim_error_set(err, DSIM_EX_DATAERR, "stdin", "ts '%.40s' is "
		    "not an RFC 3339 time", r.ts);
		return -1;
	}
	if (t > a->now)
		a->now = t;
	s = alert_series(a, &r, &r.labels);
	s->seen = t;
	for (i = 0; i < s->nstates; i++)
		alert_step(a, s, &s->st[i], r.value, t);
	if (a->now - a->swept >= a->stale / 5)
		alert_sweep(a);
	return 0;
}

/*
 * How many of the kept changes are due to notifiers: those made before
 * the input's latest time (the moment is over), or all with everything.
 */
size_t
dsim_alert_due(const struct dsim_alert *a, int everything)
{
	size_t n = 0;

	if (everything)
		return a->nev;
	while (n < a->nev && a->ev[n].at < a->now)
		n++;
	return n;
}

/* Forget the first n kept changes, once notified. */
void
dsim_alert_drop(struct dsim_alert *a, size_t n)
{
	size_t i;

	if (n == 0)
		return;
	for (i = 0; i < n; i++) {
		json_decref(a->ev[i].labels);
		json_decref(a->ev[i].annotations);
	}
	memmove(a->ev, a->ev + n, (a->nev - n) * sizeof *a->ev);
	a->nev -= n;
}

/*
 * The alerts firing now, as changes (the caller releases them with
 * dsim_alert_events_free): what Alertmanager must hear again from time
 * to time to keep them active.
 */
size_t
dsim_alert_firing(const struct dsim_alert *a, struct dsim_alert_event **out)
{
	struct alert_series *s;
	size_t i, j, n = 0, cap = 0;
	struct dsim_alert_event *ev = NULL, *e;

	for (i = 0; i < a->nbuckets; i++)
		for (s = a->buckets[i]; s != NULL; s = s->next)
			for (j = 0; j < s->nstates; j++) {
				const struct alert_state *st = &s->st[j];

				if (st->state != ALERT_FIRING)
					continue;
				if (n == cap) {
					cap = cap ? cap * 2 : 16;
					ev = realloc(ev, cap * sizeof *ev);
					if (ev == NULL)
						abort();
				}
				e = &ev[n++];
				memset(e, 0, sizeof *e);
				e->labels = alert_labelset(s, st->rule,
				    e->fingerprint);
				e->annotations = alert_annotations(s, st->rule,
				    st->value);
				e->firing = 1;
				e->starts = st->fired;
				e->at = a->now;
				e->value = st->value;
				snprintf(e->env, sizeof e->env, "%s", s->env);
			}
	*out = ev;
	return n;
}

/* Release changes made by dsim_alert_firing. */
void
dsim_alert_events_free(struct dsim_alert_event *ev, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		json_decref(ev[i].labels);
		json_decref(ev[i].annotations);
	}
	free(ev);
}

/* The number of series the engine holds, for -v. */
void
dsim_alert_series_count(const struct dsim_alert *a, size_t *n)
{
	*n = a->nseries;
}

/* Release everything the engine holds. */
void
dsim_alert_free(struct dsim_alert *a)
{
	struct alert_series *s, *next;
	size_t i;

	dsim_alert_drop(a, a->nev);
	for (i = 0; i < a->nbuckets; i++)
		for (s = a->buckets[i]; s != NULL; s = next) {
			next = s->next;
			alert_free_series(s);
		}
	free(a->buckets);
	free(a->ev);
	free(a->scratch);
	free(a->key);
	free(a->z);
	dsim_rec_free(&a->rec);
	memset(a, 0, sizeof *a);
}

static const char *const alert_states[] = { "inactive", "pending", "firing" };

static json_t *
alert_time_json(dsim_ms t)
{
	char ts[DSIM_CLOCK_LEN];

	dsim_clock_format(t, ts);
	return json_string(ts);
}

/* One rule's state for one series, as the state file keeps it. */
static json_t *
alert_state_json(const struct alert_series *s, const struct alert_state *st)
{
	json_t *labels = json_object(), *past = json_array(), *o;
	size_t i, k;

	for (i = 0; i < s->labels.n; i++)
		json_object_set_new(labels, s->labels.key[i],
		    json_string(s->labels.val[i]));
	for (i = 0; i < st->npast; i++) {
		k = (st->next + st->rule->window - st->npast + i) %
		    st->rule->window;
		json_array_append_new(past, json_real(st->past[k]));
	}
	o = json_pack("{s:s, s:o, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:f,"
	    " s:o}", "metric", s->key, "labels", labels, "env", s->env,
	    "rule", st->rule->name, "state", alert_states[st->state],
	    "seen", alert_time_json(s->seen), "active",
	    alert_time_json(st->active), "fired", alert_time_json(st->fired),
	    "sent", alert_time_json(st->sent), "value",
	    isfinite(st->value) ? st->value : 0, "past", past);
	if (o == NULL)
		abort();
	return o;
}

/*
 * Save what the engine must remember across runs to path, written aside
 * and renamed: every alert that is pending or firing, and the windows of
 * the anomaly rules.
 */
int
dsim_alert_save(const struct dsim_alert *a, const char *path,
    struct dsim_error *err)
{
	json_t *doc = json_pack("{s:i, s:o, s:[]}", "version", 1, "now",
	    alert_time_json(a->now), "alerts"), *list;
	struct alert_series *s;
	char tmp[4200];
	size_t i, j;

	list = json_object_get(doc, "alerts");
	for (i = 0; i < a->nbuckets; i++)
		for (s = a->buckets[i]; s != NULL; s = s->next)
			for (j = 0; j < s->nstates; j++)
				if (s->st[j].state != ALERT_INACTIVE ||
				    s->st[j].npast > 0)
					json_array_append_new(list,
					    alert_state_json(s, &s->st[j]));
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	errno = 0;
	if (json_dump_file(doc, tmp, JSON_COMPACT) != 0 ||
	    rename(tmp, path) != 0) {
		int e = errno ? errno : EIO;

		json_decref(doc);
		unlink(tmp);
		errno = e;
		return dsim_error_errno(err, DSIM_EX_CANTCREAT, path,
		    "cannot write the alert state");
	}
	json_decref(doc);
	return 0;
}

/* Restore one saved rule state onto its series, made anew. */
static int
alert_restore(struct dsim_alert *a, json_t *e)
{
	const char *metric, *env, *rule, *state, *k;
	const char *seen, *active, *fired, *sent;
	json_t *labels, *past, *v;
	struct dsim_labels l = { 0 };
	struct alert_rec r = { 0 };
	struct alert_series *s;
	struct alert_state *st = NULL;
	double value;
	size_t i;

	if (json_unpack(e, "{s:s, s:o, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
	    " s:F, s:o}", "metric", &metric, "labels", &labels, "env", &env,
	    "rule", &rule, "state", &state, "seen", &seen, "active", &active,
	    "fired", &fired, "sent", &sent, "value", &value, "past",
	    &past) != 0 || !json_is_object(labels) || !json_is_array(past))
		return -1;
	json_object_foreach(labels, k, v) {
		if (!json_is_string(v) || l.n == 32)
			return -1;
		l.key[l.n] = k;
		l.val[l.n++] = json_string_value(v);
	}
	r.name = metric;
	r.env = env;
	s = alert_series(a, &r, &l);
	for (i = 0; i < s->nstates && st == NULL; i++)
		if (strcmp(s->st[i].rule->name, rule) == 0)
			st = &s->st[i];
	if (st == NULL)
		return 0;	/* the rule is gone or out of force */
	for (i = 0; i < 3 && strcmp(alert_states[i], state) != 0; i++)
		;
	if (i == 3 || dsim_clock_parse(seen, &s->seen) != 0 ||
	    dsim_clock_parse(active, &st->active) != 0 ||
	    dsim_clock_parse(fired, &st->fired) != 0 ||
	    dsim_clock_parse(sent, &st->sent) != 0)
		return -1;
	st->state = (int)i;
	st->value = value;
	json_array_foreach(past, i, v)
		if (st->past != NULL && json_is_number(v)) {
			st->past[st->next] = json_number_value(v);
			st->next = (st->next + 1) % st->rule->window;
			if (st->npast < st->rule->window)
				st->npast++;
		}
	return 0;
}

/*
 * Restore the state saved by dsim_alert_save; a file that does not exist
 * is a first run.  Returns 0, or 65 for a file that cannot be read.
 */
int
dsim_alert_load(struct dsim_alert *a, const char *path,
    struct dsim_error *err)
{
	json_error_t jerr;
	json_t *doc, *list, *e;
	const char *now;
	size_t i;

	if (access(path, F_OK) != 0)
		return 0;
	if ((doc = json_load_file(path, 0, &jerr)) == NULL)
		return dsim_error_set(err, DSIM_EX_DATAERR, path, "%d:%d: %s",
		    jerr.line, jerr.column, jerr.text);
	list = json_object_get(doc, "alerts");
	now = json_string_value(json_object_get(doc, "now"));
	if (!json_is_array(list) || now == NULL ||
	    dsim_clock_parse(now, &a->now) != 0) {
		json_decref(doc);
		return dsim_error_set(err, DSIM_EX_DATAERR, path,
		    "not an alert state file");
	}
	a->swept = a->now;
	json_array_foreach(list, i, e)
		if (alert_restore(a, e) != 0) {
			json_decref(doc);
			return dsim_error_set(err, DSIM_EX_DATAERR, path,
			    "alerts[%zu] is malformed", i);
		}
	json_decref(doc);
	return 0;
}
