/* cmd_resolve: where a target list becomes one node's services, for every
 * command, in the order src/target.h gives: the node's `list` when a glob
 * or CMD_CHECK_ALIVE needs it; registered names to handles (global names
 * always: the console cannot take them); the node's harbor added to the
 * handles written without one, as the stock console does; targets on
 * another harbor refused where the command acts only on this node
 * (CMD_LOCAL), else checked through the node (CMD_CHECK_ALIVE); dead
 * local handles dropped (CMD_CHECK_ALIVE). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "names.h"

#define RESOLVE_HARBOR "getenv harbor"

enum { RESOLVE_LIST = 1, RESOLVE_HARBOR_OF = 2 };

/* what resolving tl needs from the node first */
static int resolve_needs(const struct cmd_ctx *c, const struct target_list *tl)
{
	int need = (c->cmd->flags & CMD_CHECK_ALIVE) || target_needs_list(tl) ? RESOLVE_LIST : 0;
	for (size_t i = 0; i < tl->n; i++)
		if (tl->v[i].kind == TARGET_ADDR || tl->v[i].kind == TARGET_GLOBAL)
			need |= RESOLVE_HARBOR_OF;
	return need;
}

const char *cmd_resolve_first(const struct cmd_ctx *c, const struct target_list *tl)
{
	int need = resolve_needs(c, tl);
	return need & RESOLVE_LIST ? PROTO_LIST : need & RESOLVE_HARBOR_OF ? RESOLVE_HARBOR : NULL;
}

/* take the reply to line: the node's services, or its harbor */
static int resolve_take(struct cmd_node *nd, const char *line, struct proto_reply *r)
{
	if (strcmp(line, PROTO_LIST) == 0)
		return cmd_services_from(nd, r);
	/* "harbor\t1"; a node without the key reads addresses as they are
	 * written: harbor 0.  A console without getenv (skynet 1.4 to 1.7) answers
	 * with an error: the harbor stays unknown, for `list` to tell */
	if (!r->ok) {
		nd->harbor_asked = 1;
		return 0;
	}
	const char *v = r->nlines == 1 ? strchr(r->lines[0], '\t') : NULL;
	char *end = NULL;
	long h = v ? strtol(v + 1, &end, 10) : 0;
	nd->harbor = end && !*end && h >= 0 && h <= 255 ? (int)h : 0;
	nd->harbor_known = 1;
	return 0;
}

int cmd_resolve_read(struct cmd_node *nd, const char *line)
{
	struct proto_reply r;
	struct err e = { 0 };
	if (proto_read_reply(nd->sn->conn, &r, 0, &e) != 0) {
		cmd_fail(nd, e.code, line, e.msg);
		return -1;
	}
	int rc = resolve_take(nd, line, &r);
	proto_reply_free(&r);
	return rc;
}

/* send line on the node's connection and take its reply */
static int resolve_fetch(struct cmd_ctx *c, struct cmd_node *nd, const char *line)
{
	struct proto_reply r;
	if (cmd_request(c, nd, line, &r) != 0)
		return -1;
	int rc = resolve_take(nd, line, &r);
	proto_reply_free(&r);
	return rc;
}

int cmd_harbor(struct cmd_ctx *c, struct cmd_node *nd)
{
	if (!nd->harbor_known && !nd->nsvc && nd->sn->conn &&
	    ((!nd->harbor_asked && resolve_fetch(c, nd, RESOLVE_HARBOR) != 0) ||
	     (!nd->harbor_known && resolve_fetch(c, nd, PROTO_LIST) != 0)))
		return -1;
	if (!nd->harbor_known) {	/* a handle's top 8 bits (none: harbor 0) */
		nd->harbor = nd->nsvc ? (int)(nd->svc[0].addr >> 24) : 0;
		nd->harbor_known = 1;
	}
	return nd->harbor;
}

/* whether t is known to be on another harbor than the node's */
static int resolve_remote(const struct cmd_node *nd, const struct target *t)
{
	return nd->harbor_known && target_remote(t, nd->harbor);
}

/* registered names to handles: global names always, local ones when the
 * command needs handles; drop the ones that cannot be looked up */
