/* skyctl jmem: jemalloc statistics of the node, in bytes (the node prints
 * "  1234567      1.18 Mb"; the first number is kept). */
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"

static const struct fmt_col cmd_jmem_cols[] = {
	{ "key", FMT_STR }, { "mem", FMT_BYTES },
};

static int cmd_jmem_node(struct cmd_ctx *c, struct cmd_node *nd)
{
	struct proto_reply r;
	if (cmd_request(c, nd, "jmem", &r) != 0)
		return -1;
	int rc = cmd_check(nd, "jmem", &r);
	for (size_t i = 0; rc == 0 && i < r.nlines; i++) {
		char *f[2], num[32];
		size_t n = proto_split(r.lines[i], f, 2);
		long long v = n == 2 ? strtoll(f[1], NULL, 10) : 0;
		snprintf(num, sizeof num, "%lld", v);
		const char *vals[2] = { f[0], n == 2 ? num : NULL };
		cmd_row(nd, vals);
	}
	proto_reply_free(&r);
	return rc;
}

const struct cmd_entry cmd_jmem_entry = {
	.name = "jmem", .args = "", .summary = "jemalloc statistics of the node, in bytes",
	.options = CMD_OPTIONS(&args_opt_sort), .min = 0, .max = 0, .flags = CMD_CONNECT,
	.cols = cmd_jmem_cols, .ncols = 2, .node = cmd_jmem_node,
};
