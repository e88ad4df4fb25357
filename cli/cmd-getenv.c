/* skyctl getenv NAME: a key of the node's config (skynet.getenv); prints one row per `key\tvalue` line of the reply. */
#include "cmd.h"

static const struct fmt_col cmd_getenv_cols[] = {
	{ "key", FMT_STR }, { "value", FMT_STR },
};

static int cmd_getenv_node(struct cmd_ctx *c, struct cmd_node *nd)
{
	return cmd_kv(c, nd, "getenv");
}

const struct cmd_entry cmd_getenv_entry = {
	.name = "getenv", .args = "NAME",
	.summary = "a key of the node's config (skynet.getenv)",
	.options = CMD_OPTIONS(&args_opt_sort), .min = 1, .max = 1, .flags = CMD_CONNECT,
	.cols = cmd_getenv_cols, .ncols = 2, .node = cmd_getenv_node,
};
