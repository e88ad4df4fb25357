/* The local audit log (see audit.h): JSON lines appended with
 * one write and an fsync under an exclusive lock, so concurrent skyctl runs
 * never interleave and a record written is a record kept. */
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fmt.h"
#include "json.h"

/* "key":"value"; a NULL value is written as null */
static void audit_field(struct fmt_buf *b, const char *key, const char *v, int first)
{
	fmt_puts(b, first ? "\"" : ",\"");
	fmt_puts(b, key);
	fmt_puts(b, "\":");
	if (v)
		json_string(b, v, strlen(v));
	else
		fmt_puts(b, "null");
}

static char audit_who_cache[320];

static void audit_who_once(void)
{
	const struct passwd *pw = getpwuid(geteuid());
	const char *user = pw ? pw->pw_name : getenv("USER");
	char host[256];
	if (gethostname(host, sizeof host) != 0)
		strcpy(host, "localhost");
	host[sizeof host - 1] = '\0';
	if (user)
		snprintf(audit_who_cache, sizeof audit_who_cache, "%s@%s", user, host);
	else
		snprintf(audit_who_cache, sizeof audit_who_cache, "%ld@%s", (long)geteuid(),
			 host);
}

/* looked up once: every audit record names the user, and each lookup
 * reads /etc/passwd and nsswitch.conf again */
char *audit_who(char *buf, size_t len)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, audit_who_once);
	snprintf(buf, len, "%s", audit_who_cache);
	return buf;
}

int audit_path(char *buf, size_t len)
{
	const char *state = getenv("XDG_STATE_HOME");
	int n;
	if (state && state[0] == '/') {
		n = snprintf(buf, len, "%s/skyctl/audit.log", state);
	} else {
		const char *home = getenv("HOME");
		const struct passwd *pw = home && home[0] ? NULL : getpwuid(geteuid());
		if (pw)
			home = pw->pw_dir;
		if (!home || !home[0])
			return -1;
		n = snprintf(buf, len, "%s/.local/state/skyctl/audit.log", home);
	}
	return n > 0 && (size_t)n < len ? 0 : -1;
}

/* create every missing directory above the file at path with mode 0700;
 * one that exists is left as it is (it may be a link the user made) */
static int audit_mkdirs(char *path)
{
	char *slash = strrchr(path, '/');
	if (!slash || slash == path)
		return 0;
	*slash = '\0';
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		int r = mkdir(path, 0700);
		*p = '/';
		if (r != 0 && errno != EEXIST)
			goto fail;
	}
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		goto fail;
	*slash = '/';
	return 0;
fail:
	*slash = '/';
	return -1;
}

/* the log opened for appending: created 0600 if missing, never through a
 * symbolic link, and only a regular file; -1 with *why set */
static int audit_open(const char *path, const char **why)
{
	struct stat st;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	*why = fd < 0 && errno == ELOOP ? "it is a symbolic link (skyctl does not follow one)" :
	       fd < 0 ? strerror(errno) : NULL;
	if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
		close(fd);
		*why = "not a regular file";
		return -1;
	}
	return fd;
}

/* the records as JSON lines; -1 when out of memory */
static int audit_format(struct fmt_buf *b, const struct audit_record *r, size_t n)
{
	char when[32], who[320];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t w = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + w, sizeof when - w, ".%03ldZ", ts.tv_nsec / 1000000);
	audit_who(who, sizeof who);
	for (size_t i = 0; i < n; i++) {
		fmt_puts(b, "{");
		audit_field(b, "time", when, 1);
		audit_field(b, "user", who, 0);
		audit_field(b, "op", r[i].op, 0);
		audit_field(b, "batch", r[i].batch, 0);
		audit_field(b, "node", r[i].node, 0);
		audit_field(b, "target", r[i].target, 0);
		audit_field(b, "script", r[i].script, 0);
		audit_field(b, "sha256", r[i].sha256, 0);
		audit_field(b, "args", r[i].args, 0);
		audit_field(b, "result", r[i].result, 0);
		fmt_puts(b, "}\n");
	}
	return b->oom ? -1 : 0;
}

int audit_append(const struct audit_record *r, size_t n, struct err *e)
{
	char path[4096];
	struct fmt_buf b = { 0 };
	int fd = -1;
	const char *what = "no home directory for the audit log", *why;
	path[0] = '\0';
	if (audit_path(path, sizeof path) != 0)
		goto fail;
	what = "cannot create the audit log's directory";
	if (audit_mkdirs(path) != 0)
		goto fail;
	if ((fd = audit_open(path, &why)) < 0) {
		err_set(e, ERR_LOCAL, "cannot open the audit log %s: %s", path, why);
		return -1;
	}
	if (n == 0)
		goto done;
	what = "out of memory";
	if (audit_format(&b, r, n) != 0)
		goto fail;
	what = "cannot write the audit log";
	if (flock(fd, LOCK_EX) != 0)
		goto fail;
	for (size_t off = 0; off < b.len;) {
		ssize_t k = write(fd, b.p + off, b.len - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			goto fail;
		off += (size_t)k;
	}
	if (fsync(fd) != 0)
		goto fail;
done:
	close(fd);
	fmt_buf_free(&b);
	return 0;
fail:
	err_set(e, ERR_LOCAL, "%s %s: %s", what, path[0] ? path : "", strerror(errno));
	if (fd >= 0)
		close(fd);
	fmt_buf_free(&b);
	return -1;
}
