/* skyctl rollback TARGET [--patch ID | --all] [--force]: undo patches in
 * live services, newest first (lua/agent.lua's rollback op, run over the
 * targets by src/batch.c as inject is).  Only items still holding what the
 * patch put there are restored; the others are conflicts, reported and
 * left alone unless --force.  State the service changed since the patch
 * (a balance) is not a patch item and stays.  Exit 0: everything rolled
 * back; 1: a conflict, or a target failed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agentcmd.h"
#include "cmd.h"

enum { ROLLBACK_CONFLICT = 4 };	/* a target state beyond enum batch_state */

struct rollback_run {
	const struct batch_node *nodes;
	size_t nnodes;
	int json, table;
	char batch[32];
	size_t count[5];	/* per enum batch_state, then ROLLBACK_CONFLICT */
	struct agentcmd_audit audit;
};

static const char *const rollback_state[5] = { "skipped", "ok", "failed", "unknown", "conflict" };

/* {op="rollback", id=, all=, force=, who=, time=, batch=} */
static void rollback_sub(struct fmt_buf *b, const struct cmd_opts *o, const char *batch)
{
	wire_put_open(b);
	wire_put_cstr(b, "op");
	wire_put_cstr(b, "rollback");
	if (o->patch) {
		wire_put_cstr(b, "id");
		wire_put_int(b, o->patch);
	}
	wire_put_cstr(b, "all");
	wire_put_bool(b, o->all_patches);
	wire_put_cstr(b, "force");
	wire_put_bool(b, o->force);
	agentcmd_w_who(b);
	wire_put_cstr(b, "batch");
	wire_put_cstr(b, batch);
	wire_put_close(b);
}

static void rollback_sending(void *ud, size_t node, size_t lo, size_t hi)
{
	struct rollback_run *r = ud;
	char target[16];
	struct journal_record rec = { .op = "rollback", .batch = r->batch,
				      .node = r->nodes[node].name };
	for (size_t i = lo; i < hi; i++) {
		snprintf(target, sizeof target, ":%08x", (unsigned)r->nodes[node].addrs[i]);
		agentcmd_audit_add(&r->audit, &rec, "pending", target);
	}
	agentcmd_audit_flush(&r->audit);
}

/* "#2 fix.lua (3 restored), #1 fix.lua (1 restored, 1 conflict)" or why
 * not, into buf; returns the target's state */
static int rollback_describe(const struct batch_result *res, char *buf, size_t len)
{
	const struct wire_val *rolled = wire_get(res->val, "rolled");
	size_t off = 0;
	switch (res->state) {
	case BATCH_OK:
		for (size_t k = 1; k <= wire_count(rolled) && off < len; k++) {
			const struct wire_val *p = wire_at(rolled, (long long)k);
			size_t nr = wire_count(wire_get(p, "restored"));
			size_t nc = wire_count(wire_get(p, "conflicts"));
			int n = snprintf(buf + off, len - off, "%s#%lld %s (%zu restored%s", k > 1 ? ", " : "",
					 wire_geti(p, "id", 0), wire_gets(p, "name", "?"), nr,
					 nc ? ", " : ")");
			off += n > 0 ? (size_t)n : 0;
			if (nc && off < len) {
				n = snprintf(buf + off, len - off, "%zu conflict%s)", nc, nc == 1 ? "" : "s");
				off += n > 0 ? (size_t)n : 0;
			}
		}
		if (wire_getb(res->val, "conflict") && off < len)
			snprintf(buf + off, len - off, "; conflicts left alone (--force restores them)");
		return wire_getb(res->val, "conflict") ? ROLLBACK_CONFLICT : BATCH_OK;
	case BATCH_FAILED:
		snprintf(buf, len, "%s", res->err ? res->err : "failed");
		break;
	case BATCH_UNKNOWN:
		snprintf(buf, len, "%s: may or may not be rolled back", res->err ? res->err : "lost");
		break;
	case BATCH_SKIPPED:
		snprintf(buf, len, "not sent (the batch stopped)");
		break;
	}
	return res->state;
}

