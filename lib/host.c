#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/statvfs.h>

#include "host.h"

/* Read the CPU's busy and total jiffies from /proc/stat's first line. */
static int
host_cpu(unsigned long long *busy, unsigned long long *total,
    struct dsim_error *err)
{
	unsigned long long v[8] = { 0 };
	FILE *fp = fopen("/proc/stat", "r");
	int n;

	if (fp == NULL)
		return dsim_error_errno(err, DSIM_EX_UNAVAILABLE, "/proc/stat",
		    "cannot open");
	n = fscanf(fp, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
	    &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
	fclose(fp);
	if (n < 4)
		return dsim_error_set(err, DSIM_EX_UNAVAILABLE, "/proc/stat",
		    "no cpu line");
	*total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
	*busy = *total - v[3] - v[4];
	return 0;
}

/* Read MemTotal and MemAvailable from /proc/meminfo, in bytes. */
static int
host_memory(double *total, double *avail, struct dsim_error *err)
{
	FILE *fp = fopen("/proc/meminfo", "r");
	char line[256];
	unsigned long long kb;

	*total = *avail = -1;
	if (fp == NULL)
		return dsim_error_errno(err, DSIM_EX_UNAVAILABLE,
		    "/proc/meminfo", "cannot open");
	while (fgets(line, sizeof line, fp) != NULL) {
		if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
			*total = (double)kb * 1024;
		else if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			*avail = (double)kb * 1024;
	}
	fclose(fp);
	if (*total <= 0 || *avail < 0)
		return dsim_error_set(err, DSIM_EX_UNAVAILABLE,
		    "/proc/meminfo", "no MemTotal or MemAvailable");
	return 0;
}

/* Sum the bytes received and sent on every interface but loopback. */
static int
host_network(double *rx, double *tx, struct dsim_error *err)
{
	FILE *fp = fopen("/proc/net/dev", "r");
	unsigned long long r, t;
	char line[512], name[64];

	*rx = *tx = 0;
	if (fp == NULL)
		return dsim_error_errno(err, DSIM_EX_UNAVAILABLE,
		    "/proc/net/dev", "cannot open");
	while (fgets(line, sizeof line, fp) != NULL) {
		char *colon = strchr(line, ':');

		if (colon == NULL)
			continue;
		*colon = ' ';
		if (sscanf(line, " %63s %llu %*u %*u %*u %*u %*u %*u %*u %llu",
		    name, &r, &t) != 3 || strcmp(name, "lo") == 0)
			continue;
		*rx += (double)r;
		*tx += (double)t;
	}
	fclose(fp);
	return 0;
}

/* The share of the root file system in use, as df counts it. */
static int
host_disk(double *ratio, struct dsim_error *err)
{
	struct statvfs sv;
	double used;

	if (statvfs("/", &sv) == -1)
		return dsim_error_errno(err, DSIM_EX_UNAVAILABLE, "/",
		    "statvfs");
	used = (double)(sv.f_blocks - sv.f_bfree);
	*ratio = used + (double)sv.f_bavail > 0 ? used / (used +
	    (double)sv.f_bavail) : 0;
	return 0;
}

/*
 * Sample this machine into set, stamped with the wall clock: CPU over the
 * time since the last sample (a quarter second on the first), memory,
 * the root file system, and the network counters.
 */
int
dsim_host_sample(struct dsim_host *h, struct dsim_metrics_set *set,
    struct dsim_error *err)
{
	unsigned long long busy, total;
	double memtotal, avail, disk = 0, rx, tx, cpu;
	uint32_t node;

	if (!h->seen) {
		if (host_cpu(&h->busy, &h->total, err) != 0)
			return err->code;
		h->seen = 1;
		dsim_clock_sleep(250);
	}
	if (host_cpu(&busy, &total, err) != 0 ||
	    host_memory(&memtotal, &avail, err) != 0 ||
	    host_network(&rx, &tx, err) != 0 || host_disk(&disk, err) != 0)
		return err->code;
	cpu = total > h->total ? (double)(busy - h->busy) /
	    (double)(total - h->total) : 0;
	h->busy = busy;
	h->total = total;
	if (h->name[0] == '\0' && gethostname(h->name, sizeof h->name) != 0)
		snprintf(h->name, sizeof h->name, "localhost");
	dsim_metrics_reset(set, dsim_clock_now());
	node = dsim_metrics_node(set, h->name, "host", h->name, "local");
	dsim_metrics_add(set, node, DSIM_METRIC_UP, 1);
	dsim_metrics_add(set, node, DSIM_METRIC_CPU, cpu);
	dsim_metrics_add(set, node, DSIM_METRIC_MEMORY_BYTES, memtotal - avail);
	dsim_metrics_add(set, node, DSIM_METRIC_MEMORY_RATIO,
	    (memtotal - avail) / memtotal);
	dsim_metrics_add(set, node, DSIM_METRIC_DISK, disk);
	dsim_metrics_add(set, node, DSIM_METRIC_RECEIVE, rx);
	dsim_metrics_add(set, node, DSIM_METRIC_TRANSMIT, tx);
	return 0;
}
