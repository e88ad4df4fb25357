/* Shared by the commands that run agent operations over targets (see
 * agentcmd.h): scripts, batch nodes, audit records, JSON lines. */
#include "agentcmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>

#include "cmd.h"
#include "json.h"
#include "scriptstore.h"
#include "sha256.h"

const struct args_opt agentcmd_opt_keep_going = {
	.lng = "keep-going",
	.help = "go on after a failing target",
};
const struct args_opt agentcmd_opt_canary = {
	.lng = "canary", .arg = "N|P%",
	.help = "first run N targets (or P% of them) on each node; go on only if all succeed",
};
const struct args_opt agentcmd_opt_canary_wait = {
	.lng = "canary-wait", .arg = "SECONDS",
	.help = "after the canaries, wait this long; go on only if they keep answering",
	.want = "seconds (>= 0)", .min = 0, .max = 86400,
};
/* one meaning for all: do it though skyctl would hold back */
const struct args_opt agentcmd_opt_force = {
	.lng = "force",
	.help = "do it anyway: rollback (apply --prune) restores items changed since the "
		"patch; inject (apply) applies a script the checks found an error in",
};

const struct args_opt agentcmd_opt_dry = {
	.lng = "dry-run",
	.help = "run the scripts, then undo every change (see diff)",
};

const struct args_opt agentcmd_opt_failures = {
	.lng = "failures",
	.help = "show only the targets that did not succeed (all are counted and audited)",
};
const struct args_opt agentcmd_opt_no_agent = {
	.lng = "no-agent",
	.help = "leave nothing registered in the services (slower)",
};

int agentcmd_batch_opts(const struct cmd_ctx *c, struct batch_opts *o)
{
	const char *canary = cmd_opt(c, &agentcmd_opt_canary);
	*o = (struct batch_opts){
		.keep_going = cmd_opt(c, &agentcmd_opt_keep_going) != NULL,
		.canary_wait = cmd_opt(c, &agentcmd_opt_canary_wait) ?
			       cmd_num(c, &agentcmd_opt_canary_wait) : 0,
		.flags = cmd_opt(c, &agentcmd_opt_no_agent) ? AGENT_NO_AGENT : 0,
		.timeout = c->o.timeout, .par = 8,
	};
	if (!canary)
		return o->canary_wait > 0 ? -1 : 0;
	char *end;
	double v = strtod(canary, &end);
	if (end != canary && strcmp(end, "%") == 0 && v > 0 && v <= 100)
		o->canary_pct = v;
	else if (end != canary && !*end && v >= 1 && v <= 1e9 && v == (double)(size_t)v)
		o->canary = (size_t)v;
	else
		return -1;
	return 0;
}

const char *const agentcmd_state[4] = { "skipped", "ok", "failed", "unknown" };

/* What lua (luaL_loadfile) skips at the start of a file and load(), which
 * the node runs a script with, does not: a UTF-8 byte order mark (some
 * editors write one) and a first line starting with '#' (#!/usr/bin/lua),
 * whose newline stays so that line numbers hold. */
static void agentcmd_file_prefix(struct agentcmd_script *sc)
{
	size_t skip = 0;
	if (sc->len >= 3 && memcmp(sc->src, "\xef\xbb\xbf", 3) == 0)
		skip = 3;
	if (skip < sc->len && sc->src[skip] == '#') {
		const char *nl = memchr(sc->src + skip, '\n', sc->len - skip);
		skip = nl ? (size_t)(nl - sc->src) : sc->len;
	}
	memmove(sc->src, sc->src + skip, sc->len - skip);
	sc->len -= skip;
}

