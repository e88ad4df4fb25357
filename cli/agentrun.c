/* The dispatcher's driver for agent commands (CMD_AGENT): the resolved
 * targets become batch nodes, the scripts are read and compiled before
 * anything is sent, the batch runs, every settled target is printed (a
 * line, or a member of --json's "targets"), recorded in the audit log
 * before and after (CMD_AUDIT), counted, and summed up.  A command only
 * builds its request and describes a settled target (agentcmd.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agentcmd.h"
#include "cmd.h"
#include "json.h"

#define AGENTRUN_GROUP_MIN 32	/* targets above which identical results are grouped */

const int agentcmd_order[5] = { BATCH_OK, BATCH_FAILED, BATCH_UNKNOWN, BATCH_SKIPPED, -1 };

/* audit-log records waiting to be written */
struct agentcmd_audit {
	struct audit_record *v;
	char **text;		/* their target and result strings, freed after writing */
	size_t n, cap;
	struct cmd_ctx *c;
};

/* queue rec with its result and target copied */
static void agentrun_audit_add(struct agentcmd_audit *a, const struct audit_record *rec,
			       const char *result, const char *target)
{
	if (a->n + 1 > a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 256;
		struct audit_record *v = realloc(a->v, cap * sizeof *v);
		char **t = v ? realloc(a->text, cap * 2 * sizeof *t) : NULL;
		if (v)
			a->v = v;
		if (t)
			a->text = t;
		if (!v || !t)
			return;
		a->cap = cap;
	}
	size_t k = a->n++;
	a->text[2 * k] = strdup(result);
	a->text[2 * k + 1] = strdup(target);
	a->v[k] = *rec;
	a->v[k].result = a->text[2 * k];
	a->v[k].target = a->text[2 * k + 1];
}

/* write the queued records (one write, one fsync) */
static void agentrun_audit_flush(struct agentcmd_audit *a)
{
	cmd_audit(a->c, a->v, a->n);
	for (size_t k = 0; k < 2 * a->n; k++)
		free(a->text[k]);
	a->n = 0;
}

/* one record per script (one with none) for a target of node */
static void agentrun_audit(struct agentrun *r, size_t node, const char *result, const char *target)
{
	for (int s = 0; s < (r->nscripts ? r->nscripts : 1); s++) {
		struct audit_record rec = { .op = r->c->cmd->name, .batch = r->batch,
					    .node = r->nodes[node].name,
					    .script = r->nscripts ? r->sc[s].path : NULL,
					    .sha256 = r->nscripts ? r->sc[s].sha : NULL,
					    .args = r->argline };
		agentrun_audit_add(r->audit, &rec, result, target);
	}
}

static void agentrun_sending(void *ud, size_t node, size_t lo, size_t hi)
{
	struct agentrun *r = ud;
	char target[16];
	if (!(r->c->cmd->flags & CMD_AUDIT))
		return;
	for (size_t i = lo; i < hi; i++) {
		snprintf(target, sizeof target, ":%08x", (unsigned)r->nodes[node].addrs[i]);
		agentrun_audit(r, node, "pending", target);
	}
	agentrun_audit_flush(r->audit);
}

/* {"node":,"target":,"status":,"detail":,"result":}, the next of the
 * document's "targets" (written as they settle: a result may be big) */
static void agentrun_json_target(struct agentrun *r, size_t node, const char *target,
				 const char *state, const char *what, const struct wire_val *val,
				 int canary)
{
	struct fmt_buf *b = &r->c->json;
	fmt_puts(b, r->njson++ ? ",\n{\"node\":" : "\"targets\":[\n{\"node\":");
	json_string(b, r->nodes[node].name, strlen(r->nodes[node].name));
	fmt_puts(b, ",\"target\":");
	json_string(b, target, strlen(target));
	fmt_puts(b, ",\"status\":");
	json_string(b, state, strlen(state));
	fmt_puts(b, ",\"detail\":");
	json_string(b, what, strlen(what));
	fmt_puts(b, ",\"result\":");
	json_value(b, val);
	fmt_puts(b, canary ? ",\"canary\":true}" : "}");
}

/* take the progress line off the screen (before stdout writes there) */
static void agentrun_unshow(struct agentrun *r)
{
	if (r->shown)
		fputs("\r\033[K", stderr);
	r->shown = 0;
}

