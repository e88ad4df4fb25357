/* skyctl uninstall [TARGET]: take skyctl out of live services.  Each
 * service loses the debug commands skyctl registered (SKYCTL, SKYCTL1 in
 * the service a batch went through, SKYCTLP in the services it patched) and
 * the engine's state; its patch journal stays in package.loaded.skyctl, so
 * patches and rollback still see what it carries (and put the engine back
 * when they run).  The operation runs as --no-agent does: nothing is
 * registered on the way, in the targets or in the service that reaches
 * them.  With no TARGET, every Lua service of the node. */
#include <stdio.h>

#include "agentcmd.h"
#include "cmd.h"

static int uninstall_request(struct agentrun *r, struct fmt_buf *b)
{
	(void)r;
	wire_put_open(b);
	wire_put_cstr(b, "op");
	wire_put_cstr(b, "remove");
	wire_put_close(b);
	return 0;
}

static int uninstall_describe(struct agentrun *r, size_t node, size_t i,
			      const struct batch_result *res, char *what, size_t len,
			      struct fmt_buf *more)
{
	long long n = wire_geti(res->val, "journal", 0);
	(void)r, (void)node, (void)i, (void)more;
	if (res->state != BATCH_OK)
		snprintf(what, len, "%s", res->err ? res->err : "not sent (the batch stopped)");
	else if (n)
		snprintf(what, len, "no skyctl debug command left; its journal of %lld "
			 "entr%s stays", n, n == 1 ? "y" : "ies");
	else
		snprintf(what, len, "no skyctl debug command left");
	return res->state;
}

static const struct cmd_agent uninstall_agent = {
	.states = agentcmd_state, .order = (const int[]){ BATCH_OK, BATCH_FAILED, BATCH_UNKNOWN, -1 },
	.width = 8, .keep_going = 1, .no_agent = 1,
	.request = uninstall_request, .describe = uninstall_describe,
};

const struct cmd_entry cmd_uninstall_entry = {
	.name = "uninstall", .args = "[TARGET]",
	.summary = "remove skyctl's debug commands from live services (their journals stay)",
	.min = 0, .max = 0,
	/* changes services (their debug commands go): audited */
	.flags = CMD_CONNECT | CMD_TARGETS | CMD_EVERY | CMD_CHECK_ALIVE | CMD_HANDLES |
		 CMD_AGENT | CMD_AUDIT,
	.agent = &uninstall_agent,
};
