/* The dispatcher's body: everything the command table's flags ask for.
 * Targets and nodes are checked before anything is sent; then, nodes in
 * parallel: connect, fetch `list` when needed, resolve targets; then, if
 * every selector matched something, run the command (per target commands
 * are pipelined: a batch of lines written at once, replies read in order);
 * then one table is rendered, stdout written and checked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentcmd.h"
#include "cmd.h"

#define RUN_BATCH 256	/* lines written before their replies are read */

/* phase one, per node: connect (the first line resolving needs goes
 * with the connection), resolve targets */
static void run_prepare(void *ud, size_t i)
{
	struct cmd_ctx *c = ud;
	struct cmd_node *nd = &c->nodes[i];
	const struct cmd_entry *cmd = c->cmd;
	struct err e = { 0 };
	int targets = (cmd->flags & CMD_TARGETS) && c->targets.n;
	const char *first = targets ? cmd_resolve_first(c, &c->targets) : NULL;
	nd->sn->conn = proto_open_send(nd->sn->addr, c->o.timeout, first, &e);
	if (!nd->sn->conn) {
		cmd_fail(nd, e.code, cmd->name, e.msg);
		return;
	}
	if (first && cmd_resolve_read(nd, first) != 0)
		return;
	if (targets)
		cmd_resolve(c, nd, &c->targets);
}

void run_reconnect(struct cmd_ctx *c)
{
	for (size_t i = 0; i < c->sess.n; i++) {
		struct cmd_node *nd = &c->nodes[i];
		target_services_free(nd->svc, nd->nsvc);
		nd->svc = NULL;
		nd->nsvc = 0;
	}
	session_run(c->sess.n, run_prepare, c);
}

/* read the reply to lines[i] of target t and add its row */
static int run_target_reply(struct cmd_ctx *c, struct cmd_node *nd, const struct target *t,
			    const char *line)
{
	struct proto_reply r;
	struct err e = { 0 };
	char addr[64], buf[64], remote[300];
	if (proto_read_reply(nd->sn->conn, &r, 0, &e) != 0) {
		cmd_fail(nd, e.code, line, e.msg);
		return -1;
	}
	const char *why = cmd_remote_failure(nd, t, proto_failure(line, &r), remote, sizeof remote);
	target_format(t, TARGET_FORM_COLON, addr, sizeof addr);
	if (why)
		cmd_fail(nd, ERR_NODE, line, why);
	if (nd->results && asprintf(&nd->results[t - nd->targets], "%s%s", why ? "failed: " : "ok",
				    why ? why : "") < 0)
		nd->results[t - nd->targets] = NULL;
	if (!why || c->mode == FMT_JSON) {
		const char *v = why ? NULL : c->cmd->value ? c->cmd->value(&r, buf, sizeof buf) : r.text;
		char *json = !why && c->cmd->json ? c->cmd->json(&r) : NULL;
		const char *vals[5] = { addr, v, why ? "false" : "true", why, json };
		cmd_row(nd, vals);
		free(json);
	}
	proto_reply_free(&r);
	return 0;
}

/* the default per-node work of a target command: one line per target */
static void run_targets(struct cmd_ctx *c, struct cmd_node *nd)
{
	const struct cmd_entry *cmd = c->cmd;
	struct err e = { 0 };
	char *args = cmd_join(c, 0, c->argc);
	char **lines = calloc(nd->ntargets + 1, sizeof *lines);
	if (cmd->flags & CMD_FRESH) {
		net_close(nd->sn->conn);
		nd->sn->conn = proto_open(nd->sn->addr, c->o.timeout, &e);
		if (!nd->sn->conn) {
			cmd_fail(nd, e.code, cmd->name, e.msg);
			goto done;
		}
	}
	for (size_t i = 0; args && lines && i < nd->ntargets; i++) {
		char addr[64];
		target_format(&nd->targets[i], cmd->form, addr, sizeof addr);
		if (asprintf(&lines[i], "%s %s%s%s", cmd->console ? cmd->console : cmd->name, addr,
			     *args ? " " : "", args) < 0)
			lines[i] = NULL;
		if (!lines[i]) {
			cmd_fail(nd, ERR_LOCAL, cmd->name, "out of memory");
			goto done;
		}
	}
	for (size_t b = 0; b < nd->ntargets; b += RUN_BATCH) {
		size_t n = nd->ntargets - b < RUN_BATCH ? nd->ntargets - b : RUN_BATCH;
		if (proto_sendv(nd->sn->conn, lines + b, n, &e) != 0) {
			cmd_fail(nd, e.code, lines[b], e.msg);
			goto done;
		}
		for (size_t i = b; i < b + n; i++)
			if (run_target_reply(c, nd, &nd->targets[i], lines[i]) != 0)
				goto done;
	}
done:
	for (size_t i = 0; lines && i < nd->ntargets; i++)
		free(lines[i]);
	free(lines);
	free(args);
}

