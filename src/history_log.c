/* Session transcripts (see history.h): written as the session goes, one
 * line per record with its UTC time, so a session killed with -9 keeps
 * everything up to its last line; read back by `skyctl history`. */
#include "history.h"
#include "fmt.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

struct history_log {
	FILE *f;
	char id[64];
};

/* "2026-11-24T17:45:03.123Z" */
static void history_stamp(char *buf, size_t len)
{
	struct timeval tv;
	struct tm tm;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03dZ", (int)(tv.tv_usec / 1000));
}

struct history_log *history_log_open(const char *node, const char *service, struct err *e)
{
	char dir[4096], path[4200], stamp[32];
	struct history_log *l = calloc(1, sizeof *l);
	time_t now = time(NULL);
	struct tm tm;
	if (!l) {
		err_set(e, ERR_LOCAL, "out of memory");
		return NULL;
	}
	if (history_dir("sessions", dir, sizeof dir, e) != 0) {
		free(l);
		return NULL;
	}
	gmtime_r(&now, &tm);
	size_t n = strftime(l->id, sizeof l->id, "%Y%m%d-%H%M%S", &tm);
	snprintf(l->id + n, sizeof l->id - n, "-%ld", (long)getpid());
	snprintf(path, sizeof path, "%s/%s.log", dir, l->id);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
	l->f = fd >= 0 ? fdopen(fd, "a") : NULL;
	if (!l->f) {
		err_set(e, ERR_LOCAL, "cannot create %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		free(l);
		return NULL;
	}
	history_stamp(stamp, sizeof stamp);
	fprintf(l->f, "# skyctl session %s\n# started %s\n# node %s\n# service %s\n", l->id, stamp,
		node, service ? service : "-");
	fflush(l->f);
	return l;
}

const char *history_log_id(const struct history_log *l)
{
	return l->id;
}

void history_log_put(struct history_log *l, char mark, const char *text)
{
	char stamp[32];
	if (!l)
		return;
	if (mark == '#') {
		fprintf(l->f, "# %s\n", text);
		fflush(l->f);
		return;
	}
	history_stamp(stamp, sizeof stamp);
	if (mark == '>' && history_ignored(text))
		text = "(kept out of the transcript by SKYCTL_HISTIGNORE)";
	do {
		size_t n = strcspn(text, "\n");
		fprintf(l->f, "%s %c %.*s\n", stamp, mark, (int)n, text);
		text += n + (text[n] == '\n');
	} while (*text);
	fflush(l->f);
}

void history_log_close(struct history_log *l)
{
	if (!l)
		return;
	fclose(l->f);
	free(l);
}

static int history_by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int history_is_log(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return d->d_name[0] != '.' && n > 4 && strcmp(d->d_name + n - 4, ".log") == 0;
}

/* a session's summary fields, tab-separated, safe for a terminal */
static void history_head(FILE *out, const char *id, const char *start, const char *node,
			 const char *service)
{
	const char *f[4] = { id, start, node, service };
	for (int i = 0; i < 4; i++) {
		fputs(i ? "\t" : "", out);
		fmt_fsafe(out, f[i], strlen(f[i]), "");
	}
}

/* Print one session: its summary line (list) or every line (!list); with
 * re, only sessions having a matching line, and of their lines those. */
static void history_print(FILE *out, const char *path, const char *id, const regex_t *re,
			  int list)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
	char *line = NULL, start[64] = "?", node[256] = "?", service[64] = "?";
	size_t cap = 0, inputs = 0, hits = 0;
	ssize_t n;
	if (!f) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (sscanf(line, "# started %63s", start) == 1 || sscanf(line, "# node %255s", node) == 1)
			continue;
		if (sscanf(line, "# service %63s", service) == 1 && list)
			continue;
		const char *sp = strchr(line, ' ');
		inputs += line[0] != '#' && sp && sp[1] == '>';
		int match = !re || (line[0] != '#' && regexec(re, line, 0, NULL, 0) == 0);
		if (!match)
			continue;
		if (list && re && hits == 0) {
			history_head(out, id, start, node, service);
			fputc('\n', out);
		}
		hits++;
		if (!list || re) {	/* what a node printed once, escaped as it was shown */
			fputs(list ? "    " : "", out);
			fmt_fsafe(out, line, (size_t)n, "\t");
			fputc('\n', out);
		}
	}
	if (list && !re) {
		history_head(out, id, start, node, service);
		fprintf(out, "\t%zu line%s\n", inputs, inputs == 1 ? "" : "s");
	}
	free(line);
	fclose(f);
}

static int history_regex(regex_t *re, const char *grep, struct err *e)
{
	int rc = regcomp(re, grep, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		char msg[256];
		regerror(rc, re, msg, sizeof msg);
		return err_set(e, ERR_LOCAL, "bad pattern %s: %s", grep, msg);
	}
	return 0;
}

int history_sessions(FILE *out, const char *grep, struct err *e)
{
	char dir[4096], path[4400];
	struct dirent **names = NULL;
	regex_t re;
	if (history_dir("sessions", dir, sizeof dir, e) != 0)
		return -1;
	if (grep && history_regex(&re, grep, e) != 0)
		return -1;
	int n = scandir(dir, &names, history_is_log, history_by_name);
	if (n < 0) {
		err_set(e, ERR_LOCAL, "cannot read %s: %s", dir, strerror(errno));
		if (grep)
			regfree(&re);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
		names[i]->d_name[strlen(names[i]->d_name) - 4] = '\0';
		history_print(out, path, names[i]->d_name, grep ? &re : NULL, 1);
		free(names[i]);
	}
	free(names);
	if (grep)
		regfree(&re);
	return 0;
}

int history_session(FILE *out, const char *id, const char *grep, struct err *e)
{
	char dir[4096], path[4400];
	regex_t re;
	if (!id[0] || strchr(id, '/') || id[0] == '.')
		return err_set(e, ERR_NODE, "no session %s", id);
	if (history_dir("sessions", dir, sizeof dir, e) != 0)
		return -1;
	snprintf(path, sizeof path, "%s/%s.log", dir, id);
	if (access(path, R_OK) != 0)
		return err_set(e, ERR_NODE, "no session %s (see skyctl history)", id);
	if (grep && history_regex(&re, grep, e) != 0)
		return -1;
	history_print(out, path, id, grep ? &re : NULL, 0);
	if (grep)
		regfree(&re);
	return 0;
}
