/* The state directory and the per-prompt history files (see history.h).
 * A history file is only ever appended to, one entry per write, so two
 * prompts on the same service never lose each other's lines; it is
 * rewritten (through a temporary file and rename) only when it has grown
 * to twice the entries kept. */
#include "history.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HISTORY_KEEP 1000

struct history_file {
	char path[4096];
	char **entries;		/* loaded, oldest first */
	size_t n;
};

/* mkdir -p path; new directories are 0700 */
static int history_mkdirs(char *path)
{
	for (char *p = path; *p; p++) {
		if (*p != '/' || p == path)
			continue;
		*p = '\0';
		int r = mkdir(path, 0700);
		*p = '/';
		if (r != 0 && errno != EEXIST)
			return -1;
	}
	return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

int history_dir(const char *sub, char *buf, size_t len, struct err *e)
{
	const char *state = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	int n;
	if (!home || !home[0]) {
		const struct passwd *pw = getpwuid(geteuid());
		home = pw ? pw->pw_dir : NULL;
	}
	if (state && state[0] == '/')
		n = snprintf(buf, len, "%s/skyctl/%s", state, sub);
	else if (home && home[0])
		n = snprintf(buf, len, "%s/.local/state/skyctl/%s", home, sub);
	else
		return err_set(e, ERR_LOCAL, "no home directory for skyctl's state");
	if (n < 0 || (size_t)n >= len)
		return err_set(e, ERR_LOCAL, "state directory path too long");
	if (history_mkdirs(buf) != 0)
		return err_set(e, ERR_LOCAL, "cannot create %s: %s", buf, strerror(errno));
	return 0;
}

int history_ignored(const char *entry)
{
	static int ready;
	static regex_t re;
	static int have;
	if (entry[0] == ' ')
		return 1;
	if (!ready) {
		const char *pat = getenv("SKYCTL_HISTIGNORE");
		ready = 1;
		if (!pat)
			pat = HISTORY_IGNORE_DEFAULT;
		if (pat[0] && regcomp(&re, pat, REG_EXTENDED | REG_ICASE | REG_NOSUB) == 0)
			have = 1;
		else if (pat[0])
			fprintf(stderr, "skyctl: SKYCTL_HISTIGNORE is not a valid regular expression: "
				"keeping every line out of history\n");
		if (pat[0] && !have)
			have = -1;
	}
	if (have < 0)
		return 1;
	return have && regexec(&re, entry, 0, NULL, 0) == 0;
}

/* a node or service name as a file name: '/' and odd bytes become '_' */
static void history_safe(char *dst, size_t len, const char *s)
{
	size_t i = 0;
	for (; s[i] && i + 1 < len; i++)
		dst[i] = strchr("/\\:*?\"<> \t\n", s[i]) || (unsigned char)s[i] < 0x20 ? '_' : s[i];
	dst[i] = '\0';
}

/* entry with '\\' and '\n' escaped, and a newline; caller frees */
static char *history_encode(const char *e, size_t *len)
{
	char *s = malloc(2 * strlen(e) + 2), *o = s;
	if (!s)
		return NULL;
	for (; *e; e++) {
		if (*e == '\\' || *e == '\n') {
			*o++ = '\\';
			*o++ = *e == '\n' ? 'n' : '\\';
		} else {
			*o++ = *e;
		}
	}
	*o++ = '\n';
	*len = (size_t)(o - s);
	return s;
}

/* undo history_encode in place (line without its newline) */
static void history_decode(char *s)
{
	char *o = s;
	for (; *s; s++) {
		if (*s == '\\' && (s[1] == 'n' || s[1] == '\\')) {
			*o++ = s[1] == 'n' ? '\n' : '\\';
			s++;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/* write the kept entries to a new file and rename it over the old one */
static void history_rewrite(struct history_file *h)
{
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.%ld.tmp", h->path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	int bad = !f;
	for (size_t i = 0; f && i < h->n; i++) {
		size_t len;
		char *line = history_encode(h->entries[i], &len);
		bad |= !line || fwrite(line, 1, len, f) != len;
		free(line);
	}
	if (f)
		bad |= fclose(f) != 0;
	else if (fd >= 0)
		close(fd);
	if (bad || rename(tmp, h->path) != 0)
		unlink(tmp);
}

/* read the file's entries, keeping the last HISTORY_KEEP */
static void history_read(struct history_file *h)
{
	int fd = open(h->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
	char *line = NULL;
	size_t cap = 0, total = 0;
	ssize_t n;
	if (!f) {
		if (fd >= 0)
			close(fd);
		return;
	}
	h->entries = calloc(HISTORY_KEEP, sizeof *h->entries);
	while (h->entries && (n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[n - 1] = '\0';
		if (!line[0])
			continue;
		history_decode(line);
		if (h->n == HISTORY_KEEP) {
			free(h->entries[0]);
			memmove(h->entries, h->entries + 1, (HISTORY_KEEP - 1) * sizeof *h->entries);
			h->n--;
		}
		h->entries[h->n] = strdup(line);
		h->n += h->entries[h->n] != NULL;
		total++;
	}
	free(line);
	fclose(f);
	if (total >= 2 * HISTORY_KEEP)
		history_rewrite(h);
}

struct history_file *history_open(const char *node, const char *service)
{
	const char *env = getenv("SKYCTL_HISTFILE");
	char dir[4096], n[256], s[256];
	struct err err;
	struct history_file *h;
	if (env && strcmp(env, "/dev/null") == 0)
		return NULL;
	h = calloc(1, sizeof *h);
	if (!h)
		return NULL;
	if (env && env[0]) {
		snprintf(h->path, sizeof h->path, "%s", env);
	} else {
		history_safe(n, sizeof n, node);
		history_safe(s, sizeof s, service ? (service[0] == ':' ? service + 1 : service) : "node");
		snprintf(s + strlen(s), sizeof s - strlen(s), ".hist");
		if (snprintf(dir, sizeof dir, "history/%s", n) >= (int)sizeof dir ||
		    history_dir(dir, h->path, sizeof h->path - strlen(s) - 1, &err) != 0) {
			fprintf(stderr, "skyctl: history off: %s\n", err.msg);
			free(h);
			return NULL;
		}
		strcat(h->path, "/");
		strcat(h->path, s);
	}
	history_read(h);
	return h;
}

void history_each(struct history_file *h, void (*fn)(void *ud, const char *entry), void *ud)
{
	for (size_t i = 0; h && i < h->n; i++)
		fn(ud, h->entries[i]);
}

int history_append(struct history_file *h, const char *entry)
{
	size_t len;
	if (!h || !entry[0] || history_ignored(entry))
		return 0;
	char *line = history_encode(entry, &len);
	/* never through a link, and a file that exists keeps its mode */
	int fd = line ? open(h->path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600) :
		-1;
	struct stat st;
	int ok = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	ok = ok && write(fd, line, len) == (ssize_t)len;
	if (fd >= 0)
		close(fd);
	free(line);
	return ok;
}

void history_close(struct history_file *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n; i++)
		free(h->entries[i]);
	free(h->entries);
	free(h);
}
