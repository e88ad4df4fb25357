/* skyctl inject TARGET SCRIPT... [-- ARGS...]: run local hot-fix scripts
 * inside live services, with no file on the server (lua/agent.lua does the
 * work in the node; src/batch.c runs it over many targets).  Every script
 * is read and compiled here first; nothing is sent if one fails. */
#include <stdio.h>

#include "agentcmd.h"
#include "cmd.h"

static const struct args_opt inject_opt_again = {
	.lng = "again",
	.help = "apply a script even where its patch is in place already (a new patch)",
};

/* the per-service request: {op="apply", scripts=, args=, who=, time=, batch=,
 * dry=, again=, force=} */
static int inject_request(struct agentrun *r, struct fmt_buf *b)
{
	wire_put_open(b);
	wire_put_cstr(b, "op");
	wire_put_cstr(b, "apply");
	agentcmd_w_scripts(b, r->sc, r->nscripts, r->c->o.timeout);
	agentcmd_w_args(b, r->args, r->nargs);
	agentcmd_w_who(b);
	wire_put_cstr(b, "batch");
	wire_put_cstr(b, r->batch);
	const struct args_opt *flags[] = { &agentcmd_opt_dry, &inject_opt_again,
					   &agentcmd_opt_force };
	const char *keys[] = { "dry", "again", "force" };
	for (size_t k = 0; k < 3; k++)
		if (cmd_opt(r->c, flags[k])) {
			wire_put_cstr(b, keys[k]);
			wire_put_bool(b, 1);
		}
	wire_put_close(b);
	if (!cmd_opt(r->c, &agentcmd_opt_dry))
		agentcmd_keep_sources(r->sc, r->nscripts);
	return 0;
}

/* "patch #3, 2 changes" / "already in place" / the error; the checks'
 * lines and the scripts' output in more */
static int inject_describe(struct agentrun *r, size_t node, size_t i,
			   const struct batch_result *res, char *buf, size_t len,
			   struct fmt_buf *more)
{
	const struct wire_val *scripts = wire_get(res->val, "scripts");
	size_t changes = 0, n = wire_count(scripts), already = 0;
	long long first = 0, last = 0;
	char undone[512] = "";
	(void)r, (void)node, (void)i;
	for (size_t k = 1; k <= n; k++) {
		const struct wire_val *sv = wire_at(scripts, (long long)k);
		changes += wire_count(wire_get(sv, "changes"));
		already += wire_geti(sv, "already", 0) != 0;
		if (wire_geti(sv, "id", 0)) {
			last = wire_geti(sv, "id", 0);
			first = first ? first : last;
		}
	}
	switch (res->state) {
	case BATCH_OK:
		if (already == n)
			snprintf(buf, len, "already in place (patch #%lld): nothing changed",
				 wire_geti(wire_at(scripts, 1), "already", 0));
		else if (wire_getb(res->val, "dry"))
			snprintf(buf, len, "dry run, %zu change%s, all undone", changes,
				 changes == 1 ? "" : "s");
		else if (!first)
			snprintf(buf, len, "no change: not journaled");
		else if (first == last)
			snprintf(buf, len, "patch #%lld, %zu change%s%s", first, changes,
				 changes == 1 ? "" : "s", already ? " (the rest in place already)" : "");
		else
			snprintf(buf, len, "patches #%lld-#%lld, %zu change%s", first, last, changes,
				 changes == 1 ? "" : "s");
		break;
	case BATCH_FAILED:
		if (res->val && !wire_getb(res->val, "unreached"))
			agentcmd_undone(res->val, undone, sizeof undone);
		snprintf(buf, len, "%s%s", res->err ? res->err : "failed", undone);
		break;
	case BATCH_UNKNOWN:
		snprintf(buf, len, "%s: may or may not be patched", res->err ? res->err : "lost");
		break;
	case BATCH_SKIPPED:
		snprintf(buf, len, "not sent (the batch stopped)");
		break;
	}
	if (more && res->val)
		agentcmd_warnings(more, res->val, "    ");
	const struct wire_val *calls = wire_get(res->val, "calls");
	if (more && res->state == BATCH_FAILED && wire_count(calls)) {
		fmt_puts(more, "    ! the script ran the service's own code:");
		for (size_t k = 1; k <= wire_count(calls); k++)
			fmt_printf(more, " %s", wire_str(wire_at(calls, (long long)k)));
		fmt_puts(more, "; what that code changed stays\n");
	}
	for (size_t k = 1; more && k <= n; k++) {
		const struct wire_val *out = wire_get(wire_at(scripts, (long long)k), "out");
		for (size_t l = 1; l <= wire_count(out); l++) {
			const char *s = wire_str(wire_at(out, (long long)l));
			fmt_printf(more, "    %s\n", s ? s : "");
		}
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
			       &agentcmd_opt_canary_wait, &agentcmd_opt_failures,
			       &agentcmd_opt_no_agent, &agentcmd_opt_dry, &inject_opt_again,
			       &agentcmd_opt_force),
	.min = 1, .max = -1,
	/* changes services: audited */
	.flags = CMD_CONNECT | CMD_TARGETS | CMD_CHECK_ALIVE | CMD_DASHARGS | CMD_HANDLES |
		 CMD_AGENT | CMD_AUDIT,
	.agent = &inject_agent,
};
