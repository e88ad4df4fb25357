/* skyctl complete -- WORD...: the candidates for the last WORD of a skyctl
 * command line being typed (the words after "skyctl"; the last may be
 * empty), the one source the bash, zsh and fish completions (completions/)
 * share.  The first output line is "files" when the shell should also offer
 * local file names, else "words"; every further line is a candidate, a tab
 * and a description.  Commands and options come from the tables, what each
 * argument is from the command's usage words (TARGET, SCRIPT, FILE, DIR,
 * COMMAND, history's ID), node names from the node file, session ids from
 * the transcripts `skyctl history` lists, addresses and @names from the
 * node's `list`: within a second, nothing at all on any failure, and never
 * over ssh (it could ask for a password in the middle of the prompt). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "history.h"

#define COMPLETE_TIMEOUT 1.0

/* what the words before the last one say */
struct complete_line {
	const struct cmd_entry *cmd;
	const struct args_opt *pending;	/* the last word is this option's value */
	struct session_opts sess;
	const char *config;
	int npos;		/* positional arguments after the command */
	int dashdash;		/* "--" was seen after the command */
	int lost;		/* an unknown command: nothing to offer */
};

static void complete_put(const char *prefix, const char *word, const char *desc)
{
	printf("%s%s\t%s\n", prefix, word, desc ? desc : "");
}

static int complete_starts(const char *word, const char *cur)
{
	return strncmp(word, cur, strlen(cur)) == 0;
}

/* read words[0..n) into l */
static void complete_parse(char **words, int n, struct complete_line *l)
{
	for (int i = 0; i < n; i++) {
		const char *w = words[i];
		const struct args_opt *o;
		if (!l->dashdash && strcmp(w, "--") == 0 && l->cmd) {
			l->dashdash = 1;
		} else if (!l->dashdash && w[0] == '-' && w[1]) {
			const char *eq = strchr(w, '=');
			o = w[1] == '-' ? args_find(w + 2, eq ? (size_t)(eq - w - 2) : strlen(w + 2),
						    0, l->cmd) :
				args_find(NULL, 0, w[1], l->cmd);
			if (o && o->id && strcmp(o->lng, "all") == 0)
				l->sess.all = 1;	/* -a, not rollback's --all */
			if (!o || !o->arg)
				continue;
			const char *val = w[1] == '-' ? (eq ? eq + 1 : NULL) : (w[2] ? w + 2 : NULL);
			if (!val && i + 1 == n) {
				l->pending = o;
				return;
			}
			if (!val)
				val = words[++i];
			if (strcmp(o->lng, "host") == 0)
				l->sess.host = val;
			else if (strcmp(o->lng, "node") == 0)
				l->sess.node = val;
			else if (strcmp(o->lng, "config") == 0)
				l->config = val;
		} else if (!l->cmd) {
			char err[256];
			if (!(l->cmd = cmd_find(w, err, sizeof err)))
				l->lost = 1;
		} else {
			l->npos++;
		}
	}
}

/* the usage word of positional argument i of cmd ("TARGET", "SCRIPT"...,
 * brackets and dots dropped) into buf; "" past the end */
static const char *complete_usage_word(const struct cmd_entry *cmd, int i, char *buf, size_t len)
{
	const char *w[16], *p = cmd->args;
	size_t wl[16];
	int n = 0;
	while (n < 16 && *(p += strspn(p, " ")) && strncmp(p, "[--", 3) != 0) {
		w[n] = p;
		wl[n] = strcspn(p, " ");
		p += wl[n++];
	}
	if (i >= n)	/* the last word again if it repeats ("SCRIPT...") */
		i = n && memmem(w[n - 1], wl[n - 1], "...", 3) ? n - 1 : -1;
	size_t o = 0;
	for (size_t k = 0; i >= 0 && k < wl[i] && o + 1 < len; k++)
		if (!strchr("[].", w[i][k]))
			buf[o++] = w[i][k];
	buf[o] = '\0';
	return buf;
}

static void complete_commands(const char *cur)
{
	for (int i = 0; cmd_table[i]; i++)
		if (complete_starts(cmd_table[i]->name, cur))
			complete_put("", cmd_table[i]->name, cmd_table[i]->summary);
}

