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

#include "cmd.h"
#include "names.h"

#define RUN_BATCH 256	/* lines written before their replies are read */

const struct fmt_col cmd_output_cols[1] = { { "output", FMT_LINES } };
const struct fmt_col cmd_target_cols[4] = {
	{ "address", FMT_STR }, { "output", FMT_LINES }, { "ok", FMT_BOOL }, { "error", FMT_STR },
};

char *cmd_join(const struct cmd_ctx *c, int i, int end)
{
	size_t len = 1;
	for (int k = i; k < end; k++)
		len += strlen(c->argv[k]) + 1;
	char *s = malloc(len);
	if (!s)
		return NULL;
	s[0] = '\0';
	for (int k = i; k < end; k++) {
		if (k > i)
			strcat(s, " ");
		strcat(s, c->argv[k]);
	}
	return s;
}

void cmd_fail(struct cmd_node *nd, int code, const char *what, const char *msg)
{
	fmt_printf(&nd->errs, "skyctl: %s: %s: %s\n", nd->sn->name, what, msg);
	nd->status = err_worst(nd->status, code);
}

int cmd_request(struct cmd_ctx *c, struct cmd_node *nd, const char *line, struct proto_reply *r)
{
	struct err e = { 0 };
	(void)c;
	if (proto_request(nd->sn->conn, line, r, &e) != 0) {
		cmd_fail(nd, e.code, line, e.msg);
		return -1;
	}
	return 0;
}

int cmd_check(struct cmd_node *nd, const char *line, const struct proto_reply *r)
{
	const char *why = proto_failure(line, r);
	if (!why)
		return 0;
	cmd_fail(nd, ERR_NODE, line, why);
	return -1;
}

void cmd_row(struct cmd_node *nd, const char *const *vals)
{
	const char *row[32] = { nd->sn->name };
	for (int i = 1; i < nd->out.ncols && i < 32; i++)
		row[i] = vals[i - 1];
	fmt_add_row(&nd->out, row);
}

