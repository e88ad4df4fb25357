/* skyctl rollback TARGET [--patch ID | --all] [--force]: undo patches in
 * live services, newest first (lua/agent.lua's rollback op, run over the
 * targets by src/batch.c as inject is).  Only items still holding what the
 * patch put there are restored; the others are conflicts, reported and
 * left alone unless --force.  State the service changed since the patch
 * (a balance) is not a patch item and stays.  Exit 0: everything rolled
 * back; 1: a conflict, or a target failed. */
#include <stdio.h>

#include "agentcmd.h"
#include "cmd.h"

enum { ROLLBACK_CONFLICT = 4 };	/* a target state beyond enum batch_state */

static const char *const rollback_state[5] = { "skipped", "ok", "failed", "unknown", "conflict" };

static const struct args_opt rollback_opt_patch = {
	.lng = "patch", .arg = "ID",
	.help = "undo patch ID and every patch applied after it",
	.want = "a patch id (>= 1)", .min = 1, .max = 1e15, .integer = 1,
};
static const struct args_opt rollback_opt_all = {
	.lng = "all",
	.help = "undo every patch in place (every node: -a)",
};
static int rollback_check(const struct cmd_ctx *c, struct err *e)
{
	if (cmd_opt(c, &rollback_opt_patch) && cmd_opt(c, &rollback_opt_all))
		return err_set(e, ERR_USAGE, "rollback: --patch and --all cannot be combined");
	return 0;
}

/* {op="rollback", id=, all=, force=, who=, time=, batch=} */
static int rollback_request(struct agentrun *r, struct fmt_buf *b)
{
	const struct cmd_ctx *c = r->c;
	wire_put_open(b);
	wire_put_cstr(b, "op");
	wire_put_cstr(b, "rollback");
	if (cmd_opt(c, &rollback_opt_patch)) {
		wire_put_cstr(b, "id");
		wire_put_int(b, (long long)cmd_num(c, &rollback_opt_patch));
	}
	wire_put_cstr(b, "all");
	wire_put_bool(b, cmd_opt(c, &rollback_opt_all) != NULL);
	wire_put_cstr(b, "force");
	wire_put_bool(b, cmd_opt(c, &agentcmd_opt_force) != NULL);
	agentcmd_w_who(b);
	wire_put_cstr(b, "batch");
	wire_put_cstr(b, r->batch);
	wire_put_close(b);
	return 0;
}

/* "#2 fix.lua (3 restored), #1 fix.lua (1 restored, 1 conflict)" or why
 * not, into buf; returns the target's state */
static int rollback_what(const struct batch_result *res, char *buf, size_t len)
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

/* the restored items and the conflicts of one target, indented, into b */
static void rollback_items(const struct wire_val *rolled, struct fmt_buf *b)
{
	char path[1024];
	for (size_t k = 1; k <= wire_count(rolled); k++) {
		const struct wire_val *p = wire_at(rolled, (long long)k);
		const struct wire_val *rs = wire_get(p, "restored"), *cs = wire_get(p, "conflicts");
		for (size_t j = 1; j <= wire_count(rs); j++) {
			const struct wire_val *c = wire_at(rs, (long long)j);
			agentcmd_change_path(c, path, sizeof path);
			if (agentcmd_change_mark(c) == '+')
				fmt_printf(b, "    removed %s (the patch added it)\n", path);
			else
				fmt_printf(b, "    restored %s: %s\n", path, wire_gets(c, "old", "?"));
		}
		for (size_t j = 1; j <= wire_count(cs); j++) {
			const struct wire_val *c = wire_at(cs, (long long)j);
			fmt_printf(b, "    conflict %s: %s", agentcmd_change_path(c, path, sizeof path),
				   wire_gets(c, "why", "?"));
			if (wire_get(c, "now"))
				fmt_printf(b, " (now %s, the patch set %s)", wire_gets(c, "now", "?"),
					   wire_gets(c, "patched", "?"));
			fmt_puts(b, "; left alone\n");
		}
	}
}

static int rollback_describe(struct agentrun *r, size_t node, size_t i,
			     const struct batch_result *res, char *what, size_t len,
			     struct fmt_buf *more)
{
	(void)r, (void)node, (void)i;
	int state = rollback_what(res, what, len);
	if (more)
		rollback_items(wire_get(res->val, "rolled"), more);
	return state;
}

static const struct cmd_agent rollback_agent = {
	.states = rollback_state,
	.order = (const int[]){ BATCH_OK, ROLLBACK_CONFLICT, BATCH_FAILED, BATCH_UNKNOWN,
				BATCH_SKIPPED, -1 },
	.width = 8, .request = rollback_request, .describe = rollback_describe,
};

const struct cmd_entry cmd_rollback_entry = {
	.name = "rollback", .args = "TARGET [--patch ID | --all] [--force]",
	.summary = "undo the newest patch (or patch ID and all after it) in live services",
	.options = CMD_OPTIONS(&agentcmd_opt_keep_going, &agentcmd_opt_canary,
			       &agentcmd_opt_canary_wait, &agentcmd_opt_failures,
			       &agentcmd_opt_no_agent, &rollback_opt_patch, &rollback_opt_all,
			       &agentcmd_opt_force, &args_opt_yes),
	.check = rollback_check, .min = 0, .max = 0,
	/* changes services: audited; --all undoes every patch: asked first */
	.flags = CMD_CONNECT | CMD_TARGETS | CMD_CHECK_ALIVE | CMD_HANDLES | CMD_AGENT | CMD_AUDIT |
		 CMD_CONFIRM,
	.confirm_when = &rollback_opt_all,
	.agent = &rollback_agent,
};
