/* The command table (it also feeds help and the test that runs every
 * command's --help), lookup by unique prefix, and usage texts. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

#define SKYCTL_VERSION_TEXT "skyctl 0.1.0"

extern const struct cmd_entry cmd_list_entry, cmd_stat_entry, cmd_mem_entry, cmd_gc_entry,
	cmd_info_entry, cmd_ping_entry, cmd_task_entry, cmd_uniqtask_entry, cmd_killtask_entry,
	cmd_kill_entry, cmd_exit_entry, cmd_start_entry, cmd_log_entry, cmd_snax_entry,
	cmd_service_entry, cmd_netstat_entry, cmd_cmem_entry, cmd_jmem_entry,
	cmd_clearcache_entry, cmd_call_entry, cmd_trace_entry, cmd_logon_entry,
	cmd_logoff_entry, cmd_signal_entry, cmd_getenv_entry, cmd_setenv_entry,
	cmd_profactive_entry, cmd_dumpheap_entry, cmd_raw_entry, cmd_inject_entry,
	cmd_help_entry, cmd_top_entry, cmd_stuck_entry, cmd_metrics_entry, cmd_complete_entry;
extern const struct cmd_entry cmd_repl_entry, cmd_history_entry;
extern const struct cmd_entry cmd_apply_entry, cmd_diff_entry, cmd_patches_entry,
	cmd_rollback_entry, cmd_uninstall_entry, cmd_exec_entry, cmd_profile_entry;

/* CMD_AUDIT (a record before and after, in the audit log) is on every
 * command that changes a service or a node: kill, exit, killtask, signal
 * (a service's life and tasks), start, log, snax (new services), setenv,
 * clearcache, logon, logoff, trace, profactive (node and service
 * settings), gc (a full collection in every service, a pause one may need
 * to account for), dumpheap (writes a file on the node), call and raw
 * (they run whatever they are given), inject, exec, apply, rollback, uninstall.  Not
 * on those that only read: list, stat, mem, info, ping, task, uniqtask,
 * service, netstat, cmem, jmem, getenv, diff (its dry run undoes itself),
 * patches, top, metrics, history, help, complete; nor on stuck (its --signal
 * interrupts only the loops it reports, and says so) or repl (its
 * transcript is its record; its .inject and such run as those commands,
 * audited). */
const struct cmd_entry *const cmd_table[] = {
	&cmd_list_entry, &cmd_stat_entry, &cmd_mem_entry, &cmd_gc_entry, &cmd_info_entry,
	&cmd_ping_entry, &cmd_task_entry, &cmd_uniqtask_entry, &cmd_killtask_entry,
	&cmd_kill_entry, &cmd_exit_entry, &cmd_start_entry, &cmd_log_entry, &cmd_snax_entry,
	&cmd_service_entry, &cmd_netstat_entry, &cmd_cmem_entry, &cmd_jmem_entry,
	&cmd_clearcache_entry, &cmd_call_entry, &cmd_trace_entry, &cmd_logon_entry,
	&cmd_logoff_entry, &cmd_signal_entry, &cmd_getenv_entry, &cmd_setenv_entry,
	&cmd_profactive_entry, &cmd_dumpheap_entry, &cmd_raw_entry, &cmd_inject_entry,
	&cmd_exec_entry, &cmd_apply_entry, &cmd_diff_entry, &cmd_patches_entry,
	&cmd_rollback_entry, &cmd_uninstall_entry,
	&cmd_repl_entry, &cmd_history_entry, &cmd_profile_entry,
	&cmd_help_entry, &cmd_top_entry, &cmd_stuck_entry, &cmd_metrics_entry, &cmd_complete_entry, NULL,
};

const char *cmd_version = SKYCTL_VERSION_TEXT;

size_t cmd_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t d[3][33];	/* rows i-2, i-1, i of the table, mod 3 */
	if (la > 32 || lb > 32)
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t *row = d[i % 3], *up = d[(i - 1) % 3], *up2 = d[(i + 1) % 3];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t best = up[j - 1] + (a[i - 1] != b[j - 1]);
			if (up[j] + 1 < best)
				best = up[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    up2[j - 2] + 1 < best)
				best = up2[j - 2] + 1;
			row[j] = best;
		}
	}
	return d[la % 3][lb];
}

/* the message for a name that is no command: the closest commands (at
 * most 2 edits away, and fewer edits than the name is long) as a hint */
static void cmd_unknown(const char *name, char *err, size_t errlen)
{
	size_t best = 3, len = strlen(name);
	char cands[256] = "";
	int n = 0;
	for (int i = 0; cmd_table[i]; i++) {
		size_t d = cmd_edit_distance(name, cmd_table[i]->name);
		if (d >= len || d > best)
			continue;
		if (d < best)
			n = 0, *cands = '\0';
		best = d;
		snprintf(cands + strlen(cands), sizeof cands - strlen(cands), "%s'%s'",
			 n++ ? " or " : "", cmd_table[i]->name);
	}
	if (n)
		snprintf(err, errlen, "unknown command '%s'; did you mean %s?", name, cands);
	else
		snprintf(err, errlen, "unknown command '%s' (see skyctl --help)", name);
}

