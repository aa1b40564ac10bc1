#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "metrics.h"

/* The series every source writes, so that one set of rules fits all. */
const struct dsim_metrics_def dsim_metrics_defs[] = {
	{ "dsim_up", "Whether the node is up and reachable (1) or not (0).",
	    "gauge" },
	{ "dsim_cpu_usage_ratio", "Share of the node's CPU in use.", "gauge" },
	{ "dsim_memory_usage_bytes", "Memory in use.", "gauge" },
	{ "dsim_memory_usage_ratio", "Memory in use over the node's limit.",
	    "gauge" },
	{ "dsim_disk_usage_ratio", "Share of the data disk in use.", "gauge" },
	{ "dsim_network_utilization_ratio", "Traffic of the busier direction "
	    "over the link's capacity.", "gauge" },
	{ "dsim_network_receive_bytes_total", "Bytes received.", "counter" },
	{ "dsim_network_transmit_bytes_total", "Bytes transmitted.",
	    "counter" },
	{ "dsim_http_requests_total", "HTTP requests served.", "counter" },
	{ NULL, NULL, NULL }
};

/* Empty a set for the samples of the moment ts, keeping its memory. */
void
dsim_metrics_reset(struct dsim_metrics_set *set, dsim_ms ts)
{
	set->ts = ts;
	set->nnodes = 0;
	set->npoints = 0;
	if (set->defs == NULL) {
		set->defs = dsim_metrics_defs;
		set->ndefs = DSIM_METRIC_N;
	}
}

/* Append s to buf as a JSON string; returns the new length or 0. */
static size_t
metrics_json_str(char *buf, size_t len, size_t cap, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;

	if (len + 2 >= cap)
		return 0;
	buf[len++] = '"';
	for (; *p != '\0'; p++) {
		if (len + 7 >= cap)
			return 0;
		if (*p == '"' || *p == '\\') {
			buf[len++] = '\\';
			buf[len++] = (char)*p;
		} else if (*p < 0x20 || *p == 0x7f) {
			memcpy(buf + len, "\\u00", 4);
			buf[len + 4] = hex[*p >> 4];
			buf[len + 5] = hex[*p & 15];
			len += 6;
		} else
			buf[len++] = (char)*p;
	}
	buf[len++] = '"';
	return len;
}

/* Make a node's labels into the JSON object its records carry. */
static void
metrics_node_json(struct dsim_metrics_node *n)
{
	const char *keys[] = { "instance", "service", "node", "region" };
	const char *vals[] = { n->instance, n->service, n->node, n->region };
	size_t len = 0, cap = sizeof n->json, i;

	n->json[len++] = '{';
	for (i = 0; i < 4 && len != 0; i++) {
		if (i > 0)
			n->json[len++] = ',';
		len = metrics_json_str(n->json, len, cap, keys[i]);
		if (len != 0)
			n->json[len++] = ':';
		if (len != 0)
			len = metrics_json_str(n->json, len, cap, vals[i]);
	}
	if (len == 0 || len + 1 >= cap)
		abort();
	n->json[len++] = '}';
	n->json[len] = '\0';
	n->jsonlen = len;
}

/* Add a node with its labels (cut to their fields' size); its index. */
uint32_t
dsim_metrics_node(struct dsim_metrics_set *set, const char *instance,
    const char *service, const char *node, const char *region)
{
	struct dsim_metrics_node *n;

	set->nodes = dsim_mem_grow(set->nodes, &set->capnodes, set->nnodes + 1,
	    sizeof *set->nodes);
	n = &set->nodes[set->nnodes];
	snprintf(n->instance, sizeof n->instance, "%s", instance);
	snprintf(n->service, sizeof n->service, "%s", service);
	snprintf(n->node, sizeof n->node, "%s", node);
	snprintf(n->region, sizeof n->region, "%s", region);
	metrics_node_json(n);
	return (uint32_t)set->nnodes++;
}

/* Add a node's value of a metric. */
void
dsim_metrics_add(struct dsim_metrics_set *set, uint32_t node, int def,
    double value)
{
	struct dsim_metrics_point *p;

	set->points = dsim_mem_grow(set->points, &set->cappoints,
	    set->npoints + 1, sizeof *set->points);
	p = &set->points[set->npoints++];
	p->node = node;
	p->def = (uint16_t)def;
	p->value = value;
}

/* Release what a set holds. */
void
dsim_metrics_free(struct dsim_metrics_set *set)
{
	free(set->nodes);
	free(set->points);
	memset(set, 0, sizeof *set);
}

/* Write a number as short as reads back exactly; returns its length. */
static int
metrics_number(char *buf, size_t cap, double v)
{
	int n;

	if (!isfinite(v))
		return snprintf(buf, cap, "%s", isnan(v) ? "NaN" :
		    v > 0 ? "+Inf" : "-Inf");
	if (v == floor(v) && fabs(v) < 1e15)
		return snprintf(buf, cap, "%" PRId64, (int64_t)v);
	n = snprintf(buf, cap, "%.15g", v);
	if (strtod(buf, NULL) != v)
		n = snprintf(buf, cap, "%.17g", v);
	return n;
}

