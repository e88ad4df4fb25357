/* skyctl's main: parse, dispatch, and decide the exit status; the only
 * place that exits.  stdout is flushed and checked, so a full disk or a
 * closed pipe is not a silent success. */
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "cmd.h"

/* print c's help or version; 0 */
static int main_help(const struct cmd_ctx *c)
{
	struct fmt_buf b = { 0 };
	if (c->o.version && !c->o.help)
		fmt_printf(&b, "%s\n", cmd_version);
	else
		cmd_usage(c->cmd, &b);
	fwrite(b.p, 1, b.len, stdout);
	fmt_buf_free(&b);
	return 0;
}

int main(int argc, char **argv)
{
	struct cmd_ctx c;
	struct err e = { 0 };
	int status;
	memset(&c, 0, sizeof c);
	signal(SIGPIPE, SIG_IGN);
#ifdef __GLIBC__
	/* a big block (a reply, its lines) is mapped and, freed, given back:
	 * glibc would raise its threshold to the biggest freed one, and the
	 * blocks a big reply grows after that would stay in the heap, twice */
	mallopt(M_MMAP_THRESHOLD, 256 << 10);
#endif
	if (args_parse(argc, argv, &c, &e) != 0) {
		fprintf(stderr, "skyctl: %s\n", e.msg);
		if (c.cmd)
			fprintf(stderr, "usage: skyctl [OPTIONS] %s%s%s (see skyctl %s --help)\n",
				c.cmd->name, *c.cmd->args ? " " : "", c.cmd->args, c.cmd->name);
		status = e.code;
	} else if (c.o.help || c.o.version) {
		status = main_help(&c);
	} else if (!c.cmd) {
		struct fmt_buf b = { 0 };
		cmd_usage(NULL, &b);
		fputs(b.p ? b.p : "", stderr);
		fmt_buf_free(&b);
		status = ERR_USAGE;
	} else {
		status = run_command(&c);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		/* a reader that went away (| head) needs no message, only the status */
		if (errno != EPIPE)
			fprintf(stderr, "skyctl: cannot write the output: %s\n", strerror(errno));
		status = err_worst(status, ERR_LOCAL);
	}
	/* a batch left after a second Ctrl-C: its rounds in flight still run
	 * on their threads with their memory, so leave without the exit
	 * handlers (LeakSanitizer's would report that memory) */
	if (batch_abandoned())
		_exit(status);
	run_free(&c);
	if (c.target_spec && !c.every)	/* argv was advanced past the target list */
		c.argv--;
	free(c.argv);
	return status;
}
