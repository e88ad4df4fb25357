/* skyctl history [ID]: the prompt's session transcripts (src/history_log.c):
 * with no ID a list of sessions (id, start, node, service, lines typed),
 * with ID one session whole.  A pattern (an extended regular expression)
 * keeps the sessions and lines that match: `skyctl history -- --grep
 * PATTERN [--session ID]` until the option parser knows --grep/--session. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "history.h"

/* the value of option name ("--grep") at argv[*i], as "--grep X" or
 * "--grep=X"; NULL if argv[*i] is not that option */
static const char *cmd_history_opt(struct cmd_ctx *c, int *i, const char *name)
{
	size_t n = strlen(name);
	const char *a = c->argv[*i];
	if (strncmp(a, name, n) != 0)
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n] || *i + 1 >= c->argc)
		return NULL;
	return c->argv[++*i];
}

static int cmd_history_exec(struct cmd_ctx *c)
{
	const char *grep = NULL, *id = NULL, *v;
	char err[512];
	for (int i = 0; i < c->argc; i++) {
		if ((v = cmd_history_opt(c, &i, "--grep")))
			grep = v;
		else if ((v = cmd_history_opt(c, &i, "--session")))
			id = v;
		else if (c->argv[i][0] != '-' && !id)
			id = c->argv[i];
		else {
			fprintf(stderr, "skyctl: history: unexpected '%s' (see skyctl history --help)\n",
				c->argv[i]);
			return ERR_USAGE;
		}
	}
	int rc = id ? history_session(stdout, id, grep, err, sizeof err) :
		history_sessions(stdout, grep, err, sizeof err);
	if (rc != 0)
		fprintf(stderr, "skyctl: history: %s\n", err);
	return rc < 0 ? ERR_LOCAL : rc;
}

const struct cmd_entry cmd_history_entry = {
	.name = "history", .args = "[ID] [-- --grep PATTERN] [--session ID]",
	.summary = "the repl's session transcripts: list them, show one, search them",
	.min = 0, .max = 4,
	.exec = cmd_history_exec,
};
