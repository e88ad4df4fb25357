/* skyctl inject TARGET SCRIPT... [-- ARGS...]: run local hot-fix scripts
 * inside live services, with no file on the server (lua/agent.lua does the
 * work in the node; src/batch.c runs it over many targets).  Every script
 * is read and compiled here first; nothing is sent if one fails. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "agent.h"
#include "batch.h"
#include "journal.h"
#include "sha256.h"

struct inject_script {
	const char *path;	/* as given, for the audit log */
	const char *name;	/* its base name: the chunk name in the service */
	char *src;
	size_t len;
	char sha[65];
};

/* one inject over its targets: what the batch hooks print and record */
struct inject_run {
	const struct batch_node *nodes;
	size_t nnodes;
	const struct inject_script *scripts;
	int nscripts, json;
	char batch[32];
	size_t count[4];	/* per enum batch_state */
	struct journal_record *audit;	/* audit records not yet written */
	char **audit_text;	/* their result strings, freed after writing */
	size_t naudit, capaudit;
	int audit_failed;
};

/* read path whole into sc; -1 with a message on stderr */
static int inject_read(struct inject_script *sc, const char *path)
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

/* Read and compile every script with the embedded Lua, as the node will
 * (chunk name "@" and the base name, so messages read "fix.lua:3: ...");
 * print the first problem and return -1. */
