/* skyctl repl [TARGET]: a Lua prompt inside one live service (src/repl.c,
 * evaluated by the agent), or with no TARGET a prompt running console
 * commands on the node.  This file picks the node and the service with the
 * core's target grammar and wires what the prompt borrows from the rest of
 * skyctl: console commands on its own connection, and .inject, .exec, .diff,
 * .rollback and .patches run as the subcommands themselves (this binary in
 * a child process), on the prompt's service. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd.h"
#include "names.h"
#include "repl.h"

struct cmd_repl {
	struct cmd_ctx *ctx;
	struct session_node *sn;
	
};

/* run console command line; print its reply unless quiet */
static int cmd_repl_command(const struct repl_conf *rc, const char *line, int quiet, char **out)
{
	struct cmd_repl *cr = rc->ud;
	struct proto_reply r;
	struct err e = { 0 };
	if (out)
		*out = NULL;
	if (!cr->sn->conn && !(cr->sn->conn = proto_open(cr->sn->addr, rc->timeout, &e))) {
		if (!quiet) {
			fprintf(stderr, "skyctl: %s: ", cr->sn->name);
			fmt_fsafe(stderr, e.msg, strlen(e.msg), "");
			fputc('\n', stderr);
		}
		return e.code;
	}
	if (proto_request(cr->sn->conn, line, &r, &e) != 0) {
		if (!quiet) {
			fprintf(stderr, "skyctl: %s: %s: ", cr->sn->name, line);
			fmt_fsafe(stderr, e.msg, strlen(e.msg), "");
			fputc('\n', stderr);
		}
		net_close(cr->sn->conn);	/* out of step now: a fresh one next time */
		cr->sn->conn = NULL;
		return e.code;
	}
	const char *why = proto_failure(line, &r);
	if (!quiet && r.len) {
		fmt_fsafe(stdout, r.text, r.len, "\n\t");
		putchar('\n');
	}
	if (!quiet && why) {
		fprintf(stderr, "skyctl: %s: ", line);
		fmt_fsafe(stderr, why, strlen(why), "");
		fputc('\n', stderr);
	}
	fflush(stdout);
	if (out)
		*out = strdup(r.text ? r.text : "");
	proto_reply_free(&r);
	return why ? ERR_NODE : 0;
}

/* the one service word names on this node (the dispatcher's resolver, on
 * a fresh `list`); 0 with a message */
static uint32_t cmd_repl_resolve(const struct repl_conf *rc, const char *word)
{
	struct cmd_repl *cr = rc->ud;
	struct cmd_ctx *c = cr->ctx;
	struct cmd_node *nd = &c->nodes[0];
	struct target_list tl = { 0 };
	struct err e = { 0 };
	uint32_t addr = 0;
	if (target_parse(word, &tl, &e) != 0)
		goto done;
	if (tl.n != 1 || (tl.v[0].node && strcmp(tl.v[0].node, cr->sn->name) != 0)) {
		err_set(&e, ERR_USAGE, "%s: one service of %s, please", word, cr->sn->name);
		goto done;
	}
	if (!cr->sn->conn && !(cr->sn->conn = proto_open(cr->sn->addr, rc->timeout, &e)))
		goto done;
	target_services_free(nd->svc, nd->nsvc);	/* services come and go */
	nd->svc = NULL;
	nd->nsvc = 0;
	if (cmd_resolve(c, nd, &tl) != 0) {
		fmt_fsafe(stderr, nd->errs.p ? nd->errs.p : "", nd->errs.len, "\n");
		nd->errs.len = 0;
		nd->status = 0;
		net_close(cr->sn->conn);	/* maybe out of step: a fresh one next time */
		cr->sn->conn = NULL;
		target_list_free(&tl);
		return 0;
	}
	if (nd->errs.len) {
		fmt_fsafe(stderr, nd->errs.p, nd->errs.len, "\n");
		nd->errs.len = 0;
		nd->status = 0;
	} else if (nd->ntargets != 1) {
		err_set(&e, ERR_USAGE, "%s matches %zu services: name one", word, nd->ntargets);
	} else {
		addr = nd->targets[0].addr;
	}
done:
	if (!addr && e.msg[0])
		fprintf(stderr, "skyctl: %s\n", e.msg);
	target_list_free(&tl);
	return addr;
}

