/* Batches of agent operations over many services of many nodes (batch.h).
 * Work goes in rounds: in each round every node that has work left gets one
 * request (its next chunk of targets) on its own thread, and the agent's
 * hub service in that node fans the chunk out.  Between rounds the results
 * are settled in order and the batch stops after a failure unless
 * keep_going, so at any time exactly which targets ran is known. */
#include "batch.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net.h"

/* targets per request when several nodes share a batch: small enough that
 * a failure on one node stops the others soon, big enough to stay fast */
#define BATCH_CHUNK 256
/* and for a node alone: an interrupt holds back what is not sent yet, the
 * progress line moves, and no request outlasts the hub's deadline */
#define BATCH_CHUNK_ONE 1000
#define BATCH_HUBS 3		/* services tried as hub before giving up on a node */

struct batch_job {
	struct batch_node *node;
	const struct batch_opts *opts;
	const struct fmt_buf *sub;
	struct agent_sess *sess;
	size_t hub;		/* index of the hub among the node's hubs */
	size_t next;		/* first target not yet sent */
	size_t limit;		/* targets to send in this phase */
	size_t canaries;	/* its first targets are canaries */
	int dead;		/* the node is lost: send it nothing more */
	double rate;		/* targets a second its hub settled last round; 0: unknown */
	/* one round */
	size_t lo, hi;
	struct wire_val *rep;
	int rc;			/* agent_open's or agent_request's */
	int sent;		/* the request may have run */
	struct err err;		/* when rc is -1 */
	const char *batch;	/* the batch id the journals record (inject,
				 * rollback), or NULL */
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
	/* the hub answers by then with what it has: a stuck target ends
	 * pending alone, the others are settled (the reply beats our timeout) */
	wire_put_cstr(b, "wait");
	wire_put_num(b, j->opts->timeout * 0.75);
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
	double t0 = net_now();
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
	if (j->rc == 0 && net_now() > t0)
		j->rate = (double)(j->hi - j->lo) / (net_now() - t0);
	fmt_buf_free(&req);
	return NULL;
}

/* Interrupts: SIGINT and SIGTERM count in batch_signals and wake the
 * waiting main thread through batch_pipe, as a finished round does. */
static volatile sig_atomic_t batch_signals;
static int batch_left;	/* batch_abandoned() */

int batch_abandoned(void)
{
	return batch_left;
}
static int batch_pipe[2] = { -1, -1 };

static void batch_on_signal(int sig)
{
	int saved = errno;
	(void)sig;
	batch_signals++;
	if (write(batch_pipe[1], "s", 1) < 0) {
		/* full: the main thread has wakeups enough */
	}
	errno = saved;
}

static void *batch_round_thread(void *arg)
{
	batch_round(arg);
	if (write(batch_pipe[1], "d", 1) < 0) {
		/* cannot happen short of a full pipe: 64 KB of unread wakeups */
	}
	return NULL;
}

/* wait until running rounds have finished (each is bounded by the
 * timeout); 0, or -1 at a second interrupt (the rounds go on alone) */
static int batch_wait(size_t running, const struct batch_hooks *h)
{
	int told = 0;
	while (running) {
		if (batch_signals == 1 && !told++)
			h->interrupted(h->ud);
		struct pollfd p = { .fd = batch_pipe[0], .events = POLLIN };
		char buf[64];
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			return -1;
		ssize_t n = read(batch_pipe[0], buf, sizeof buf);
		for (ssize_t k = 0; k < n; k++)
			running -= buf[k] == 'd';
		if (batch_signals >= 2)
			return -1;
	}
	return 0;
}

/* the id of the entry of batch in the journal reply v, or 0 */
static long long batch_journaled(const struct wire_val *v, const char *batch)
{
	const struct wire_val *list = wire_get(v, "journal");
	for (size_t k = wire_count(list); k >= 1; k--) {
		const struct wire_val *e = wire_at(list, (long long)k);
		if (strcmp(wire_gets(e, "batch", ""), batch) == 0)
			return wire_geti(e, "id", 0);
	}
	return 0;
}

/* Ask the journals of the targets of j's round that ended unknown whether
 * this batch reached them, through a hub that answers (a lost one is
 * replaced); a target whose journal has the batch is settled ok (facts[i]
 * its patch id), one that answered without it keeps its unknown with
 * facts[i] = -1.  The check costs at most one more wait. */