/* the rows a TARGET keeps: their address among the targets' handles */
struct run_kept {
	const uint32_t *handles;
	size_t n;
	int col;		/* the rows' address column, or -1: none kept */
};

static int run_keep(char *const *row, void *ud)
{
	const struct run_kept *k = ud;
	if (k->col < 0)
		return 0;
	unsigned long a = row[k->col] && row[k->col][0] == ':' ?
		strtoul(row[k->col] + 1, NULL, 16) : 0;
	return a == (uint32_t)a && cmd_handle_in(k->handles, k->n, (uint32_t)a);
}

/* a node-wide command given a TARGET (CMD_TARGET_OPT): only the rows of
 * its services */
static void run_filter(struct cmd_node *nd)
{
	uint32_t *h = cmd_target_handles(nd);
	struct run_kept k = { h, nd->ntargets, fmt_col_index(&nd->out, "address") };
	if (!h) {
		nd->out.oom = 1;
		return;
	}
	fmt_keep(&nd->out, run_keep, &k);
	free(h);
}

/* phase two, per node */
static void run_node(void *ud, size_t i)
{
	struct cmd_ctx *c = ud;
	struct cmd_node *nd = &c->nodes[i];
	if (!nd->sn->conn || nd->status > ERR_NODE)
		return;
	if (c->cmd->node) {
		c->cmd->node(c, nd);
	} else if (nd->ntargets && (!c->cmd->before || c->cmd->before(c, nd) == 0)) {
		run_targets(c, nd);
		if (c->cmd->after)
			c->cmd->after(c, nd);
	}
	if (c->cmd->node && c->targets.n)
		run_filter(nd);
}

/* the "pending" records, and room for the per-target results; an exit
 * status: nothing is sent without its record */
static int run_audit_before(struct cmd_ctx *c)
{
	for (size_t i = 0; i < c->sess.n; i++)
		if (c->nodes[i].ntargets)
			c->nodes[i].results = calloc(c->nodes[i].ntargets, sizeof(char *));
	return cmd_audit_run(c, 0) != 0 ? ERR_LOCAL : 0;
}

/* 0 if every selector matched a service on a node that answered */
static int run_check_matched(struct cmd_ctx *c)
{
	int rc = 0;
	for (size_t s = 0; s < c->targets.n; s++) {
		size_t total = 0;
		int lost = 0;
		for (size_t i = 0; i < c->sess.n; i++) {
			total += c->nodes[i].matched[s];
			lost |= session_applies(&c->targets.v[s], &c->sess.v[i]) &&
				c->nodes[i].status != 0;
		}
		if (total == 0 && !lost) {
			fprintf(stderr, "skyctl: %s: %s: no service matches\n", c->cmd->name,
				c->targets.v[s].orig);
			rc = ERR_NODE;
		}
	}
	return rc;
}

/* the target list as the entry's flags take it; -1 with e set */
static int run_targets_parse(struct cmd_ctx *c, struct err *e)
{
	const struct cmd_entry *cmd = c->cmd;
	if (target_parse(c->target_spec, &c->targets, e) != 0)
		return -1;
	if ((cmd->flags & CMD_ONE) && c->targets.n > 1)
		return err_set(e, ERR_USAGE, "%s: one service, please (not a list)", cmd->name);
	return 0;
}

/* Parsing, the node file, the nodes: once, here, for every command;
 * -1 with e set */
static int run_setup(struct cmd_ctx *c, struct err *e)
{
	const struct cmd_entry *cmd = c->cmd;
	const struct target_list *tl = NULL;
	if (c->target_spec) {
		if (run_targets_parse(c, e) != 0)
			return -1;
		tl = &c->targets;
	}
	if ((c->o.config || session_needs_config(&c->o.sess, tl)) &&
	    config_load(c->o.config, &c->config, e) != 0)
		return -1;
	if (session_select(&c->sess, &c->config, &c->o.sess, tl, e) != 0)
		return -1;
	if ((cmd->flags & CMD_ONE) && c->sess.n != 1)
		return err_set(e, ERR_USAGE, "%s: one node, please (%zu match)", cmd->name, c->sess.n);
	int ncols = cmd->ncols + 1;
	c->cols = calloc((size_t)ncols, sizeof *c->cols);
	c->nodes = calloc(c->sess.n, sizeof *c->nodes);
	if (!c->cols || !c->nodes)
		return err_set(e, ERR_LOCAL, "out of memory");
	c->cols[0] = (struct fmt_col){ "node", FMT_STR };
	if (cmd->ncols)
		memcpy(c->cols + 1, cmd->cols, (size_t)cmd->ncols * sizeof *c->cols);
	for (size_t i = 0; i < c->sess.n; i++) {
		c->nodes[i].sn = &c->sess.v[i];
		fmt_table_init(&c->nodes[i].out, c->cols, ncols);
		c->nodes[i].matched = calloc(c->targets.n + 1, sizeof(size_t));
		if (!c->nodes[i].matched)
			return err_set(e, ERR_LOCAL, "out of memory");
	}
	if (c->o.sort) {
		struct fmt_table probe;
		fmt_table_init(&probe, c->cols, ncols);
		probe.hide_json = c->sess.named ? 0 : 1;
		if (fmt_sort(&probe, c->o.sort, e) != 0)
			return -1;
	}
	c->mode = c->o.json ? FMT_JSON : FMT_TSV;
	const char *force = getenv("SKYCTL_FORCE_TTY"), *nocolor = getenv("NO_COLOR");
	if (!c->o.json && ((force && strcmp(force, "1") == 0) || isatty(STDOUT_FILENO))) {
		c->mode = FMT_TABLE;
		c->color = !(nocolor && *nocolor);
	}
	return 0;
}

