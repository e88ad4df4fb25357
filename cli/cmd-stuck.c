/* skyctl stuck [TARGET]: find the services that answer nothing (an endless
 * loop, a blocking call), and with --signal interrupt them.
 *
 * Per node, in parallel: two `stat` samples half a second apart and `list`
 * on one connection pick the suspects (no stat answer in time, or a queue
 * that grew while no message was handled); each suspect then gets a `ping`
 * on a connection of its own (a stuck service blocks the connection that
 * asked it), up to STUCK_PAR at once, and is stuck if no answer comes
 * within --timeout.  --signal sends `signal` on a fresh connection and pings
 * again.  The interrupted loop's traceback goes to the node's log, which
 * `getenv logger` names.  Exit 0: nothing stuck (or everything answers
 * again after --signal); 1: some service is stuck. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "poller.h"
#include "ssh.h"

#define STUCK_PAR 16		/* probes at once, per node */
#define STUCK_PAR_SSH 8		/* over ssh: under sshd's default MaxStartups (10) */
#define STUCK_GAP 0.5		/* seconds between the two stat samples */

static const struct args_opt stuck_opt_signal = {
	.lng = "signal",
	.help = "interrupt the stuck services, check they answer again",
};

static const struct fmt_col stuck_cols[] = {
	{ "address", FMT_STR }, { "name", FMT_STR }, { "reason", FMT_STR }, { "unstuck", FMT_BOOL },
};

/* a service under suspicion */
struct stuck_probe {
	char target[64];	/* as the console takes it: ":0000000a" or ".name" */
	const char *name;	/* launch command (points into the node's list) */
	char why[96];		/* what made it a suspect */
	int stuck;		/* no ping answer within the timeout */
	int unstuck;		/* --signal: it answers again */
	struct err err;		/* a probe that could not be made */
};

struct stuck_node {
	struct poller_node p;
	struct target_service *svc;	/* its `list` */
	size_t nsvc;
	size_t nsel;		/* the services looked at: the TARGET's, or all */
	struct stuck_probe *probes;
	size_t nprobes;
	atomic_size_t next;	/* the next probe a worker takes */
	char logger[256];	/* where the node logs, from getenv */
	int status;
};

struct stuck {
	struct cmd_ctx *c;
	struct stuck_node *nodes;
	size_t cur;		/* the node whose probes run (workers' context) */
	int signal;		/* the probe workers' task: 0 ping, 1 signal + ping */
};

/* one console line on a fresh connection; 1 answered OK, 0 no answer in
 * time, -1 could not ask or the console said Error (e set) */
static int stuck_ask(const char *addr, const char *line, double timeout, struct err *e)
{
	struct proto_reply r;
	struct net_conn *conn = proto_open(addr, timeout, e);
	if (!conn)
		return -1;
	int rc = proto_request(conn, line, &r, e);
	net_close(conn);
	if (rc != 0)
		return e->code == ERR_TIMEOUT ? 0 : -1;
	rc = r.ok ? 1 : err_set(e, ERR_NODE, "%s: %.200s", line, r.nlines ? r.lines[0] : "error");
	proto_reply_free(&r);
	return rc;
}

static void stuck_worker(void *ud, size_t w)
{
	struct stuck *s = ud;
	struct stuck_node *nd = &s->nodes[s->cur];
	double timeout = s->c->o.timeout;
	char line[96];
	(void)w;
	for (size_t i; (i = atomic_fetch_add(&nd->next, 1)) < nd->nprobes;) {
		struct stuck_probe *pr = &nd->probes[i];
		if (s->signal) {
			if (!pr->stuck)
				continue;
			snprintf(line, sizeof line, "signal %s", pr->target);
			if (stuck_ask(nd->p.addr, line, timeout, &pr->err) != 1)
				continue;
		}
		snprintf(line, sizeof line, "ping %s", pr->target);
		int rc = stuck_ask(nd->p.addr, line, timeout, &pr->err);
		if (s->signal)
			pr->unstuck = rc == 1;
		else
			pr->stuck = rc == 0;
	}
}

/* run the probes of node i, STUCK_PAR (STUCK_PAR_SSH) at a time */
static void stuck_probe_all(struct stuck *s, size_t i, int signal)
{
	struct stuck_node *nd = &s->nodes[i];
	struct stuck one = *s;
	one.cur = i;
	one.signal = signal;
	atomic_store(&nd->next, 0);
	size_t par = strncmp(nd->p.addr, SSH_PREFIX, strlen(SSH_PREFIX)) ? STUCK_PAR : STUCK_PAR_SSH;
	session_run(nd->nprobes < par ? nd->nprobes : par, stuck_worker, &one);
}