/* the restored items and the conflicts of one target, indented */
static void rollback_items(const struct wire_val *rolled)
{
	struct fmt_buf b = { 0 };
	char path[1024];
	for (size_t k = 1; k <= wire_count(rolled); k++) {
		const struct wire_val *p = wire_at(rolled, (long long)k);
		const struct wire_val *rs = wire_get(p, "restored"), *cs = wire_get(p, "conflicts");
		for (size_t j = 1; j <= wire_count(rs); j++) {
			const struct wire_val *c = wire_at(rs, (long long)j);
			agentcmd_change_path(c, path, sizeof path);
			if (agentcmd_change_mark(c) == '+')
				fmt_printf(&b, "    removed %s (the patch added it)\n", path);
			else
				fmt_printf(&b, "    restored %s: %s\n", path, wire_gets(c, "old", "?"));
		}
		for (size_t j = 1; j <= wire_count(cs); j++) {
			const struct wire_val *c = wire_at(cs, (long long)j);
			fmt_printf(&b, "    conflict %s: %s", agentcmd_change_path(c, path, sizeof path),
				   wire_gets(c, "why", "?"));
			if (wire_get(c, "now"))
				fmt_printf(&b, " (now %s, the patch set %s)", wire_gets(c, "now", "?"),
					   wire_gets(c, "patched", "?"));
			fmt_puts(&b, "; left alone\n");
		}
	}
	if (b.len)
		fwrite(b.p, 1, b.len, stdout);
	fmt_buf_free(&b);
}

static void rollback_settled(void *ud, size_t node, size_t i, const struct batch_result *res)
{
	struct rollback_run *r = ud;
	char target[16], what[1024], audit[1100];
	struct journal_record rec = { .op = "rollback", .batch = r->batch,
				      .node = r->nodes[node].name };
	snprintf(target, sizeof target, ":%08x", (unsigned)r->nodes[node].addrs[i]);
	int state = rollback_describe(res, what, sizeof what);
	r->count[state]++;
	snprintf(audit, sizeof audit, "%s: %s", rollback_state[state], what);
	agentcmd_audit_add(&r->audit, &rec, audit, target);
	if (agentcmd_target_line(r->nodes, r->nnodes, node, target, rollback_state[state], 8, what,
				 res->val, r->json))
		return;
	rollback_items(wire_get(res->val, "rolled"));
}

static int cmd_rollback_exec(struct cmd_ctx *c)
{
	struct agentcmd_nodes nodes;
	struct rollback_run r = { .json = c->o.json };
	struct fmt_buf sub = { 0 };
	char span[64];
	int status = agentcmd_nodes(c, &nodes);
	double t0 = net_now();
	if (status)
		goto done;
	r.nodes = nodes.v;
	r.nnodes = nodes.n;
	snprintf(r.batch, sizeof r.batch, "%lx-%x", (unsigned long)time(NULL), (unsigned)getpid());
	rollback_sub(&sub, &c->o, r.batch);
	struct batch_opts bo = { .keep_going = c->o.keep_going, .canary = (size_t)c->o.canary,
				 .flags = c->o.no_agent ? AGENT_NO_AGENT : 0,
				 .timeout = c->o.timeout, .par = 8 };
	struct batch_hooks hooks = { rollback_sending, rollback_settled, &r };
	status = batch_run(nodes.v, nodes.n, &bo, &sub, &hooks);
	agentcmd_audit_flush(&r.audit);
	fprintf(r.json ? stderr : stdout,
		"rollback: %zu ok, %zu conflict, %zu failed, %zu unknown, %zu skipped "
		"(%s, %.3f s)\n",
		r.count[BATCH_OK], r.count[ROLLBACK_CONFLICT], r.count[BATCH_FAILED],
		r.count[BATCH_UNKNOWN], r.count[BATCH_SKIPPED],
		agentcmd_span(&nodes, span, sizeof span), net_now() - t0);
	if (!status && r.count[ROLLBACK_CONFLICT])
		status = ERR_NODE;
done:
	agentcmd_audit_free(&r.audit);
	agentcmd_nodes_free(&nodes);
	fmt_buf_free(&sub);
	return status;
}

const struct cmd_entry cmd_rollback_entry = {
	.name = "rollback", .args = "TARGET [--patch ID | --all] [--force]",
	.summary = "undo the newest patch (or patch ID and all after it) in live services",
	.opts = OPTB_INJECT | OPTB_AGENT | OPTB_ROLLBACK, .min = 0, .max = 0,
	.flags = CMD_CONNECT | CMD_TARGETS | CMD_MUTATES | CMD_HANDLES | CMD_KEEPCONN,
	.exec = cmd_rollback_exec,
};