/* read path whole into sc; -1 with a message on stderr */
static int agentcmd_read(struct agentcmd_script *sc, const char *path)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 4096;
	const char *slash = strrchr(path, '/');
	sc->path = path;
	sc->name = slash && slash[1] ? slash + 1 : path;
	sc->len = 0;
	sc->src = f ? malloc(cap) : NULL;
	while (sc->src) {
		size_t n = fread(sc->src + sc->len, 1, cap - sc->len, f);
		sc->len += n;
		if (sc->len < cap)
			break;
		if (sc->len > net_max()) {	/* /dev/zero, a log file by mistake */
			fprintf(stderr, "skyctl: %s: larger than %zu bytes (see --max-reply)\n", path,
				net_max());
			fclose(f);
			free(sc->src);
			sc->src = NULL;
			return -1;
		}
		char *p = realloc(sc->src, cap *= 2);
		if (!p)
			free(sc->src);
		sc->src = p;
	}
	int bad = !f || !sc->src || ferror(f);
	int e = errno;
	if (f)
		fclose(f);
	if (bad) {
		fprintf(stderr, "skyctl: cannot read %s: %s\n", path, strerror(e ? e : ENOMEM));
		return -1;
	}
	if (memchr(sc->src, '\0', sc->len) || (sc->len && sc->src[0] == '\033')) {
		fprintf(stderr, "skyctl: %s: not a Lua source file (binary data)\n", path);
		return -1;
	}
	agentcmd_file_prefix(sc);
	sha256_hex(sc->src, sc->len, sc->sha);
	return 0;
}

/* The node's Lua is the truth: scripts that do not compile here (msg says
 * why) may compile in a node of another Lua (5.5 syntax).  For a node of
 * skyctl's own Lua msg stands; another compiles the scripts itself (the
 * agent in its first target).  0 if every node compiles them, else -1
 * after printing the first error. */
static int agentcmd_node_compile(struct cmd_ctx *c, struct batch_node *nodes, size_t nnodes,
				 const struct agentcmd_script *sc, int n, const char *msg)
{
	struct batch_opts bo;
	agentcmd_batch_opts(c, &bo);	/* flags and timeout; the driver reports a bad --canary */
	struct fmt_buf req = { 0 };
	int rc = 0;
	wire_put_open(&req);
	wire_put_cstr(&req, "op");
	wire_put_cstr(&req, "compile");
	agentcmd_w_scripts(&req, sc, n, c->o.timeout);
	wire_put_close(&req);
	for (size_t i = 0; i < nnodes && rc == 0; i++) {
		struct batch_node *nd = &nodes[i];
		struct err e = { 0 };
		struct wire_val *rep = NULL;
		struct agent_sess *s = agent_open(nd->addr, nd->conn, bo.flags, bo.timeout, &e);
		int foreign = s ? agent_lua_foreign(s, &e) : -1;
		nd->conn = NULL;	/* the batch connects again */
		rc = -1;
		if (foreign < 0)
			fprintf(stderr, "skyctl: %s: %s\n", nd->name, e.msg);
		else if (!foreign)
			fprintf(stderr, "%s\n", msg);
		else if (agent_request(s, nd->addrs[0], &req, &rep, &e) != 0)
			fprintf(stderr, "skyctl: %s: %s\n", nd->name, e.msg);
		else if (!wire_getb(rep, "ok"))
			fprintf(stderr, "%s\n", wire_gets(rep, "err", "does not compile"));
		else
			rc = 0;
		wire_val_free(rep);
		agent_close(s);
	}
	fmt_buf_free(&req);
	return rc;
}

int agentcmd_load(struct cmd_ctx *c, struct batch_node *nodes, size_t nnodes,
		  struct agentcmd_script *sc, int n, char **paths)
{
	lua_State *L = luaL_newstate();
	int rc = L ? 0 : -1;
	for (int i = 0; i < n && rc == 0; i++) {
		char chunk[4096];
		if (agentcmd_read(&sc[i], paths[i]) != 0) {
			rc = -1;
			break;
		}
		snprintf(chunk, sizeof chunk, "@%s", sc[i].name);
		if (luaL_loadbufferx(L, sc[i].src, sc[i].len, chunk, "t") != LUA_OK)
			rc = 1;
		else
			lua_settop(L, 0);
	}
	for (int i = 0; rc == 1 && i < n; i++)	/* the rest read before the nodes are asked */
		if (!sc[i].src && agentcmd_read(&sc[i], paths[i]) != 0)
			rc = -1;
	if (rc == 1)
		rc = agentcmd_node_compile(c, nodes, nnodes, sc, n, lua_tostring(L, -1));
	if (L)
		lua_close(L);
	return rc;
}

