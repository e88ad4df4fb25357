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
	cmd_help_entry, cmd_top_entry, cmd_stuck_entry;
extern const struct cmd_entry cmd_repl_entry, cmd_history_entry;

const struct cmd_entry *const cmd_table[] = {
	&cmd_list_entry, &cmd_stat_entry, &cmd_mem_entry, &cmd_gc_entry, &cmd_info_entry,
	&cmd_ping_entry, &cmd_task_entry, &cmd_uniqtask_entry, &cmd_killtask_entry,
	&cmd_kill_entry, &cmd_exit_entry, &cmd_start_entry, &cmd_log_entry, &cmd_snax_entry,
	&cmd_service_entry, &cmd_netstat_entry, &cmd_cmem_entry, &cmd_jmem_entry,
	&cmd_clearcache_entry, &cmd_call_entry, &cmd_trace_entry, &cmd_logon_entry,
	&cmd_logoff_entry, &cmd_signal_entry, &cmd_getenv_entry, &cmd_setenv_entry,
	&cmd_profactive_entry, &cmd_dumpheap_entry, &cmd_raw_entry, &cmd_inject_entry,
	&cmd_repl_entry, &cmd_history_entry,
	&cmd_help_entry, &cmd_top_entry, &cmd_stuck_entry, NULL,
};

const char *cmd_version = SKYCTL_VERSION_TEXT;

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
		snprintf(err, errlen, "unknown command '%s' (see skyctl --help)", name);
	return NULL;
}

static void cmd_usage_main(struct fmt_buf *b)
{
	fmt_puts(b, "usage: skyctl [OPTIONS] COMMAND [ARGS...]\n\n"
		 "A client for the debug console of skynet nodes.\n\nCommands:\n");
	for (int i = 0; cmd_table[i]; i++)
		fmt_printf(b, "  %-11s %s\n", cmd_table[i]->name, cmd_table[i]->summary);
	fmt_puts(b, "\nOptions (also accepted after the command):\n");
	args_usage_opts(0, b);
	fmt_puts(b,
		 "\nTargets (commands taking TARGET):\n"
		 "  :a  :0000000a  a    a service handle (hex)\n"
		 "  .name               a registered local name\n"
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
		 "     kill of a dead address, some targets failed, a selector matched nothing)\n"
		 "  2  usage error\n"
		 "  3  cannot connect (refused, unknown host, closed before replying)\n"
		 "  4  timed out (--timeout)\n"
		 "  5  protocol error (not a skynet console, connection closed mid-reply)\n"
		 "  6  local input error (unreadable file, script syntax error)\n"
		 "  With several failures, the highest status.\n"
		 "\nEnvironment: SKYCTL_HOST, SKYCTL_SSH (ssh options, split at spaces),\n"
		 "XDG_CONFIG_HOME, NO_COLOR, SKYCTL_FORCE_TTY.\n");
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
	if (e->opts) {
		fmt_puts(b, "\nOptions:\n");
		args_usage_opts(e->opts, b);
	}
	fmt_puts(b, "\nGlobal options:\n");
	args_usage_opts(0, b);
}
