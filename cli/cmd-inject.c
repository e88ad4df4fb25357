/* skyctl inject TARGET SCRIPT... [-- ARGS...]: run local hot-fix scripts
 * inside live services, with no file on the server (lua/agent.lua does the
 * work in the node; src/batch.c runs it over many targets).  Every script
 * is read and compiled here first; nothing is sent if one fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agentcmd.h"
#include "cmd.h"

/* one inject over its targets: what the batch hooks print and record */
struct inject_run {
	const struct batch_node *nodes;
	size_t nnodes;
	const struct agentcmd_script *scripts;
	int nscripts, json;
	char batch[32];
	size_t count[4];	/* per enum batch_state */
	struct agentcmd_audit audit;	/* records not yet written */
};

/* the per-service request: {op="apply", scripts=, args=, who=, time=, batch=} */
static void inject_sub(struct fmt_buf *b, const struct agentcmd_script *sc, int n, char **args,
		       int nargs, const char *batch, int dry)
{
	wire_put_open(b);
	wire_put_cstr(b, "op");
	wire_put_cstr(b, "apply");
	agentcmd_w_scripts(b, sc, n);
	agentcmd_w_args(b, args, nargs);
	agentcmd_w_who(b);
	wire_put_cstr(b, "batch");
	wire_put_cstr(b, batch);
	if (dry) {
		wire_put_cstr(b, "dry");
		wire_put_bool(b, 1);
	}
	wire_put_close(b);
}

/* queue one audit record per script for a target of node */
static void inject_audit(struct inject_run *r, size_t node, const char *result,
			 const char *target)
{
	for (int s = 0; s < r->nscripts; s++) {
		struct journal_record rec = { .op = "inject", .batch = r->batch,
					      .node = r->nodes[node].name,
					      .script = r->scripts[s].path,
					      .sha256 = r->scripts[s].sha };
		agentcmd_audit_add(&r->audit, &rec, result, target);
	}
}

static void inject_sending(void *ud, size_t node, size_t lo, size_t hi)
{
	struct inject_run *r = ud;
	char target[16];
	for (size_t i = lo; i < hi; i++) {
		snprintf(target, sizeof target, ":%08x", (unsigned)r->nodes[node].addrs[i]);
		inject_audit(r, node, "pending", target);
	}
	agentcmd_audit_flush(&r->audit);
}

/* "patch #3, 2 changes" / the error, for the status line and audit log */
static void inject_describe(const struct batch_result *res, char *buf, size_t len)
{
	const struct wire_val *scripts = wire_get(res->val, "scripts");
	size_t changes = 0, n = wire_count(scripts);
	long long first = 0, last = 0;
	for (size_t k = 1; k <= n; k++) {
		const struct wire_val *sv = wire_at(scripts, (long long)k);
		changes += wire_count(wire_get(sv, "changes"));
		last = wire_geti(sv, "id", 0);
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
			 res->val && !wire_getb(res->val, "unreached") ?
			 (wire_get(res->val, "stuck") ? " (some changes could not be undone)" :
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

static void inject_settled(void *ud, size_t node, size_t i, const struct batch_result *res)
{
	struct inject_run *r = ud;
	char target[16], what[1024], audit[1100];
	snprintf(target, sizeof target, ":%08x", (unsigned)r->nodes[node].addrs[i]);
	r->count[res->state]++;
	inject_describe(res, what, sizeof what);
	snprintf(audit, sizeof audit, "%s%s%s", agentcmd_state[res->state],
		 res->state == BATCH_OK ? " " : ": ", what);
	inject_audit(r, node, audit, target);
	if (agentcmd_target_line(r->nodes, r->nnodes, node, target, agentcmd_state[res->state], 7,
				 what, res->val, r->json))
		return;
	const struct wire_val *scripts = wire_get(res->val, "scripts");
	for (size_t k = 1; k <= wire_count(scripts); k++) {
		const struct wire_val *out = wire_get(wire_at(scripts, (long long)k), "out");
		for (size_t l = 1; l <= wire_count(out); l++)
			printf("    %s\n", wire_at(out, (long long)l)->s ? wire_at(out, (long long)l)->s : "");
	}
}

static int cmd_inject_exec(struct cmd_ctx *c)
{
	int nscripts = c->dashdash >= 0 ? c->dashdash : c->argc;
	char **paths = c->argv, **args = c->argv + nscripts;
	int nargs = c->argc - nscripts;
	struct agentcmd_nodes nodes;
	struct agentcmd_script *sc = calloc((size_t)nscripts, sizeof *sc);
	struct inject_run r = { .scripts = sc, .nscripts = nscripts, .json = c->o.json };
	struct fmt_buf sub = { 0 };
	char span[64];
	int status = agentcmd_nodes(c, &nodes);
	double t0 = net_now();
	if (status)
		goto done;
	status = ERR_LOCAL;
	if (!sc || agentcmd_load(sc, nscripts, paths) != 0)
		goto done;
	r.nodes = nodes.v;
	r.nnodes = nodes.n;
	snprintf(r.batch, sizeof r.batch, "%lx-%x", (unsigned long)time(NULL),
		 (unsigned)getpid());
	inject_sub(&sub, sc, nscripts, args, nargs, r.batch, c->o.dry_run);
	struct batch_opts bo = { .keep_going = c->o.keep_going, .canary = (size_t)c->o.canary,
				 .flags = c->o.no_agent ? AGENT_NO_AGENT : 0,
				 .timeout = c->o.timeout, .par = 8 };
	struct batch_hooks hooks = { inject_sending, inject_settled, &r };
	status = batch_run(nodes.v, nodes.n, &bo, &sub, &hooks);
	agentcmd_audit_flush(&r.audit);
	fprintf(r.json ? stderr : stdout,
		"inject: %zu ok, %zu failed, %zu unknown, %zu skipped (%s, %.3f s)\n",
		r.count[BATCH_OK], r.count[BATCH_FAILED], r.count[BATCH_UNKNOWN],
		r.count[BATCH_SKIPPED], agentcmd_span(&nodes, span, sizeof span), net_now() - t0);
done:
	agentcmd_scripts_free(sc, nscripts);
	agentcmd_audit_free(&r.audit);
	agentcmd_nodes_free(&nodes);
	fmt_buf_free(&sub);
	return status;
}

const struct cmd_entry cmd_inject_entry = {
	.name = "inject", .args = "TARGET SCRIPT... [-- ARGS...]",
	.summary = "run local hot-fix scripts inside live services (no file on the node)",
	.opts = OPTB_INJECT | OPTB_AGENT | OPTB_DRY, .min = 1, .max = -1,
	.flags = CMD_CONNECT | CMD_TARGETS | CMD_MUTATES | CMD_DASHARGS | CMD_HANDLES | CMD_KEEPCONN,
	.exec = cmd_inject_exec,
};
