/* Prompt lines evaluated by the agent (see repl_eval.h).  Every request
 * goes through repl_eval_call: a worker thread owns the connection for the
 * time of the request; if the user abandons it, the connection stays with
 * the worker, which closes it when the request ends.  A connection whose
 * request failed in transit is closed too: a late reply must never be read
 * as the answer to the next line. */
#include "repl_eval.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "audit.h"
#include "embed.h"

extern const struct embed_file skyctl_lua[];

struct repl_eval {
	char *addr, *session;
	double timeout;
	volatile sig_atomic_t *stop;
	struct agent_sess *sess;	/* NULL until needed or after a failure */
	uint32_t ready;			/* the service lua/repl.lua is installed in */
};

/* one request in flight; freed by whichever of main and worker is last */
struct repl_job {
	pthread_mutex_t mu;
	int done, abandoned, wake[2];
	struct agent_sess *sess;
	uint32_t hub;
	struct fmt_buf req;
	struct wire_val *reply;
	int rc;			/* agent_request's */
	struct err err;
};

struct repl_eval *repl_eval_new(const char *addr, double timeout, const char *session,
				volatile sig_atomic_t *stop)
{
	struct repl_eval *e = calloc(1, sizeof *e);
	if (!e || agent_init() != 0 || !(e->addr = strdup(addr)) ||
	    !(e->session = strdup(session))) {
		repl_eval_free(e);
		return NULL;
	}
	e->timeout = timeout;
	e->stop = stop;
	return e;
}

void repl_eval_free(struct repl_eval *e)
{
	if (!e)
		return;
	agent_close(e->sess);
	free(e->addr);
	free(e->session);
	free(e);
}

static void repl_job_free(struct repl_job *j)
{
	agent_close(j->sess);
	fmt_buf_free(&j->req);
	wire_val_free(j->reply);
	close(j->wake[0]);
	close(j->wake[1]);
	pthread_mutex_destroy(&j->mu);
	free(j);
}

static void *repl_job_main(void *arg)
{
	struct repl_job *j = arg;
	int rc = agent_request(j->sess, j->hub, &j->req, &j->reply, &j->err);
	pthread_mutex_lock(&j->mu);
	j->rc = rc;
	j->done = 1;
	int abandoned = j->abandoned;
	if (!abandoned && write(j->wake[1], "", 1) < 0)
		abandoned = 0;	/* the main thread polls done as well */
	pthread_mutex_unlock(&j->mu);
	if (abandoned)
		repl_job_free(j);
	return NULL;
}

/* Send req (consumed) to service in a worker thread and wait for it, or
 * for *stop.  0 with *reply set, else the exit code of e's class (-1:
 * abandoned) with e set. */
static int repl_eval_call(struct repl_eval *e, uint32_t service, struct fmt_buf *req,
			  struct wire_val **reply, struct err *err)
{
	*reply = NULL;
	if (!e->sess) {
		e->sess = agent_open(e->addr, NULL, 0, e->timeout, err);
		e->ready = 0;
		if (!e->sess) {	/* say which node: the bare reason ("Connection refused") does not */
			char why[sizeof err->msg];
			snprintf(why, sizeof why, "%s", err->msg);
			if (strncmp(why, e->addr, strlen(e->addr)) != 0)
				err_set(err, err->code, "%s: cannot reach the node: %s", e->addr, why);
			fmt_buf_free(req);
			return err->code;
		}
	}
	struct repl_job *j = calloc(1, sizeof *j);
	if (!j || pipe(j->wake) != 0) {
		fmt_buf_free(req);
		free(j);
		err_set(err, ERR_NODE, "out of resources");
		return ERR_NODE;
	}
	pthread_t t;
	pthread_mutex_init(&j->mu, NULL);
	j->sess = e->sess;
	j->hub = service;
	j->req = *req;
	*req = (struct fmt_buf){ 0 };
	if (pthread_create(&t, NULL, repl_job_main, j) != 0) {
		j->sess = NULL;
		repl_job_free(j);
		err_set(err, ERR_NODE, "cannot start a thread");
		return ERR_NODE;
	}
	pthread_detach(t);
	e->sess = NULL;	/* the job's now */
	for (;;) {
		struct pollfd p = { .fd = j->wake[0], .events = POLLIN };
		poll(&p, 1, 50);
		pthread_mutex_lock(&j->mu);
		if (j->done)
			break;
		if (e->stop && *e->stop) {
			j->abandoned = 1;
			pthread_mutex_unlock(&j->mu);
			err_set(err, ERR_NODE, "abandoned: the service finishes the line on its own");
			return -1;
		}
		pthread_mutex_unlock(&j->mu);
	}
	pthread_mutex_unlock(&j->mu);
	int code = j->rc ? j->err.code : 0;
	if (code == 0 || code == ERR_NODE) {
		e->sess = j->sess;	/* still in step: keep it */
		j->sess = NULL;
	}
	*reply = j->reply;
	j->reply = NULL;
	if (code)
		*err = j->err;
	repl_job_free(j);
	return code;
}

/* src as a Lua string literal: printable ASCII kept, the rest \ddd */
static void repl_eval_quote(struct fmt_buf *b, const char *src)
{
	char esc[8];
	wire_put_raw(b, "\"", 1);
	for (const unsigned char *s = (const unsigned char *)src; *s; s++) {
		if (*s >= 0x20 && *s < 0x7f && *s != '"' && *s != '\\') {
			wire_put_raw(b, (const char *)s, 1);
		} else {
			snprintf(esc, sizeof esc, "\\%03u", *s);
			wire_put_raw(b, esc, 4);
		}
	}
	wire_put_raw(b, "\"", 1);
}

