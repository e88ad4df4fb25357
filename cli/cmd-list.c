/* skyctl list: every service of the node, with its launch command. */
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

static const struct fmt_col cmd_list_cols[] = {
	{ "address", FMT_STR }, { "name", FMT_STR },
};

/* a service's row: its cells are in the reply (the table owns it) */
static int cmd_list_row(uint32_t addr, char *line, char *cmd, void *ud)
{
	struct cmd_node *nd = ud;
	char a[16];
	snprintf(a, sizeof a, ":%08x", (unsigned)addr);
	cmd[-1] = '\0';		/* its handle as the console wrote it, if that is ours */
	const char *vals[2] = { strcmp(line, a) == 0 ? line : a, cmd };
	cmd_row(nd, vals);
	return nd->out.oom;
}

/* rows from the parsed list (target.h), not its lines: a newline in a
 * service's launch arguments neither forges a row nor cuts one; a list
 * that is ambiguous is shown, and fails */
static int cmd_list_node(struct cmd_ctx *c, struct cmd_node *nd)
{
	struct proto_reply r;
	struct err e = { 0 };
	size_t n, size;
	(void)c;
	if (proto_request_list(nd->sn->conn, &r, &e) != 0) {
		cmd_fail(nd, e.code, "list", e.msg);
		return -1;
	}
	int rc = cmd_check(nd, "list", &r);
	char *lines = proto_reply_take_lines(&r, &n, &size);
	if (rc != 0)
		free(lines);
	else if ((rc = fmt_table_own(&nd->out, lines, size)) == 0)
		rc = target_walk_list(lines, n, TARGET_LIST_SHOW, cmd_list_row, nd, &e);
	else
		cmd_fail(nd, ERR_LOCAL, "list", "out of memory");
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
