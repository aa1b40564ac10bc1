#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rule.h"

static const char *const rule_ops[] = { ">", ">=", "<", "<=", "==", "!=",
	NULL };

static char *
rule_strdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		abort();
	return p;
}

/*
 * Read a matcher's value: "=~RE", "!~RE", "!=V", "=V" or a plain V (as
 * "=V"); regular expressions are anchored, as in PromQL.
 */
static int
rule_matcher(struct dsim_matcher *m, const char *label, const char *spec)
{
	char anchored[1024];

	m->label = rule_strdup(label);
	m->op = DSIM_MATCH_EQ;
	if (strncmp(spec, "=~", 2) == 0 || strncmp(spec, "!~", 2) == 0) {
		m->op = spec[0] == '=' ? DSIM_MATCH_RE : DSIM_MATCH_NRE;
		spec += 2;
	} else if (strncmp(spec, "!=", 2) == 0) {
		m->op = DSIM_MATCH_NE;
		spec += 2;
	} else if (spec[0] == '=')
		spec++;
	m->value = rule_strdup(spec);
	if (m->op < DSIM_MATCH_RE)
		return 0;
	snprintf(anchored, sizeof anchored, "^(%s)$", spec);
	return regcomp(&m->re, anchored, REG_EXTENDED | REG_NOSUB) == 0 ? 0 :
	    -1;
}

/* Check that every template of an object renders. */
static const char *
rule_check_templates(const json_t *obj)
{
	struct dsim_labels none = { 0 };
	const char *key, *bad = NULL;
	json_t *v;
	char *s;

	json_object_foreach((json_t *)obj, key, v) {
		if (!json_is_string(v))
			return key;
		s = dsim_rule_render(json_string_value(v), &none, 0, &bad);
		free(s);
		if (s == NULL)
			return key;
	}
	return NULL;
}

static int
rule_bad(struct dsim_error *err, const char *path, size_t i,
    const char *what)
{
	return dsim_error_set(err, DSIM_EX_CONFIG, path, "rules[%zu]: %s", i,
	    what);
}

/*
 * Read a rule's type and, for an anomaly rule, its window (default 30
 * samples), the samples it needs first (10) and its z-score limit (3.5).
 */
static int
rule_anomaly(struct dsim_rule *r, json_t *o, const char *path, size_t i,
    struct dsim_error *err)
{
	const char *type = "threshold";
	json_int_t window = 30, min = 10;
	json_error_t jerr;

	r->z = 3.5;
	if (json_unpack_ex(o, &jerr, 0, "{s?s, s?I, s?I, s?F}", "type", &type,
	    "window", &window, "min_samples", &min, "z", &r->z) != 0)
		return rule_bad(err, path, i, jerr.text);
	if (strcmp(type, "threshold") == 0) {
		r->type = DSIM_RULE_THRESHOLD;
		return 0;
	}
	if (strcmp(type, "anomaly") != 0)
		return rule_bad(err, path, i, "type must be threshold or "
		    "anomaly");
	if (window < 3 || window > 10000 || min < 3 || min > window ||
	    !(r->z > 0))
		return rule_bad(err, path, i, "an anomaly rule needs a window "
		    "of 3 to 10000, min_samples from 3 to the window, and a "
		    "positive z");
	r->type = DSIM_RULE_ANOMALY;
	r->window = (size_t)window;
	r->min_samples = (size_t)min;
	return 0;
}

/* Read one rule from its JSON object. */
static int
rule_parse(struct dsim_rule *r, json_t *o, const char *path, size_t i,
    struct dsim_error *err)
{
	const char *name = NULL, *metric = NULL, *op = ">", *hold = "0s";
	const char *severity = "warning", *key;
	json_t *matchers = NULL, *labels = NULL, *ann = NULL, *v;
	json_error_t jerr;
	int k;

