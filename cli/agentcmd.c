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
#include "sha256.h"

const char *const agentcmd_state[4] = { "skipped", "ok", "failed", "unknown" };

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
	sha256_hex(sc->src, sc->len, sc->sha);
	return 0;
}

int agentcmd_load(struct agentcmd_script *sc, int n, char **paths)
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
		if (luaL_loadbufferx(L, sc[i].src, sc[i].len, chunk, "t") != LUA_OK) {
			fprintf(stderr, "%s\n", lua_tostring(L, -1));
			rc = -1;
		}
		lua_settop(L, 0);
	}
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

void agentcmd_w_scripts(struct fmt_buf *b, const struct agentcmd_script *sc, int n)
{
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
	wire_put_cstr(b, journal_who(who, sizeof who));
	wire_put_cstr(b, "time");
	wire_put_int(b, (long long)time(NULL));
}

int agentcmd_nodes(struct cmd_ctx *c, struct agentcmd_nodes *nodes)
{
	size_t nn = 0;
	*nodes = (struct agentcmd_nodes){
		.v = calloc(c->sess.n + 1, sizeof *nodes->v),
		.addrs = calloc(c->sess.n + 1, sizeof *nodes->addrs),
		.targets = calloc(c->sess.n + 1, sizeof *nodes->targets),
	};
	if (!nodes->v || !nodes->addrs || !nodes->targets) {
		fprintf(stderr, "skyctl: out of memory\n");
		return ERR_LOCAL;
	}
	for (size_t i = 0; i < c->sess.n; i++) {
		struct cmd_node *nd = &c->nodes[i];
		if (!nd->ntargets)
			continue;
		nodes->addrs[nn] = calloc(nd->ntargets, sizeof **nodes->addrs);
		if (!nodes->addrs[nn]) {
			fprintf(stderr, "skyctl: out of memory\n");
			return ERR_LOCAL;
		}
		for (size_t k = 0; k < nd->ntargets; k++)
			nodes->addrs[nn][k] = nd->targets[k].addr;
		/* the batch goes on with the connection the targets were listed on */
		nodes->v[nn] = (struct batch_node){ .name = nd->sn->name, .addr = nd->sn->addr,
						    .addrs = nodes->addrs[nn], .n = nd->ntargets,
						    .conn = nd->sn->conn };
		nd->sn->conn = NULL;
		nodes->targets[nn] = nd->targets;
		nodes->total += nd->ntargets;
		nn++;
		nodes->n = nn;
	}
	if (agent_init() != 0) {
		fprintf(stderr, "skyctl: the embedded agent is missing\n");
		return ERR_NODE;
	}
	return 0;
}

const char *agentcmd_span(const struct agentcmd_nodes *nodes, char *buf, size_t len)
{
	snprintf(buf, len, "%zu target%s on %zu node%s", nodes->total,
		 nodes->total == 1 ? "" : "s", nodes->n, nodes->n == 1 ? "" : "s");
	return buf;
}

void agentcmd_every_lua(struct cmd_ctx *c)
{
	for (size_t i = 0; i < c->sess.n; i++) {
		struct cmd_node *nd = &c->nodes[i];
		size_t n = 0;
		for (size_t k = 0; k < nd->ntargets; k++) {
			const char *cmd = nd->targets[k].cmd;
			if (cmd && strncmp(cmd, "snlua ", 6) == 0 &&
			    strncmp(cmd + 6, "debug_console", 13) != 0)
				nd->targets[n++] = nd->targets[k];
		}
		nd->ntargets = n;
	}
}

void agentcmd_nodes_free(struct agentcmd_nodes *nodes)
{
	for (size_t i = 0; nodes->addrs && i < nodes->n; i++)
		free(nodes->addrs[i]);
	for (size_t i = 0; nodes->v && i < nodes->n; i++)
		net_close(nodes->v[i].conn);
	free(nodes->addrs);
	free(nodes->targets);
	free(nodes->v);
}

void agentcmd_audit_add(struct agentcmd_audit *a, const struct journal_record *rec,
			const char *result, const char *target)
{
	if (a->n + 1 > a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 256;
		struct journal_record *v = realloc(a->v, cap * sizeof *v);
		char **t = v ? realloc(a->text, cap * 2 * sizeof *t) : NULL;
		if (v)
			a->v = v;
		if (t)
			a->text = t;
		if (!v || !t) {
			a->failed = 1;
			return;
		}
		a->cap = cap;
	}
	size_t k = a->n++;
	a->text[2 * k] = strdup(result);
	a->text[2 * k + 1] = strdup(target);
	a->v[k] = *rec;
	a->v[k].result = a->text[2 * k];
	a->v[k].target = a->text[2 * k + 1];
}

void agentcmd_audit_flush(struct agentcmd_audit *a)
{
	struct err err;
	if (a->n && journal_append(a->v, a->n, &err) != 0 && !a->failed) {
		fprintf(stderr, "skyctl: warning: %s\n", err.msg);
		a->failed = 1;
	}
	for (size_t k = 0; k < 2 * a->n; k++)
		free(a->text[k]);
	a->n = 0;
}

void agentcmd_audit_free(struct agentcmd_audit *a)
{
	agentcmd_audit_flush(a);
	free(a->v);
	free(a->text);
}

static void agentcmd_raw(struct fmt_buf *b, const char *s)
{
	wire_put_raw(b, s, strlen(s));
}

void agentcmd_json_line(const char *node, const char *target, const char *status,
			const char *detail, const struct wire_val *result)
{
	struct fmt_buf b = { 0 };
	agentcmd_raw(&b, "{\"node\":");
	json_string(&b, node, strlen(node));
	agentcmd_raw(&b, ",\"target\":");
	json_string(&b, target, strlen(target));
	agentcmd_raw(&b, ",\"status\":");
	json_string(&b, status, strlen(status));
	agentcmd_raw(&b, ",\"detail\":");
	json_string(&b, detail, strlen(detail));
	agentcmd_raw(&b, ",\"result\":");
	json_value(&b, result);
	agentcmd_raw(&b, "}\n");
	fwrite(b.p, 1, b.len, stdout);
	fmt_buf_free(&b);
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

int agentcmd_target_line(const struct batch_node *nodes, size_t nnodes, size_t node,
			 const char *target, const char *state, int width, const char *what,
			 const struct wire_val *val, int json)
{
	if (json) {
		agentcmd_json_line(nodes[node].name, target, state, what, val);
		return 1;
	}
	if (nnodes > 1)
		printf("%s/", nodes[node].name);
	printf("%s  %-*s %s\n", target, width, state, what);
	return 0;
}
