#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "dynlib.h"
#include "http.h"

/*
 * libcurl is opened when a transfer is first made, not when a program
 * starts: loading it and the thirty libraries it needs would cost the
 * programs that link this module several milliseconds on every run,
 * --help included, whether they talk to a server or not.
 */
static struct {
	CURLcode	(*global_init)(long);
	CURL		*(*easy_init)(void);
	CURLcode	(*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode	(*easy_perform)(CURL *);
	CURLcode	(*easy_getinfo)(CURL *, CURLINFO, ...);
	void		(*easy_cleanup)(CURL *);
	const char	*(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void		(*slist_free_all)(struct curl_slist *);
} lc;
static pthread_once_t http_once = PTHREAD_ONCE_INIT;
static char http_missing[256];		/* why libcurl could not be had */

/* Open libcurl and find its functions; once, whatever thread asks. */
static void
http_load(void)
{
	static const struct dsim_dynlib_sym syms[] = {
		{ "curl_global_init", &lc.global_init },
		{ "curl_easy_init", &lc.easy_init },
		{ "curl_easy_setopt", &lc.easy_setopt },
		{ "curl_easy_perform", &lc.easy_perform },
		{ "curl_easy_getinfo", &lc.easy_getinfo },
		{ "curl_easy_cleanup", &lc.easy_cleanup },
		{ "curl_easy_strerror", &lc.easy_strerror },
		{ "curl_slist_append", &lc.slist_append },
		{ "curl_slist_free_all", &lc.slist_free_all },
	};
	size_t n = sizeof syms / sizeof syms[0];

	if (dsim_dynlib_open("libcurl.so.4", syms, n, http_missing,
	    sizeof http_missing) == 0)
		lc.global_init(CURL_GLOBAL_DEFAULT);
}

/* Whether libcurl is there to use; 0, or 69 saying why not. */
static int
http_ready(const char *url, struct dsim_error *err)
{
	pthread_once(&http_once, http_load);
	if (http_missing[0] == '\0')
		return 0;
	return dsim_error_set(err, DSIM_EX_UNAVAILABLE, url, "%s",
	    http_missing);
}

/* A body being sent: what is left of it. */
struct http_upload {
	const char	*p;
	size_t		 left;
};

/*
 * Copy url to buf with any password in it replaced by "***", so that it
 * can appear in messages.
 */
void
dsim_http_redact(const char *url, char *buf, size_t len)
{
	const char *scheme = strstr(url, "://"), *at, *colon, *slash;

	snprintf(buf, len, "%s", url);
	if (scheme == NULL)
		return;
	scheme += 3;
	slash = strchr(scheme, '/');
	at = strchr(scheme, '@');
	if (at == NULL || (slash != NULL && at > slash))
		return;
	colon = memchr(scheme, ':', (size_t)(at - scheme));
	if (colon == NULL)
		return;
	snprintf(buf, len, "%.*s:***%s", (int)(colon - url), url, at);
}

static size_t
http_collect(char *data, size_t size, size_t n, void *arg)
{
	struct dsim_http_reply *r = arg;
	size_t more = size * n;
	char *p;

	if (r->len > (1u << 24))
		return 0;
	if ((p = realloc(r->body, r->len + more + 1)) == NULL)
		return 0;
	r->body = p;
	memcpy(r->body + r->len, data, more);
	r->len += more;
	r->body[r->len] = '\0';
	return more;
}

static size_t
http_send(char *buf, size_t size, size_t n, void *arg)
{
	struct http_upload *u = arg;
	size_t len = size * n < u->left ? size * n : u->left;

	memcpy(buf, u->p, len);
	u->p += len;
	u->left -= len;
	return len;
}

/* Set libcurl up now rather than at the first transfer. */
void
dsim_http_init(void)
{
	pthread_once(&http_once, http_load);
}

/* A failed transfer as an error: the service is unavailable (69). */
static int
http_fail(struct dsim_error *err, const char *url, const char *why)
{
	char safe[512];

	dsim_http_redact(url, safe, sizeof safe);
	return dsim_error_set(err, DSIM_EX_UNAVAILABLE, safe, "%s", why);
}

/* Cut a server's answer to one short printable line. */
static void
http_excerpt(const char *body, char *out, size_t len)
{
	size_t i;

	snprintf(out, len, "%s", body != NULL ? body : "");
	for (i = 0; out[i] != '\0'; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = ' ';
	while (i > 0 && out[i - 1] == ' ')
		out[--i] = '\0';
}

/*
 * Make an HTTP request (method GET, POST or PUT) with an optional body of
 * a content type, within timeout milliseconds; the reply is kept in *r.
 * A transfer error or a status of 300 or more is an error (69).
 */
int
dsim_http_request(const char *method, const char *url, const char *ctype,
    const char *body, size_t len, long timeout,
    struct dsim_http_reply *r, struct dsim_error *err)
{
	struct http_upload up = { body, len };
	struct curl_slist *hdrs = NULL;
	char header[128], excerpt[200], why[320];
	CURLcode rc;
	CURL *c;

	memset(r, 0, sizeof *r);
	if (http_ready(url, err) != 0)
		return err->code;
	if ((c = lc.easy_init()) == NULL)
		return http_fail(err, url, "cannot start a transfer");
	lc.easy_setopt(c, CURLOPT_URL, url);
	lc.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	lc.easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);
	lc.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout);
	lc.easy_setopt(c, CURLOPT_USERAGENT, "dsim/" PACKAGE_VERSION);
	lc.easy_setopt(c, CURLOPT_WRITEFUNCTION, http_collect);
	lc.easy_setopt(c, CURLOPT_WRITEDATA, r);
	if (body != NULL) {
		snprintf(header, sizeof header, "Content-Type: %s", ctype);
		hdrs = lc.slist_append(hdrs, header);
		hdrs = lc.slist_append(hdrs, "Expect:");
		lc.easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
		lc.easy_setopt(c, CURLOPT_UPLOAD, 1L);
		lc.easy_setopt(c, CURLOPT_READFUNCTION, http_send);
		lc.easy_setopt(c, CURLOPT_READDATA, &up);
		lc.easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
		    (curl_off_t)len);
	}
	lc.easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	rc = lc.easy_perform(c);
	lc.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	lc.easy_cleanup(c);
	lc.slist_free_all(hdrs);
	if (rc != CURLE_OK)
		return http_fail(err, url, lc.easy_strerror(rc));
	if (r->status >= 300) {
		http_excerpt(r->body, excerpt, sizeof excerpt);
		snprintf(why, sizeof why, "server answered %ld%s%s", r->status,
		    *excerpt ? ": " : "", excerpt);
		return http_fail(err, url, why);
	}
	return 0;
}

