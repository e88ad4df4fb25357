/* skyctl dumpheap: dump the jemalloc heap profile (on the node); prints the node's reply, as it is. */
#include "cmd.h"

static int cmd_dumpheap_node(struct cmd_ctx *c, struct cmd_node *nd)
{
	return cmd_output(c, nd, "dumpheap");
}

const struct cmd_entry cmd_dumpheap_entry = {
	.name = "dumpheap", .args = "",
	.summary = "dump the jemalloc heap profile (on the node)",
	.min = 0, .max = 0, .flags = CMD_CONNECT | CMD_AUDIT,
	.cols = cmd_output_cols, .ncols = 1, .node = cmd_dumpheap_node,
};
