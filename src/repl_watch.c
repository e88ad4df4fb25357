/* .watch PROTO (see repl_watch.h).  Debug mode has its own framing: every
 * reply ends with a prompt and no newline, ":0000000a>" while idle and
 * "file(line)>" at a breakpoint; a breakpoint's prompt arrives by itself
 * when the watched message comes.  Every wait has a deadline and gives way
 * to Ctrl-C. */
#include "repl_watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"
#include "net.h"
#include "proto.h"

#define REPL_WATCH_WAIT 600.0	/* seconds to wait for the watched message */

struct repl_dbg {
	struct net_conn *conn;
	struct err why;		/* the transport's failure */
	char buf[65536];
	size_t len;
	char idle[16];		/* ":0000000a>" */
};

/* move what the connection received into d->buf */
static void repl_watch_take(struct repl_dbg *d)
{
	size_t n;
	const char *p = net_data(d->conn, &n);
	net_consume(d->conn, n);
	while (n > 0) {
		if (d->len + 1 >= sizeof d->buf)
			d->len = 0;	/* an endless reply: keep the tail only */
		size_t k = sizeof d->buf - d->len - 1;
		k = k < n ? k : n;
		memcpy(d->buf + d->len, p, k);
		d->len += k;
		p += k;
		n -= k;
	}
}

/* 1 if the buffer ends with a debug prompt (idle or at a breakpoint) */
static int repl_watch_prompt(const struct repl_dbg *d)
{
	if (!d->len || d->buf[d->len - 1] != '>')
		return 0;
	const char *last = memrchr(d->buf, '\n', d->len);
	last = last ? last + 1 : d->buf;
	size_t n = (size_t)(d->buf + d->len - last);
	return (n == strlen(d->idle) && memcmp(last, d->idle, n) == 0) ||
	       (n > 3 && d->buf[d->len - 2] == ')');
}

/* Read until a prompt (or, when term, "<CMD ...>" too) ends the buffer.
 * 0, 4 timeout, 3 connection closed, -1 Ctrl-C. */
static int repl_watch_read(struct repl *r, struct repl_dbg *d, double deadline, int term)
{
	for (;;) {
		d->buf[d->len] = '\0';
		if (repl_watch_prompt(d) || (term && strstr(d->buf, "<CMD ")))
			return 0;
		if (*r->stop)
			return -1;
		double now = net_now();
		if (now >= deadline)
			return 4;
		int got = net_fill(d->conn, now + 0.1 < deadline ? now + 0.1 : deadline, &d->why);
		if (got == 1)
			repl_watch_take(d);
		else if (got == 0 || d->why.code != ERR_TIMEOUT)
			return 3;
	}
}

static int repl_watch_send(struct repl_dbg *d, const char *line)
{
	d->len = 0;
	return net_write(d->conn, line, strlen(line), 0, &d->why) == 0 ? 0 : 3;
}

/* show the reply before its prompt; the prompt stays in d->buf */
static void repl_watch_show(struct repl *r, struct repl_dbg *d)
{
	char *last = memrchr(d->buf, '\n', d->len);
	if (!last)
		return;
	*last = '\0';
	repl_show(r, stdout, '<', d->buf);
	d->len = (size_t)(d->buf + d->len - last - 1);
	memmove(d->buf, last + 1, d->len);
	d->buf[d->len] = '\0';
}

/* step through one breakpoint: lines go to the paused frame until it
 * continues (the idle prompt comes back) or the user leaves */
static int repl_watch_step(struct repl *r, struct repl_dbg *d)
{
	char prompt[512], *line;
	int intr, st = 0;
	while (st == 0 && repl_watch_prompt(d) && strcmp(d->buf, d->idle) != 0) {
		snprintf(prompt, sizeof prompt, "%.500s ", d->buf);
		const char *in = repl_line(r, prompt, &intr);
		if (!in || strcmp(in, ".quit") == 0)
			return 0;
		if (intr || !in[0])
			continue;
		history_log_put(r->log, '>', in);
		line = malloc(strlen(in) + 2);
		if (!line)
			return 1;
		sprintf(line, "%s\n", in);
		st = repl_watch_send(d, line);
		free(line);
		*r->stop = 0;
		if (st == 0)
			st = repl_watch_read(r, d, net_now() + r->c->timeout, 0);
		repl_watch_show(r, d);
	}
	return st;
}

int repl_watch(struct repl *r, const char *proto)
{
	struct repl_dbg *d = calloc(1, sizeof *d);
	double deadline;
	char line[256], why[600];
	int st = 3;
	if (!d || strlen(proto) > 64 || strpbrk(proto, "\"\\\n")) {
		free(d);
		repl_show(r, stderr, '!', "usage: .watch PROTO (a protocol name such as lua)");
		return 2;
	}
	*r->stop = 0;
	snprintf(d->idle, sizeof d->idle, ":%08x>", (unsigned)r->service);
	d->conn = proto_open(r->c->addr, r->c->timeout, &d->why);
	deadline = net_now() + r->c->timeout;
	snprintf(line, sizeof line, "debug %x\n", (unsigned)r->service);
	if (d->conn) {
		net_set_nudge(d->conn, NULL);	/* debug mode answers empty lines */
		st = repl_watch_send(d, line);
	}
	if (st == 0)
		st = repl_watch_read(r, d, deadline, 1);
	if (st == 0 && strstr(d->buf, "<CMD ")) {
		repl_show(r, stderr, '!', d->buf);
		st = 1;
	} else if (st == 0) {
		snprintf(line, sizeof line, "watch(\"%s\")\n", proto);
		st = repl_watch_send(d, line);
		st = st ? st : repl_watch_read(r, d, net_now() + r->c->timeout, 0);
		repl_watch_show(r, d);
		if (st == 0 && strncmp(d->buf, d->idle, strlen(d->idle)) == 0 && r->tty)
			printf("watching %s in :%08x: waiting for its next message (Ctrl-C stops)\n",
			       proto, (unsigned)r->service);
		fflush(stdout);
		d->len = 0;	/* the idle prompt: wait for the breakpoint's */
		st = st ? st : repl_watch_read(r, d, net_now() + REPL_WATCH_WAIT, 0);
		if (st == 0 && strcmp(d->buf, d->idle) != 0)
			st = repl_watch_step(r, d);
	}
	if (st < 0)
		repl_show(r, stderr, '!', "^C: watch stopped");
	else if (st == 4)
		repl_show(r, stderr, '!', "watch: no answer in time (is the service being "
			  "debugged by another session?)");
	else if (st == 3) {
		snprintf(why, sizeof why, "watch: %s", d->why.msg[0] ? d->why.msg : "connection lost");
		repl_show(r, stderr, '!', why);
	}
	if (d->conn) {
		/* leave debug mode; closing the connection would do it as well */
		if (repl_watch_send(d, "cont\n") == 0)
			repl_watch_read(r, d, net_now() + 1.0, 1);
		net_close(d->conn);
	}
	free(d);
	*r->stop = 0;
	return st < 0 ? 0 : st;
}
