/* The question a destructive command (CMD_CONFIRM: kill, exit, signal,
 * rollback --all) asks before it touches more than one service, once its
 * targets are settled and before anything is sent (run.c).  On a
 * terminal it lists them and waits for "y"; --yes skips it; a pipe is
 * never asked: without --yes the command refuses (exit 2), so a script
 * that selects more than it meant to stops before doing harm. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cmd.h"

#define CONFIRM_SHOWN 20	/* services listed before "... and N more" */

const struct args_opt args_opt_yes = {
	.lng = "yes",
	.help = "do not ask before touching more than one service (needed in a pipe)",
};

/* the services the command would touch, one per line, on stderr */
static void confirm_list(const struct cmd_ctx *c, size_t total)
{
	size_t shown = 0;
	for (size_t i = 0; i < c->sess.n; i++) {
		const struct cmd_node *nd = &c->nodes[i];
		for (size_t k = 0; k < nd->ntargets && shown < CONFIRM_SHOWN; k++, shown++) {
			const struct target *t = &nd->targets[k];
			const char *what = t->cmd ? t->cmd : t->name ? t->name : "";
			fprintf(stderr, "  %s%s:%08x  ", c->sess.named ? nd->sn->name : "",
				c->sess.named ? "/" : "", (unsigned)t->addr);
			fmt_fsafe(stderr, what, strlen(what), "");	/* as the node has it */
			fputc('\n', stderr);
		}
	}
	if (total > shown)
		fprintf(stderr, "  ... and %zu more\n", total - shown);
}

/* 0: go on; else the exit status, with why on stderr (nothing was sent) */
int confirm_targets(struct cmd_ctx *c, size_t ntargets)
{
	const struct cmd_entry *cmd = c->cmd;
	char answer[64];
	if (!(cmd->flags & CMD_CONFIRM) || ntargets < 2 || cmd_opt(c, &args_opt_yes) ||
	    (cmd->confirm_when && !cmd_opt(c, cmd->confirm_when)))
		return 0;
	if (!isatty(STDIN_FILENO) || !isatty(STDERR_FILENO)) {
		fprintf(stderr, "skyctl: %s: %zu services selected and no terminal to ask on; "
			"nothing done (give --yes to go ahead)\n", cmd->name, ntargets);
		return ERR_USAGE;
	}
	fprintf(stderr, "skyctl: %s%s%s would touch %zu services:\n", cmd->name,
		cmd->confirm_when ? " --" : "", cmd->confirm_when ? cmd->confirm_when->lng : "",
		ntargets);
	confirm_list(c, ntargets);
	fprintf(stderr, "Go ahead? [y/N] ");
	fflush(stderr);
	if (!fgets(answer, sizeof answer, stdin))
		answer[0] = '\0';
	size_t n = strcspn(answer, "\r\n");
	answer[n] = '\0';
	while (n && isspace((unsigned char)answer[n - 1]))
		answer[--n] = '\0';
	if (strcasecmp(answer, "y") == 0 || strcasecmp(answer, "yes") == 0)
		return 0;
	fprintf(stderr, "skyctl: %s: nothing done\n", cmd->name);
	return ERR_NODE;
}