static void agentrun_interrupted(void *ud)
{
	struct agentrun *r = ud;
	agentrun_unshow(r);
	fprintf(stderr, "skyctl: %s: interrupted: sending nothing more, waiting for the targets "
		"in flight (interrupt again to leave now)\n", r->c->cmd->name);
}

static void agentrun_canary_lost(void *ud, size_t node, size_t i, const char *why)
{
	struct agentrun *r = ud;
	r->canaries_lost++;
	agentrun_unshow(r);
	fprintf(stderr, "skyctl: %s: canary %s%s:%08x stopped answering during --canary-wait: ",
		r->c->cmd->name, r->c->sess.n > 1 ? r->nodes[node].name : "",
		r->c->sess.n > 1 ? "/" : "", (unsigned)r->nodes[node].addrs[i]);
	fmt_fsafe(stderr, why, strlen(why), "");
	fputc('\n', stderr);
}

/* the one progress line on a terminal's stderr, for a batch longer than a
 * second, redrawn at most ten times a second; "\r\033[K" clears it */
static void agentrun_progress(struct agentrun *r, int last)
{
	double now = net_now();
	if (!r->progress || (!last && (now - r->t0 < 1.0 || now - r->drawn < 0.1)))
		return;
	if (last) {
		agentrun_unshow(r);
		return;
	}
	size_t done = 0;
	for (size_t k = 0; k < sizeof r->count / sizeof *r->count; k++)
		done += r->count[k];
	fprintf(stderr, "\r%s: %zu/%zu settled, %zu ok, %zu failed, %zu unknown\033[K",
		r->c->cmd->name, done, r->total, r->count[BATCH_OK], r->count[BATCH_FAILED],
		r->count[BATCH_UNKNOWN]);
	r->drawn = now;
	r->shown = 1;
}

static void agentrun_settled(void *ud, size_t node, size_t i, const struct batch_result *res)
{
	struct agentrun *r = ud;
	const struct cmd_agent *a = r->c->cmd->agent;
	struct fmt_buf more = { 0 };
	char target[16], what[1024], audit[1100];
	int json = r->c->o.json;
	snprintf(target, sizeof target, ":%08x", (unsigned)r->nodes[node].addrs[i]);
	what[0] = '\0';
	int state = a->describe(r, node, i, res, what, sizeof what, json ? NULL : &more);
	if (state == BATCH_OK && !res->val && res->err)	/* settled from its journal */
		snprintf(what, sizeof what, "%s", res->err);
	r->count[state]++;
	r->canaries_lost += res->canary && state != BATCH_OK;
	if (r->c->cmd->flags & CMD_AUDIT) {
		snprintf(audit, sizeof audit, "%s%s%s", a->states[state], *what ? ": " : "", what);
		agentrun_audit(r, node, audit, target);
	}
	if (state == BATCH_OK && cmd_opt(r->c, &agentcmd_opt_failures)) {
		/* counted and audited, not shown */
	} else if (json && !a->json_members) {
		agentrun_json_target(r, node, target, a->states[state], what, res->val, res->canary);
	} else if (r->groups) {
		struct fmt_buf body = { 0 };
		fmt_printf(&body, "%-*s %s%s\n", a->width, a->states[state], what,
			   res->canary ? "  [canary]" : "");
		fmt_putn(&body, more.p ? more.p : "", more.len);
		agentcmd_groups_add(r->groups, node, r->nodes[node].addrs[i], state, body.p);
	} else if (!a->report) {
		agentrun_unshow(r);
		if (r->c->sess.n > 1)	/* also when a lost node left one */
			printf("%s/", r->nodes[node].name);
		printf("%s  %-*s ", target, a->width, a->states[state]);
		fmt_fsafe(stdout, what, strlen(what), "");	/* the node's words */
		puts(res->canary ? "  [canary]" : "");
		if (more.len)	/* print output, tracebacks: lines of the node's text */
			fmt_fsafe(stdout, more.p, more.len, "\n\t");
	}
	fmt_buf_free(&more);
	agentrun_progress(r, 0);
}

