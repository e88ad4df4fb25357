/* skyctl getenv NAME: a key of the node's config (skynet.getenv), one row
 * of key and value.  The console prints a missing key as the text "nil"
 * (tostring of nil): skyctl turns that into an error, exit 1 and no row
 * (--json: a row with value null), as `git config` does for a missing key,
 * so a script can tell "not set" from a value. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

static const struct fmt_col cmd_getenv_cols[] = {
	{ "key", FMT_STR }, { "value", FMT_STR },
};

static int cmd_getenv_node(struct cmd_ctx *c, struct cmd_node *nd)
{
	struct proto_reply r;
	char *line;
	int rc = -1;
	if (asprintf(&line, "getenv %s", c->argv[0]) < 0) {
		cmd_fail(nd, ERR_LOCAL, c->cmd->name, "out of memory");
		return -1;
	}
	if (cmd_request_env(c, nd, line, &r) == 0) {
		rc = cmd_check(nd, line, &r);
		for (size_t i = 0; rc == 0 && i < r.nlines; i++) {
			char *f[2] = { 0 };
			proto_split(r.lines[i], f, 2);
			int unset = f[1] && strcmp(f[1], "nil") == 0;
			if (unset) {
				cmd_fail(nd, ERR_NODE, line, "not set in the node's config");
				f[1] = NULL;
			}
			if (!unset || c->mode == FMT_JSON)
				cmd_row(nd, (const char *const *)f);
		}
		proto_reply_free(&r);
	}
	free(line);
	return rc;
}

const struct cmd_entry cmd_getenv_entry = {
	.name = "getenv", .args = "NAME",
	.summary = "a key of the node's config (skynet.getenv); exit 1 if it is not set",
	.options = CMD_OPTIONS(&args_opt_sort), .min = 1, .max = 1, .flags = CMD_CONNECT,
	.cols = cmd_getenv_cols, .ncols = 2, .node = cmd_getenv_node,
};
