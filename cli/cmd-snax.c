/* skyctl snax SERVICE [ARGS...]: start a snax service; prints the node's reply, as it is. */
#include "cmd.h"

static int cmd_snax_node(struct cmd_ctx *c, struct cmd_node *nd)
{
	return cmd_output(c, nd, "snax");
}

const struct cmd_entry cmd_snax_entry = {
	.name = "snax", .args = "SERVICE [ARGS...]",
	.summary = "start a snax service",
	.min = 1, .max = -1, .flags = CMD_CONNECT | CMD_AUDIT,
	.cols = cmd_output_cols, .ncols = 1, .node = cmd_snax_node,
};