/* the eval request for src (a chunk of Lua) in this prompt's session */
static void repl_eval_request(struct repl_eval *e, struct fmt_buf *req, const char *src,
			      size_t len)
{
	char who[320];
	wire_put_open(req);
	wire_put_cstr(req, "op");
	wire_put_cstr(req, "eval");
	wire_put_cstr(req, "session");
	wire_put_cstr(req, e->session);
	wire_put_cstr(req, "name");
	wire_put_cstr(req, "=repl");
	wire_put_cstr(req, "timeout");	/* the watchdog stops it before we give up */
	wire_put_num(req, e->timeout * 0.8);
	wire_put_cstr(req, "src");
	wire_put_str(req, src, len);
	wire_put_cstr(req, "who");	/* a code change here is journaled by whom */
	wire_put_cstr(req, audit_who(who, sizeof who));
	wire_put_close(req);
}

/* append line and a newline to *text */
static void repl_eval_add(char **text, const char *line)
{
	size_t have = *text ? strlen(*text) : 0, n = strlen(line);
	char *p = realloc(*text, have + n + 2);
	if (!p)
		return;
	memcpy(p + have, line, n);
	p[have + n] = '\n';
	p[have + n + 1] = '\0';
	*text = p;
}

/* run src (a whole chunk) and turn the agent's reply into r */
static void repl_eval_run(struct repl_eval *e, uint32_t service, const char *src, size_t len,
			  struct repl_reply *r)
{
	struct fmt_buf req = { 0 };
	struct wire_val *rep;
	struct err err = { 0 };
	memset(r, 0, sizeof *r);
	repl_eval_request(e, &req, src, len);
	r->status = repl_eval_call(e, service, &req, &rep, &err);
	if (r->status != 0) {
		r->err = strdup(err.msg[0] ? err.msg : "failed");
		return;
	}
	const struct wire_val *lists[2] = { wire_get(rep, "out"), wire_get(rep, "values") };
	for (int k = 0; k < 2; k++)	/* what it printed, then what it returned */
		for (size_t i = 1; i <= wire_count(lists[k]); i++) {
			const char *s = wire_str(wire_at(lists[k], (long long)i));
			repl_eval_add(&r->out, s ? s : "");
		}
	if (!wire_getb(rep, "ok")) {
		r->status = 1;
		r->err = strdup(wire_gets(rep, "err", "failed"));
	}
	wire_val_free(rep);
}

int repl_eval_attach(struct repl_eval *e, uint32_t service, struct repl_reply *r)
{
	const struct embed_file *f = embed_find(skyctl_lua, "repl.lua");
	if (!f) {
		memset(r, 0, sizeof *r);
		r->status = 1;
		r->err = strdup("lua/repl.lua is not embedded in this skyctl");
		return r->status;
	}
	repl_eval_run(e, service, f->data, f->size, r);
	e->ready = r->status == 0 ? service : 0;
	return r->status;
}

void repl_eval_chunk(struct repl_eval *e, uint32_t service, const char *chunk,
		     struct repl_reply *r)
{
	struct fmt_buf src = { 0 };
	memset(r, 0, sizeof *r);
	if (e->ready != service && repl_eval_attach(e, service, r) != 0)
		return;
	repl_reply_clear(r);
	wire_put_raw(&src, "__skyctl_repl(", 14);
	repl_eval_quote(&src, chunk);
	wire_put_raw(&src, ")", 1);
	repl_eval_run(e, service, src.oom ? "" : src.p, src.oom ? 0 : src.len, r);
	fmt_buf_free(&src);
	/* a service that restarted its agent lost the session: install again */
	if (r->status == 1 && r->err && strstr(r->err, "__skyctl_repl") && !r->out) {
		repl_reply_clear(r);
		e->ready = 0;
		repl_eval_chunk(e, service, chunk, r);
	}
}

int repl_eval_foreign(struct repl_eval *e)
{
	struct err err;
	if (!e->sess) {
		e->ready = 0;
		if (!(e->sess = agent_open(e->addr, NULL, 0, e->timeout, &err)))
			return 0;
	}
	return agent_lua_foreign(e->sess, &err) == 1;
}

void repl_reply_clear(struct repl_reply *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof *r);
}

size_t repl_eval_names(struct repl_eval *e, uint32_t service, const char *expr, char ***out)
{
	struct fmt_buf req = { 0 };
	struct wire_val *rep = NULL;
	struct err err;
	size_t n = 0;
	*out = NULL;
	wire_put_open(&req);
	wire_put_cstr(&req, "op");
	wire_put_cstr(&req, "complete");
	wire_put_cstr(&req, "session");
	wire_put_cstr(&req, e->session);
	wire_put_cstr(&req, "expr");
	wire_put_cstr(&req, expr);
	wire_put_close(&req);
	if (repl_eval_call(e, service, &req, &rep, &err) == 0) {
		const struct wire_val *names = wire_get(rep, "names");
		size_t k = wire_count(names);
		*out = k ? calloc(k, sizeof **out) : NULL;
		for (size_t i = 1; *out && i <= k; i++) {
			const struct wire_val *v = wire_at(names, (long long)i);
			if (wire_str(v) && ((*out)[n] = strdup(wire_str(v))))
				n++;
		}
	}
	wire_val_free(rep);
	return n;
}
