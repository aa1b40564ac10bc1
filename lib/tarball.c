#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "dynlib.h"
#include "tarball.h"

#define TARBALL_BLOCK	(256 * 1024)

/*
 * libarchive is opened when an archive is first made or read, not when
 * dsim-backup starts: it and its compression libraries would cost every
 * run, --help included, some three milliseconds.
 */
static struct {
	__typeof__(archive_entry_clear)	*entry_clear;
	__typeof__(archive_entry_filetype)	*entry_filetype;
	__typeof__(archive_entry_free)	*entry_free;
	__typeof__(archive_entry_new)	*entry_new;
	__typeof__(archive_entry_pathname)	*entry_pathname;
	__typeof__(archive_entry_set_filetype)	*entry_set_filetype;
	__typeof__(archive_entry_set_mtime)	*entry_set_mtime;
	__typeof__(archive_entry_set_pathname)	*entry_set_pathname;
	__typeof__(archive_entry_set_perm)	*entry_set_perm;
	__typeof__(archive_entry_set_size)	*entry_set_size;
	__typeof__(archive_entry_size)	*entry_size;
	__typeof__(archive_error_string)	*error_string;
	__typeof__(archive_read_data)	*read_data;
	__typeof__(archive_read_free)	*read_free;
	__typeof__(archive_read_new)	*read_new;
	__typeof__(archive_read_next_header)	*read_next_header;
	__typeof__(archive_read_open)	*read_open;
	__typeof__(archive_read_support_filter_gzip)
			*read_support_filter_gzip;
	__typeof__(archive_read_support_filter_zstd)
			*read_support_filter_zstd;
	__typeof__(archive_read_support_format_tar)
			*read_support_format_tar;
	__typeof__(archive_set_error)	*set_error;
	__typeof__(archive_write_add_filter_gzip)	*write_add_filter_gzip;
	__typeof__(archive_write_add_filter_none)	*write_add_filter_none;
	__typeof__(archive_write_add_filter_zstd)	*write_add_filter_zstd;
	__typeof__(archive_write_close)	*write_close;
	__typeof__(archive_write_data)	*write_data;
	__typeof__(archive_write_free)	*write_free;
	__typeof__(archive_write_header)	*write_header;
	__typeof__(archive_write_new)	*write_new;
	__typeof__(archive_write_open)	*write_open;
	__typeof__(archive_write_set_bytes_in_last_block)
			*write_set_bytes_in_last_block;
	__typeof__(archive_write_set_filter_option)
			*write_set_filter_option;
	__typeof__(archive_write_set_format_pax_restricted)
			*write_set_format_pax_restricted;
} la;
static pthread_once_t tarball_once = PTHREAD_ONCE_INIT;
static char tarball_missing[256];	/* why libarchive could not be had */

/* Open libarchive and find its functions; once, whatever thread asks. */
static void
tarball_load(void)
{
	static const struct dsim_dynlib_sym syms[] = {
		{ "archive_entry_clear", &la.entry_clear },
		{ "archive_entry_filetype", &la.entry_filetype },
		{ "archive_entry_free", &la.entry_free },
		{ "archive_entry_new", &la.entry_new },
		{ "archive_entry_pathname", &la.entry_pathname },
		{ "archive_entry_set_filetype", &la.entry_set_filetype },
		{ "archive_entry_set_mtime", &la.entry_set_mtime },
		{ "archive_entry_set_pathname", &la.entry_set_pathname },
		{ "archive_entry_set_perm", &la.entry_set_perm },
		{ "archive_entry_set_size", &la.entry_set_size },
		{ "archive_entry_size", &la.entry_size },
		{ "archive_error_string", &la.error_string },
		{ "archive_read_data", &la.read_data },
		{ "archive_read_free", &la.read_free },
		{ "archive_read_new", &la.read_new },
		{ "archive_read_next_header", &la.read_next_header },
		{ "archive_read_open", &la.read_open },
		{ "archive_read_support_filter_gzip",
		    &la.read_support_filter_gzip },
		{ "archive_read_support_filter_zstd",
		    &la.read_support_filter_zstd },
		{ "archive_read_support_format_tar",
		    &la.read_support_format_tar },
		{ "archive_set_error", &la.set_error },
		{ "archive_write_add_filter_gzip", &la.write_add_filter_gzip },
		{ "archive_write_add_filter_none", &la.write_add_filter_none },
		{ "archive_write_add_filter_zstd", &la.write_add_filter_zstd },
		{ "archive_write_close", &la.write_close },
		{ "archive_write_data", &la.write_data },
		{ "archive_write_free", &la.write_free },
		{ "archive_write_header", &la.write_header },
		{ "archive_write_new", &la.write_new },
		{ "archive_write_open", &la.write_open },
		{ "archive_write_set_bytes_in_last_block",
		    &la.write_set_bytes_in_last_block },
		{ "archive_write_set_filter_option",
		    &la.write_set_filter_option },
		{ "archive_write_set_format_pax_restricted",
		    &la.write_set_format_pax_restricted },
	};
	size_t n = sizeof syms / sizeof syms[0];

	dsim_dynlib_open("libarchive.so.13", syms, n, tarball_missing,
	    sizeof tarball_missing);
}