/* `skyctl -H NODE --timeout T name :service args...` in a child process
 * (this very binary): the subcommand runs exactly as from a shell, with
 * its own process state; returns its exit status */
static int cmd_repl_sub(const struct repl_conf *rc, const char *name, uint32_t service,
			char **args, int n)
{
	struct cmd_repl *cr = rc->ud;
	char addr[16], timeout[32];
	char **argv = calloc((size_t)n + 8, sizeof *argv);
	int argc = 0, status = ERR_LOCAL;
	if (!argv)
		return ERR_LOCAL;
	snprintf(addr, sizeof addr, ":%08x", (unsigned)service);
	snprintf(timeout, sizeof timeout, "%g", rc->timeout);
	argv[argc++] = "skyctl";
	argv[argc++] = "-H";
	argv[argc++] = cr->sn->addr;
	argv[argc++] = "--timeout";
	argv[argc++] = timeout;
	argv[argc++] = (char *)name;
	argv[argc++] = addr;
	for (int i = 0; i < n; i++)
		argv[argc++] = args[i];
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid == 0) {
		execv("/proc/self/exe", argv);
		fprintf(stderr, "skyctl: cannot run %s: %s\n", name, strerror(errno));
		_exit(ERR_LOCAL);
	}
	int ws;
	while (pid > 0 && waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	if (pid > 0 && WIFEXITED(ws))
		status = WEXITSTATUS(ws);
	else if (pid < 0)
		fprintf(stderr, "skyctl: cannot run %s: %s\n", name, strerror(errno));
	free(argv);
	return status;
}

static int cmd_repl_inject(const struct repl_conf *rc, uint32_t service, char **paths, int n)
{
	return cmd_repl_sub(rc, "inject", service, paths, n);
}

static int cmd_repl_exec_scripts(const struct repl_conf *rc, uint32_t service, char **paths,
				 int n)
{
	return cmd_repl_sub(rc, "exec", service, paths, n);
}

static int cmd_repl_diff(const struct repl_conf *rc, uint32_t service, const char *path)
{
	char *args[1] = { (char *)path };
	return cmd_repl_sub(rc, "diff", service, args, path ? 1 : 0);
}

static int cmd_repl_rollback(const struct repl_conf *rc, uint32_t service, char **opts,
			     int nopts)
{
	return cmd_repl_sub(rc, "rollback", service, opts, nopts);
}

static int cmd_repl_patches(const struct repl_conf *rc, uint32_t service)
{
	return cmd_repl_sub(rc, "patches", service, NULL, 0);
}

/* the dispatcher chose the one node and, given a TARGET, the one service */
static int cmd_repl_exec(struct cmd_ctx *c)
{
	struct cmd_repl cr = { .ctx = c, .sn = &c->sess.v[0] };
	struct repl_conf rc = {
		.node = cr.sn->name, .addr = cr.sn->addr, .timeout = c->o.timeout, .ud = &cr,
		.hooks = {
			.inject = cmd_repl_inject,
			.exec = cmd_repl_exec_scripts,
			.diff = cmd_repl_diff,
			.rollback = cmd_repl_rollback,
			.patches = cmd_repl_patches,
			.resolve = cmd_repl_resolve,
			.command = cmd_repl_command,
		},
	};
	if (c->o.json && isatty(STDIN_FILENO)) {	/* its output waits for the end */
		fprintf(stderr, "skyctl: repl: --json takes the prompt's input from a pipe\n");
		return ERR_USAGE;
	}
	if (c->nodes[0].ntargets)
		rc.service = c->nodes[0].targets[0].addr;
	return repl_run(&rc);
}

/* skyctl help repl: the meta-commands too */
static void cmd_repl_help(struct fmt_buf *b)
{
	fmt_puts(b, "\nAt the prompt, lines starting with '.' are skyctl's own:\n");
	repl_meta_list(b);
}

const struct cmd_entry cmd_repl_entry = {
	.name = "repl", .args = "[TARGET]",
	.summary = "a Lua prompt inside a live service (no TARGET: the node's console)",
	.min = 0, .max = 0,
	.flags = CMD_CONNECT | CMD_TARGETS | CMD_TARGET_OPT | CMD_ONE | CMD_HANDLES | CMD_KEEPCONN |
		 CMD_LOCAL,
	.exec = cmd_repl_exec, .help_more = cmd_repl_help,
};
