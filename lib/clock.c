#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t
clock_days(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* Write a separator and two digits. */
static void
clock_two(char *p, char sep, int v)
{
	p[0] = sep;
	p[1] = (char)('0' + v / 10);
	p[2] = (char)('0' + v % 10);
}

/* Write t as RFC 3339 UTC with milliseconds into buf (DSIM_CLOCK_LEN). */
void
dsim_clock_format(dsim_ms t, char *buf)
{
	int64_t days, secs, z, era, doe, yoe, y, doy, mp, d, m;
	int ms;

	days = t / 86400000;
	ms = (int)(t % 86400000);
	if (ms < 0) {
		ms += 86400000;
		days--;
	}
	secs = ms / 1000;
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	if (y < 0 || y > 9999)
		y = y < 0 ? 0 : 9999;
	buf[0] = (char)('0' + y / 1000);
	buf[1] = (char)('0' + y / 100 % 10);
	buf[2] = (char)('0' + y / 10 % 10);
	buf[3] = (char)('0' + y % 10);
	clock_two(buf + 4, '-', (int)m);
	clock_two(buf + 7, '-', (int)d);
	clock_two(buf + 10, 'T', (int)(secs / 3600));
	clock_two(buf + 13, ':', (int)(secs / 60 % 60));
	clock_two(buf + 16, ':', (int)(secs % 60));
	buf[19] = '.';
	buf[20] = (char)('0' + ms % 1000 / 100);
	buf[21] = (char)('0' + ms % 100 / 10);
	buf[22] = (char)('0' + ms % 10);
	buf[23] = 'Z';
	buf[24] = '\0';
}

/* The number of days in a month of a year. */
static int
clock_month_days(int y, int m)
{
	static const int days[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return days[m - 1];
}

static int
clock_digits(const char **p, int n, int *out)
{
	int v = 0;

	while (n-- > 0) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (*(*p)++ - '0');
	}
	*out = v;
	return 0;
}

static int
clock_expect(const char **p, const char *set)
{
	if (**p == '\0' || strchr(set, **p) == NULL)
		return -1;
	(*p)++;
	return 0;
}

/*
 * Parse an RFC 3339 date-time (fractional seconds and any offset allowed);
 * returns 0, or -1 when s is not one.
 */
int
dsim_clock_parse(const char *s, dsim_ms *out)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0, ms = 0, scale = 100, sign;
	const char *p = s;
	int64_t t;

	if (clock_digits(&p, 4, &y) || clock_expect(&p, "-") ||
	    clock_digits(&p, 2, &mo) || clock_expect(&p, "-") ||
	    clock_digits(&p, 2, &d) || clock_expect(&p, "Tt ") ||
	    clock_digits(&p, 2, &h) || clock_expect(&p, ":") ||
	    clock_digits(&p, 2, &mi) || clock_expect(&p, ":") ||
	    clock_digits(&p, 2, &sec))
		return -1;
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++, scale /= 10)
			ms += (*p - '0') * scale;
		if (p[-1] == '.')
			return -1;
	}
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (clock_digits(&p, 2, &oh) || clock_expect(&p, ":") ||
		    clock_digits(&p, 2, &om) || oh > 23 || om > 59)
			return -1;
		oh *= sign;
		om *= sign;
	} else
		return -1;
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 ||
	    d > clock_month_days(y, mo) || h > 23 || mi > 59 || sec > 60)
		return -1;
	t = clock_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	t -= oh * 3600 + om * 60;
	*out = t * 1000 + ms;
	return 0;
}

/*
 * Parse a duration: a sequence of numbers with units ms, s, m, h, d
 * ("90s", "1h30m", "250ms"); a bare number is seconds.  Returns 0 or -1.
 */
int
dsim_clock_parse_duration(const char *s, dsim_ms *out)
{
	const char *p = s;
	double v, total = 0;
	char *end;

	if (*p == '\0')
		return -1;
	while (*p != '\0') {
		if (!isdigit((unsigned char)*p) && *p != '.')
			return -1;
		errno = 0;
		v = strtod(p, &end);
		if (end == p || errno != 0)
			return -1;
		p = end;
		if (strncmp(p, "ms", 2) == 0) {
			p += 2;
		} else if (*p == 's' || *p == '\0') {
			v *= 1e3;
			p += *p != '\0';
		} else if (*p == 'm') {
			v *= 60e3;
			p++;
		} else if (*p == 'h') {
			v *= 3600e3;
			p++;
		} else if (*p == 'd') {
			v *= 86400e3;
			p++;
		} else
			return -1;
		total += v;
	}
	if (total > 1e15)
		return -1;
	*out = (dsim_ms)(total + 0.5);
	return 0;
}

/* The wall clock. */
dsim_ms
dsim_clock_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (dsim_ms)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep for ms milliseconds of wall time; returns 0, or -1 if interrupted. */
int
dsim_clock_sleep(dsim_ms ms)
{
	struct timespec ts;

	if (ms <= 0)
		return 0;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) == -1)
		if (errno != EINTR)
			return -1;
	return 0;
}