const struct cmd_entry *cmd_find(const char *name, char *err, size_t errlen)
{
	const struct cmd_entry *hit = NULL;
	size_t len = strlen(name), nhits = 0;
	char cands[256] = "";
	for (int i = 0; cmd_table[i]; i++) {
		if (strcmp(cmd_table[i]->name, name) == 0)
			return cmd_table[i];
		if (strncmp(cmd_table[i]->name, name, len) == 0) {
			hit = cmd_table[i];
			nhits++;
			snprintf(cands + strlen(cands), sizeof cands - strlen(cands), "%s%s",
				 *cands ? ", " : "", hit->name);
		}
	}
	if (nhits == 1)
		return hit;
	if (nhits > 1)
		snprintf(err, errlen, "ambiguous command '%s': %s", name, cands);
	else
		cmd_unknown(name, err, errlen);
	return NULL;
}

static void cmd_usage_main(struct fmt_buf *b)
{
	fmt_puts(b, "usage: skyctl [OPTIONS] COMMAND [ARGS...]\n\n"
		 "A client for the debug console of skynet nodes.\n\nCommands:\n");
	for (int i = 0; cmd_table[i]; i++)
		fmt_printf(b, "  %-11s %s\n", cmd_table[i]->name, cmd_table[i]->summary);
	fmt_puts(b, "\nOptions (also accepted after the command):\n");
	args_usage_opts(NULL, b);
	fmt_puts(b,
		 "\nTargets (commands taking TARGET):\n"
		 "  :a  :0000000a  a    a service handle (hex)\n"
		 "  .name               a registered local name\n"
		 "  %NAME               a global name (skynet.register without a dot)\n"
		 "  @agent  @agent*     every service launched as `snlua agent ...` (globs allowed)\n"
		 "  :a,:b,@gate         several, separated by commas\n"
		 "  game1/:a  */@agent  on node game1 of the node file / on every node\n"
		 "  A selector that matches no service is an error (exit 1); nothing is sent.\n"
		 "\nNode file: Lua syntax, e.g.  nodes = { game1 = \"127.0.0.1:8000\" }\n"
		 "\nThrough ssh (-H, $SKYCTL_HOST, node file): ssh://[USER@]HOST[:SSHPORT]/[IP:]PORT\n"
		 "runs `ssh -W IP:PORT HOST` (IP default 127.0.0.1) with BatchMode=yes and\n"
		 "ConnectTimeout from --timeout; $SKYCTL_SSH adds ssh options (e.g. \"-i KEY\").\n"
		 "ssh's ControlMaster/ControlPersist saves its set-up (~0.3 s) on every run.\n"
		 "\nOutput: a table on a terminal (colour unless NO_COLOR is set), tab-separated\n"
		 "lines in a pipe, JSON with --json. SKYCTL_FORCE_TTY=1 forces the table.\n"
		 "\nExit status:\n"
		 "  0  success\n"
		 "  1  the node or a service reported a failure (<CMD Error>, Can't open,\n"
		 "     kill of a dead address, some targets failed, a selector matched nothing,\n"
		 "     getenv of a key not set, a question answered no)\n"
		 "  2  usage error; kill, exit, signal, rollback --all of several services in a\n"
		 "     pipe without --yes\n"
		 "  3  cannot connect (refused, unknown host, closed before replying)\n"
		 "  4  timed out (--timeout)\n"
		 "  5  protocol error (not a skynet console, connection closed mid-reply)\n"
		 "  6  local input error (unreadable file, script syntax error)\n"
		 "  With several failures, the highest status.\n"
		 "\nEnvironment: SKYCTL_HOST, SKYCTL_SSH (ssh options, split at spaces),\n"
		 "XDG_CONFIG_HOME, NO_COLOR, SKYCTL_FORCE_TTY.\n"
		 "All of it, with files, the ssh form and examples: man skyctl\n");
}

void cmd_usage(const struct cmd_entry *e, struct fmt_buf *b)
{
	if (!e) {
		cmd_usage_main(b);
		return;
	}
	fmt_printf(b, "usage: skyctl [OPTIONS] %s%s%s\n\n%s\n", e->name, *e->args ? " " : "",
		   e->args, e->summary);
	if (e->flags & CMD_TARGETS)
		fmt_puts(b, "TARGET: :a, :0000000a, a, .name, @agent, @agent*, lists with ',', "
			 "node/ prefixes (skyctl --help).\n");
	if (e->options) {
		fmt_puts(b, "\nOptions:\n");
		args_usage_opts(e, b);
	}
	if (e->help_more)
		e->help_more(b);
	fmt_puts(b, "\nGlobal options:\n");
	args_usage_opts(NULL, b);
}