int run_command(struct cmd_ctx *c)
{
	struct err e = { 0 };
	int status = 0;
	size_t ntargets = 0;
	/* an agent command's own exec wraps the driver (apply --follow) */
	int (*exec)(struct cmd_ctx *) = c->cmd->flags & CMD_AGENT && !c->cmd->exec ?
		agentrun_exec : c->cmd->exec;
	if (run_setup(c, &e) != 0) {
		fputs("skyctl: ", stderr);
		fmt_fsafe(stderr, e.msg, strlen(e.msg), "");
		fputc('\n', stderr);
		return e.code;
	}
	if (c->o.json)
		output_json_open(c);
	if (c->cmd->flags & CMD_CONNECT) {
		session_run(c->sess.n, run_prepare, c);
		for (size_t i = 0; i < c->sess.n; i++)
			ntargets += c->nodes[i].ntargets;
		status = run_check_matched(c);
		if (!status && (c->cmd->flags & CMD_ONE) && c->targets.n && ntargets != 1 &&
		    !c->nodes[0].status) {	/* else the node said why */
			fprintf(stderr, "skyctl: %s matches %zu services: name one\n",
				c->targets.v[0].orig, ntargets);
			status = ERR_USAGE;
		}
		/* a batch starts only if every node is ready, or with --keep-going
		 * on those that are (the others' errors are reported at the end);
		 * with none ready, their errors are all there is to say */
		int skip_lost = (c->cmd->flags & CMD_AGENT) &&
				(c->cmd->agent->keep_going || cmd_opt(c, &agentcmd_opt_keep_going));
		int any_ready = 0;
		for (size_t i = 0; i < c->sess.n; i++)
			any_ready |= !c->nodes[i].status;
		for (size_t i = 0; exec && !(skip_lost && any_ready) && i < c->sess.n; i++)
			if (c->nodes[i].status)
				status = err_worst(status, c->nodes[i].status);
		if (status == 0)
			status = confirm_targets(c, ntargets);
		if (status == 0 && !exec && (c->cmd->flags & CMD_AUDIT))
			status = run_audit_before(c);
		if (status == 0 && !exec)
			session_run(c->sess.n, run_node, c);
		if (status == 0 && !exec && (c->cmd->flags & CMD_AUDIT))
			cmd_audit_run(c, 1);
	}
	if (status == 0 && exec) {
		for (size_t i = 0; !(c->cmd->flags & (CMD_KEEPCONN | CMD_AGENT)) && i < c->sess.n; i++) {
			net_close(c->sess.v[i].conn);
			c->sess.v[i].conn = NULL;
		}
		status = output_exec(c, exec);
	}
	if (c->cmd->ncols)
		status = err_worst(status, output_rows(c, ntargets));
	for (size_t i = 0; i < c->sess.n; i++) {
		struct cmd_node *nd = &c->nodes[i];
		if (nd->errs.len)
			fmt_fsafe(stderr, nd->errs.p, strlen(nd->errs.p), "\n");
		status = err_worst(status, nd->status);
	}
	if (c->audit_failed && !c->o.no_audit)
		status = err_worst(status, ERR_LOCAL);
	if (c->o.json)
		output_json(c, status);
	return status;
}

void run_free(struct cmd_ctx *c)
{
	for (size_t i = 0; c->nodes && i < c->sess.n; i++) {
		struct cmd_node *nd = &c->nodes[i];
		target_services_free(nd->svc, nd->nsvc);
		free(nd->targets);
		free(nd->matched);
		for (size_t k = 0; nd->results && k < nd->ntargets; k++)
			free(nd->results[k]);
		free(nd->results);
		fmt_table_free(&nd->out);
		fmt_buf_free(&nd->errs);
	}
	free(c->nodes);
	free(c->cols);
	fmt_buf_free(&c->json);
	fmt_buf_free(&c->json_summary);
	session_free(&c->sess);
	config_free(&c->config);
	target_list_free(&c->targets);
}
