/* skyctl setenv NAME VALUE: set a config key that is not set yet (skynet.setenv); prints the node's reply, as it is. */
#include "cmd.h"

static int cmd_setenv_node(struct cmd_ctx *c, struct cmd_node *nd)
{
	return cmd_output(c, nd, "setenv");
}

const struct cmd_entry cmd_setenv_entry = {
	.name = "setenv", .args = "NAME VALUE",
	.summary = "set a config key that is not set yet (skynet.setenv)",
	.min = 2, .max = 2, .flags = CMD_CONNECT | CMD_AUDIT,
	.cols = cmd_output_cols, .ncols = 1, .node = cmd_setenv_node,
};
