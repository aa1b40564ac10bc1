#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "http.h"
#include "promql.h"

/* The node_exporter expression behind each of dsim's series. */
static const struct {
	int		 metric;
	const char	*expr;
} promql_queries[] = {
	{ DSIM_METRIC_UP, "up" },
	{ DSIM_METRIC_CPU, "1 - avg by (instance, job) "
	    "(rate(node_cpu_seconds_total{mode=\"idle\"}[1m]))" },
	{ DSIM_METRIC_MEMORY_BYTES, "node_memory_MemTotal_bytes - "
	    "node_memory_MemAvailable_bytes" },
	{ DSIM_METRIC_MEMORY_RATIO, "1 - node_memory_MemAvailable_bytes / "
	    "node_memory_MemTotal_bytes" },
	{ DSIM_METRIC_DISK, "1 - node_filesystem_avail_bytes{mountpoint=\"/\"}"
	    " / node_filesystem_size_bytes{mountpoint=\"/\"}" },
	{ DSIM_METRIC_RECEIVE, "sum by (instance, job) "
	    "(node_network_receive_bytes_total{device!=\"lo\"})" },
	{ DSIM_METRIC_TRANSMIT, "sum by (instance, job) "
	    "(node_network_transmit_bytes_total{device!=\"lo\"})" },
};

/* Percent-encode s for a URL's query. */
static void
promql_escape(const char *s, char *out, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (; *s != '\0' && n + 4 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-_.~", c) != NULL)
			out[n++] = (char)c;
		else {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	out[n] = '\0';
}

/* The node of a series, found by its instance or added. */
static uint32_t
promql_node(struct dsim_metrics_set *set, const json_t *labels)
{
	const char *instance = json_string_value(json_object_get(labels,
	    "instance"));
	const char *job = json_string_value(json_object_get(labels, "job"));
	const char *region = json_string_value(json_object_get(labels,
	    "region"));
	char node[48];
	size_t i;

	if (instance == NULL)
		instance = "";
	for (i = 0; i < set->nnodes; i++)
		if (strncmp(set->nodes[i].instance, instance,
		    sizeof set->nodes[i].instance - 1) == 0)
			return (uint32_t)i;
	snprintf(node, sizeof node, "%.*s", (int)strcspn(instance, ":"),
	    instance);
	return dsim_metrics_node(set, instance, job ? job : "node", node,
	    region ? region : "");
}

/* Add the samples of one query's answer to the set. */
static int
promql_add(struct dsim_metrics_set *set, int metric, const char *body,
    const char *url, struct dsim_error *err)
{
	json_t *doc = json_loads(body, 0, NULL), *result, *r;
	const char *status = json_string_value(json_object_get(doc,
	    "status"));
	size_t i;

	result = json_object_get(json_object_get(doc, "data"), "result");
	if (status == NULL || strcmp(status, "success") != 0 ||
	    !json_is_array(result)) {
		json_decref(doc);
		return dsim_error_set(err, DSIM_EX_UNAVAILABLE, url,
		    "not an answer of Prometheus's query API");
	}
	json_array_foreach(result, i, r) {
		const char *v = json_string_value(json_array_get(
		    json_object_get(r, "value"), 1));
		char *end;
		double d;

		if (v == NULL)
			continue;
		d = strtod(v, &end);
		if (*end == '\0')
			dsim_metrics_add(set, promql_node(set,
			    json_object_get(r, "metric")), metric, d);
	}
	json_decref(doc);
	return 0;
}

/*
 * Sample node_exporter's series through a Prometheus server's query API
 * (base URL url) into set, as dsim's metrics, stamped with the wall clock.
 */
int
dsim_promql_sample(const char *url, struct dsim_metrics_set *set,
    struct dsim_error *err)
{
	struct dsim_http_reply reply;
	char q[1024], full[2048];
	size_t i, n = strlen(url);

	dsim_metrics_reset(set, dsim_clock_now());
	if (n > 0 && url[n - 1] == '/')
		n--;
	for (i = 0; i < sizeof promql_queries / sizeof promql_queries[0];
	    i++) {
		promql_escape(promql_queries[i].expr, q, sizeof q);
		snprintf(full, sizeof full, "%.*s/api/v1/query?query=%s",
		    (int)n, url, q);
		if (dsim_http_request("GET", full, NULL, NULL, 0, 10000,
		    &reply, err) != 0) {
			dsim_http_reply_free(&reply);
			return err->code;
		}
		if (promql_add(set, promql_queries[i].metric, reply.body ?
		    reply.body : "", url, err) != 0) {
			dsim_http_reply_free(&reply);
			return err->code;
		}
		dsim_http_reply_free(&reply);
	}
	return 0;
}
