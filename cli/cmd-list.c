/* skyctl list: every service of the node, with its launch command. */
#include "cmd.h"

static const struct fmt_col cmd_list_cols[] = {
	{ "address", FMT_STR }, { "name", FMT_STR },
};

/* rows from the parsed list (target.h), not its lines: a newline in a
 * service's launch arguments neither forges a row nor cuts one; a list
 * that is ambiguous is shown, and fails */
static int cmd_list_node(struct cmd_ctx *c, struct cmd_node *nd)
{
	struct proto_reply r;
	struct target_service *svc = NULL;
	struct err e = { 0 };
	size_t n = 0;
	char addr[16];
	if (cmd_request(c, nd, "list", &r) != 0)
		return -1;
	int rc = cmd_check(nd, "list", &r);
	if (rc == 0)
		rc = target_parse_list(r.lines, r.nlines, TARGET_LIST_SHOW, &svc, &n, &e);
	proto_reply_free(&r);
	for (size_t i = 0; i < n; i++) {
		const char *vals[2] = { addr, svc[i].cmd };
		snprintf(addr, sizeof addr, ":%08x", (unsigned)svc[i].addr);
		cmd_row(nd, vals);
	}
	target_services_free(svc, n);
	if (e.msg[0])
		cmd_fail(nd, e.code, "list", e.msg);
	return rc == 0 && !e.msg[0] ? 0 : -1;
}

const struct cmd_entry cmd_list_entry = {
	.name = "list", .args = "[TARGET]",
	.summary = "every service of the node, with its launch command",
	.options = CMD_OPTIONS(&args_opt_sort), .min = 0, .max = 0,
	.flags = CMD_CONNECT | CMD_TARGETS | CMD_TARGET_OPT | CMD_HANDLES | CMD_LOCAL,
	.cols = cmd_list_cols, .ncols = 2, .node = cmd_list_node,
};
