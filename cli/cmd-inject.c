/* skyctl inject TARGET SCRIPT... [-- ARGS...]: run local hot-fix scripts
 * inside live services, with no file on the server (lua/agent.lua does the
 * work in the node; src/batch.c runs it over many targets).  Every script
 * is read and compiled here first; nothing is sent if one fails. */
#include <stdio.h>

#include "agentcmd.h"
#include "cmd.h"

static const struct args_opt inject_opt_dry = {
	.lng = "dry-run",
	.help = "run the scripts, then undo every change (see diff)",
};

/* the per-service request: {op="apply", scripts=, args=, who=, time=, batch=} */
static int inject_request(struct agentrun *r, struct fmt_buf *b)
{
	wire_put_open(b);
	wire_put_cstr(b, "op");
	wire_put_cstr(b, "apply");
	agentcmd_w_scripts(b, r->sc, r->nscripts);
	agentcmd_w_args(b, r->args, r->nargs);
	agentcmd_w_who(b);
	wire_put_cstr(b, "batch");
	wire_put_cstr(b, r->batch);
	if (cmd_opt(r->c, &inject_opt_dry)) {
		wire_put_cstr(b, "dry");
		wire_put_bool(b, 1);
	}
	wire_put_close(b);
	return 0;
}

/* "patch #3, 2 changes" / the error; the scripts' output lines in more */
static int inject_describe(struct agentrun *r, size_t node, size_t i,
			   const struct batch_result *res, char *buf, size_t len,
			   struct fmt_buf *more)
{
	const struct wire_val *scripts = wire_get(res->val, "scripts");
	size_t changes = 0, n = wire_count(scripts);
	long long first = 0, last = 0;
	(void)r, (void)node, (void)i;
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
	for (size_t k = 1; more && k <= n; k++) {
		const struct wire_val *out = wire_get(wire_at(scripts, (long long)k), "out");
		for (size_t l = 1; l <= wire_count(out); l++)
			fmt_printf(more, "    %s\n", wire_at(out, (long long)l)->s ?
				   wire_at(out, (long long)l)->s : "");
	}
	return res->state;
}

static const struct cmd_agent inject_agent = {
	.scripts = 1, .states = agentcmd_state, .order = agentcmd_order, .width = 7,
	.request = inject_request, .describe = inject_describe,
};

const struct cmd_entry cmd_inject_entry = {
	.name = "inject", .args = "TARGET SCRIPT... [-- ARGS...]",
	.summary = "run local hot-fix scripts inside live services (no file on the node)",
	.options = CMD_OPTIONS(&agentcmd_opt_keep_going, &agentcmd_opt_canary,
			       &agentcmd_opt_no_agent, &inject_opt_dry),
	.min = 1, .max = -1,
	/* changes services: audited */
	.flags = CMD_CONNECT | CMD_TARGETS | CMD_CHECK_ALIVE | CMD_DASHARGS | CMD_HANDLES |
		 CMD_AGENT | CMD_AUDIT,
	.agent = &inject_agent,
};