/* Whether libarchive is there to use; 0, or 69 naming path and why not. */
static int
tarball_ready(const char *path, struct dsim_error *err)
{
	pthread_once(&tarball_once, tarball_load);
	if (tarball_missing[0] == '\0')
		return 0;
	return dsim_error_set(err, DSIM_EX_UNAVAILABLE, path, "%s",
	    tarball_missing);
}

const char *const dsim_tarball_compressions[] = { "zstd", "gzip", "none",
    NULL };
const char *const dsim_tarball_suffixes[] = { ".tar.zst", ".tar.gz", ".tar",
    NULL };

/* An archive being written to, or read from, a file descriptor. */
struct dsim_tarball {
	struct archive	*a;
	struct archive_entry *entry;
	int		 fd;
	int		 own_fd;	/* opened here, closed by free */
	const char	*path;		/* for messages */
	dsim_ms		 mtime;
	struct dsim_sha256 sha;		/* of the file's bytes */
	uint64_t	 bytes;
	int		 io_errno;	/* a read or write of the file failed */
	char		*buf;		/* reading: the file's bytes */
};

/* The compression named s, or -1. */
int
dsim_tarball_compression(const char *s)
{
	int i;

	for (i = 0; dsim_tarball_compressions[i] != NULL; i++)
		if (strcmp(s, dsim_tarball_compressions[i]) == 0)
			return i;
	return -1;
}

/* libarchive's writer: to the file, hashing what goes. */
static la_ssize_t
tarball_write_cb(struct archive *a, void *arg, const void *buf, size_t len)
{
	struct dsim_tarball *t = arg;
	const char *p = buf;
	size_t left = len;
	ssize_t n;

	while (left > 0) {
		if ((n = write(t->fd, p, left)) == -1) {
			if (errno == EINTR)
				continue;
			t->io_errno = errno;
			la.set_error(a, errno, "%s", strerror(errno));
			return -1;
		}
		p += n;
		left -= (size_t)n;
	}
	dsim_sha256_update(&t->sha, buf, len);
	t->bytes += len;
	return (la_ssize_t)len;
}

/* Turn libarchive's last error into err: 74 for the file, else code. */
static int
tarball_error(struct dsim_tarball *t, int code, struct dsim_error *err)
{
	const char *msg = la.error_string(t->a);

	if (t->io_errno != 0)
		return dsim_error_set(err, DSIM_EX_IOERR, t->path, "%s",
		    strerror(t->io_errno));
	return dsim_error_set(err, code, t->path, "%s",
	    msg != NULL ? msg : "archive error");
}

/* A tarball on fd, its hash started. */
static struct dsim_tarball *
tarball_new(int fd, const char *path)
{
	struct dsim_tarball *t = calloc(1, sizeof *t);

	if (t == NULL)
		abort();
	t->fd = fd;
	t->path = path;
	dsim_sha256_init(&t->sha);
	return t;
}

/* Choose the filter; zstd may use threads of its own. */
static int
tarball_filter(struct dsim_tarball *t, int compression, int threads)
{
	char n[16];

	if (compression == DSIM_TARBALL_GZIP)
		return la.write_add_filter_gzip(t->a);
	if (compression == DSIM_TARBALL_NONE)
		return la.write_add_filter_none(t->a);
	if (la.write_add_filter_zstd(t->a) != ARCHIVE_OK)
		return ARCHIVE_FATAL;
	if (threads > 1) {
		snprintf(n, sizeof n, "%d", threads);
		/* Older libarchives lack the option; one thread still works. */
		la.write_set_filter_option(t->a, "zstd", "threads", n);
	}
	return ARCHIVE_OK;
}

/*
 * Start a tar archive on fd (path names it in messages), compressed as
 * asked, its members dated mtime.
 */
int
dsim_tarball_create(struct dsim_tarball **out, int fd, const char *path,
    int compression, int threads, dsim_ms mtime, struct dsim_error *err)
{
	struct dsim_tarball *t;

	*out = NULL;
	if (tarball_ready(path, err) != 0)
		return err->code;
	*out = t = tarball_new(fd, path);
	t->mtime = mtime;
	if ((t->a = la.write_new()) == NULL ||
	    (t->entry = la.entry_new()) == NULL)
		abort();
	if (tarball_filter(t, compression, threads) != ARCHIVE_OK ||
	    la.write_set_format_pax_restricted(t->a) != ARCHIVE_OK ||
	    la.write_set_bytes_in_last_block(t->a, 1) != ARCHIVE_OK ||
	    la.write_open(t->a, t, NULL, tarball_write_cb, NULL) !=
	    ARCHIVE_OK)
		return tarball_error(t, DSIM_EX_IOERR, err);
	return 0;
}

