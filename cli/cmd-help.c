/* skyctl help [COMMAND]: the same text as --help.  `skyctl help hotfix`:
 * the hot-fix guide, docs/hotfix.md, embedded at build time. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "embed.h"

extern const struct embed_file skyctl_lua[];

static int cmd_help_exec(struct cmd_ctx *c)
{
	char msg[256];
	const struct cmd_entry *e = NULL;
	struct fmt_buf b = { 0 };
	const struct embed_file *guide = embed_find(skyctl_lua, "hotfix.md");
	if (c->argc == 1 && guide && strcmp(c->argv[0], "hotfix") == 0) {
		fwrite(guide->data, 1, guide->size, stdout);
		return 0;
	}
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
	.name = "help", .args = "[COMMAND | hotfix]",
	.summary = "show the help of skyctl or of a command; hotfix: the hot-fix guide",
	.min = 0, .max = 1, .exec = cmd_help_exec,
};
