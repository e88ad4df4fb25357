/* skyctl list: every service of the node, with its launch command. */
#include "cmd.h"

static const struct fmt_col cmd_list_cols[] = {
	{ "address", FMT_STR }, { "name", FMT_STR },
};

static int cmd_list_node(struct cmd_ctx *c, struct cmd_node *nd)
{
	return cmd_kv(c, nd, "list");
}

const struct cmd_entry cmd_list_entry = {
	.name = "list", .args = "[TARGET]",
	.summary = "every service of the node, with its launch command",
	.options = CMD_OPTIONS(&args_opt_sort), .min = 0, .max = 0,
	.flags = CMD_CONNECT | CMD_TARGETS | CMD_TARGET_OPT | CMD_HANDLES | CMD_LOCAL,
	.cols = cmd_list_cols, .ncols = 2, .node = cmd_list_node,
};
