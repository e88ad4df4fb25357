/* skyctl uninstall [TARGET]: take skyctl out of live services.  Each
 * service loses the debug commands skyctl registered (SKYCTL, SKYCTL1) and
 * the engine's state; its patch journal stays in package.loaded.skyctl, so
 * patches and rollback still see what it carries (and put the engine back
 * when they run).  The operation runs as --no-agent does: nothing is
 * registered on the way, in the targets or in the service that reaches
 * them.  With no TARGET, every Lua service of the node. */
#include <stdio.h>

#include "agentcmd.h"
#include "cmd.h"

struct uninstall_run {
	const struct batch_node *nodes;
	size_t nnodes;
	int json;
	size_t count[4];	/* per enum batch_state */
};

static void uninstall_settled(void *ud, size_t node, size_t i, const struct batch_result *res)
{
	struct uninstall_run *r = ud;
	char target[16], what[512];
	long long n = wire_geti(res->val, "journal", 0);
	if (res->state != BATCH_OK)
		snprintf(what, sizeof what, "%s", res->err ? res->err : "not sent (the batch stopped)");
	else if (n)
		snprintf(what, sizeof what, "no skyctl debug command left; its journal of %lld "
			 "entr%s stays", n, n == 1 ? "y" : "ies");
	else
		snprintf(what, sizeof what, "no skyctl debug command left");
	snprintf(target, sizeof target, ":%08x", (unsigned)r->nodes[node].addrs[i]);
	r->count[res->state]++;
	agentcmd_target_line(r->nodes, r->nnodes, node, target, agentcmd_state[res->state], 8, what,
			     res->val, r->json);
}

static int cmd_uninstall_exec(struct cmd_ctx *c)
{
	struct agentcmd_nodes nodes;
	struct uninstall_run r = { .json = c->o.json };
	struct fmt_buf sub = { 0 };
	char span[64];
	if (c->every)
		agentcmd_every_lua(c);
	int status = agentcmd_nodes(c, &nodes);
	double t0 = net_now();
	if (status)
		goto done;
	r.nodes = nodes.v;
	r.nnodes = nodes.n;
	wire_put_open(&sub);
	wire_put_cstr(&sub, "op");
	wire_put_cstr(&sub, "remove");
	wire_put_close(&sub);
	struct batch_opts bo = { .keep_going = 1, .flags = AGENT_NO_AGENT,
				 .timeout = c->o.timeout, .par = 8 };
	struct batch_hooks hooks = { NULL, uninstall_settled, &r };
	status = batch_run(nodes.v, nodes.n, &bo, &sub, &hooks);
	fprintf(r.json ? stderr : stdout, "uninstall: %zu ok, %zu failed, %zu unknown (%s, %.3f s)\n",
		r.count[BATCH_OK], r.count[BATCH_FAILED], r.count[BATCH_UNKNOWN],
		agentcmd_span(&nodes, span, sizeof span), net_now() - t0);
done:
	agentcmd_nodes_free(&nodes);
	fmt_buf_free(&sub);
	return status;
}

const struct cmd_entry cmd_uninstall_entry = {
	.name = "uninstall", .args = "[TARGET]",
	.summary = "remove skyctl's debug commands from live services (their journals stay)",
	.opts = 0, .min = 0, .max = 0,
	.flags = CMD_CONNECT | CMD_TARGETS | CMD_EVERY | CMD_MUTATES | CMD_HANDLES | CMD_KEEPCONN,
	.exec = cmd_uninstall_exec,
};