static void resolve_names(struct cmd_ctx *c, struct cmd_node *nd)
{
	size_t k = 0;
	for (size_t i = 0; i < nd->ntargets; i++) {
		struct target *t = &nd->targets[i];
		struct err e = { 0 };
		int global = target_global(t) != NULL;
		if ((global || (t->name && (c->cmd->flags & CMD_HANDLES))) &&
		    names_resolve(nd->sn->addr, t->name, c->o.timeout, &t->addr, &e) != 0) {
			cmd_fail(nd, e.code, c->cmd->name, e.msg);
			continue;
		}
		if (global)
			target_set_global(t, t->addr);
		nd->targets[k++] = *t;
	}
	nd->ntargets = k;
}

/* the launch commands the list knows, and one target per handle */
static int resolve_dedup(struct cmd_node *nd)
{
	for (size_t i = 0; i < nd->ntargets; i++) {
		struct target *t = &nd->targets[i];
		const struct target_service *s = t->addr && !t->cmd ?
			target_service_find(nd->svc, nd->nsvc, t->addr) : NULL;
		if (s)
			t->cmd = s->cmd;
	}
	return target_one_per_handle(nd->targets, &nd->ntargets);
}

/* CMD_LOCAL: a service on another harbor is out of the command's reach
 * (kill asks this node's launcher, logon and signal are this node's C
 * commands, list/stat/top show this node's services, the repl attaches
 * in debug mode, which fails across harbors) */
static void resolve_refuse_remote(struct cmd_ctx *c, struct cmd_node *nd)
{
	size_t k = 0;
	for (size_t i = 0; i < nd->ntargets; i++) {
		struct target *t = &nd->targets[i];
		char what[64], why[200];
		if (!resolve_remote(nd, t)) {
			nd->targets[k++] = *t;
			continue;
		}
		snprintf(what, sizeof what, "%s :%08x", c->cmd->name, (unsigned)t->addr);
		snprintf(why, sizeof why, "on harbor %u; %s works on this node's services only "
			 "(harbor %d): run it against harbor %u's console", t->addr >> 24,
			 c->cmd->name, nd->harbor, t->addr >> 24);
		cmd_fail(nd, ERR_USAGE, what, why);
	}
	nd->ntargets = k;
}

/* whether the ping check of addr succeeded; else the failure recorded.
 * A harbor that never joined answers nothing: the deadline bounds it. */
static int resolve_ping(struct cmd_ctx *c, struct cmd_node *nd, struct net_conn *conn,
			uint32_t addr, double deadline)
{
	char what[64], line[32], why[640];
	struct proto_reply r;
	struct err e = { 0 };
	snprintf(what, sizeof what, "%s :%08x", c->cmd->name, (unsigned)addr);
	snprintf(line, sizeof line, "ping :%08x", (unsigned)addr);
	if (!conn || proto_read_reply(conn, &r, deadline, &e) != 0) {
		if (e.code == ERR_TIMEOUT)
			snprintf(why, sizeof why, "no answer through the node within %g s (is "
				 "harbor %u connected?)", c->o.timeout, addr >> 24);
		else
			snprintf(why, sizeof why, "checking it through the node: %s",
				 conn ? e.msg : "not connected");
		cmd_fail(nd, e.code ? e.code : ERR_CONNECT, what, why);
		return 0;
	}
	const char *failed = proto_failure(line, &r);
	if (failed) {
		snprintf(why, sizeof why, "no such service on harbor %u (%s)", addr >> 24, failed);
		cmd_fail(nd, ERR_NODE, what, why);
	}
	proto_reply_free(&r);
	return !failed;
}

/* CMD_CHECK_ALIVE: a service on another harbor is not in this node's
 * `list`; ask the node to ping it, on a connection of its own (a harbor
 * that never joined leaves a ping unanswered for good) */