static struct stuck_probe *stuck_add(struct stuck_node *nd, const char *target, const char *name)
{
	struct stuck_probe *pr = &nd->probes[nd->nprobes++];
	memset(pr, 0, sizeof *pr);
	snprintf(pr->target, sizeof pr->target, "%s", target);
	pr->name = name;
	return pr;
}

/* the suspects among the node's targets, from its two samples */
static void stuck_suspects(struct stuck *s, size_t i, const struct target *t, size_t nt)
{
	struct stuck_node *nd = &s->nodes[i];
	const struct sample *a = poller_older(&nd->p), *b = poller_newest(&nd->p);
	for (size_t k = 0; k < nt; k++) {
		char target[64];
		target_format(&t[k], TARGET_FORM_COLON, target, sizeof target);
		if (t[k].name) {	/* not told apart in stat rows: ask it */
			snprintf(stuck_add(nd, target, NULL)->why, 96, "registered name");
			continue;
		}
		const struct sample_row *ra = sample_find(a, t[k].addr), *rb = sample_find(b, t[k].addr);
		if (!ra || !rb || ra->stat != SAMPLE_OK || rb->stat != SAMPLE_OK)
			snprintf(stuck_add(nd, target, t[k].cmd)->why, 96, "no stat answer");
		else if (rb->mqlen > ra->mqlen && rb->message - ra->message <= 1)
			snprintf(stuck_add(nd, target, t[k].cmd)->why, 96,
				 "queue %ld -> %ld, no message handled", ra->mqlen, rb->mqlen);
	}
}

/* where the node logs (for the --signal hint) */
static void stuck_logger(struct stuck_node *nd, double timeout)
{
	static const char line[] = "getenv logger";
	struct proto_reply r;
	struct err e;
	snprintf(nd->logger, sizeof nd->logger, "its standard output");
	if (!nd->p.conn || proto_request(nd->p.conn, line, &r, &e) != 0)
		return;
	envagent_stand_in(nd->p.addr, nd->p.conn, timeout, line, &r, &e);	/* skynet 1.5 to 1.7 */
	const char *v = r.ok && r.nlines == 1 ? strchr(r.lines[0], '\t') : NULL;
	if (v && strcmp(v + 1, "nil") != 0)
		snprintf(nd->logger, sizeof nd->logger, "%s (config logger)", v + 1);
	else if (!r.ok)	/* skynet 1.4, or the agent could not: it cannot say where */
		nd->logger[0] = '\0';
	proto_reply_free(&r);
}

/* the node's `list` into nd->svc; -1 with e set */
static int stuck_list(struct stuck_node *nd, struct err *e)
{
	struct proto_reply r;
	if (proto_request_list(nd->p.conn, &r, e) != 0)
		return -1;
	int rc = r.ok ? target_parse_list(r.lines, r.nlines, 0, &nd->svc, &nd->nsvc, e) :
		err_set(e, ERR_NODE, "%.200s", r.nlines ? r.lines[0] : "error");
	proto_reply_free(&r);
	return rc;
}

static int stuck_fail(struct stuck_node *nd, const char *what, const struct err *e)
{
	fprintf(stderr, "skyctl: %s: stuck: %s%s", nd->p.name, what, *what ? ": " : "");
	fmt_fsafe(stderr, e->msg, strlen(e->msg), "");	/* may quote the node */
	fputc('\n', stderr);
	nd->status = err_worst(nd->status, e->code ? e->code : ERR_NODE);
	return -1;
}

static void stuck_node(void *ud, size_t i)
{
	struct stuck *s = ud;
	struct stuck_node *nd = &s->nodes[i];
	struct err e = { 0 };
	struct target *t = NULL, all = { 0 };
	size_t nt = 0;
	int cs = s->c->o.timeout < STUCK_GAP ? (int)(s->c->o.timeout * 100) : (int)(STUCK_GAP * 100);
	if (poller_poll(&nd->p, cs, 0, s->c->o.timeout) != 0) {
		stuck_fail(nd, "", &nd->p.why);
		return;
	}
	if (stuck_list(nd, &e) != 0) {
		stuck_fail(nd, "list", &e);
		return;
	}
	struct timespec gap = { 0, (long)(STUCK_GAP * 1e9) };
	nanosleep(&gap, NULL);
	if (poller_poll(&nd->p, cs, 0, s->c->o.timeout) != 0) {
		stuck_fail(nd, "", &nd->p.why);
		return;
	}
	if (s->c->targets.n) {
		struct cmd_node *cn = &s->c->nodes[i];
		cn->svc = nd->svc;	/* the dispatcher resolves on the list we fetched */
		cn->nsvc = nd->nsvc;
		int rc = cmd_resolve(s->c, cn, &s->c->targets);
		cn->svc = NULL;
		cn->nsvc = 0;
		if (rc != 0 || cn->status) {	/* cn->errs says why */
			nd->status = err_worst(nd->status, cn->status);
			return;
		}
		t = cn->targets;
		nt = cn->ntargets;
	}
	nd->nsel = s->c->targets.n ? nt : nd->nsvc;
	nd->probes = calloc(nd->nsel + 1, sizeof *nd->probes);
	if (!nd->probes) {
		free(t);
		stuck_fail(nd, "", &(struct err){ ERR_LOCAL, "out of memory" });
		return;
	}
	if (s->c->targets.n) {
		stuck_suspects(s, i, t, nt);
	} else {
		for (size_t k = 0; k < nd->nsvc; k++) {
			all = (struct target){ nd->svc[k].addr, NULL, nd->svc[k].cmd };
			stuck_suspects(s, i, &all, 1);
		}
	}
	stuck_probe_all(s, i, 0);
	if (cmd_opt(s->c, &stuck_opt_signal))
		stuck_probe_all(s, i, 1);
	stuck_logger(nd, s->c->o.timeout);
}