	r->threshold = NAN;
	if (json_unpack_ex(o, &jerr, 0, "{s:s, s:s, s?s, s?F, s?s, s?s, s?o,"
	    " s?o, s?o}", "name", &name, "metric", &metric, "op", &op,
	    "threshold", &r->threshold, "for", &hold, "severity", &severity,
	    "matchers", &matchers, "labels", &labels, "annotations",
	    &ann) != 0)
		return rule_bad(err, path, i, jerr.text);
	r->name = rule_strdup(name);
	r->metric = rule_strdup(metric);
	if (rule_anomaly(r, o, path, i, err) != 0)
		return err->code;
	if (r->type == DSIM_RULE_THRESHOLD && isnan(r->threshold))
		return rule_bad(err, path, i, "a threshold rule needs a "
		    "threshold");
	for (k = 0; rule_ops[k] != NULL && strcmp(rule_ops[k], op) != 0; k++)
		;
	if (rule_ops[k] == NULL)
		return rule_bad(err, path, i, "op must be >, >=, <, <=, == or "
		    "!=");
	r->op = k;
	if (dsim_clock_parse_duration(hold, &r->hold) != 0 || r->hold < 0)
		return rule_bad(err, path, i, "for is not a duration");
	if ((matchers && !json_is_object(matchers)) ||
	    (labels && !json_is_object(labels)) ||
	    (ann && !json_is_object(ann)))
		return rule_bad(err, path, i, "matchers, labels and "
		    "annotations must be objects");
	r->nm = matchers ? json_object_size(matchers) : 0;
	if ((r->m = calloc(r->nm + 1, sizeof *r->m)) == NULL)
		abort();
	k = 0;
	json_object_foreach(matchers, key, v)
		if (!json_is_string(v) || rule_matcher(&r->m[k++], key,
		    json_string_value(v)) != 0)
			return rule_bad(err, path, i, "a matcher is not a "
			    "string or not a valid regular expression");
	r->labels = labels ? json_deep_copy(labels) : json_object();
	json_object_set_new(r->labels, "severity", json_string(severity));
	r->annotations = ann ? json_incref(ann) : json_object();
	if (rule_check_templates(r->labels) != NULL ||
	    rule_check_templates(r->annotations) != NULL)
		return rule_bad(err, path, i, "a label or annotation is not a "
		    "string or has an unknown {{ }} expression");
	return 0;
}

/* Load a rules file: {"notify": {...}, "rules": [...]}; 0 or 78. */
int
dsim_rule_load(struct dsim_rules *rs, const char *path,
    struct dsim_error *err)
{
	json_error_t jerr;
	json_t *doc, *rules, *o;
	size_t i;

	memset(rs, 0, sizeof *rs);
	if ((doc = json_load_file(path, 0, &jerr)) == NULL)
		return dsim_error_set(err, DSIM_EX_CONFIG, path, "%d:%d: %s",
		    jerr.line, jerr.column, jerr.text);
	rules = json_object_get(doc, "rules");
	if (!json_is_array(rules)) {
		json_decref(doc);
		return dsim_error_set(err, DSIM_EX_CONFIG, path,
		    "\"rules\" must be an array");
	}
	rs->n = json_array_size(rules);
	if ((rs->r = calloc(rs->n + 1, sizeof *rs->r)) == NULL)
		abort();
	json_array_foreach(rules, i, o)
		if (rule_parse(&rs->r[i], o, path, i, err) != 0) {
			json_decref(doc);
			return err->code;
		}
	if (json_is_object(json_object_get(doc, "notify")))
		rs->notify = json_incref(json_object_get(doc, "notify"));
	json_decref(doc);
	return 0;
}

/* Release the rules. */
void
dsim_rule_free(struct dsim_rules *rs)
{
	size_t i, j;

	for (i = 0; i < rs->n; i++) {
		struct dsim_rule *r = &rs->r[i];

		for (j = 0; j < r->nm; j++) {
			free(r->m[j].label);
			free(r->m[j].value);
			if (r->m[j].op >= DSIM_MATCH_RE && r->m[j].value)
				regfree(&r->m[j].re);
		}
		free(r->m);
		free(r->name);
		free(r->metric);
		json_decref(r->labels);
		json_decref(r->annotations);
	}
	free(rs->r);
	json_decref(rs->notify);
	memset(rs, 0, sizeof *rs);
}

static const char *
rule_label(const struct dsim_labels *l, const char *key)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->key[i], key) == 0)
			return l->val[i];
	return "";
}

/* Whether a rule watches the series of a metric name and labels. */
int
dsim_rule_selects(const struct dsim_rule *r, const char *metric,
    const struct dsim_labels *l)
{
	size_t i;

	if (strcmp(r->metric, metric) != 0)
		return 0;
	for (i = 0; i < r->nm; i++) {
		const struct dsim_matcher *m = &r->m[i];
		const char *v = rule_label(l, m->label);
		int hit;

		if (m->op >= DSIM_MATCH_RE)
			hit = regexec(&m->re, v, 0, NULL, 0) == 0;
		else
			hit = strcmp(v, m->value) == 0;
		if (hit != (m->op == DSIM_MATCH_EQ || m->op == DSIM_MATCH_RE))
			return 0;
	}
	return 1;
}

