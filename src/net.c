/* net.h: sockets with deadlines.  Loopback latency is what this file is
 * about: TCP_NODELAY on connect and TCP_QUICKACK re-armed before every
 * read turn a ~44 ms console round trip (Nagle meeting delayed ACK) into
 * ~0.1 ms (docs/protocol.md, Latencies); over ssh, where skyctl does not own
 * the TCP sockets, the nudge (net_set_nudge) does the same job. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net.h"

struct net_conn {
	int fd;			/* a stream socket */
	int tcp;		/* fd is TCP (QUICKACK applies) */
	struct net_peer peer;	/* what is behind fd when it is not a socket to the node */
	const char *nudge;	/* see net_set_nudge; NULL: none */
	int fresh;		/* data arrived since the last write or nudge */
	double timeout;
	size_t max;		/* net_max() when it was made */
	char *buf;
	size_t start, end, cap;	/* unconsumed bytes are buf[start..end) */
};

static size_t net_max_bytes = NET_MAX_DEFAULT;

void net_set_max(size_t max)
{
	net_max_bytes = max;
}

size_t net_max(void)
{
	return net_max_bytes;
}

double net_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int net_parse_addr(const char *spec, char *host, size_t hostlen, int *port, struct err *e)
{
	const char *colon, *h = spec;
	size_t hl;
	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');
		if (!close || close[1] != ':')
			return err_set(e, ERR_USAGE, "bad node address '%s' (want [ipv6]:PORT)", spec);
		h = spec + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(spec, ':');
		if (!colon || strchr(spec, ':') != colon)
			return err_set(e, ERR_USAGE, "bad node address '%s' (want HOST:PORT)", spec);
		hl = (size_t)(colon - spec);
	}
	char *end;
	long p = strtol(colon + 1, &end, 10);
	if (hl == 0 || hl >= hostlen || !colon[1] || *end || p < 1 || p > 65535)
		return err_set(e, ERR_USAGE, "bad node address '%s' (want HOST:PORT)", spec);
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (int)p;
	return 0;
}

static struct net_conn *net_new(int fd, int tcp, const struct net_peer *peer, double timeout)
{
	struct net_conn *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->fd = fd;
	c->tcp = tcp;
	if (peer)
		c->peer = *peer;
	c->timeout = timeout;
	c->max = net_max_bytes;
	return c;
}

/* milliseconds left until deadline, for poll (at least 0) */
static int net_ms_left(double deadline)
{
	double left = deadline - net_now();
	if (left <= 0)
		return 0;
	return left > 86400 ? 86400000 : (int)(left * 1000) + 1;
}

