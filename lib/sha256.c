#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "dynlib.h"
#include "sha256.h"

/*
 * OpenSSL's libcrypto is opened at the first digest, not when a program
 * starts, to keep a millisecond and a half off every run that takes none.
 * It comes with libpq and libcurl, which dsim needs, so a libcrypto that
 * cannot be opened is as fatal as memory running out.
 */
static struct {
	__typeof__(EVP_MD_CTX_new)	*ctx_new;
	__typeof__(EVP_MD_CTX_free)	*ctx_free;
	__typeof__(EVP_sha256)		*sha256;
	__typeof__(EVP_DigestInit_ex)	*init;
	__typeof__(EVP_DigestUpdate)	*update;
	__typeof__(EVP_DigestFinal_ex)	*final;
} evp;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

/* Open libcrypto and find the digest functions, once. */
static void
sha256_load(void)
{
	static const struct dsim_dynlib_sym syms[] = {
		{ "EVP_MD_CTX_new", &evp.ctx_new },
		{ "EVP_MD_CTX_free", &evp.ctx_free },
		{ "EVP_sha256", &evp.sha256 },
		{ "EVP_DigestInit_ex", &evp.init },
		{ "EVP_DigestUpdate", &evp.update },
		{ "EVP_DigestFinal_ex", &evp.final },
	};
	size_t n = sizeof syms / sizeof syms[0];
	char why[256];

	if (dsim_dynlib_open("libcrypto.so.3", syms, n, why, sizeof why) != 0)
		abort();
}

/* Start a digest; memory exhaustion ends the program, as elsewhere. */
void
dsim_sha256_init(struct dsim_sha256 *h)
{
	EVP_MD_CTX *ctx;

	pthread_once(&sha256_once, sha256_load);
	if ((ctx = evp.ctx_new()) == NULL ||
	    evp.init(ctx, evp.sha256(), NULL) != 1)
		abort();
	h->ctx = ctx;
}

/* Add len bytes to the digest. */
void
dsim_sha256_update(struct dsim_sha256 *h, const void *buf, size_t len)
{
	if (len > 0 && evp.update(h->ctx, buf, len) != 1)
		abort();
}

/* End the digest and write it as 64 lower-case hex digits to hex. */
void
dsim_sha256_final(struct dsim_sha256 *h, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n, i;

	if (evp.final(h->ctx, md, &n) != 1)
		abort();
	for (i = 0; i < n; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[2 * n] = '\0';
	dsim_sha256_free(h);
}

/* Let go of a digest that was not finished. */
void
dsim_sha256_free(struct dsim_sha256 *h)
{
	evp.ctx_free(h->ctx);
	h->ctx = NULL;
}

/* The digest of one buffer, as hex. */
void
dsim_sha256_hex(const void *buf, size_t len, char *hex)
{
	struct dsim_sha256 h;

	dsim_sha256_init(&h);
	dsim_sha256_update(&h, buf, len);
	dsim_sha256_final(&h, hex);
}

/* The digest of a whole file; 0, or -1 with errno set. */
int
dsim_sha256_file(const char *path, char *hex)
{
	struct dsim_sha256 h;
	char *buf = malloc(1 << 18);
	ssize_t n;
	int fd, saved;

	if (buf == NULL)
		abort();
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		free(buf);
		return -1;
	}
	dsim_sha256_init(&h);
	while ((n = read(fd, buf, 1 << 18)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			saved = errno;
			dsim_sha256_free(&h);
			close(fd);
			free(buf);
			errno = saved;
			return -1;
		}
		dsim_sha256_update(&h, buf, (size_t)n);
	}
	dsim_sha256_final(&h, hex);
	close(fd);
	free(buf);
	return 0;
}
