/* skyctl stat: cpu seconds, messages, queue length and tasks of every
 * service, joined with its launch command from `list` (both requests go
 * out together).  A service that does not answer in time shows TIMEOUT
 * (null in JSON); the node is told to give up before skyctl does. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

static const struct fmt_col cmd_stat_cols[] = {
	{ "address", FMT_STR }, { "name", FMT_STR }, { "cpu", FMT_NUM },
	{ "message", FMT_INT }, { "mqlen", FMT_INT }, { "task", FMT_INT },
};

int cmd_with_list(struct cmd_ctx *c, struct cmd_node *nd, const char *word,
		  struct proto_reply *r)
{
	char line[64], *lines[2] = { PROTO_LIST, line };
	struct proto_reply rr[2];
	/* the node's own wait, in 1/100 s: half of ours, at most its default 3 s */
	long cs = (long)(c->o.timeout * 50);
	snprintf(line, sizeof line, "%s %ld", word, cs < 1 ? 1 : cs > 300 ? 300 : cs);
	if (cmd_requestv(c, nd, lines, 2, rr) != 0)
		return -1;
	int rc = cmd_services_from(nd, &rr[0]);
	proto_reply_free(&rr[0]);
	if (rc == 0)
		rc = cmd_check(nd, line, &rr[1]);
	if (rc != 0)
		proto_reply_free(&rr[1]);
	else
		*r = rr[1];
	return rc;
}

static int cmd_stat_node(struct cmd_ctx *c, struct cmd_node *nd)
{
	struct proto_reply r;
	if (cmd_with_list(c, nd, "stat", &r) != 0)
		return -1;
	for (size_t i = 0; i < r.nlines; i++) {
		char *f[8];
		size_t n = proto_split(r.lines[i], f, 8);
		const char *cpu = proto_get(f + 1, n - 1, "cpu");
		const char *vals[6] = { f[0], cmd_service_cmd(nd, f[0]), cpu ? cpu : n > 1 ? f[1] : NULL,
					proto_get(f + 1, n - 1, "message"),
					proto_get(f + 1, n - 1, "mqlen"),
					proto_get(f + 1, n - 1, "task") };
		cmd_row(nd, vals);
	}
	proto_reply_free(&r);
	return 0;
}

const struct cmd_entry cmd_stat_entry = {
	.name = "stat", .args = "[TARGET]",
	.summary = "cpu, messages, queue length and tasks of every service",
	.options = CMD_OPTIONS(&args_opt_sort), .min = 0, .max = 0,
	.flags = CMD_CONNECT | CMD_TARGETS | CMD_TARGET_OPT | CMD_HANDLES | CMD_LOCAL,
	.cols = cmd_stat_cols, .ncols = 6, .node = cmd_stat_node,
};
