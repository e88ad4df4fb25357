/* skyctl clearcache: clear the node's Lua code cache (new services load fresh code); prints the node's reply, as it is. */
#include "cmd.h"

static int cmd_clearcache_node(struct cmd_ctx *c, struct cmd_node *nd)
{
	return cmd_output(c, nd, "clearcache");
}

const struct cmd_entry cmd_clearcache_entry = {
	.name = "clearcache", .args = "",
	.summary = "clear the node's Lua code cache (new services load fresh code)",
	.min = 0, .max = 0, .flags = CMD_CONNECT | CMD_AUDIT,
	.cols = cmd_output_cols, .ncols = 1, .node = cmd_clearcache_node,
};