static void
metrics_reserve(char **buf, size_t *cap, size_t len, size_t more)
{
	size_t n = *cap ? *cap : 1024;

	if (len + more <= *cap)
		return;
	while (n < len + more)
		n *= 2;
	if ((*buf = realloc(*buf, n)) == NULL)
		abort();
	*cap = n;
}

/*
 * Write a set as metric records to a sink, built straight from cached
 * pieces: the head shared by every record, the name, the value, the
 * node's labels.
 */
int
dsim_metrics_records(const struct dsim_metrics_set *set, const char *env,
    struct dsim_sink *sink, struct dsim_rec *rec)
{
	char head[256], ts[DSIM_CLOCK_LEN];
	size_t headlen, i, len;
	int n;

	dsim_clock_format(set->ts, ts);
	n = snprintf(head, sizeof head, "{\"kind\":\"metric\",\"ts\":\"%s\","
	    "\"env\":", ts);
	headlen = metrics_json_str(head, (size_t)n, sizeof head - 16, env);
	if (headlen == 0)
		abort();
	memcpy(head + headlen, ",\"name\":\"", 9);
	headlen += 9;
	for (i = 0; i < set->npoints; i++) {
		const struct dsim_metrics_point *p = &set->points[i];
		const struct dsim_metrics_node *nd = &set->nodes[p->node];
		const char *name = set->defs[p->def].name;
		size_t namelen = strlen(name);

		metrics_reserve(&rec->buf, &rec->cap, 0, headlen + namelen +
		    nd->jsonlen + 64);
		memcpy(rec->buf, head, headlen);
		len = headlen;
		memcpy(rec->buf + len, name, namelen);
		len += namelen;
		memcpy(rec->buf + len, "\",\"value\":", 10);
		len += 10;
		if (isfinite(p->value))
			len += (size_t)metrics_number(rec->buf + len, 32,
			    p->value);
		else {
			memcpy(rec->buf + len, "null", 4);
			len += 4;
		}
		memcpy(rec->buf + len, ",\"labels\":", 10);
		len += 10;
		memcpy(rec->buf + len, nd->json, nd->jsonlen);
		len += nd->jsonlen;
		memcpy(rec->buf + len, "}\n", 2);
		rec->len = len + 2;
		if (sink->put(sink, rec) != 0)
			return -1;
	}
	return 0;
}

static void
text_add(struct dsim_metrics_text *t, const char *s, size_t n)
{
	metrics_reserve(&t->buf, &t->cap, t->len, n + 1);
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = '\0';
}

/* Append a label value escaped as the exposition format asks. */
static void
text_label(struct dsim_metrics_text *t, const char *key, const char *val,
    int first)
{
	const char *p;

	if (!first)
		text_add(t, ",", 1);
	text_add(t, key, strlen(key));
	text_add(t, "=\"", 2);
	for (p = val; *p != '\0'; p++) {
		if (*p == '\\')
			text_add(t, "\\\\", 2);
		else if (*p == '"')
			text_add(t, "\\\"", 2);
		else if (*p == '\n')
			text_add(t, "\\n", 2);
		else
			text_add(t, p, 1);
	}
	text_add(t, "\"", 1);
}

/*
 * Write a set in Prometheus's text exposition format (0.0.4) to t,
 * replacing what it held: each metric's HELP and TYPE, then its series;
 * with stamp, each sample carries the set's time.
 */
void
dsim_metrics_exposition(const struct dsim_metrics_set *set,
    struct dsim_metrics_text *t, int stamp)
{
	char line[512];
	size_t d, i;
	int n;

	t->len = 0;
	text_add(t, "", 0);
	for (d = 0; d < set->ndefs; d++) {
		const struct dsim_metrics_def *def = &set->defs[d];
		int seen = 0;

		for (i = 0; i < set->npoints; i++) {
			const struct dsim_metrics_point *p = &set->points[i];
			const struct dsim_metrics_node *nd;

			if (p->def != d)
				continue;
			if (!seen++) {
				n = snprintf(line, sizeof line, "# HELP %s %s\n"
				    "# TYPE %s %s\n", def->name, def->help,
				    def->name, def->type);
				text_add(t, line, (size_t)n);
			}
			nd = &set->nodes[p->node];
			text_add(t, def->name, strlen(def->name));
			text_add(t, "{", 1);
			text_label(t, "instance", nd->instance, 1);
			text_label(t, "node", nd->node, 0);
			text_label(t, "region", nd->region, 0);
			text_label(t, "service", nd->service, 0);
			n = snprintf(line, sizeof line, "} ");
			n += metrics_number(line + n, 40, p->value);
			if (stamp)
				n += snprintf(line + n, 32, " %" PRId64,
				    set->ts);
			line[n++] = '\n';
			text_add(t, line, (size_t)n);
		}
	}
}

/* Release a text buffer. */
void
dsim_metrics_text_free(struct dsim_metrics_text *t)
{
	free(t->buf);
	memset(t, 0, sizeof *t);
}
