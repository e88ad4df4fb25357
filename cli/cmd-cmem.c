/* skyctl cmem: C memory per service, with total and block; prints one row per `key\tvalue` line of the reply. */
#include "cmd.h"

static const struct fmt_col cmd_cmem_cols[] = {
	{ "key", FMT_STR }, { "mem", FMT_BYTES },
};

static int cmd_cmem_node(struct cmd_ctx *c, struct cmd_node *nd)
{
	return cmd_kv(c, nd, "cmem");
}

const struct cmd_entry cmd_cmem_entry = {
	.name = "cmem", .args = "",
	.summary = "C memory per service, with total and block",
	.options = CMD_OPTIONS(&args_opt_sort), .min = 0, .max = 0, .flags = CMD_CONNECT,
	.cols = cmd_cmem_cols, .ncols = 2, .node = cmd_cmem_node,
};