int cmd_requestv(struct cmd_ctx *c, struct cmd_node *nd, char *const *lines, size_t n,
		 struct proto_reply *r)
{
	struct err e = { 0 };
	(void)c;
	if (proto_sendv(nd->sn->conn, lines, n, &e) != 0) {
		cmd_fail(nd, e.code, lines[0], e.msg);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (proto_read_reply(nd->sn->conn, &r[i], 0, &e) != 0) {
			cmd_fail(nd, e.code, lines[i], e.msg);
			while (i-- > 0)
				proto_reply_free(&r[i]);
			return -1;
		}
	return 0;
}

int cmd_services_from(struct cmd_node *nd, const struct proto_reply *r)
{
	struct err e = { 0 };
	if (cmd_check(nd, "list", r) != 0)
		return -1;
	if (target_parse_list(r->lines, r->nlines, &nd->svc, &nd->nsvc, &e) != 0) {
		cmd_fail(nd, e.code, "list", e.msg);
		return -1;
	}
	return 0;
}

/* read the reply to the `list` sent with the connection into nd->svc */
static int run_read_list(struct cmd_node *nd)
{
	struct proto_reply r;
	struct err e = { 0 };
	if (proto_read_reply(nd->sn->conn, &r, 0, &e) != 0) {
		cmd_fail(nd, e.code, "list", e.msg);
		return -1;
	}
	int rc = cmd_services_from(nd, &r);
	proto_reply_free(&r);
	return rc;
}

const char *cmd_service_cmd(const struct cmd_node *nd, const char *addr)
{
	unsigned long a;
	char *end;
	if (addr[0] != ':')
		return NULL;
	a = strtoul(addr + 1, &end, 16);
	for (size_t i = 0; !*end && i < nd->nsvc; i++)
		if (nd->svc[i].addr == a)
			return nd->svc[i].cmd;
	return NULL;
}

/* word and the positional arguments as one console line (malloc'd) */
static char *run_line(const struct cmd_ctx *c, const char *word)
{
	char *args = cmd_join(c, 0, c->argc), *line = NULL;
	if (args && asprintf(&line, "%s%s%s", word ? word : "", word && *args ? " " : "", args) < 0)
		line = NULL;
	free(args);
	return line;
}

int cmd_kv(struct cmd_ctx *c, struct cmd_node *nd, const char *word)
{
	struct proto_reply r;
	char *line = run_line(c, word);
	size_t max = (size_t)c->cmd->ncols < 32 ? (size_t)c->cmd->ncols : 32;
	int rc = -1;
	if (!line)
		cmd_fail(nd, ERR_LOCAL, c->cmd->name, "out of memory");
	else if (cmd_request(c, nd, line, &r) == 0) {
		rc = cmd_check(nd, line, &r);
		for (size_t i = 0; rc == 0 && i < r.nlines; i++) {
			char *f[32] = { 0 };
			proto_split(r.lines[i], f, max);
			cmd_row(nd, (const char *const *)f);
		}
		proto_reply_free(&r);
	}
	free(line);
	return rc;
}

int cmd_output(struct cmd_ctx *c, struct cmd_node *nd, const char *word)
{
	struct proto_reply r;
	char *line = run_line(c, word);
	int rc = -1;
	if (!line)
		cmd_fail(nd, ERR_LOCAL, c->cmd->name, "out of memory");
	else if (cmd_request(c, nd, line, &r) == 0) {
		rc = cmd_check(nd, line, &r);
		if (rc == 0) {
			const char *vals[1] = { r.text };
			cmd_row(nd, vals);
		}
		proto_reply_free(&r);
	}
	free(line);
	return rc;
}

/* ---- phases ---- */

static int run_applies(const struct target_sel *sel, void *ud)
{
	return session_applies(sel, ud);
}

/* kill/exit of an address that is not in `list` would be framed as
 * success (docs/protocol.md, Quirks): drop such targets with an error */
static void run_check_alive(struct cmd_ctx *c, struct cmd_node *nd)
{
	size_t k = 0;
	for (size_t i = 0; i < nd->ntargets; i++) {
		struct target *t = &nd->targets[i];
		char what[64], addr[32];
		if (t->name || t->cmd) {
			nd->targets[k++] = *t;
			continue;
		}
		snprintf(what, sizeof what, "%s %s", c->cmd->name,
			 target_format(t, TARGET_FORM_COLON, addr, sizeof addr));
		cmd_fail(nd, ERR_NODE, what, "no such service");
	}
	nd->ntargets = k;
}

/* give every target named ".name" its handle (and launch command); drop
 * the ones that cannot be looked up, with an error */
static void run_lookup_names(struct cmd_ctx *c, struct cmd_node *nd)
{
	size_t k = 0;
	for (size_t i = 0; i < nd->ntargets; i++) {
		struct target *t = &nd->targets[i];
		struct err e = { 0 };
		if (t->name && names_resolve(nd->sn->addr, t->name, c->o.timeout, &t->addr, &e) != 0) {
			cmd_fail(nd, e.code, c->cmd->name, e.msg);
			continue;
		}
		char addr[16];
		snprintf(addr, sizeof addr, ":%08x", (unsigned)t->addr);
		if (t->name && !t->cmd)
			t->cmd = cmd_service_cmd(nd, addr);
		size_t j = 0;
		while (j < k && nd->targets[j].addr != t->addr)
			j++;
		if (j == k)	/* ".name,:f" is one target when .name is :f */
			nd->targets[k++] = *t;
	}
	nd->ntargets = k;
}

/* phase one, per node: connect, list if needed, resolve targets */
static void run_prepare(void *ud, size_t i)
{
	struct cmd_ctx *c = ud;
	struct cmd_node *nd = &c->nodes[i];
	const struct cmd_entry *cmd = c->cmd;
	struct err e = { 0 };
	int targets = cmd->flags & CMD_TARGETS;
	int list = (cmd->flags & CMD_MUTATES) || (targets && target_needs_list(&c->targets));
	nd->sn->conn = proto_open_send(nd->sn->addr, c->o.timeout, list ? "list" : NULL, &e);
	if (!nd->sn->conn) {
		cmd_fail(nd, e.code, cmd->name, e.msg);
		return;
	}
	if (list && run_read_list(nd) != 0)
		return;
	if (targets && target_resolve(&c->targets, run_applies, nd->sn, nd->svc, nd->nsvc,
				      &nd->targets, &nd->ntargets, nd->matched, &e) != 0) {
		cmd_fail(nd, e.code, cmd->name, e.msg);
		return;
	}
	if (cmd->flags & CMD_HANDLES)
		run_lookup_names(c, nd);
	if (cmd->flags & CMD_MUTATES)
		run_check_alive(c, nd);
}

/* read the reply to lines[i] of target t and add its row */
static int run_target_reply(struct cmd_ctx *c, struct cmd_node *nd, const struct target *t,
			    const char *line)
{
	struct proto_reply r;
	struct err e = { 0 };
	char addr[64], buf[64];
	if (proto_read_reply(nd->sn->conn, &r, 0, &e) != 0) {
		cmd_fail(nd, e.code, line, e.msg);
		return -1;
	}
	const char *why = proto_failure(line, &r);
	target_format(t, TARGET_FORM_COLON, addr, sizeof addr);
	if (why)
		cmd_fail(nd, ERR_NODE, line, why);
	if (!why || c->mode == FMT_JSON) {
		const char *v = why ? NULL : c->cmd->value ? c->cmd->value(&r, buf, sizeof buf) : r.text;
		const char *vals[4] = { addr, v, why ? "false" : "true", why };
		cmd_row(nd, vals);
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

/* phase two, per node */
static void run_node(void *ud, size_t i)
{
	struct cmd_ctx *c = ud;
	struct cmd_node *nd = &c->nodes[i];
	if (!nd->sn->conn || nd->status > ERR_NODE)
		return;
	if (c->cmd->node)
		c->cmd->node(c, nd);
	else if (nd->ntargets)
		run_targets(c, nd);
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

static int run_setup(struct cmd_ctx *c, struct err *e)
{
	const struct cmd_entry *cmd = c->cmd;
	const struct target_list *tl = NULL;
	if (cmd->flags & CMD_TARGETS) {
		if (target_parse(c->target_spec, &c->targets, e) != 0)
			return -1;
		tl = &c->targets;
	}
	if ((c->o.config || session_needs_config(&c->o.sess, tl)) &&
	    config_load(c->o.config, &c->config, e) != 0)
		return -1;
	if (session_select(&c->sess, &c->config, &c->o.sess, tl, e) != 0)
		return -1;
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

/* merge the nodes' rows, render, write; returns the status of writing */
static int run_output(struct cmd_ctx *c, size_t ntargets)
{
	struct fmt_table all;
	struct fmt_buf b = { 0 };
	struct err e = { 0 };
	int ncols = c->cmd->ncols + 1, rc = 0;
	fmt_table_init(&all, c->cols, ncols);
	for (size_t i = 0; i < c->sess.n; i++)
		fmt_append(&all, &c->nodes[i].out);
	for (int i = 0; i < ncols; i++) {
		const char *k = c->cols[i].key;
		if (strcmp(k, "ok") == 0 || strcmp(k, "error") == 0)
			all.hide_text |= 1u << i;
		if (strcmp(k, "address") == 0 && !c->cmd->node && ntargets == 1 && !c->sess.named)
			all.hide_text |= 1u << i;
	}
	if (!c->sess.named)
		all.hide_text |= all.hide_json |= 1u;
	if (c->o.sort)
		fmt_sort(&all, c->o.sort, &e);
	fmt_render(&all, c->mode, c->color, &b);
	if (b.oom || all.oom) {
		fprintf(stderr, "skyctl: out of memory\n");
		rc = ERR_LOCAL;
	} else if (b.len) {
		fwrite(b.p, 1, b.len, stdout);
	}
	fmt_buf_free(&b);
	fmt_table_free(&all);
	return rc;
}

int run_command(struct cmd_ctx *c)
{
	struct err e = { 0 };
	int status = 0;
	size_t ntargets = 0;
	if (run_setup(c, &e) != 0) {
		fprintf(stderr, "skyctl: %s\n", e.msg);
		return e.code;
	}
	if (c->cmd->flags & CMD_CONNECT) {
		session_run(c->sess.n, run_prepare, c);
		for (size_t i = 0; i < c->sess.n; i++)
			ntargets += c->nodes[i].ntargets;
		status = run_check_matched(c);
		for (size_t i = 0; c->cmd->exec && i < c->sess.n; i++)
			if (c->nodes[i].status)	/* a batch starts only if every node is ready */
				status = err_worst(status, c->nodes[i].status);
		if (status == 0 && !c->cmd->exec)
			session_run(c->sess.n, run_node, c);
	}
	if (status == 0 && c->cmd->exec) {
		for (size_t i = 0; !(c->cmd->flags & CMD_KEEPCONN) && i < c->sess.n; i++) {
			net_close(c->sess.v[i].conn);
			c->sess.v[i].conn = NULL;
		}
		status = c->cmd->exec(c);
	}
	if (c->cmd->ncols)
		status = err_worst(status, run_output(c, ntargets));
	for (size_t i = 0; i < c->sess.n; i++) {
		struct cmd_node *nd = &c->nodes[i];
		if (nd->errs.len)
			fputs(nd->errs.p, stderr);
		status = err_worst(status, nd->status);
	}
	return status;
}

void run_free(struct cmd_ctx *c)
{
	for (size_t i = 0; c->nodes && i < c->sess.n; i++) {
		struct cmd_node *nd = &c->nodes[i];
		target_services_free(nd->svc, nd->nsvc);
		free(nd->targets);
		free(nd->matched);
		fmt_table_free(&nd->out);
		fmt_buf_free(&nd->errs);
	}
	free(c->nodes);
	free(c->cols);
	session_free(&c->sess);
	config_free(&c->config);
	target_list_free(&c->targets);
}