static void batch_check(struct batch_job *j, long long *facts)
{
	static const char probe[] = "{s5:briefts2:ops7:journal}";
	const struct wire_val *results = wire_get(j->rep, "results");
	struct fmt_buf sub = { .p = (char *)probe, .len = sizeof probe - 1 };
	size_t lo = j->lo, hi = j->hi, n = 0;
	uint32_t *ask = calloc(hi - lo + 1, sizeof *ask);
	size_t *at = calloc(hi - lo + 1, sizeof *at);
	for (size_t i = lo; ask && at && i < hi; i++) {
		const struct wire_val *v = j->rc == 0 ? wire_at(results, (long long)(i - lo + 1)) : NULL;
		if (j->rc != 0 || (v && wire_getb(v, "pending")))
			at[n] = i, ask[n++] = j->node->addrs[i];
	}
	if (n) {
		struct batch_node one = *j->node;
		struct batch_opts keep = *j->opts;
		struct batch_job c = { .node = &one, .opts = &keep, .sub = &sub, .hub = j->hub,
				       .lo = 0, .hi = n };
		keep.keep_going = 1;
		one.addrs = ask, one.n = n, one.conn = NULL;
		if (j->rc != 0)	/* that hub is lost: the next one asks */
			c.hub = j->hub + 1 < j->node->nhubs ? j->hub + 1 : 0;
		else
			c.sess = j->sess;
		batch_round(&c);
		const struct wire_val *res = c.rc == 0 ? wire_get(c.rep, "results") : NULL;
		for (size_t k = 0; k < n; k++) {
			const struct wire_val *v = wire_at(res, (long long)k + 1);
			if (v && wire_getb(v, "ok"))
				facts[at[k] - lo] = batch_journaled(v, j->batch);
			if (v && wire_getb(v, "ok") && !facts[at[k] - lo])
				facts[at[k] - lo] = -1;
		}
		wire_val_free(c.rep);
		if (c.sess != j->sess)
			agent_close(c.sess);
	}
	free(ask);
	free(at);
}

/* settle the targets of one finished round; returns 1 if one failed */
static int batch_settle(struct batch_job *j, size_t ni, const struct batch_hooks *h, int *status)
{
	int failed = 0;
	const struct wire_val *results = wire_get(j->rep, "results");
	long long *facts = j->batch && (j->rc == 0 || j->sent) ?
				   calloc(j->hi - j->lo + 1, sizeof *facts) : NULL;
	char note[256];
	int settled_all = facts != NULL;	/* every target from its journal */
	if (facts)
		batch_check(j, facts);
	for (size_t i = j->lo; i < j->hi; i++) {
		struct batch_result r = { .state = BATCH_SKIPPED, .code = j->rc ? j->err.code : 0,
					  .canary = i < j->canaries };
		if (j->rc != 0) {
			r.state = j->sent ? BATCH_UNKNOWN : BATCH_FAILED;
			r.err = j->err.msg;
		} else if ((r.val = wire_at(results, (long long)(i - j->lo + 1)))) {
			r.state = wire_getb(r.val, "ok") ? BATCH_OK :
				  wire_getb(r.val, "pending") ? BATCH_UNKNOWN : BATCH_FAILED;
			r.err = wire_gets(r.val, "err", "failed");
			r.code = r.state == BATCH_UNKNOWN ? ERR_TIMEOUT : 0;	/* no answer in time */
		} else if (!results) {
			r.state = BATCH_FAILED;
			r.err = wire_gets(j->rep, "err", "the agent's reply has no results");
		} else if (!failed) {	/* after a failure the agent stops: skipped */
			/* it ran the round, but says nothing of this one */
			r.state = BATCH_UNKNOWN;
			r.code = ERR_PROTO;
			r.err = "the agent's reply has no result for this service";
			if (!*status)
				*status = ERR_PROTO;
		}
		long long fact = facts ? facts[i - j->lo] : 0;
		if (r.state == BATCH_UNKNOWN && fact > 0) {
			snprintf(note, sizeof note, "%s; its journal has this batch (#%lld): done",
				 r.err, fact);
			r = (struct batch_result){ .state = BATCH_OK, .err = note, .canary = r.canary };
		} else if (r.state == BATCH_UNKNOWN && fact < 0) {
			settled_all = 0;
			snprintf(note, sizeof note, "%s; its journal had nothing of this batch when "
				 "checked", r.err);
			r.err = note;
		}
		if (r.state == BATCH_UNKNOWN && !fact)
			settled_all = 0;
		if (j->rc == 0 && !*status)
			*status = r.code;
		failed |= r.state != BATCH_OK && r.state != BATCH_SKIPPED;
		h->settled(h->ud, ni, i, &r);
	}
	free(facts);
	if (j->rc != 0 && settled_all) {
		/* that hub's session is lost, the node is not: the next round
		 * goes through another hub */
		agent_close(j->sess);
		j->sess = NULL;
		j->hub = j->hub + 1 < j->node->nhubs ? j->hub + 1 : 0;
	} else if (j->rc != 0) {
		j->dead = 1;
		if (!*status)
			*status = j->err.code;
	}
	return failed;
}

