/* .watch PROTO (see repl_watch.h).  Debug mode has its own framing: every
 * reply ends with a prompt and no newline, ":0000000a>" while idle and
 * "file(line)>" at a breakpoint; a breakpoint's prompt arrives by itself
 * when the watched message comes.  Every wait has a deadline and gives way
 * to Ctrl-C. */
#include "repl_watch.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "history.h"

#define REPL_WATCH_WAIT 600.0	/* seconds to wait for the watched message */

struct repl_dbg {
	int fd;
	char buf[65536];
	size_t len;
	char idle[16];		/* ":0000000a>" */
};

static double repl_watch_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* a connected socket to the node, or -1 */
static int repl_watch_dial(const struct repl_conf *c, double deadline)
{
	char port[16];
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai = NULL;
	snprintf(port, sizeof port, "%d", c->port);
	if (getaddrinfo(c->host, port, &hints, &ai) != 0)
		return -1;
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int e = errno, left = (int)((deadline - repl_watch_now()) * 1000);
		socklen_t sl = sizeof e;
		if (e != EINPROGRESS || poll(&p, 1, left > 0 ? left : 0) != 1 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) != 0 || e != 0) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(ai);
	int one = 1;
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
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
		int left = (int)((deadline - repl_watch_now()) * 1000);
		if (left <= 0)
			return 4;
		struct pollfd p = { .fd = d->fd, .events = POLLIN };
		if (poll(&p, 1, left < 100 ? left : 100) <= 0)
			continue;
		if (d->len + 1 >= sizeof d->buf)
			d->len = 0;	/* an endless reply: keep the tail only */
		ssize_t n = recv(d->fd, d->buf + d->len, sizeof d->buf - d->len - 1, 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return 3;
		d->len += n > 0 ? (size_t)n : 0;
	}
}

static int repl_watch_send(struct repl_dbg *d, const char *line)
{
	size_t n = strlen(line);
	d->len = 0;
	return send(d->fd, line, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : 3;
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
			st = repl_watch_read(r, d, repl_watch_now() + r->c->timeout, 0);
		repl_watch_show(r, d);
	}
	return st;
}

int repl_watch(struct repl *r, const char *proto)
{
	struct repl_dbg *d = calloc(1, sizeof *d);
	double deadline = repl_watch_now() + r->c->timeout;
	char line[256];
	int st = 3;
	if (!d || strlen(proto) > 64 || strpbrk(proto, "\"\\\n")) {
		free(d);
		repl_show(r, stderr, '!', "usage: .watch PROTO (a protocol name such as lua)");
		return 2;
	}
	*r->stop = 0;
	snprintf(d->idle, sizeof d->idle, ":%08x>", (unsigned)r->service);
	d->fd = repl_watch_dial(r->c, deadline);
	snprintf(line, sizeof line, "debug %x\n", (unsigned)r->service);
	while (d->fd >= 0 && d->len == 0 && st == 3) {	/* the banner */
		struct pollfd p = { .fd = d->fd, .events = POLLIN };
		int left = (int)((deadline - repl_watch_now()) * 1000);
		ssize_t n = left > 0 && poll(&p, 1, left) == 1 ? recv(d->fd, d->buf, 256, 0) : -1;
		if (n > 0 && memchr(d->buf, '\n', (size_t)n))
			st = repl_watch_send(d, line);
		else if (n <= 0)
			break;
	}
	if (st == 0)
		st = repl_watch_read(r, d, deadline, 1);
	if (st == 0 && strstr(d->buf, "<CMD ")) {
		repl_show(r, stderr, '!', d->buf);
		st = 1;
	} else if (st == 0) {
		snprintf(line, sizeof line, "watch(\"%s\")\n", proto);
		st = repl_watch_send(d, line);
		st = st ? st : repl_watch_read(r, d, repl_watch_now() + r->c->timeout, 0);
		repl_watch_show(r, d);
		if (st == 0 && strncmp(d->buf, d->idle, strlen(d->idle)) == 0 && r->tty)
			printf("watching %s in :%08x: waiting for its next message (Ctrl-C stops)\n",
			       proto, (unsigned)r->service);
		fflush(stdout);
		d->len = 0;	/* the idle prompt: wait for the breakpoint's */
		st = st ? st : repl_watch_read(r, d, repl_watch_now() + REPL_WATCH_WAIT, 0);
		if (st == 0 && strcmp(d->buf, d->idle) != 0)
			st = repl_watch_step(r, d);
	}
	if (st < 0)
		repl_show(r, stderr, '!', "^C: watch stopped");
	else if (st == 4 || st == 3)
		repl_show(r, stderr, '!', st == 4 ? "watch: no answer in time (is the service "
			  "being debugged by another session?)" : "watch: connection lost");
	if (d->fd >= 0) {
		/* leave debug mode; closing the connection would do it as well */
		if (repl_watch_send(d, "cont\n") == 0)
			repl_watch_read(r, d, repl_watch_now() + 1.0, 1);
		close(d->fd);
	}
	free(d);
	*r->stop = 0;
	return st < 0 ? 0 : st;
}