static void complete_options(const struct cmd_entry *cmd, const char *cur)
{
	char word[64];
	const struct args_opt *o;
	for (size_t i = 0; (o = args_nth(cmd, i)); i++) {
		snprintf(word, sizeof word, "--%s", o->lng);
		if (complete_starts(word, cur))
			complete_put("", word, o->help);
		snprintf(word, sizeof word, "-%c", o->shrt);
		if (o->shrt && cur[0] == '-' && cur[1] == o->shrt && !cur[2])
			complete_put("", word, o->help);
	}
}

/* the services of the node at addr (its `list`), or -1 quietly */
static int complete_services(const char *addr, struct target_service **svc, size_t *n)
{
	struct err e = { 0 };
	struct proto_reply r;
	if (strncmp(addr, "ssh://", 6) == 0)
		return -1;
	struct net_conn *conn = proto_open(addr, COMPLETE_TIMEOUT, &e);
	if (!conn)
		return -1;
	int rc = proto_request_list(conn, &r, &e);
	net_close(conn);
	if (rc != 0)
		return -1;
	rc = r.ok ? target_parse_list(r.lines, r.nlines, 0, svc, n, &e) : -1;
	proto_reply_free(&r);
	return rc;
}

/* addresses and @names of addr's services matching cur, after prefix */
static void complete_live(const char *addr, const char *prefix, const char *cur)
{
	struct target_service *svc = NULL;
	size_t n = 0;
	char word[160], desc[64];
	if (complete_services(addr, &svc, &n) != 0)
		return;
	for (size_t i = 0; i < n; i++) {
		snprintf(word, sizeof word, ":%08x", (unsigned)svc[i].addr);
		if (complete_starts(word, cur))
			complete_put(prefix, word, svc[i].cmd);
	}
	for (size_t i = 0; i < n; i++) {
		char name[128];
		size_t same = 0, first = i;
		target_service_name(svc[i].cmd, name, sizeof name);
		for (size_t k = 0; k < n; k++) {
			char other[128];
			if (strcmp(target_service_name(svc[k].cmd, other, sizeof other), name) == 0) {
				same++;
				first = k < first ? k : first;
			}
		}
		snprintf(word, sizeof word, "@%s", name);
		snprintf(desc, sizeof desc, "%zu service%s", same, same == 1 ? "" : "s");
		if (first == i && complete_starts(word, cur))
			complete_put(prefix, word, desc);
	}
	target_services_free(svc, n);
}

/* a target list: node prefixes from the node file, then the services of
 * the node the item is on */
static void complete_targets(const struct complete_line *l, const struct config *conf,
			     const char *cur)
{
	char prefix[512], desc[256];
	const char *item = strrchr(cur, ',');
	item = item ? item + 1 : cur;
	const char *slash = strchr(item, '/');
	snprintf(prefix, sizeof prefix, "%.*s", (int)(item - cur), cur);
	if (!slash) {
		for (size_t i = 0; i < conf->n; i++) {
			char word[256];
			snprintf(word, sizeof word, "%s/", conf->v[i].name);
			snprintf(desc, sizeof desc, "on node %s", conf->v[i].addr);
			if (complete_starts(word, item))
				complete_put(prefix, word, desc);
		}
		if (conf->n && complete_starts("*/", item))
			complete_put(prefix, "*/", "on every node of the node file");
		struct session s;
		struct err e = { 0 };
		if (session_select(&s, conf, &l->sess, NULL, &e) == 0 && s.n == 1)
			complete_live(s.v[0].addr, prefix, item);
		session_free(&s);
		return;
	}
	snprintf(prefix + strlen(prefix), sizeof prefix - strlen(prefix), "%.*s",
		 (int)(slash + 1 - item), item);
	char node[256];
	snprintf(node, sizeof node, "%.*s", (int)(slash - item), item);
	const struct config_node *cn = config_find(conf, node);
	if (cn)
		complete_live(cn->addr, prefix, slash + 1);
}

/* the ids of the prompt's sessions (`skyctl history`'s list), described
 * by their start, node and service */