/*
 * Send a mail message through an SMTP server: smtp:// (STARTTLS when the
 * server offers it), smtp+starttls:// (STARTTLS required) or smtps://
 * (TLS from the start); user and password may be in the URL.
 */
int
dsim_http_mail(const char *url, const char *from, const char *const *to,
    size_t nto, const char *msg, size_t len, long timeout,
    struct dsim_error *err)
{
	struct http_upload up = { msg, len };
	struct curl_slist *rcpt = NULL;
	char real[1024];
	long tls = CURLUSESSL_TRY;
	CURLcode rc;
	size_t i;
	CURL *c;

	snprintf(real, sizeof real, "%s", url);
	if (strncmp(url, "smtp+starttls://", 16) == 0) {
		snprintf(real, sizeof real, "smtp://%s", url + 16);
		tls = CURLUSESSL_ALL;
	} else if (strncmp(url, "smtps://", 8) == 0)
		tls = CURLUSESSL_ALL;
	else if (strncmp(url, "smtp://", 7) != 0)
		return dsim_error_set(err, DSIM_EX_USAGE, "--smtp", "'%s' is "
		    "not an smtp://, smtp+starttls:// or smtps:// URL", url);
	if (http_ready(url, err) != 0)
		return err->code;
	if ((c = lc.easy_init()) == NULL)
		return http_fail(err, url, "cannot start a transfer");
	for (i = 0; i < nto; i++)
		rcpt = lc.slist_append(rcpt, to[i]);
	lc.easy_setopt(c, CURLOPT_URL, real);
	lc.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	lc.easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);
	lc.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout);
	lc.easy_setopt(c, CURLOPT_USE_SSL, tls);
	lc.easy_setopt(c, CURLOPT_MAIL_FROM, from);
	lc.easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	lc.easy_setopt(c, CURLOPT_UPLOAD, 1L);
	lc.easy_setopt(c, CURLOPT_READFUNCTION, http_send);
	lc.easy_setopt(c, CURLOPT_READDATA, &up);
	rc = lc.easy_perform(c);
	lc.easy_cleanup(c);
	lc.slist_free_all(rcpt);
	if (rc != CURLE_OK)
		return http_fail(err, url, lc.easy_strerror(rc));
	return 0;
}

/* Release a reply's body. */
void
dsim_http_reply_free(struct dsim_http_reply *r)
{
	free(r->body);
	memset(r, 0, sizeof *r);
}
