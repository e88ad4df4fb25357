/* skyctl log SERVICE [ARGS...]: start a Lua service with its messages logged; prints the node's reply, as it is. */
#include "cmd.h"

static int cmd_log_node(struct cmd_ctx *c, struct cmd_node *nd)
{
	return cmd_output(c, nd, "log");
}

const struct cmd_entry cmd_log_entry = {
	.name = "log", .args = "SERVICE [ARGS...]",
	.summary = "start a Lua service with its messages logged",
	.min = 1, .max = -1, .flags = CMD_CONNECT | CMD_AUDIT,
	.cols = cmd_output_cols, .ncols = 1, .node = cmd_log_node,
};
