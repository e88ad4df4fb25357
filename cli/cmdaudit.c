/* The audit log of commands that change a service or a node (CMD_AUDIT):
 * the dispatcher writes a "pending" record for every target (a node-wide
 * command: every node) before the command is sent, and one with the
 * result after; agent commands (cli/agentrun.c) write theirs through
 * cmd_audit as their batch goes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"

void cmd_audit_id(struct cmd_ctx *c)
{
	if (!c->batch[0])
		snprintf(c->batch, sizeof c->batch, "%lx-%x", (unsigned long)time(NULL),
			 (unsigned)getpid());
}

int cmd_audit(struct cmd_ctx *c, const struct audit_record *r, size_t n)
{
	struct err err;
	cmd_audit_id(c);
	if (audit_append(r, n, &err) == 0)
		return 0;
	if (!c->audit_failed)
		fprintf(stderr, c->o.no_audit ? "skyctl: warning: %s\n" :
			"skyctl: %s (nothing more is sent; --no-audit runs without the log)\n",
			err.msg);
	c->audit_failed = 1;
	return c->o.no_audit ? 0 : -1;
}

/* the result of a node-wide command on nd into buf: "ok", or "failed: "
 * and its first error line */
static const char *cmdaudit_node_result(const struct cmd_node *nd, char *buf, size_t len)
{
	const char *err = nd->errs.p ? nd->errs.p : "";
	if (!nd->status)
		return "ok";
	snprintf(buf, len, "failed: %.*s", (int)strcspn(err, "\n"), err);
	return buf;
}

/* the records of c on ready nodes: before (after 0: "pending") or after */
int cmd_audit_run(struct cmd_ctx *c, int after)
{
	/* a node-wide command's TARGET only filters what it shows (gc) */
	int targets = (c->cmd->flags & CMD_TARGETS) && c->targets.n && !c->cmd->node;
	char *args = cmd_join(c, 0, c->argc);
	size_t n = 0, cap = 0;
	int rc = -1;
	for (size_t i = 0; i < c->sess.n; i++)
		cap += targets ? c->nodes[i].ntargets : 1;
	struct audit_record *v = calloc(cap + 1, sizeof *v);
	char (*addr)[16] = calloc(cap + 1, sizeof *addr), (*res)[512] = calloc(cap + 1, sizeof *res);
	if (!v || !addr || !res || !args) {
		fprintf(stderr, "skyctl: out of memory for the audit log\n");
		goto done;
	}
	cmd_audit_id(c);
	for (size_t i = 0; i < c->sess.n; i++) {
		struct cmd_node *nd = &c->nodes[i];
		if (!after && (!nd->sn->conn || nd->status))
			continue;	/* not sent: nothing to record */
		if (after && !nd->results && targets)
			continue;
		for (size_t k = 0; k < (targets ? nd->ntargets : 1); k++, n++) {
			const char *result = "pending";
			if (targets)
				snprintf(addr[n], sizeof addr[n], ":%08x", (unsigned)nd->targets[k].addr);
			if (after && targets)
				result = nd->results[k] ? nd->results[k] : "unknown: no reply";
			else if (after)
				result = cmdaudit_node_result(nd, res[n], sizeof res[n]);
			v[n] = (struct audit_record){ .op = c->cmd->name, .batch = c->batch,
						      .node = nd->sn->name,
						      .target = targets ? addr[n] : NULL,
						      .args = args, .result = result };
		}
	}
	rc = cmd_audit(c, v, n);
done:
	free(v);
	free(addr);
	free(res);
	free(args);
	return rc;
}
