/* skyctl logon TARGET: log the service's messages to the node's log directory; on every target
 * (pipelined), one row per target with the reply as it is.  skynet writes
 * them to LOGPATH/XXXXXXXX.log, LOGPATH being the node config's `logpath`;
 * without one, LOGON is silently a no-op: so the node's logpath is asked
 * first, and without one nothing is sent and every target fails. */
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

#define LOGON_NOPATH "the node has no logpath in its config: nothing would be written"

/* 0 if the node has a logpath; else -1, the targets failed */
static int logon_before(struct cmd_ctx *c, struct cmd_node *nd)
{
	struct proto_reply r;
	if (cmd_request_env(c, nd, "getenv logpath", &r) != 0)
		return -1;
	/* a console without getenv or dbgcmd (skynet 1.4) cannot say: logon as before */
	int rc = 0;
	const char *tab = r.ok && r.nlines ? strchr(r.lines[0], '\t') : NULL;
	if (r.ok && (!tab || strcmp(tab + 1, "nil") == 0)) {
		cmd_fail(nd, ERR_NODE, c->cmd->name, LOGON_NOPATH);
		for (size_t i = 0; i < nd->ntargets; i++) {
			char addr[32];
			const char *vals[5] = { target_format(&nd->targets[i], TARGET_FORM_COLON, addr,
							      sizeof addr), NULL, "false", LOGON_NOPATH };
			if (c->mode == FMT_JSON)	/* a row per target, as for other failures */
				cmd_row(nd, vals);
			if (nd->results)
				nd->results[i] = strdup("failed: " LOGON_NOPATH);
		}
		rc = -1;
	}
	proto_reply_free(&r);
	return rc;
}

const struct cmd_entry cmd_logon_entry = {
	.name = "logon", .args = "TARGET",
	.summary = "log the service's messages to the node's log directory (its logpath)",
	.min = 0, .max = 0, .flags = CMD_CONNECT | CMD_TARGETS | CMD_LOCAL | CMD_AUDIT,
	.cols = cmd_target_cols, .ncols = 4, .before = logon_before,
};
