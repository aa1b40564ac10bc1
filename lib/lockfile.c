#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "lockfile.h"

/* Read the first line the holder wrote into a lock file. */
static void
lockfile_holder(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

/*
 * Take an exclusive flock on path, at once or, with wait, when it is free,
 * and write holder into the file for whoever finds it taken.  Returns the
 * descriptor; DSIM_LOCKFILE_HELD with the holder's line in held_by when
 * another process has it; or -1 with err filled.
 */
int
dsim_lockfile_take(const char *path, int wait, const char *holder,
    char *held_by, size_t len, struct dsim_error *err)
{
	size_t n = strlen(holder);
	int fd;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1) {
		dsim_error_errno(err, DSIM_EX_CANTCREAT, path,
		    "cannot open lock");
		return -1;
	}
	while (flock(fd, wait ? LOCK_EX : LOCK_EX | LOCK_NB) == -1) {
		if (errno == EINTR)
			continue;
		if (errno == EWOULDBLOCK) {
			lockfile_holder(fd, held_by, len);
			close(fd);
			return DSIM_LOCKFILE_HELD;
		}
		dsim_error_errno(err, DSIM_EX_IOERR, path, "lock");
		close(fd);
		return -1;
	}
	if (ftruncate(fd, 0) == -1 ||
	    pwrite(fd, holder, n, 0) != (ssize_t)n) {
		dsim_error_errno(err, DSIM_EX_IOERR, path, "cannot write lock");
		close(fd);
		return -1;
	}
	return fd;
}