static void resolve_check_remote(struct cmd_ctx *c, struct cmd_node *nd)
{
	size_t n = 0, k = 0;
	char **lines = calloc(nd->ntargets + 1, sizeof *lines);
	struct net_conn *conn = NULL;
	struct err e = { 0 };
	for (size_t i = 0; lines && i < nd->ntargets; i++)
		if (resolve_remote(nd, &nd->targets[i]) &&
		    asprintf(&lines[n++], "ping :%08x", (unsigned)nd->targets[i].addr) < 0)
			lines[--n] = NULL;
	if (!lines || n == 0) {
		free(lines);
		return;
	}
	conn = proto_open(nd->sn->addr, c->o.timeout, &e);
	if (conn && proto_sendv(conn, lines, n, &e) != 0) {
		net_close(conn);
		conn = NULL;
	}
	double deadline = net_now() + c->o.timeout;
	for (size_t i = 0; i < nd->ntargets; i++) {
		struct target *t = &nd->targets[i];
		if (!resolve_remote(nd, t) || resolve_ping(c, nd, conn, t->addr, deadline))
			nd->targets[k++] = *t;
	}
	nd->ntargets = k;
	net_close(conn);
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

/* CMD_CHECK_ALIVE: kill/exit of an address that is not in `list` would be
 * framed as success (docs/protocol.md, Quirks): drop such targets with an
 * error */
static void resolve_check_local(struct cmd_ctx *c, struct cmd_node *nd)
{
	size_t k = 0;
	for (size_t i = 0; i < nd->ntargets; i++) {
		struct target *t = &nd->targets[i];
		char what[64], addr[32];
		if (t->name || t->cmd || resolve_remote(nd, t)) {
			nd->targets[k++] = *t;
			continue;
		}
		snprintf(what, sizeof what, "%s %s", c->cmd->name,
			 target_format(t, TARGET_FORM_COLON, addr, sizeof addr));
		cmd_fail(nd, ERR_NODE, what, "no such service");
	}
	nd->ntargets = k;
}

static int resolve_applies(const struct target_sel *sel, void *ud)
{
	return session_applies(sel, ud);
}

int cmd_resolve(struct cmd_ctx *c, struct cmd_node *nd, const struct target_list *tl)
{
	struct err e = { 0 };
	int need = resolve_needs(c, tl);
	free(nd->targets);
	nd->targets = NULL;
	nd->ntargets = 0;
	if (!nd->svc && (need & RESOLVE_LIST) && resolve_fetch(c, nd, PROTO_LIST) != 0)
		return -1;
	/* target_resolve only reads the list; it is not declared const */
	if (target_resolve((struct target_list *)tl, resolve_applies, nd->sn, nd->svc, nd->nsvc,
			   &nd->targets, &nd->ntargets, nd->matched, &e) != 0) {
		cmd_fail(nd, e.code, c->cmd->name, e.msg);
		return -1;
	}
	resolve_names(c, nd);
	if (nd->ntargets && (nd->nsvc || (need & RESOLVE_HARBOR_OF))) {
		if (cmd_harbor(c, nd) < 0)
			return -1;
		target_apply_harbor(nd->targets, nd->ntargets, nd->harbor);
	}
	if (resolve_dedup(nd) != 0) {
		cmd_fail(nd, ERR_LOCAL, c->cmd->name, "out of memory");
		return -1;
	}
	if (c->cmd->flags & CMD_LOCAL)
		resolve_refuse_remote(c, nd);
	if (c->cmd->flags & CMD_CHECK_ALIVE) {
		resolve_check_remote(c, nd);
		resolve_check_local(c, nd);
	}
	return 0;
}

const char *cmd_remote_failure(const struct cmd_node *nd, const struct target *t,
			       const char *why, char *buf, size_t len)
{
	if (!why || !resolve_remote(nd, t) ||
	    !strstr(why, "call failed"))
		return why;
	snprintf(buf, len, "no such service on harbor %u (%s)", t->addr >> 24, why);
	return buf;
}

/* a service fit to be the hub for targets on other harbors: Lua, and
 * neither the console (it would wait on itself) nor the harbor's own */
static int resolve_hub_fit(const char *cmd)
{
	static const char *const skip[] = { "debug_console", "cmaster", "cslave", "cdummy" };
	char name[64];
	if (strncmp(cmd, "snlua ", 6) != 0)
		return 0;
	target_service_name(cmd, name, sizeof name);
	for (size_t i = 0; i < sizeof skip / sizeof *skip; i++)
		if (strcmp(name, skip[i]) == 0)
			return 0;
	return 1;
}

size_t cmd_hubs(const struct cmd_node *nd, uint32_t *hubs)
{
	size_t n = 0;
	for (size_t i = 0; i < nd->ntargets; i++)
		if (!resolve_remote(nd, &nd->targets[i]))
			hubs[n++] = nd->targets[i].addr;
	for (size_t i = 0; n == 0 && i < nd->nsvc; i++)
		if (resolve_hub_fit(nd->svc[i].cmd))
			hubs[n++] = nd->svc[i].addr;
	return n;
}