/* Add a regular file member name holding len bytes of buf. */
int
dsim_tarball_add(struct dsim_tarball *t, const char *name, const void *buf,
    size_t len, struct dsim_error *err)
{
	const char *p = buf;
	la_ssize_t n;

	la.entry_clear(t->entry);
	la.entry_set_pathname(t->entry, name);
	la.entry_set_filetype(t->entry, AE_IFREG);
	la.entry_set_perm(t->entry, 0644);
	la.entry_set_size(t->entry, (la_int64_t)len);
	la.entry_set_mtime(t->entry, t->mtime / 1000, 0);
	if (la.write_header(t->a, t->entry) != ARCHIVE_OK)
		return tarball_error(t, DSIM_EX_IOERR, err);
	while (len > 0) {
		if ((n = la.write_data(t->a, p, len)) <= 0)
			return tarball_error(t, DSIM_EX_IOERR, err);
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * End the archive and sync it to disk; give the file's SHA-256 and size.
 */
int
dsim_tarball_finish(struct dsim_tarball *t, char *sha, uint64_t *size,
    struct dsim_error *err)
{
	if (la.write_close(t->a) != ARCHIVE_OK)
		return tarball_error(t, DSIM_EX_IOERR, err);
	if (fsync(t->fd) == -1)
		return dsim_error_errno(err, DSIM_EX_IOERR, t->path, "fsync");
	dsim_sha256_final(&t->sha, sha);
	*size = t->bytes;
	return 0;
}

/* libarchive's reader: from the file, hashing what comes. */
static la_ssize_t
tarball_read_cb(struct archive *a, void *arg, const void **out)
{
	struct dsim_tarball *t = arg;
	ssize_t n;

	while ((n = read(t->fd, t->buf, TARBALL_BLOCK)) == -1) {
		if (errno == EINTR)
			continue;
		t->io_errno = errno;
		la.set_error(a, errno, "%s", strerror(errno));
		return -1;
	}
	dsim_sha256_update(&t->sha, t->buf, (size_t)n);
	t->bytes += (uint64_t)n;
	*out = t->buf;
	return n;
}

/* Open the archive at path for reading, whatever its compression. */
int
dsim_tarball_open(struct dsim_tarball **out, const char *path,
    struct dsim_error *err)
{
	struct dsim_tarball *t;
	int fd;

	*out = NULL;
	if (tarball_ready(path, err) != 0)
		return err->code;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return dsim_error_errno(err, errno == ENOENT ?
		    DSIM_EX_NOINPUT : DSIM_EX_IOERR, path, "cannot open");
	*out = t = tarball_new(fd, path);
	t->own_fd = 1;
	if ((t->buf = malloc(TARBALL_BLOCK)) == NULL ||
	    (t->a = la.read_new()) == NULL)
		abort();
	la.read_support_filter_zstd(t->a);
	la.read_support_filter_gzip(t->a);
	la.read_support_format_tar(t->a);
	if (la.read_open(t->a, t, NULL, tarball_read_cb, NULL) !=
	    ARCHIVE_OK)
		return tarball_error(t, DSIM_EX_FAILED, err);
	return 0;
}

/*
 * Go to the next member: 1 with its name and size, 0 at the end of the
 * archive, or -1 with err filled (code 1 when the archive is damaged).
 */
int
dsim_tarball_next(struct dsim_tarball *t, const char **name, uint64_t *size,
    struct dsim_error *err)
{
	struct archive_entry *e;
	int rc = la.read_next_header(t->a, &e);

	if (rc == ARCHIVE_EOF)
		return 0;
	if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
		tarball_error(t, DSIM_EX_FAILED, err);
		return -1;
	}
	if (la.entry_filetype(e) != AE_IFREG) {
		dsim_error_set(err, DSIM_EX_FAILED, la.entry_pathname(e),
		    "is not a regular file");
		return -1;
	}
	*name = la.entry_pathname(e);
	*size = (uint64_t)la.entry_size(e);
	return 1;
}

/* Read up to len bytes of the member; 0 at its end, -1 with err filled. */
ssize_t
dsim_tarball_read(struct dsim_tarball *t, void *buf, size_t len,
    struct dsim_error *err)
{
	la_ssize_t n = la.read_data(t->a, buf, len);

	if (n < 0) {
		tarball_error(t, DSIM_EX_FAILED, err);
		return -1;
	}
	return n;
}

/*
 * Read what is left of the file past the archive's end, and give the
 * SHA-256 and size of all of it.
 */
int
dsim_tarball_drain(struct dsim_tarball *t, char *sha, uint64_t *size,
    struct dsim_error *err)
{
	ssize_t n;

	while ((n = read(t->fd, t->buf, TARBALL_BLOCK)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return dsim_error_errno(err, DSIM_EX_IOERR, t->path,
			    "read");
		dsim_sha256_update(&t->sha, t->buf, (size_t)n);
		t->bytes += (uint64_t)n;
	}
	dsim_sha256_final(&t->sha, sha);
	*size = t->bytes;
	return 0;
}

/* Let go of an archive, written or read, finished or not. */
void
dsim_tarball_free(struct dsim_tarball *t)
{
	if (t == NULL)
		return;
	if (t->a != NULL && t->entry != NULL)
		la.write_free(t->a);
	else if (t->a != NULL)
		la.read_free(t->a);
	la.entry_free(t->entry);
	if (t->own_fd)
		close(t->fd);
	dsim_sha256_free(&t->sha);
	free(t->buf);
	free(t);
}