static int
rule_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
rule_median(double *v, size_t n)
{
	qsort(v, n, sizeof *v, rule_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * The robust z-score of x against n past values: its distance from their
 * median over 1.4826 times their median absolute deviation (or, when that
 * is 0, 1.2533 times their mean absolute deviation), as Iglewicz and
 * Hoaglin define it.  scratch holds n doubles.
 */
double
dsim_rule_zscore(const double *past, size_t n, double x, double *scratch)
{
	double med, mad, mean = 0;
	size_t i;

	memcpy(scratch, past, n * sizeof *past);
	med = rule_median(scratch, n);
	for (i = 0; i < n; i++) {
		scratch[i] = fabs(past[i] - med);
		mean += scratch[i];
	}
	mad = rule_median(scratch, n);
	if (mad > 0)
		return (x - med) / (1.4826 * mad);
	mean /= (double)n;
	if (mean > 0)
		return (x - med) / (1.2533 * mean);
	return x == med ? 0 : x > med ? INFINITY : -INFINITY;
}

/* Whether a value meets the rule's condition. */
int
dsim_rule_holds(const struct dsim_rule *r, double v)
{
	switch (r->op) {
	case DSIM_RULE_GT:
		return v > r->threshold;
	case DSIM_RULE_GE:
		return v >= r->threshold;
	case DSIM_RULE_LT:
		return v < r->threshold;
	case DSIM_RULE_LE:
		return v <= r->threshold;
	case DSIM_RULE_EQ:
		return v == r->threshold;
	}
	return v != r->threshold;
}

/* Write v with an SI (base 1000) or binary (base 1024) prefix. */
static void
rule_humanize(char *buf, size_t len, double v, double base)
{
	static const char *const si[] = { "", "k", "M", "G", "T", "P", "E" };
	static const char *const bin[] = { "", "Ki", "Mi", "Gi", "Ti", "Pi",
		"Ei" };
	int i = 0;

	while (fabs(v) >= base && i < 6) {
		v /= base;
		i++;
	}
	snprintf(buf, len, "%.4g%s", v, base == 1024 ? bin[i] : si[i]);
}

/* Evaluate one {{ }} expression into out; -1 if it is not understood. */
static int
rule_expr(const char *e, size_t n, const struct dsim_labels *l, double v,
    char *out, size_t len)
{
	char expr[256], *pipe, *fn = NULL, *p;

	if (n >= sizeof expr)
		return -1;
	memcpy(expr, e, n);
	expr[n] = '\0';
	if ((pipe = strchr(expr, '|')) != NULL) {
		*pipe = '\0';
		fn = pipe + 1;
		while (*fn == ' ')
			fn++;
		for (p = fn + strlen(fn); p > fn && p[-1] == ' '; p--)
			p[-1] = '\0';
	}
	for (p = expr + strlen(expr); p > expr && p[-1] == ' '; p--)
		p[-1] = '\0';
	for (p = expr; *p == ' '; p++)
		;
	if (strncmp(p, "$labels.", 8) == 0 && fn == NULL) {
		snprintf(out, len, "%s", rule_label(l, p + 8));
		return 0;
	}
	if (strcmp(p, "$value") != 0)
		return -1;
	if (fn == NULL)
		snprintf(out, len, "%.6g", v);
	else if (strcmp(fn, "humanize") == 0)
		rule_humanize(out, len, v, 1000);
	else if (strcmp(fn, "humanize1024") == 0)
		rule_humanize(out, len, v, 1024);
	else if (strcmp(fn, "humanizePercentage") == 0)
		snprintf(out, len, "%.4g%%", v * 100);
	else
		return -1;
	return 0;
}

/*
 * Render a template: {{ $labels.NAME }}, {{ $value }}, and $value piped
 * to humanize, humanize1024 or humanizePercentage, as Prometheus's alert
 * templates have them.  Returns a new string, or NULL with *bad at the
 * expression not understood.
 */
char *
dsim_rule_render(const char *tmpl, const struct dsim_labels *l, double v,
    const char **bad)
{
	size_t cap = strlen(tmpl) + 256, len = 0, n;
	char *out = malloc(cap), piece[512];
	const char *p = tmpl, *open, *close;

	if (out == NULL)
		abort();
	while (*p != '\0') {
		if ((open = strstr(p, "{{")) == NULL)
			open = p + strlen(p);
		close = *open ? strstr(open + 2, "}}") : NULL;
		n = (size_t)(open - p);
		if (*open && close == NULL) {
			*bad = open;
			free(out);
			return NULL;
		}
		piece[0] = '\0';
		if (*open && rule_expr(open + 2, (size_t)(close - open - 2), l,
		    v, piece, sizeof piece) != 0) {
			*bad = open;
			free(out);
			return NULL;
		}
		if (len + n + strlen(piece) + 1 > cap) {
			cap = (len + n + strlen(piece) + 1) * 2;
			if ((out = realloc(out, cap)) == NULL)
				abort();
		}
		memcpy(out + len, p, n);
		len += n;
		memcpy(out + len, piece, strlen(piece));
		len += strlen(piece);
		p = *open ? close + 2 : open;
	}
	out[len] = '\0';
	return out;
}