/* the dispatcher's resolved targets as r's batch nodes; 0 or an exit status */
static int agentrun_nodes(struct cmd_ctx *c, struct agentrun *r)
{
	r->nodes = calloc(c->sess.n + 1, sizeof *r->nodes);
	r->addrs = calloc(c->sess.n + 1, sizeof *r->addrs);
	r->targets = calloc(c->sess.n + 1, sizeof *r->targets);
	if (!r->nodes || !r->addrs || !r->targets)
		return ERR_LOCAL;
	for (size_t i = 0; i < c->sess.n; i++) {
		struct cmd_node *nd = &c->nodes[i];
		if (!nd->ntargets)
			continue;
		/* the targets, then the services that may be the hub */
		uint32_t *addrs = r->addrs[r->nnodes] = calloc(2 * nd->ntargets + 1, sizeof *addrs);
		if (!addrs)
			return ERR_LOCAL;
		for (size_t k = 0; k < nd->ntargets; k++)
			addrs[k] = nd->targets[k].addr;
		/* the batch goes on with the connection the targets were listed on */
		r->nodes[r->nnodes] = (struct batch_node){ .name = nd->sn->name,
							   .addr = nd->sn->addr, .addrs = addrs,
							   .n = nd->ntargets, .conn = nd->sn->conn,
							   .hubs = addrs + nd->ntargets,
							   .nhubs = cmd_hubs(nd, addrs + nd->ntargets) };
		nd->sn->conn = NULL;
		r->targets[r->nnodes++] = nd->targets;
		r->total += nd->ntargets;
	}
	return 0;
}

/* With no TARGET, keep every Lua service but the console itself (a
 * console that debugged itself as the hub would wait on itself); C
 * services run no Lua. */
static void agentrun_every_lua(struct cmd_ctx *c)
{
	for (size_t i = 0; i < c->sess.n; i++) {
		struct cmd_node *nd = &c->nodes[i];
		size_t n = 0;
		for (size_t k = 0; k < nd->ntargets; k++) {
			const char *cmd = nd->targets[k].cmd;
			if (cmd && strncmp(cmd, "snlua ", 6) == 0 &&
			    strncmp(cmd + 6, "debug_console", 13) != 0)
				nd->targets[n++] = nd->targets[k];
		}
		nd->ntargets = n;
	}
}

/* the summary: "NAME: 2 ok, 0 failed (3 targets on 1 node, 0.120 s)" (",
 * 1 node skipped": lost, its error after), or with --json the document's
 * "summary" member */
static void agentrun_summary(struct agentrun *r, struct fmt_buf *out)
{
	const struct cmd_agent *a = r->c->cmd->agent;
	struct fmt_buf text = { 0 }, json = { 0 };
	double secs = net_now() - r->t0;
	for (int k = 0; a->order[k] >= 0; k++) {
		int s = a->order[k];
		fmt_printf(&text, "%s%zu %s", k ? ", " : "", r->count[s], a->states[s]);
		fmt_printf(&json, "%s\"%s\":%zu", k ? "," : "", a->states[s], r->count[s]);
	}
	if (a->summary) {
		text.len = 0;
		a->summary(r, &text, &json);
	}
	size_t lost = 0;	/* nodes skipped (--keep-going): their errors follow */
	for (size_t i = 0; i < r->c->sess.n; i++)
		lost += r->c->nodes[i].status != 0;
	if (r->c->o.json) {
		/* the lost nodes are in the summary's "errors" */
		fmt_printf(out, "%s,\"targets\":%zu,\"nodes\":%zu,\"seconds\":%.3f",
			   json.p ? json.p : "", r->total, r->nnodes, secs);
	} else {
		fmt_printf(out, "%s: %s (%zu target%s on %zu node%s", r->c->cmd->name,
			   text.p ? text.p : "", r->total, r->total == 1 ? "" : "s", r->nnodes,
			   r->nnodes == 1 ? "" : "s");
		if (lost)
			fmt_printf(out, ", %zu node%s skipped", lost, lost == 1 ? "" : "s");
		fmt_printf(out, ", %.3f s)\n", secs);
	}
	fmt_buf_free(&text);
	fmt_buf_free(&json);
}

static void agentrun_free(struct agentrun *r)
{
	const struct cmd_agent *a = r->c->cmd->agent;
	if (a->free)
		a->free(r);
	for (size_t i = 0; r->addrs && i < r->nnodes; i++)
		free(r->addrs[i]);
	for (size_t i = 0; r->nodes && i < r->nnodes; i++)
		net_close(r->nodes[i].conn);
	free(r->addrs);
	free(r->targets);
	free(r->nodes);
	agentcmd_scripts_free(r->sc, r->nscripts);
	free(r->argline);
}

