/* skyctl start SERVICE [ARGS...]: start a Lua service: skynet.newservice(SERVICE, ARGS...); prints the node's reply, as it is. */
#include "cmd.h"

static int cmd_start_node(struct cmd_ctx *c, struct cmd_node *nd)
{
	return cmd_output(c, nd, "start");
}

const struct cmd_entry cmd_start_entry = {
	.name = "start", .args = "SERVICE [ARGS...]",
	.summary = "start a Lua service: skynet.newservice(SERVICE, ARGS...)",
	.min = 1, .max = -1, .flags = CMD_CONNECT | CMD_AUDIT,
	.cols = cmd_output_cols, .ncols = 1, .node = cmd_start_node,
};
