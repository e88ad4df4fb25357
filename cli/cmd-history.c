/* skyctl history [ID]: the prompt's session transcripts (src/history_log.c):
 * with no ID a list of sessions (id, start, node, service, lines typed),
 * with ID one session whole.  A pattern (an extended regular expression)
 * keeps the sessions and lines that match: `skyctl history --grep PATTERN
 * [--session ID]`. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "history.h"

static const struct args_opt history_opt_grep = {
	.lng = "grep", .arg = "PATTERN",
	.help = "only sessions and lines matching PATTERN (extended regex)",
};
static const struct args_opt history_opt_session = {
	.lng = "session", .arg = "ID",
	.help = "show session ID (as the ID argument does)",
};

static int cmd_history_exec(struct cmd_ctx *c)
{
	const char *grep = cmd_opt(c, &history_opt_grep), *id = cmd_opt(c, &history_opt_session);
	struct err err;
	if (c->argc == 1 && id && strcmp(id, c->argv[0]) != 0) {
		fprintf(stderr, "skyctl: history: two sessions: '%s' and '%s'\n", id, c->argv[0]);
		return ERR_USAGE;
	}
	if (c->argc == 1)
		id = c->argv[0];
	int rc = id ? history_session(stdout, id, grep, &err) : history_sessions(stdout, grep, &err);
	if (rc != 0)
		fprintf(stderr, "skyctl: history: %s\n", err.msg);
	return rc ? err.code : 0;
}

const struct cmd_entry cmd_history_entry = {
	.name = "history", .args = "[ID]",
	.summary = "the repl's session transcripts: list them, show one, search them",
	.options = CMD_OPTIONS(&history_opt_grep, &history_opt_session), .min = 0, .max = 1,
	.exec = cmd_history_exec,
};
