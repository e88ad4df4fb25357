/* skyctl gc: a full Lua garbage collection in every service, then their
 * memory as `mem` shows it. */
#include "cmd.h"

static int cmd_gc_node(struct cmd_ctx *c, struct cmd_node *nd)
{
	return cmd_mem_rows(c, nd, "gc");
}

const struct cmd_entry cmd_gc_entry = {
	.name = "gc", .args = "[TARGET]",
	.summary = "collect garbage in every service, then show mem",
	.options = CMD_OPTIONS(&args_opt_sort), .min = 0, .max = 0,
	.flags = CMD_CONNECT | CMD_TARGETS | CMD_TARGET_OPT | CMD_HANDLES | CMD_LOCAL | CMD_AUDIT,
	.cols = cmd_mem_cols, .ncols = 3, .node = cmd_gc_node,
};
