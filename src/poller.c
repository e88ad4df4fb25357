/* poller.h: one node polled with `stat` + `mem`.  The backoff starts at
 * half a second and doubles up to POLLER_BACKOFF_MAX, so a node that comes
 * back is seen again within a few seconds, and a dead one costs a refused
 * connect now and then. */
#include "poller.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define POLLER_BACKOFF_MIN 0.5
#define POLLER_BACKOFF_MAX 4.0
#define POLLER_NAP_NS 4000000	/* between reads of a reply still coming */

void poller_init(struct poller_node *p, const char *name, const char *addr)
{
	memset(p, 0, sizeof *p);
	p->name = name;
	p->addr = addr;
	p->backoff = POLLER_BACKOFF_MIN;
	sample_init(&p->s[0]);
	sample_init(&p->s[1]);
}

void poller_free(struct poller_node *p)
{
	net_close(p->conn);
	p->conn = NULL;
	sample_free(&p->s[0]);
	sample_free(&p->s[1]);
}

/* Read the next reply by the deadline.  A console writes a table reply a
 * line at a time, so reading as bytes arrive would wake us once per line
 * (thousands of times for `stat` on a big node): instead take what has
 * arrived, and nap a few milliseconds while the rest is on its way. */
static int poller_read(struct poller_node *p, struct proto_reply *r, double deadline)
{
	const struct timespec nap = { 0, POLLER_NAP_NS };
	for (;;) {
		double now = net_now();
		if (proto_read_reply(p->conn, r, now < deadline ? now : deadline, &p->why) == 0)
			return 0;
		if (p->why.code != ERR_TIMEOUT || now >= deadline)
			return -1;
		nanosleep(&nap, NULL);
	}
}

/* the node did not answer: forget the connection and its samples */
static int poller_down(struct poller_node *p, int keep_conn)
{
	if (!keep_conn) {
		net_close(p->conn);
		p->conn = NULL;
	}
	p->up = 0;
	p->nsamples = 0;
	p->retry_at = net_now() + p->backoff;
	p->backoff = p->backoff * 2 < POLLER_BACKOFF_MAX ? p->backoff * 2 : POLLER_BACKOFF_MAX;
	return -1;
}

/* add the lines of reply r to s with add; -1 (why set) if it is an error */
static int poller_take(struct poller_node *p, const char *line, const struct proto_reply *r,
		       struct sample *s, int (*add)(struct sample *, const char *, size_t))
{
	if (!r->ok) {
		err_set(&p->why, ERR_NODE, "%s: %.200s", line, r->nlines ? r->lines[0] : "error");
		return -1;
	}
	for (size_t i = 0; i < r->nlines; i++)
		add(s, r->lines[i], strlen(r->lines[i]));
	return 0;
}

int poller_poll(struct poller_node *p, int cs, int mem, double wait)
{
	char stat[32], memline[32], *lines[2] = { stat, memline };
	struct proto_reply r[2];
	int n = mem ? 2 : 1, got = 0, rc = 0;
	p->tried = 1;
	if (!p->conn) {
		if (net_now() < p->retry_at)
			return -1;
		p->conn = proto_open(p->addr, wait, &p->why);
		if (!p->conn)
			return poller_down(p, 0);
	}
	snprintf(stat, sizeof stat, "stat %d", cs);
	snprintf(memline, sizeof memline, "mem %d", cs);
	double deadline = net_now() + wait + n * cs / 100.0;
	if (proto_sendv(p->conn, lines, (size_t)n, &p->why) != 0)
		return poller_down(p, 0);
	struct sample *s = &p->s[!p->newest];
	sample_clear(s);
	for (; got < n; got++) {
		if (poller_read(p, &r[got], deadline) != 0) {
			while (got-- > 0)
				proto_reply_free(&r[got]);
			return poller_down(p, 0);
		}
		if (got == 0)
			s->when = net_now();
	}
	for (int i = 0; i < n && rc == 0; i++)
		rc = poller_take(p, lines[i], &r[i], s,
				 i == 0 ? sample_add_stat : sample_add_mem);
	for (int i = 0; i < n; i++)
		proto_reply_free(&r[i]);
	if (rc != 0)
		return poller_down(p, 1);
	sample_finish(s);
	p->newest = !p->newest;
	p->nsamples = p->nsamples < 2 ? p->nsamples + 1 : 2;
	p->up = 1;
	p->backoff = POLLER_BACKOFF_MIN;
	return 0;
}

int poller_ask(struct poller_node *p, char *const *lines, size_t n, struct proto_reply *r,
	       double deadline)
{
	size_t got = 0;
	if (!p->conn)
		return err_set(&p->why, ERR_CONNECT, "not connected");
	if (proto_sendv(p->conn, lines, n, &p->why) == 0)
		while (got < n && poller_read(p, &r[got], deadline) == 0)
			got++;
	if (got == n)
		return 0;
	while (got-- > 0)
		proto_reply_free(&r[got]);
	net_close(p->conn);
	p->conn = NULL;
	return -1;
}

const struct sample *poller_newest(const struct poller_node *p)
{
	return p->nsamples ? &p->s[p->newest] : NULL;
}

const struct sample *poller_older(const struct poller_node *p)
{
	return p->nsamples == 2 ? &p->s[!p->newest] : NULL;
}