static void complete_sessions(const char *prefix, const char *cur)
{
	char *buf = NULL;
	struct err err;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return;
	int rc = history_sessions(f, NULL, &err);
	fclose(f);
	for (char *line = buf, *next; rc == 0 && line && *line; line = next) {
		char *tab = strchr(line, '\t');
		if ((next = strchr(line, '\n')))
			*next++ = '\0';
		if (!tab || (next && tab > next))
			continue;
		*tab = '\0';
		for (char *t = tab + 1; (t = strchr(t, '\t'));)
			*t = ' ';
		if (complete_starts(line, cur))
			complete_put(prefix, line, tab + 1);
	}
	free(buf);
}

/* the value of the pending option (-n NAME, -H HOST:PORT, --sort FIELD,
 * --session ID),
 * after prefix ("--sort=") */
static void complete_value(const struct complete_line *l, const struct config *conf,
			   const char *prefix, const char *cur)
{
	const struct cmd_entry *cmd = l->cmd;
	for (size_t i = 0; i < conf->n; i++) {
		const struct config_node *cn = &conf->v[i];
		if (l->pending->shrt == 'n' && complete_starts(cn->name, cur))
			complete_put(prefix, cn->name, cn->addr);
		if (l->pending->shrt == 'H' && complete_starts(cn->addr, cur))
			complete_put(prefix, cn->addr, cn->name);
	}
	if (strcmp(l->pending->lng, "session") == 0)
		complete_sessions(prefix, cur);
	for (int i = 0; strcmp(l->pending->lng, "sort") == 0 && cmd && i < cmd->ncols; i++)
		if (cmd->cols[i].type != FMT_LINES && complete_starts(cmd->cols[i].key, cur))
			complete_put(prefix, cmd->cols[i].key, NULL);
}

static int cmd_complete_exec(struct cmd_ctx *c)
{
	struct complete_line l = { 0 };
	struct config conf;
	struct err e = { 0 };
	char word[64] = "";
	const char *cur = c->argc ? c->argv[c->argc - 1] : "";
	complete_parse(c->argv, c->argc ? c->argc - 1 : 0, &l);
	const char *eq = strchr(cur, '=');
	char prefix[64] = "";
	if (!l.dashdash && strncmp(cur, "--", 2) == 0 && eq && eq - cur < 60 &&
	    (l.pending = args_find(cur + 2, (size_t)(eq - cur - 2), 0, l.cmd)) && l.pending->arg) {
		snprintf(prefix, sizeof prefix, "%.*s", (int)(eq + 1 - cur), cur);
		cur = eq + 1;	/* --sort=FIELD */
	} else if (l.pending && !l.pending->arg) {
		l.pending = NULL;
	}
	if (config_load(l.config, &conf, &e) != 0)
		config_free(&conf);	/* a broken node file: no node names */
	if (!l.lost && !l.pending && l.cmd && !(cur[0] == '-' && !l.dashdash))
		complete_usage_word(l.cmd, l.npos, word, sizeof word);
	int files = (l.pending && strcmp(l.pending->arg, "FILE") == 0) ||
		(l.dashdash && l.cmd && (l.cmd->flags & CMD_DASHARGS)) ||
		strcmp(word, "SCRIPT") == 0 || strcmp(word, "FILE") == 0 || strcmp(word, "DIR") == 0;
	printf("%s\n", files ? "files" : "words");
	if (l.lost || files)	/* nothing more (the shell adds the files) */
		goto done;
	if (l.pending)
		complete_value(&l, &conf, prefix, cur);
	else if (cur[0] == '-' && !l.dashdash)
		complete_options(l.cmd, cur);
	else if (!l.cmd || strcmp(word, "COMMAND") == 0)
		complete_commands(cur);
	else if (strcmp(word, "TARGET") == 0)
		complete_targets(&l, &conf, cur);
	else if (strcmp(word, "ID") == 0 && args_find("session", 7, 0, l.cmd))
		complete_sessions("", cur);
done:
	config_free(&conf);
	return 0;
}

const struct cmd_entry cmd_complete_entry = {
	.name = "complete", .args = "-- WORD...",
	.summary = "candidates for the last WORD of a command line (for shell completions)",
	.min = 0, .max = -1, .exec = cmd_complete_exec,
};
