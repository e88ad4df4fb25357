/* skyctl help [COMMAND]: the same text as --help. */
#include <stdio.h>

#include "cmd.h"

static int cmd_help_exec(struct cmd_ctx *c)
{
	char msg[256];
	const struct cmd_entry *e = NULL;
	struct fmt_buf b = { 0 };
	if (c->argc == 1 && !(e = cmd_find(c->argv[0], msg, sizeof msg))) {
		fprintf(stderr, "skyctl: %s\n", msg);
		return ERR_USAGE;
	}
	cmd_usage(e, &b);
	fwrite(b.p, 1, b.len, stdout);
	fmt_buf_free(&b);
	return 0;
}

const struct cmd_entry cmd_help_entry = {
	.name = "help", .args = "[COMMAND]", .summary = "show the help of skyctl or of a command",
	.min = 0, .max = 1, .exec = cmd_help_exec,
};
