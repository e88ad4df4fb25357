/* skyctl raw 'LINE': send one console line as it is and print the reply;
 * for anything the subcommands do not cover.  A failing reply exits 1. */
#include "cmd.h"

static int cmd_raw_node(struct cmd_ctx *c, struct cmd_node *nd)
{
	return cmd_output(c, nd, NULL);
}

const struct cmd_entry cmd_raw_entry = {
	.name = "raw", .args = "LINE...",
	.summary = "send one console line as it is (words are joined with spaces)",
	.min = 1, .max = -1, .flags = CMD_CONNECT | CMD_AUDIT | CMD_BYTES,
	.cols = cmd_output_cols, .ncols = 1, .node = cmd_raw_node,
};