/* the targets of j's next request: BATCH_CHUNK when nodes share the
 * batch, else BATCH_CHUNK_ONE, and no more than its hub settled in a third
 * of the hub's deadline last round (a loaded node gets smaller requests,
 * which end before the deadline rather than pending) */
static size_t batch_chunk(const struct batch_job *j, size_t active)
{
	size_t chunk = active > 1 ? BATCH_CHUNK : BATCH_CHUNK_ONE;
	double fits = j->rate * j->opts->timeout * 0.75 / 3;
	if (j->rate > 0 && fits < (double)chunk)
		chunk = fits > 50 ? (size_t)fits : 50;
	return chunk;
}

/* run rounds until every node has sent its targets up to its limit, a
 * failure stops the batch or an interrupt does; returns 1 if a target
 * failed, -1 if a second interrupt abandoned the rounds in flight (their
 * targets settled unknown) */
static int batch_phase(struct batch_job *jobs, size_t n, const struct batch_opts *o,
		       const struct batch_hooks *h, int *status)
{
	int failed = 0;
	while (!batch_signals) {
		size_t active = 0, running = 0;
		for (size_t i = 0; i < n; i++)
			active += !jobs[i].dead && jobs[i].next < jobs[i].limit;
		if (!active)
			return failed;
		pthread_t tid[n];
		int started[n];
		for (size_t i = 0; i < n; i++) {
			struct batch_job *j = &jobs[i];
			started[i] = 0;
			if (j->dead || j->next >= j->limit)
				continue;
			size_t chunk = batch_chunk(j, active);
			j->lo = j->next;
			j->hi = j->lo + chunk < j->limit ? j->lo + chunk : j->limit;
			j->next = j->hi;
			if (h->sending)
				h->sending(h->ud, i, j->lo, j->hi);
			/* on threads, so that an interrupt finds the main one free */
			started[i] = pthread_create(&tid[i], NULL, batch_round_thread, j) == 0;
			if (!started[i])
				batch_round(j);
			running += started[i];
		}
		if (batch_wait(running, h) != 0) {
			for (size_t i = 0; i < n; i++) {
				struct batch_result r = { .state = BATCH_UNKNOWN, .code = ERR_TIMEOUT,
							  .err = "interrupted while in flight" };
				for (size_t t = jobs[i].lo; started[i] && t < jobs[i].hi; t++)
					h->settled(h->ud, i, t, &r);
			}
			return -1;
		}
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
	return failed;
}

/* catch SIGINT and SIGTERM for the batch (on), or restore what was (off) */
static int batch_catch(int on)
{
	static struct sigaction old_int, old_term;
	if (!on) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
		return 0;
	}
	if (batch_pipe[0] < 0) {
		if (pipe(batch_pipe) != 0)
			return -1;
		for (int k = 0; k < 2; k++)
			fcntl(batch_pipe[k], F_SETFL, O_NONBLOCK);
	}
	struct sigaction sa = { .sa_handler = batch_on_signal };	/* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	batch_signals = 0;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	return 0;
}

/* the canaries of each node for opts */
static size_t batch_canaries(const struct batch_opts *o, size_t n)
{
	size_t k = o->canary ? o->canary : (size_t)(o->canary_pct * (double)n / 100.0 + 0.999999);
	return k < n ? k : n;
}

/* For opts->canary_wait seconds, ask every canary for its journal each
 * half second (through its node's hub, as the batch went): 0 if each
 * answered every time, else 1 after telling canary_lost. */
static int batch_watch(struct batch_job *jobs, size_t n, const struct batch_opts *o,
		       const struct batch_hooks *h)
{
	static const char probe[] = "{s2:ops7:journal}";
	struct fmt_buf sub = { .p = (char *)probe, .len = sizeof probe - 1 };
	double end = net_now() + o->canary_wait;
	int lost = 0;
	while (!lost && !batch_signals) {
		for (size_t i = 0; i < n && !lost; i++) {
			struct batch_job *j = &jobs[i];
			if (j->dead || !j->canaries)
				continue;
			const struct fmt_buf *real = j->sub;
			struct batch_opts keep = *o;	/* every canary is asked */
			const struct batch_opts *was = j->opts;
			keep.keep_going = 1;
			j->sub = &sub, j->opts = &keep, j->lo = 0, j->hi = j->canaries;
			batch_round(j);
			const struct wire_val *res = wire_get(j->rep, "results");
			for (size_t t = 0; t < j->canaries && !lost; t++) {
				const struct wire_val *v = wire_at(res, (long long)t + 1);
				if (j->rc == 0 && v && wire_getb(v, "ok"))
					continue;
				h->canary_lost(h->ud, i, t, j->rc ? j->err.msg :
					       wire_gets(v, "err", "no answer"));
				lost = 1;
			}
			wire_val_free(j->rep);
			j->rep = NULL;
			j->sub = real, j->opts = was, j->lo = j->hi = 0;
		}
		double left = end - net_now();
		if (lost || left <= 0)
			break;
		usleep((useconds_t)((left < 0.5 ? left : 0.5) * 1e6));
	}
	return lost;
}

int batch_run(struct batch_node *nodes, size_t nnodes, const struct batch_opts *opts,
	      const struct fmt_buf *sub, const struct batch_hooks *hooks)
{
	struct batch_job *jobs = calloc(nnodes ? nnodes : 1, sizeof *jobs);
	int status = 0, failed = 0;
	if (!jobs || batch_catch(1) != 0) {
		free(jobs);
		return 1;
	}
	int canary = opts->canary || opts->canary_pct > 0;
	/* a batch its journals record can have its unknowns checked */
	char *copy = malloc(sub->len + 1);	/* decoded in place, the copy kept by subv */
	struct wire_val *subv = copy ? wire_decode(memcpy(copy, sub->p ? sub->p : "", sub->len),
						   sub->len, SIZE_MAX, copy) : NULL;
	if (!subv)
		free(copy);
	const char *journaled = wire_gets(subv, "batch", NULL);
	for (size_t i = 0; i < nnodes; i++) {
		jobs[i] = (struct batch_job){ .node = &nodes[i], .opts = opts, .sub = sub,
					      .batch = journaled };
		jobs[i].limit = jobs[i].canaries = batch_canaries(opts, nodes[i].n);
	}
	if (canary)
		failed = batch_phase(jobs, nnodes, opts, hooks, &status);
	if (canary && !failed && opts->canary_wait > 0 && batch_watch(jobs, nnodes, opts, hooks))
		failed = 1, status = status ? status : ERR_NODE;
	if (!failed || (failed > 0 && opts->keep_going && !canary)) {
		for (size_t i = 0; i < nnodes; i++)
			jobs[i].limit = nodes[i].n;
		int f = batch_phase(jobs, nnodes, opts, hooks, &status);
		failed = f < 0 ? -1 : failed | f;
	}
	batch_catch(0);
	for (size_t i = 0; i < nnodes; i++) {
		struct batch_result skipped = { .state = BATCH_SKIPPED,
						.err = batch_signals ? "interrupted" : NULL };
		for (size_t t = jobs[i].next; t < nodes[i].n; t++)
			hooks->settled(hooks->ud, i, t, &skipped);
	}
	if (failed < 0) {	/* the rounds in flight still use jobs: leave them */
		batch_left = 1;
		return BATCH_INTERRUPTED;
	}
	wire_val_free(subv);
	for (size_t i = 0; i < nnodes; i++)
		agent_close(jobs[i].sess);
	free(jobs);
	if (batch_signals)
		return BATCH_INTERRUPTED;
	return status ? status : failed;
}