void agentcmd_scripts_free(struct agentcmd_script *sc, int n)
{
	for (int i = 0; sc && i < n; i++)
		free(sc[i].src);
	free(sc);
}

void agentcmd_w_scripts(struct fmt_buf *b, const struct agentcmd_script *sc, int n,
			double timeout)
{
	/* twice over within the hub's wait, 3/4 of it (src/batch.c): the hub's
	 * own turn, then its peers' */
	wire_put_cstr(b, "timeout");
	wire_put_num(b, timeout * 0.3);
	wire_put_cstr(b, "scripts");
	wire_put_open(b);
	for (int i = 0; i < n; i++) {
		wire_put_int(b, i + 1);
		wire_put_open(b);
		wire_put_cstr(b, "name");
		wire_put_cstr(b, sc[i].name);
		wire_put_cstr(b, "src");
		wire_put_str(b, sc[i].src, sc[i].len);
		wire_put_cstr(b, "sha");
		wire_put_cstr(b, sc[i].sha);
		wire_put_close(b);
	}
	wire_put_close(b);
}

void agentcmd_w_args(struct fmt_buf *b, char **args, int nargs)
{
	wire_put_cstr(b, "args");
	wire_put_open(b);
	for (int i = 0; i < nargs; i++) {
		wire_put_int(b, i + 1);
		wire_put_cstr(b, args[i]);
	}
	wire_put_close(b);
}

void agentcmd_w_who(struct fmt_buf *b)
{
	char who[320];
	wire_put_cstr(b, "who");
	wire_put_cstr(b, audit_who(who, sizeof who));
	wire_put_cstr(b, "time");
	wire_put_int(b, (long long)time(NULL));
}

const char *agentcmd_change_path(const struct wire_val *c, char *buf, size_t len)
{
	const char *path = wire_gets(c, "path", "?"), *up = wire_gets(c, "upvalue", NULL);
	if (up)
		snprintf(buf, len, "upvalue %s of %s", up, path);
	else
		snprintf(buf, len, "%s", path);
	return buf;
}

char agentcmd_change_mark(const struct wire_val *c)
{
	const char *what = wire_gets(c, "what", "");
	return strcmp(what, "added") == 0 ? '+' : strcmp(what, "removed") == 0 ? '-' : '~';
}

void agentcmd_change_line(struct fmt_buf *b, const struct wire_val *c, int width,
			  const char *arrow)
{
	char path[1024];
	char mark = agentcmd_change_mark(c);
	const char *old = wire_gets(c, "old", "?"), *new = wire_gets(c, "new", "?");
	agentcmd_change_path(c, path, sizeof path);
	if (strcmp(wire_gets(c, "kind", ""), "overflow") == 0) {
		fmt_printf(b, "  ? %s: a table that grew too big to compare\n", path);
		return;
	}
	fmt_printf(b, "  %c %-*s  ", mark, width, path);
	if (mark == '+')
		fmt_printf(b, "%s\n", new);
	else if (mark == '-')
		fmt_printf(b, "%s\n", old);
	else if (strcmp(wire_gets(c, "what", ""), "joined") == 0)
		fmt_printf(b, "%s, now shared with a new function\n", new);
	else
		fmt_printf(b, "%s %s %s\n", old, arrow, new);
}

const char *agentcmd_when(long long t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M UTC", &tm))
		snprintf(buf, len, "?");
	return buf;
}

/* what a script scheduled through skynet (lua/apply.lua's sched_start):
 * started, or in a dry run cancelled; a failed script's is cancelled too */
