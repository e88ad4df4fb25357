/* skyctl profactive [on|off]: show or switch jemalloc heap profiling; prints the node's reply, as it is. */
#include "cmd.h"

static int cmd_profactive_node(struct cmd_ctx *c, struct cmd_node *nd)
{
	return cmd_output(c, nd, "profactive");
}

const struct cmd_entry cmd_profactive_entry = {
	.name = "profactive", .args = "[on|off]",
	.summary = "show or switch jemalloc heap profiling",
	.min = 0, .max = 1, .flags = CMD_CONNECT | CMD_AUDIT,
	.cols = cmd_output_cols, .ncols = 1, .node = cmd_profactive_node,
};
