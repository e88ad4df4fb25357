/* skyctl service: services registered with service_mgr (uniqueservice, snax); prints one row per `key\tvalue` line of the reply. */
#include "cmd.h"

static const struct fmt_col cmd_service_cols[] = {
	{ "name", FMT_STR }, { "address", FMT_STR },
};

static int cmd_service_node(struct cmd_ctx *c, struct cmd_node *nd)
{
	return cmd_kv(c, nd, "service");
}

const struct cmd_entry cmd_service_entry = {
	.name = "service", .args = "",
	.summary = "services registered with service_mgr (uniqueservice, snax)",
	.options = CMD_OPTIONS(&args_opt_sort), .min = 0, .max = 0, .flags = CMD_CONNECT,
	.cols = cmd_service_cols, .ncols = 2, .node = cmd_service_node,
};