int agentrun_exec(struct cmd_ctx *c)
{
	const struct cmd_agent *a = c->cmd->agent;
	struct agentcmd_audit audit = { .c = c };
	struct agentrun r = { .c = c, .audit = &audit, .t0 = net_now() };
	struct fmt_buf sub = { 0 };
	struct fmt_buf out = { 0 };
	int status;
	if (a->scripts) {
		r.nscripts = c->dashdash >= 0 ? c->dashdash : c->argc;
		r.args = c->argv + r.nscripts;
		r.nargs = c->argc - r.nscripts;
		r.argline = r.nargs ? cmd_join(c, r.nscripts, c->argc) : NULL;
	}
	if (c->every)
		agentrun_every_lua(c);
	if ((status = agentrun_nodes(c, &r)) != 0) {
		fprintf(stderr, "skyctl: out of memory\n");
		goto done;
	}
	if (agent_init() != 0) {
		fprintf(stderr, "skyctl: the embedded agent is missing\n");
		status = ERR_NODE;
		goto done;
	}
	status = ERR_LOCAL;
	r.sc = calloc((size_t)r.nscripts + 1, sizeof *r.sc);
	if (!r.sc || agentcmd_load(c, r.nodes, r.nnodes, r.sc, r.nscripts, c->argv) != 0)
		goto done;
	cmd_audit_id(c);	/* the run's batch id */
	if ((c->cmd->flags & CMD_AUDIT) && cmd_audit(c, NULL, 0) != 0)
		goto done;	/* nothing is sent without its audit record */
	snprintf(r.batch, sizeof r.batch, "%s", c->batch);
	if ((status = a->request(&r, &sub)) != 0)
		goto done;
	struct batch_opts bo;
	if (agentcmd_batch_opts(c, &bo) != 0) {
		fprintf(stderr, "skyctl: %s: --canary wants a count (>= 1) or a percentage "
			"(1%%-100%%); --canary-wait needs it\n", c->cmd->name);
		status = ERR_USAGE;
		goto done;
	}
	bo.keep_going |= a->keep_going;
	if (a->batch)
		a->batch(&r, &bo);
	if (a->no_agent || c->every)	/* a sweep leaves no agent behind where none was */
		bo.flags = AGENT_NO_AGENT;
	/* a big batch shows identical results once (diff's grouping) */
	struct agentcmd_groups groups = { 0 };
	if (!c->o.json && !a->report && r.total > AGENTRUN_GROUP_MIN &&
	    agentcmd_groups_init(&groups, r.total) == 0)
		r.groups = &groups;
	struct batch_hooks hooks = { agentrun_sending, agentrun_settled, agentrun_interrupted,
				     agentrun_canary_lost, &r };
	r.progress = !c->o.json && isatty(STDERR_FILENO);
	status = batch_run(r.nodes, r.nnodes, &bo, &sub, &hooks);
	agentrun_progress(&r, 1);
	for (size_t k = BATCH_UNKNOWN + 1; !status && k < sizeof r.count / sizeof *r.count; k++)
		if (r.count[k])	/* a command's own states are failures (a conflict) */
			status = ERR_NODE;
	agentrun_audit_flush(&audit);
	if (r.canaries_lost)
		fprintf(stderr, "skyctl: %s: a canary failed: the batch stopped; %zu target%s "
			"not sent\n", c->cmd->name, r.count[BATCH_SKIPPED],
			r.count[BATCH_SKIPPED] == 1 ? "" : "s");
	if (status == BATCH_INTERRUPTED)
		fprintf(stderr, "skyctl: %s: interrupted: nothing more was sent; every target "
			"sent is settled above and in the audit log\n", c->cmd->name);
	if (a->report)
		status = err_worst(status, a->report(&r, c->o.json ? &c->json : &out));
	if (r.groups)
		agentcmd_groups_print(r.groups, r.nodes, r.nnodes, &out);
	agentcmd_groups_free(&groups);
	if (c->o.json && !a->json_members)
		fmt_puts(&c->json, r.njson ? "\n]" : "\"targets\":[\n]");
	if (out.len)
		fwrite(out.p, 1, out.len, stdout);
	out.len = 0;
	agentrun_summary(&r, c->o.json ? &c->json_summary : &out);
	fflush(stdout);	/* the summary after the table, also in one file */
	if (out.len)
		fwrite(out.p, 1, out.len, a->summary_stderr ? stderr : stdout);
done:
	fmt_buf_free(&out);
	free(audit.v);
	free(audit.text);
	agentrun_free(&r);
	fmt_buf_free(&sub);
	return status;
}