/* wait for events on fd; 1 ready, 0 timed out, -1 error */
static int net_poll(int fd, short events, double deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		int ms = net_ms_left(deadline);
		int r = poll(&p, 1, ms);
		if (r > 0)
			return 1;
		if (r == 0 && (ms == 0 || net_now() >= deadline))
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

static int net_timed_out(const struct net_conn *c, struct err *e, const char *what)
{
	return err_set(e, ERR_TIMEOUT, "timed out after %.1f s%s", c->timeout, what);
}

/* a connect error; a reset reads as it does once connected (a node that
 * accepts and drops at once may do either, depending on timing) */
static int net_connect_error(int err, struct err *e)
{
	if (err == ECONNRESET)
		return err_set(e, ERR_CONNECT, "connection reset by the node");
	return err_set(e, ERR_CONNECT, "%s", strerror(err));
}

static int net_try_connect(struct addrinfo *ai, double deadline, int *fd, struct err *e)
{
	int one = 1, soerr = 0;
	socklen_t sl = sizeof soerr;
	*fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		     ai->ai_protocol);
	if (*fd < 0)
		return err_set(e, ERR_CONNECT, "socket: %s", strerror(errno));
	setsockopt(*fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(*fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return net_connect_error(errno, e);
	int r = net_poll(*fd, POLLOUT, deadline);
	if (r == 0)
		return err_set(e, ERR_TIMEOUT, "timed out connecting");
	if (r < 0 || getsockopt(*fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
		soerr = errno;
	if (soerr)
		return net_connect_error(soerr, e);
	return 0;
}

struct net_conn *net_connect(const char *host, int port, double timeout, struct err *e)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV }, *res = NULL;
	char ports[16];
	double deadline = net_now() + timeout;
	int fd = -1;
	snprintf(ports, sizeof ports, "%d", port);
	int g = getaddrinfo(host, ports, &hints, &res);
	if (g != 0) {
		err_set(e, ERR_CONNECT, "cannot resolve host '%s': %s", host,
			g == EAI_SYSTEM ? strerror(errno) : gai_strerror(g));
		return NULL;
	}
	int rc = -1;
	for (struct addrinfo *ai = res; ai && rc != 0; ai = ai->ai_next) {
		if (fd >= 0)
			close(fd);
		rc = net_try_connect(ai, deadline, &fd, e);
		if (rc != 0 && e && e->code == ERR_TIMEOUT)
			snprintf(e->msg, sizeof e->msg, "timed out after %.1f s connecting", timeout);
	}
	freeaddrinfo(res);
	struct net_conn *c = rc == 0 ? net_new(fd, 1, NULL, timeout) : NULL;
	if (!c) {
		if (rc == 0)
			err_set(e, ERR_CONNECT, "out of memory");
		if (fd >= 0)
			close(fd);
	}
	return c;
}

struct net_conn *net_stream(int fd, const struct net_peer *peer, double timeout)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return net_new(fd, 0, peer, timeout);
}

void net_close(struct net_conn *c)
{
	if (!c)
		return;
	close(c->fd);
	if (c->peer.close)
		c->peer.close(c->peer.ud);
	free(c->buf);
	free(c);
}

void net_set_nudge(struct net_conn *c, const char *bytes)
{
	c->nudge = bytes;
	c->fresh = 0;
}

double net_timeout(const struct net_conn *c)
{
	return c->timeout;
}

double net_deadline(const struct net_conn *c)
{
	return net_now() + c->timeout;
}

int net_write(struct net_conn *c, const void *p, size_t n, double deadline, struct err *e)
{
	const char *s = p;
	if (deadline <= 0)
		deadline = net_deadline(c);
	c->fresh = 0;
	while (n > 0) {
		ssize_t w = send(c->fd, s, n, MSG_NOSIGNAL);
		if (w > 0) {
			s += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return err_set(e, ERR_CONNECT, "write: %s", strerror(errno));
		int r = net_poll(c->fd, POLLOUT, deadline);
		if (r == 0)
			return net_timed_out(c, e, " (sending)");
		if (r < 0)
			return err_set(e, ERR_CONNECT, "poll: %s", strerror(errno));
	}
	return 0;
}

/* room for at least 4 KB more at buf+end (less at the bound: the buffer
 * never grows past max + 1 bytes) */
static int net_reserve(struct net_conn *c)
{
	if (c->start > 0 && c->start == c->end)
		c->start = c->end = 0;
	if (c->cap - c->end >= 4096)
		return 0;
	if (c->start > 0 && (c->start > c->cap / 2 || c->cap > c->max)) {
		memmove(c->buf, c->buf + c->start, c->end - c->start);
		c->end -= c->start;
		c->start = 0;
		if (c->cap - c->end >= 4096)
			return 0;
	}
	if (c->cap > c->max)
		return c->end < c->cap ? 0 : -1;
	size_t cap = c->cap ? c->cap * 2 : 65536;
	if (cap > c->max + 1)
		cap = c->max + 1;
	char *p = realloc(c->buf, cap);
	if (!p)
		return -1;
	c->buf = p;
	c->cap = cap;
	return 0;
}

/* The stream ended (closed when clean, else reset): 0 with e saying so,
 * or -1 with the peer's reason when it failed. */
static int net_ended(struct net_conn *c, int clean, struct err *e)
{
	if (c->peer.ended && c->peer.ended(c->peer.ud, net_now() + 2.0, e) != 0)
		return -1;
	err_set(e, ERR_CONNECT, "connection %s by the node", clean ? "closed" : "reset");
	return 0;
}

static int net_too_much(const struct net_conn *c, struct err *e)
{
	char size[32];
	if (c->max % (1 << 20) == 0)
		snprintf(size, sizeof size, "%zuM", c->max >> 20);
	else
		snprintf(size, sizeof size, "%zu bytes", c->max);
	return err_set(e, ERR_PROTO, "the node sent more than %s without ending its reply "
		       "(see --max-reply)", size);
}

int net_fill(struct net_conn *c, double deadline, struct err *e)
{
	static const int one = 1;
	if (deadline <= 0)
		deadline = net_deadline(c);
	if (c->end - c->start > c->max)
		return net_too_much(c, e);
	if (net_reserve(c) != 0)
		return err_set(e, ERR_LOCAL, "out of memory");
	for (;;) {
		if (c->tcp)
			setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
		ssize_t r = read(c->fd, c->buf + c->end, c->cap - c->end);
		if (r > 0) {
			c->end += (size_t)r;
			c->fresh = 1;
			return 1;
		}
		if (r == 0 || errno == ECONNRESET || errno == EPIPE)
			return net_ended(c, r == 0, e);
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return err_set(e, ERR_CONNECT, "read: %s", strerror(errno));
		if (c->fresh && c->nudge && !c->tcp) {
			c->fresh = 0;
			send(c->fd, c->nudge, strlen(c->nudge), MSG_NOSIGNAL | MSG_DONTWAIT);
		}
		int p = net_poll(c->fd, POLLIN, deadline);
		if (p == 0)
			return net_timed_out(c, e, "");
		if (p < 0)
			return err_set(e, ERR_CONNECT, "poll: %s", strerror(errno));
	}
}

const char *net_data(const struct net_conn *c, size_t *len)
{
	*len = c->end - c->start;
	return c->buf ? c->buf + c->start : "";
}

void net_consume(struct net_conn *c, size_t n)
{
	c->start += n < c->end - c->start ? n : c->end - c->start;
}

char *net_take(struct net_conn *c, size_t n)
{
	size_t left = c->end - c->start;
	if (n > left)
		n = left;
	if (c->start == 0 && n >= 65536 && left - n < n / 4) {
		/* hand over the buffer; what follows n moves to a new one */
		char *rest = malloc(left - n > 4096 ? left - n : 4096), *p;
		if (!rest)
			return NULL;
		memcpy(rest, c->buf + n, left - n);
		p = realloc(c->buf, n + 1);	/* shrinks it, but for one byte */
		if (!p) {
			free(rest);
			return NULL;
		}
		p[n] = '\0';
		c->buf = rest;
		c->cap = left - n > 4096 ? left - n : 4096;
		c->start = 0;
		c->end = left - n;
		return p;
	}
	char *out = malloc(n + 1);
	if (!out)
		return NULL;
	memcpy(out, c->buf ? c->buf + c->start : "", n);
	out[n] = '\0';
	net_consume(c, n);
	return out;
}

char *net_read_until(struct net_conn *c, const char *marker, size_t *len, double deadline,
		     struct err *e)
{
	size_t ml = strlen(marker), from = 0;
	if (deadline <= 0)
		deadline = net_deadline(c);
	for (;;) {
		size_t n;
		const char *d = net_data(c, &n);
		const char *hit = n >= ml && ml ? memmem(d + from, n - from, marker, ml) : NULL;
		if (hit) {
			size_t k = (size_t)(hit - d) + ml;
			char *out = malloc(k + 1);
			if (!out) {
				err_set(e, ERR_LOCAL, "out of memory");
				return NULL;
			}
			memcpy(out, d, k);
			out[k] = '\0';
			net_consume(c, k);
			*len = k;
			return out;
		}
		from = n >= ml ? n - ml + 1 : 0;
		if (net_fill(c, deadline, e) != 1)
			return NULL;
	}
}
