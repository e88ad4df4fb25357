/* skyctl exec TARGET SCRIPT... [-- ARGS...]: run scripts in live services
 * without making them patches: no tracking, no undo, no journal entry in
 * the service (lua/apply.lua's exec op); audited here like every command
 * that may change a service.  What each printed and returned is shown,
 * targets with the same result once. */
#include <stdio.h>
#include <stdlib.h>

#include "agentcmd.h"
#include "cmd.h"

/* {op="exec", scripts=, args=} */
static int exec_request(struct agentrun *ar, struct fmt_buf *b)
{
	struct agentcmd_groups *g = ar->ud = calloc(1, sizeof *g);
	if (!g || agentcmd_groups_init(g, ar->total) != 0) {
		fprintf(stderr, "skyctl: out of memory\n");
		return ERR_LOCAL;
	}
	wire_put_open(b);
	wire_put_cstr(b, "op");
	wire_put_cstr(b, "exec");
	agentcmd_w_scripts(b, ar->sc, ar->nscripts, ar->c->o.timeout);
	agentcmd_w_args(b, ar->args, ar->nargs);
	wire_put_close(b);
	return 0;
}

/* the verdict, then "| output" and "= value" lines, kept for grouping */
static int exec_describe(struct agentrun *ar, size_t node, size_t i,
			 const struct batch_result *res, char *what, size_t len,
			 struct fmt_buf *more)
{
	const struct wire_val *scripts = wire_get(res->val, "scripts");
	struct fmt_buf b = { 0 };
	snprintf(what, len, "%s", res->state == BATCH_OK ? "" : res->err ? res->err : "failed");
	if (!more)
		return res->state;
	if (res->state == BATCH_OK)
		fmt_puts(&b, "ok\n");
	else
		fmt_printf(&b, "%s: %s\n", agentcmd_state[res->state], what);
	for (size_t k = 1; k <= wire_count(scripts); k++) {
		const struct wire_val *sv = wire_at(scripts, (long long)k);
		const struct wire_val *out = wire_get(sv, "out"), *values = wire_get(sv, "values");
		for (size_t l = 1; l <= wire_count(out); l++)
			fmt_printf(&b, "  | %s\n", wire_str(wire_at(out, (long long)l)));
		for (size_t l = 1; l <= wire_count(values); l++)
			fmt_printf(&b, "  = %s\n", wire_str(wire_at(values, (long long)l)));
	}
	agentcmd_groups_add(ar->ud, node, ar->nodes[node].addrs[i], res->state,
			    b.oom ? NULL : b.p);
	return res->state;
}

static int exec_report(struct agentrun *ar, struct fmt_buf *out)
{
	if (!ar->c->o.json)
		agentcmd_groups_print(ar->ud, ar->nodes, ar->nnodes, out);
	return 0;
}

static void exec_free(struct agentrun *ar)
{
	if (ar->ud)
		agentcmd_groups_free(ar->ud);
	free(ar->ud);
}

static const struct cmd_agent exec_agent = {
	.scripts = 1, .states = agentcmd_state, .order = agentcmd_order,
	.request = exec_request, .describe = exec_describe, .report = exec_report,
	.free = exec_free,
};

const struct cmd_entry cmd_exec_entry = {
	.name = "exec", .args = "TARGET SCRIPT... [-- ARGS...]",
	.summary = "run scripts in live services without making them patches (not journaled)",
	.options = CMD_OPTIONS(&agentcmd_opt_keep_going, &agentcmd_opt_no_agent),
	.min = 1, .max = -1,
	/* may change services: audited */
	.flags = CMD_CONNECT | CMD_TARGETS | CMD_CHECK_ALIVE | CMD_DASHARGS | CMD_HANDLES |
		 CMD_AGENT | CMD_AUDIT,
	.agent = &exec_agent,
};
