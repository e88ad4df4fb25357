/* The script sources applied from this machine (see scriptstore.h). */
#include "scriptstore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"

/* a sha256 as 64 lowercase hex digits: the only names in the store */
static int scriptstore_valid(const char *sha)
{
	return strlen(sha) == 64 && strspn(sha, "0123456789abcdef") == 64;
}

/* the store's directory, opened (created 0700 with create); -1 with e set */
static int scriptstore_dir(int create, struct err *e)
{
	char path[4096];
	if (audit_path(path, sizeof path) != 0)
		return err_set(e, ERR_LOCAL, "no home directory for the script store");
	char *slash = strrchr(path, '/');
	if (!slash || (size_t)(slash - path) + sizeof "/scripts" > sizeof path)
		return err_set(e, ERR_LOCAL, "script store: path too long");
	strcpy(slash, "/scripts");
	/* every missing directory on the way, private */
	for (char *p = strchr(path + 1, '/'); create; p = strchr(p + 1, '/')) {
		if (p)
			*p = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			return err_set(e, ERR_LOCAL, "%s: %s", path, strerror(errno));
		if (!p)
			break;
		*p = '/';
	}
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, ERR_LOCAL, "%s: %s", path, strerror(errno));
	return fd;
}

int scriptstore_put(const char *sha, const char *src, size_t len, struct err *e)
{
	char tmp[96];
	struct stat st;
	if (!scriptstore_valid(sha))
		return err_set(e, ERR_LOCAL, "script store: bad sha256");
	int dir = scriptstore_dir(1, e);
	if (dir < 0)
		return -1;
	if (fstatat(dir, sha, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
	    (size_t)st.st_size == len) {
		close(dir);
		return 0;	/* kept already: the name is the content */
	}
	snprintf(tmp, sizeof tmp, ".%s.%ld", sha, (long)getpid());
	int fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	int rc = -1;
	if (fd < 0) {
		err_set(e, ERR_LOCAL, "script store: %s", strerror(errno));
		goto done;
	}
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, src + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			err_set(e, ERR_LOCAL, "script store: %s", strerror(errno));
			goto done;
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0 || renameat(dir, tmp, dir, sha) != 0) {
		err_set(e, ERR_LOCAL, "script store: %s", strerror(errno));
		goto done;
	}
	rc = 0;
done:
	if (fd >= 0)
		close(fd);
	if (rc != 0)
		unlinkat(dir, tmp, 0);
	close(dir);
	return rc;
}

int scriptstore_get(const char *sha, struct fmt_buf *out, struct err *e)
{
	char buf[8192];
	if (!scriptstore_valid(sha))
		return err_set(e, ERR_LOCAL, "script store: bad sha256");
	int dir = scriptstore_dir(0, e);
	if (dir < 0)
		return -1;
	int fd = openat(dir, sha, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	close(dir);
	if (fd < 0)
		return err_set(e, ERR_LOCAL, "the source of sha256 %.12s is not kept on this "
			       "machine (%s)", sha, strerror(errno));
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			fmt_putn(out, buf, (size_t)n);
	close(fd);
	return n < 0 ? err_set(e, ERR_LOCAL, "script store: %s", strerror(errno)) : 0;
}
