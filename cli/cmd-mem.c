/* skyctl mem: the Lua memory of every service, in bytes, joined with its
 * launch command.  The node prints "45.85 Kb (snlua agent 1)" or
 * "TIMEOUT (...)"; the latter shows as is (null in JSON). */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

const struct fmt_col cmd_mem_cols[3] = {
	{ "address", FMT_STR }, { "name", FMT_STR }, { "mem", FMT_BYTES },
};

int cmd_mem_rows(struct cmd_ctx *c, struct cmd_node *nd, const char *word)
{
	struct proto_reply r;
	if (cmd_with_list(c, nd, word, &r) != 0)
		return -1;
	for (size_t i = 0; i < r.nlines; i++) {
		char *f[2], bytes[32];
		size_t n = proto_split(r.lines[i], f, 2);
		const char *mem = NULL;
		if (n == 2) {
			char *paren = strstr(f[1], " (");
			if (paren)
				*paren = '\0';
			long long b = fmt_parse_size(f[1]);
			snprintf(bytes, sizeof bytes, "%lld", b);
			mem = b >= 0 ? bytes : f[1];
		}
		const char *vals[3] = { f[0], cmd_service_cmd(nd, f[0]), mem };
		cmd_row(nd, vals);
	}
	proto_reply_free(&r);
	return 0;
}

static int cmd_mem_node(struct cmd_ctx *c, struct cmd_node *nd)
{
	return cmd_mem_rows(c, nd, "mem");
}

const struct cmd_entry cmd_mem_entry = {
	.name = "mem", .args = "[TARGET]", .summary = "Lua memory of every service, in bytes",
	.options = CMD_OPTIONS(&args_opt_sort), .min = 0, .max = 0,
	.flags = CMD_CONNECT | CMD_TARGETS | CMD_TARGET_OPT | CMD_HANDLES | CMD_LOCAL,
	.cols = cmd_mem_cols, .ncols = 3, .node = cmd_mem_node,
};