static void agentcmd_scheduled(struct fmt_buf *b, const struct wire_val *v,
			       const struct wire_val *script, const char *pad)
{
	long long forks = wire_geti(script, "forks", 0), timers = wire_geti(script, "timers", 0);
	char what[128] = "";
	size_t n = 0;
	/* (a dry run whose script waited: not cancelled, the stuck line says so) */
	if ((!forks && !timers) || !wire_getb(v, "ok") ||
	    (wire_getb(v, "dry") && wire_getb(script, "ran")))
		return;
	if (forks)
		n = (size_t)snprintf(what, sizeof what, "%lld coroutine%s (skynet.fork)", forks,
				     forks == 1 ? "" : "s");
	if (timers)
		snprintf(what + n, sizeof what - n, "%s%lld timer%s (skynet.timeout)",
			 forks ? " and " : "", timers, timers == 1 ? "" : "s");
	if (wire_getb(v, "dry"))
		fmt_printf(b, "%s! would start %s: not started (a dry run)\n", pad, what);
	else if (forks + timers == 1)
		fmt_printf(b, "%s! started %s: it runs on its own; a rollback does not stop it\n",
			   pad, what);
	else
		fmt_printf(b, "%s! started %s: they run on their own; a rollback does not stop "
			   "them\n", pad, what);
}

void agentcmd_warnings(struct fmt_buf *b, const struct wire_val *v, const char *pad)
{
	const struct wire_val *scripts = wire_get(v, "scripts"), *busy = wire_get(v, "busy");
	for (size_t k = 1; k <= wire_count(scripts); k++) {
		const struct wire_val *lint = wire_get(wire_at(scripts, (long long)k), "lint");
		for (size_t l = 1; l <= wire_count(lint); l++) {
			const struct wire_val *x = wire_at(lint, (long long)l);
			fmt_printf(b, "%s! %s: %s\n", pad, wire_gets(x, "level", "?"),
				   wire_gets(x, "msg", "?"));
		}
		agentcmd_scheduled(b, v, wire_at(scripts, (long long)k), pad);
	}
	for (size_t k = 1; k <= wire_count(busy); k++) {
		const struct wire_val *bz = wire_at(busy, (long long)k);
		long long tasks = wire_geti(bz, "tasks", 0);
		fmt_printf(b, "%s! %lld suspended task%s running %s, which %s replaced: "
			   "%s on the old code\n", pad, tasks, tasks == 1 ? " is" : "s are",
			   wire_gets(bz, "path", "?"), wire_getb(v, "dry") ? "would be" : "was",
			   tasks == 1 ? "it finishes" : "they finish");
	}
	if (wire_getb(v, "sent") && (wire_getb(v, "dry") || !wire_getb(v, "ok")))
		fmt_printf(b, "%s! the script sent messages to other services (skynet.call, "
			   "skynet.send): what they did with them stays\n", pad);
	if (wire_getb(v, "yielded"))
		fmt_printf(b, "%s! the script waited (a call, a sleep): the service handled other "
			   "messages meanwhile, and their changes count as the script's\n", pad);
}

int agentcmd_uncertain(const struct wire_val *v)
{
	const struct wire_val *u = wire_get(v, "untracked");
	return wire_get(v, "stuck") || wire_count(wire_get(v, "calls")) ||
		wire_getb(v, "yielded") || wire_getb(v, "sent") || wire_geti(u, "nlarge", 0) ||
		wire_geti(u, "deep", 0) || wire_getb(u, "truncated") ||
		wire_count(wire_get(u, "uncopied"));
}

void agentcmd_undone(const struct wire_val *v, char *buf, size_t len)
{
	const struct wire_val *stuck = wire_get(v, "stuck");
	long long undone = wire_geti(v, "undone", 0);
	if (wire_getb(v, "refused"))
		snprintf(buf, len, " (refused: nothing applied; --force applies it anyway)");
	else if (stuck)
		snprintf(buf, len, " (%lld change%s undone; not undone: %s%s)", undone,
			 undone == 1 ? "" : "s", wire_str(wire_at(stuck, 1)),
			 wire_count(stuck) > 1 ? " and more" : "");
	else if (agentcmd_uncertain(v))
		snprintf(buf, len, " (its %lld tracked change%s undone; what it changed elsewhere "
			 "stays: see the ! lines)", undone, undone == 1 ? "" : "s");
	else
		snprintf(buf, len, " (all its changes undone)");
}

