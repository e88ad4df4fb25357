/* skyctl netstat: the node's sockets; prints one row per `key\tvalue` line of the reply. */
#include "cmd.h"

static const struct fmt_col cmd_netstat_cols[] = {
	{ "id", FMT_STR }, { "info", FMT_STR },
};

static int cmd_netstat_node(struct cmd_ctx *c, struct cmd_node *nd)
{
	return cmd_kv(c, nd, "netstat");
}

const struct cmd_entry cmd_netstat_entry = {
	.name = "netstat", .args = "",
	.summary = "the node's sockets",
	.options = CMD_OPTIONS(&args_opt_sort), .min = 0, .max = 0, .flags = CMD_CONNECT,
	.cols = cmd_netstat_cols, .ncols = 2, .node = cmd_netstat_node,
};