static int inject_load(struct inject_script *sc, int n, char **paths)
{
	lua_State *L = luaL_newstate();
	int rc = L ? 0 : -1;
	for (int i = 0; i < n && rc == 0; i++) {
		char chunk[4096];
		if (inject_read(&sc[i], paths[i]) != 0) {
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

/* the per-service request: {op="apply", scripts=, args=, who=, time=, batch=} */
static void inject_sub(struct agent_buf *b, const struct inject_script *sc, int n, char **args,
		       int nargs, const char *batch, int dry)
{
	char who[320];
	agent_w_open(b);
	agent_w_cstr(b, "op");
	agent_w_cstr(b, "apply");
	agent_w_cstr(b, "scripts");
	agent_w_open(b);
	for (int i = 0; i < n; i++) {
		agent_w_int(b, i + 1);
		agent_w_open(b);
		agent_w_cstr(b, "name");
		agent_w_cstr(b, sc[i].name);
		agent_w_cstr(b, "src");
		agent_w_str(b, sc[i].src, sc[i].len);
		agent_w_cstr(b, "sha");
		agent_w_cstr(b, sc[i].sha);
		agent_w_close(b);
	}
	agent_w_close(b);
	agent_w_cstr(b, "args");
	agent_w_open(b);
	for (int i = 0; i < nargs; i++) {
		agent_w_int(b, i + 1);
		agent_w_cstr(b, args[i]);
	}
	agent_w_close(b);
	agent_w_cstr(b, "who");
	agent_w_cstr(b, journal_who(who, sizeof who));
	agent_w_cstr(b, "time");
	agent_w_int(b, (long long)time(NULL));
	agent_w_cstr(b, "batch");
	agent_w_cstr(b, batch);
	if (dry) {
		agent_w_cstr(b, "dry");
		agent_w_bool(b, 1);
	}
	agent_w_close(b);
}

/* queue one audit record per script for target i of node; result copied */
static void inject_audit(struct inject_run *r, size_t node, const char *result,
			 const char *target)
{
	if (r->naudit + (size_t)r->nscripts > r->capaudit) {
		size_t cap = r->capaudit ? r->capaudit * 2 : 256;
		while (cap < r->naudit + (size_t)r->nscripts)
			cap *= 2;
		struct journal_record *a = realloc(r->audit, cap * sizeof *a);
		char **t = a ? realloc(r->audit_text, cap * 2 * sizeof *t) : NULL;
		if (a)
			r->audit = a;
		if (t)
			r->audit_text = t;
		if (!a || !t) {
			r->audit_failed = 1;
			return;
		}
		r->capaudit = cap;
	}
	for (int s = 0; s < r->nscripts; s++) {
		size_t k = r->naudit++;
		r->audit_text[2 * k] = strdup(result);
		r->audit_text[2 * k + 1] = strdup(target);
		r->audit[k] = (struct journal_record){
			.batch = r->batch, .node = r->nodes[node].name,
			.target = r->audit_text[2 * k + 1], .script = r->scripts[s].path,
			.sha256 = r->scripts[s].sha, .result = r->audit_text[2 * k],
		};
	}
}

/* write the queued audit records (one write, one fsync) */
static void inject_audit_flush(struct inject_run *r)
{
	char err[512];
	if (r->naudit && journal_append(r->audit, r->naudit, err, sizeof err) != 0 &&
	    !r->audit_failed) {
		fprintf(stderr, "skyctl: warning: %s\n", err);
		r->audit_failed = 1;
	}
	for (size_t k = 0; k < 2 * r->naudit; k++)
		free(r->audit_text[k]);
	r->naudit = 0;
}

static void inject_sending(void *ud, size_t node, size_t lo, size_t hi)
{
	struct inject_run *r = ud;
	char target[16];
	for (size_t i = lo; i < hi; i++) {
		snprintf(target, sizeof target, ":%08x", (unsigned)r->nodes[node].addrs[i]);
		inject_audit(r, node, "pending", target);
	}
	inject_audit_flush(r);
}

/* "patch #3, 2 changes" / the error, for the status line and audit log */
static void inject_describe(const struct batch_result *res, char *buf, size_t len)
{
	const struct agent_val *scripts = agent_get(res->val, "scripts");
	size_t changes = 0, n = agent_count(scripts);
	long long first = 0, last = 0;
	for (size_t k = 1; k <= n; k++) {
		const struct agent_val *sv = agent_at(scripts, (long long)k);
		changes += agent_count(agent_get(sv, "changes"));
		last = agent_geti(sv, "id", 0);
		first = first ? first : last;
	}
	switch (res->state) {
	case BATCH_OK:
		if (first == last)
			snprintf(buf, len, "patch #%lld, %zu change%s", first, changes,
				 changes == 1 ? "" : "s");
		else
			snprintf(buf, len, "patches #%lld-#%lld, %zu change%s", first, last, changes,
				 changes == 1 ? "" : "s");
		break;
	case BATCH_FAILED:
		snprintf(buf, len, "%s%s", res->err ? res->err : "failed",
			 res->val && !agent_getb(res->val, "unreached") ?
			 (agent_get(res->val, "stuck") ? " (some changes could not be undone)" :
			  " (all its changes undone)") : "");
		break;
	case BATCH_UNKNOWN:
		snprintf(buf, len, "%s: may or may not be patched", res->err ? res->err : "lost");
		break;
	case BATCH_SKIPPED:
		snprintf(buf, len, "not sent (the batch stopped)");
		break;
	}
}

static void inject_raw(struct agent_buf *b, const char *s)
{
	agent_w_raw(b, s, strlen(s));
}

static const char *const inject_state_name[] = { "skipped", "ok", "failed", "unknown" };

static void inject_settled(void *ud, size_t node, size_t i, const struct batch_result *res)
{
	struct inject_run *r = ud;
	char target[16], what[1024], audit[1100];
	snprintf(target, sizeof target, ":%08x", (unsigned)r->nodes[node].addrs[i]);
	r->count[res->state]++;
	inject_describe(res, what, sizeof what);
	snprintf(audit, sizeof audit, "%s%s%s", inject_state_name[res->state],
		 res->state == BATCH_OK ? " " : ": ", what);
	inject_audit(r, node, audit, target);
	if (r->json) {
		struct agent_buf b = { 0 };
		const char *name = r->nodes[node].name, *state = inject_state_name[res->state];
		inject_raw(&b, "{\"node\":");
		agent_json_string(&b, name, strlen(name));
		inject_raw(&b, ",\"target\":\"");
		inject_raw(&b, target);
		inject_raw(&b, "\",\"status\":\"");
		inject_raw(&b, state);
		inject_raw(&b, "\",\"detail\":");
		agent_json_string(&b, what, strlen(what));
		inject_raw(&b, ",\"result\":");
		agent_json(&b, res->val);
		inject_raw(&b, "}\n");
		fwrite(b.p, 1, b.len, stdout);
		agent_buf_free(&b);
		return;
	}
	if (r->nnodes > 1)
		printf("%s/", r->nodes[node].name);
	printf("%s  %-7s %s\n", target, inject_state_name[res->state], what);
	const struct agent_val *scripts = agent_get(res->val, "scripts");
	for (size_t k = 1; k <= agent_count(scripts); k++) {
		const struct agent_val *out = agent_get(agent_at(scripts, (long long)k), "out");
		for (size_t l = 1; l <= agent_count(out); l++)
			printf("    %s\n", agent_at(out, (long long)l)->s ? agent_at(out, (long long)l)->s : "");
	}
}

/* what the command line asked for; the core CLI's entry fills it */
struct inject_opts {
	int json, keep_going, no_agent, dry;
	size_t canary;
	double timeout;
};

/* Inject scripts (paths) with args into the resolved targets and print the
 * outcome; returns the exit status.  The command-table entry (cli/cmds.c,
 * with the core's option parser and target resolution) calls this. */
int inject_main(const struct batch_node *nodes, size_t nnodes, char **paths, int nscripts,
		char **args, int nargs, const struct inject_opts *o);
int inject_main(const struct batch_node *nodes, size_t nnodes, char **paths, int nscripts,
		       char **args, int nargs, const struct inject_opts *o)
{
	struct inject_script *sc = calloc((size_t)nscripts, sizeof *sc);
	struct inject_run r = { .nodes = nodes, .nnodes = nnodes, .scripts = sc,
				.nscripts = nscripts, .json = o->json };
	struct agent_buf sub = { 0 };
	struct timespec t0, t1;
	size_t total = 0;
	int status = 6;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!sc || inject_load(sc, nscripts, paths) != 0)
		goto done;
	status = 1;
	if (agent_init() != 0) {
		fprintf(stderr, "skyctl: the embedded agent is missing\n");
		goto done;
	}
	for (size_t i = 0; i < nnodes; i++)
		total += nodes[i].n;
	snprintf(r.batch, sizeof r.batch, "%lx-%x", (unsigned long)time(NULL),
		 (unsigned)getpid());
	inject_sub(&sub, sc, nscripts, args, nargs, r.batch, o->dry);
	struct batch_opts bo = { .keep_going = o->keep_going, .canary = o->canary,
				 .flags = o->no_agent ? AGENT_NO_AGENT : 0,
				 .timeout = o->timeout, .par = 8 };
	struct batch_hooks hooks = { inject_sending, inject_settled, &r };
	status = batch_run(nodes, nnodes, &bo, &sub, &hooks);
	inject_audit_flush(&r);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(r.json ? stderr : stdout,
		"inject: %zu ok, %zu failed, %zu unknown, %zu skipped (%zu target%s on %zu node%s, %.3f s)\n",
		r.count[BATCH_OK], r.count[BATCH_FAILED], r.count[BATCH_UNKNOWN],
		r.count[BATCH_SKIPPED], total, total == 1 ? "" : "s", nnodes, nnodes == 1 ? "" : "s",
		(double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
done:
	for (int i = 0; sc && i < nscripts; i++)
		free(sc[i].src);
	free(sc);
	free(r.audit);
	free(r.audit_text);
	agent_buf_free(&sub);
	return status;
}

/* ---- the command-table entry: targets resolved by the core, then inject_main ---- */

#include "cmd.h"

static int cmd_inject_exec(struct cmd_ctx *c)
{
	int nscripts = c->dashdash >= 0 ? c->dashdash : c->argc, status = 0;
	size_t nn = 0;
	struct batch_node *bn = calloc(c->sess.n + 1, sizeof *bn);
	uint32_t **addrs = calloc(c->sess.n + 1, sizeof *addrs);
	if (!bn || !addrs) {
		fprintf(stderr, "skyctl: out of memory\n");
		status = ERR_LOCAL;
		goto done;
	}
	for (size_t i = 0; i < c->sess.n && !status; i++) {
		struct cmd_node *nd = &c->nodes[i];
		if (!nd->ntargets)
			continue;
		addrs[nn] = calloc(nd->ntargets, sizeof **addrs);
		if (!addrs[nn]) {
			status = ERR_LOCAL;
			break;
		}
		for (size_t k = 0; k < nd->ntargets; k++)
			addrs[nn][k] = nd->targets[k].addr;
		bn[nn] = (struct batch_node){ .name = nd->sn->name, .addr = nd->sn->addr,
					      .addrs = addrs[nn], .n = nd->ntargets };
		nn++;
	}
	if (status == 0) {
		struct inject_opts o = { .json = c->o.json, .keep_going = c->o.keep_going,
					 .no_agent = c->o.no_agent, .dry = c->o.dry_run,
					 .canary = (size_t)c->o.canary, .timeout = c->o.timeout };
		status = inject_main(bn, nn, c->argv, nscripts, c->argv + nscripts,
				     c->argc - nscripts, &o);
	}
done:
	for (size_t i = 0; addrs && i < nn + 1; i++)
		free(addrs[i]);
	free(addrs);
	free(bn);
	return status;
}

const struct cmd_entry cmd_inject_entry = {
	.name = "inject", .args = "TARGET SCRIPT... [-- ARGS...]",
	.summary = "run local hot-fix scripts inside live services (no file on the node)",
	.opts = OPTB_INJECT, .min = 1, .max = -1,
	.flags = CMD_CONNECT | CMD_TARGETS | CMD_MUTATES | CMD_DASHARGS | CMD_HANDLES,
	.exec = cmd_inject_exec,
};