void agentcmd_keep_sources(const struct agentcmd_script *sc, int n)
{
	struct err e;
	for (int k = 0; k < n; k++)
		if (scriptstore_put(sc[k].sha, sc[k].src, sc[k].len, &e) != 0) {
			fprintf(stderr, "skyctl: warning: %s\n", e.msg);
			return;
		}
}

#define AGENTCMD_GROUP_LIST 6	/* targets named in a group's header before "and N more" */

int agentcmd_groups_init(struct agentcmd_groups *g, size_t n)
{
	g->n = 0;
	for (g->cap = 64; g->cap < 2 * n; g->cap *= 2)
		;
	g->t = calloc(n + 1, sizeof *g->t);
	g->slot = calloc(g->cap, sizeof *g->slot);
	if (!g->t || !g->slot) {
		agentcmd_groups_free(g);
		return -1;
	}
	return 0;
}

size_t agentcmd_hash(const char *s, size_t salt)
{
	size_t h = 14695981039346656037u ^ salt;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		h = (h ^ *p) * 1099511628211u;
	return h;
}

/* each target joins its group's chain as it comes: grouping 10,000
 * different results costs a hash each, not a comparison with all others.
 * Only a group's first target keeps the text, and only the bytes of it:
 * a 4 KB buffer kept for each of 10,000 targets was 40 MB. */
void agentcmd_groups_add(struct agentcmd_groups *g, size_t node, uint32_t addr, int state,
			 char *body)
{
	size_t k = g->n++;
	struct agentcmd_group_target *t = &g->t[k];
	t->node = node;
	t->addr = addr;
	t->state = state;
	if (!body)
		return;
	for (size_t i = agentcmd_hash(body, (size_t)state) & (g->cap - 1);; i = (i + 1) & (g->cap - 1)) {
		struct agentcmd_group_target *h = g->slot[i] ? &g->t[g->slot[i] - 1] : NULL;
		if (!h) {
			char *fit = realloc(body, strlen(body) + 1);
			t->body = fit ? fit : body;
			g->slot[i] = k + 1;
			t->tail = k + 1;
			return;
		}
		if (h->state == state && strcmp(h->body, body) == 0) {
			free(body);
			g->t[h->tail - 1].next = k + 1;
			h->tail = k + 1;
			return;
		}
	}
}

void agentcmd_groups_print(struct agentcmd_groups *g, const struct batch_node *nodes,
			   size_t nnodes, struct fmt_buf *out)
{
	for (struct agentcmd_group_target *t = g->t; t < g->t + g->n; t++) {
		size_t n = 0;
		if (!t->tail)	/* no text, or not the first of its group */
			continue;
		for (size_t k = (size_t)(t - g->t) + 1; k; k = g->t[k - 1].next) {
			const struct agentcmd_group_target *u = &g->t[k - 1];
			if (n < AGENTCMD_GROUP_LIST)
				fmt_printf(out, "%s%s%s:%08x", n ? ", " : "",
					   nnodes > 1 ? nodes[u->node].name : "", nnodes > 1 ? "/" : "",
					   (unsigned)u->addr);
			n++;
		}
		if (n > AGENTCMD_GROUP_LIST)
			fmt_printf(out, " and %zu more", n - AGENTCMD_GROUP_LIST);
		fmt_puts(out, "  ");	/* the node's words, its print output */
		fmt_safe(out, t->body, strlen(t->body), "\n\t");
	}
}

void agentcmd_groups_free(struct agentcmd_groups *g)
{
	for (size_t i = 0; g->t && i < g->n; i++)
		free(g->t[i].body);
	free(g->t);
	free(g->slot);
	g->t = NULL;
	g->slot = NULL;
}