/* rows, messages and the exit status */
static int stuck_report(struct stuck *s)
{
	int sig = cmd_opt(s->c, &stuck_opt_signal) != NULL;
	struct cmd_ctx *c = s->c;
	size_t nstuck = 0, nleft = 0, nsvc = 0;
	int status = 0;
	for (size_t i = 0; i < s->c->sess.n; i++) {
		struct stuck_node *nd = &s->nodes[i];
		size_t here = 0;
		nsvc += nd->nsel;
		for (size_t k = 0; k < nd->nprobes; k++) {
			struct stuck_probe *pr = &nd->probes[k];
			char reason[160];
			if (!pr->stuck) {
				if (pr->err.code && pr->err.code != ERR_NODE)
					stuck_fail(nd, pr->target, &pr->err);
				continue;
			}
			here++;
			nleft += !pr->unstuck;
			snprintf(reason, sizeof reason, "%s; no ping answer in %g s", pr->why,
				 c->o.timeout);
			const char *vals[5] = { nd->p.name, pr->target, pr->name, reason,
						sig ? (pr->unstuck ? "true" : "false") : NULL };
			fmt_add_row(&c->nodes[0].out, vals);
			if (sig && !pr->unstuck)
				fprintf(stderr, "skyctl: %s: %s still does not answer after signal%s%s\n",
					nd->p.name, pr->target, pr->err.code ? ": " : "",
					pr->err.code ? pr->err.msg : "");
		}
		if (here && sig)
			fprintf(stderr, "stuck: %s: the traceback of each interrupted loop is in the "
				"node's log%s%s\n", nd->p.name, nd->logger[0] ? ": " : "", nd->logger);
		nstuck += here;
		status = err_worst(status, nd->status); /* its probes' errors too */
	}
	fmt_printf(&c->json_summary, "\"stuck\":%zu,\"services\":%zu,\"left\":%zu", nstuck, nsvc,
		   sig ? nleft : nstuck);
	if (nsvc == 0 && status)	/* the nodes' errors say it all */
		return status;
	fprintf(stderr, "stuck: %zu of %zu service%s did not answer within %g s%s\n", nstuck, nsvc,
		nsvc == 1 ? "" : "s", c->o.timeout,
		nstuck && !sig ? " (skyctl stuck --signal interrupts them; the traceback "
		"goes to the node's log)" : "");
	return err_worst(status, (sig ? nleft : nstuck) ? ERR_NODE : 0);
}

static int stuck_exec(struct cmd_ctx *c)
{
	struct stuck s = { .c = c };
	int status = ERR_LOCAL;
	s.nodes = calloc(c->sess.n, sizeof *s.nodes);
	if (s.nodes) {
		for (size_t i = 0; i < c->sess.n; i++)
			poller_init(&s.nodes[i].p, c->sess.v[i].name, c->sess.v[i].addr);
		session_run(c->sess.n, stuck_node, &s);
		status = stuck_report(&s);
	}
	for (size_t i = 0; s.nodes && i < c->sess.n; i++) {
		poller_free(&s.nodes[i].p);
		target_services_free(s.nodes[i].svc, s.nodes[i].nsvc);
		free(s.nodes[i].probes);
	}
	free(s.nodes);
	return status;
}

const struct cmd_entry cmd_stuck_entry = {
	.name = "stuck", .args = "[TARGET]",
	.summary = "find services that answer nothing (endless loops); --signal interrupts them",
	.options = CMD_OPTIONS(&args_opt_sort, &stuck_opt_signal), .min = 0, .max = 0,
	.flags = CMD_TARGETS | CMD_TARGET_OPT | CMD_HANDLES | CMD_LOCAL,
	.cols = stuck_cols, .ncols = 4, .exec = stuck_exec,
};
