/* Batches of agent operations over many services of many nodes (batch.h).
 * Work goes in rounds: in each round every node that has work left gets one
 * request (its next chunk of targets) on its own thread, and the agent's
 * hub service in that node fans the chunk out.  Between rounds the results
 * are settled in order and the batch stops after a failure unless
 * keep_going, so at any time exactly which targets ran is known. */
#include "batch.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* targets per request when several nodes share a batch: small enough that
 * a failure on one node stops the others soon, big enough to stay fast */
#define BATCH_CHUNK 256
#define BATCH_HUBS 3		/* services tried as hub before giving up on a node */

struct batch_job {
	struct batch_node *node;
	const struct batch_opts *opts;
	const struct fmt_buf *sub;
	struct agent_sess *sess;
	size_t hub;		/* index of the hub among the node's hubs */
	size_t next;		/* first target not yet sent */
	size_t limit;		/* targets to send in this phase */
	int dead;		/* the node is lost: send it nothing more */
	/* one round */
	size_t lo, hi;
	struct wire_val *rep;
	int rc;			/* agent_open's or agent_request's */
	int sent;		/* the request may have run */
	struct err err;		/* when rc is -1 */
};

/* {op=sub.op, targets={...}, stop=, par=, sub=<sub>} for targets lo..hi-1 */
static void batch_request(struct fmt_buf *b, const struct batch_job *j)
{
	wire_put_open(b);
	wire_put_cstr(b, "targets");
	wire_put_open(b);
	for (size_t i = j->lo; i < j->hi; i++) {
		wire_put_int(b, (long long)(i - j->lo + 1));
		wire_put_int(b, j->node->addrs[i]);
	}
	wire_put_close(b);
	wire_put_cstr(b, "stop");
	wire_put_bool(b, !j->opts->keep_going);
	wire_put_cstr(b, "par");
	wire_put_int(b, j->opts->par > 0 ? j->opts->par : 8);
	wire_put_cstr(b, "sub");
	wire_put_raw(b, j->sub->p, j->sub->len);
	wire_put_close(b);
}

/* one round for one node, on its own thread: connect once, then send the
 * chunk through the hub, moving to another hub if one cannot be attached */
static void *batch_round(void *arg)
{
	struct batch_job *j = arg;
	struct fmt_buf req = { 0 };
	j->sent = 0;
	j->rep = NULL;
	if (!j->sess) {
		j->sess = agent_open(j->node->addr, j->node->conn, j->opts->flags,
				     j->opts->timeout, &j->err);
		j->node->conn = NULL;
		if (!j->sess) {
			j->rc = -1;
			return NULL;
		}
	}
	batch_request(&req, j);
	for (int tries = 0; tries < BATCH_HUBS; tries++) {
		if (j->hub >= j->node->nhubs) {
			j->rc = err_set(&j->err, ERR_NODE, "no service of the node can be the hub "
					"(a Lua service on its own harbor)");
			break;
		}
		j->rc = agent_request(j->sess, j->node->hubs[j->hub], &req, &j->rep, &j->err);
		if (j->rc == 0 || !agent_attach_failed(j->sess) || j->hub + 1 >= j->node->nhubs)
			break;
		j->hub++;
	}
	j->sent = j->hub < j->node->nhubs && (j->rc == 0 || !agent_attach_failed(j->sess));
	fmt_buf_free(&req);
	return NULL;
}

/* settle the targets of one finished round; returns 1 if one failed */
static int batch_settle(struct batch_job *j, size_t ni, const struct batch_hooks *h, int *status)
{
	int failed = 0;
	const struct wire_val *results = wire_get(j->rep, "results");
	for (size_t i = j->lo; i < j->hi; i++) {
		struct batch_result r = { .state = BATCH_SKIPPED, .code = j->rc ? j->err.code : 0 };
		if (j->rc != 0) {
			r.state = j->sent ? BATCH_UNKNOWN : BATCH_FAILED;
			r.err = j->err.msg;
		} else if ((r.val = wire_at(results, (long long)(i - j->lo + 1)))) {
			r.state = wire_getb(r.val, "ok") ? BATCH_OK : BATCH_FAILED;
			r.err = wire_gets(r.val, "err", "failed");
		} else if (!results) {
			r.state = BATCH_FAILED;
			r.err = wire_gets(j->rep, "err", "the agent's reply has no results");
		}
		failed |= r.state != BATCH_OK && r.state != BATCH_SKIPPED;
		h->settled(h->ud, ni, i, &r);
	}
	if (j->rc != 0) {
		j->dead = 1;
		if (!*status)
			*status = j->err.code;
	}
	return failed;
}

/* run rounds until every node has sent its targets up to its limit, or a
 * failure stops the batch; returns 1 if a target failed */
static int batch_phase(struct batch_job *jobs, size_t n, const struct batch_opts *o,
		       const struct batch_hooks *h, int *status)
{
	int failed = 0;
	for (;;) {
		size_t active = 0;
		for (size_t i = 0; i < n; i++)
			active += !jobs[i].dead && jobs[i].next < jobs[i].limit;
		pthread_t tid[n];
		int started[n], any = 0;
		for (size_t i = 0; i < n; i++) {
			struct batch_job *j = &jobs[i];
			started[i] = 0;
			if (j->dead || j->next >= j->limit)
				continue;
			size_t chunk = active > 1 ? BATCH_CHUNK : j->limit - j->next;
			j->lo = j->next;
			j->hi = j->lo + chunk < j->limit ? j->lo + chunk : j->limit;
			j->next = j->hi;
			if (h->sending)
				h->sending(h->ud, i, j->lo, j->hi);
			/* one node works on this thread: no thread to start */
			started[i] = active > 1 && pthread_create(&tid[i], NULL, batch_round, j) == 0;
			if (!started[i])
				batch_round(j);
			any = 1;
		}
		if (!any)
			return failed;
		for (size_t i = 0; i < n; i++) {
			struct batch_job *j = &jobs[i];
			if (started[i])
				pthread_join(tid[i], NULL);
			if (j->hi > j->lo) {
				failed |= batch_settle(j, i, h, status);
				wire_val_free(j->rep);
				j->rep = NULL;
				j->lo = j->hi = 0;
			}
		}
		if (failed && !o->keep_going)
			return failed;
	}
}

int batch_run(struct batch_node *nodes, size_t nnodes, const struct batch_opts *opts,
	      const struct fmt_buf *sub, const struct batch_hooks *hooks)
{
	struct batch_job *jobs = calloc(nnodes ? nnodes : 1, sizeof *jobs);
	int status = 0, failed = 0;
	if (!jobs)
		return 1;
	size_t canary = opts->canary;
	for (size_t i = 0; i < nnodes; i++) {
		jobs[i] = (struct batch_job){ .node = &nodes[i], .opts = opts, .sub = sub };
		jobs[i].limit = canary < nodes[i].n ? canary : nodes[i].n;
		canary -= jobs[i].limit;
	}
	if (opts->canary)
		failed = batch_phase(jobs, nnodes, opts, hooks, &status);
	if (!failed || (opts->keep_going && !opts->canary)) {
		for (size_t i = 0; i < nnodes; i++)
			jobs[i].limit = nodes[i].n;
		failed |= batch_phase(jobs, nnodes, opts, hooks, &status);
	}
	for (size_t i = 0; i < nnodes; i++) {
		struct batch_result skipped = { .state = BATCH_SKIPPED };
		for (size_t t = jobs[i].next; t < nodes[i].n; t++)
			hooks->settled(hooks->ud, i, t, &skipped);
		agent_close(jobs[i].sess);
	}
	free(jobs);
	return status ? status : failed;
}
