/* Byte streams to a node's console: a TCP socket, or a stream socket to
 * a process that relays it (ssh.c makes one); everything above it
 * (proto.c) sees only a byte stream with deadlines.  Which one a node
 * address gets is decided when it is opened (proto_open), not here.  Reads go into a buffer owned by the connection:
 * net_fill adds to it, net_data shows it, net_consume drops a prefix.
 *
 * Every wait ends at a deadline (absolute, net_now() seconds); a deadline
 * of 0 means "now + the connection's timeout".  Timeout messages read
 * "timed out after N s" with that timeout. */
#ifndef NET_H
#define NET_H

#include <stddef.h>

#include "err.h"

struct net_conn;

/* monotonic clock, seconds */
double net_now(void);

/* Split "host:port" or "[v6addr]:port" into host (NUL-terminated) and port;
 * -1 (ERR_USAGE) if spec is not of that form. */
int net_parse_addr(const char *spec, char *host, size_t hostlen, int *port, struct err *e);

/* Every connection buffers at most this many unconsumed bytes (a reply
 * being read); a peer that sends more without its reply ending fails the
 * read (ERR_PROTO) rather than growing memory.  The default, NET_MAX_DEFAULT,
 * is for connections opened afterwards (skyctl --max-reply). */
#define NET_MAX_DEFAULT ((size_t)64 << 20)
void net_set_max(size_t max);
size_t net_max(void);

/* TCP connect with TCP_NODELAY; QUICKACK is re-armed before every read.
 * timeout bounds the connect and becomes the connection's default wait.
 * NULL with e set on failure. */
struct net_conn *net_connect(const char *host, int port, double timeout, struct err *e);

/* what relays a stream that is not a socket to the node itself */
struct net_peer {
	/* The stream ended: 0 when that is a clean close by the node, -1 with
	 * e set to the relay's own reason when it failed; waits for the
	 * relay until deadline at most.  NULL: always clean. */
	int (*ended)(void *ud, double deadline, struct err *e);
	void (*close)(void *ud);	/* stop and release the relay (NULL: none) */
	void *ud;
};

/* A connection over the stream socket fd whose other end is peer (copied;
 * NULL for none); the connection owns fd and peer: net_close closes both.
 * NULL when out of memory (nothing is closed then). */
struct net_conn *net_stream(int fd, const struct net_peer *peer, double timeout);

void net_close(struct net_conn *c);

/* Over ssh, nothing re-arms TCP_QUICKACK on the hops between ssh and the
 * node, so the node's reply, written as output then terminator, stalls
 * ~40 ms (Nagle meeting delayed ACK between the node and sshd, and
 * between sshd and ssh).
 * With a nudge set, net_fill sends those bytes (which the peer must
 * ignore, e.g. "\n" to a console in normal mode) when part of a reply
 * came and it has to wait for more: the bytes carry the ACKs that release
 * the rest.  Never on TCP (QUICKACK does it there).  bytes is not copied;
 * NULL turns it off (debug mode, whose prompt answers an empty line). */
void net_set_nudge(struct net_conn *c, const char *bytes);

/* the connection's default timeout in seconds, and the deadline it gives */
double net_timeout(const struct net_conn *c);
double net_deadline(const struct net_conn *c);

/* write all n bytes; -1 with e set on error or timeout */
int net_write(struct net_conn *c, const void *p, size_t n, double deadline, struct err *e);

/* Read whatever arrives next into the buffer.  1: got data; 0: the peer
 * closed (e says how, class ERR_CONNECT); -1: error, timeout or more than
 * net_max() bytes unconsumed (e set). */
int net_fill(struct net_conn *c, double deadline, struct err *e);

/* the unconsumed received bytes (not NUL-terminated) */
const char *net_data(const struct net_conn *c, size_t *len);
void net_consume(struct net_conn *c, size_t n);

/* the first n unconsumed bytes as a malloc'd NUL-terminated string, consumed;
 * a big one is the buffer itself, so it is never held twice.  NULL when out
 * of memory. */
char *net_take(struct net_conn *c, size_t n);

/* Read until marker appears (e.g. a debug-mode prompt); return a malloc'd
 * NUL-terminated copy of everything through the marker (consumed), *len
 * its length.  NULL with e set on error, timeout or close. */
char *net_read_until(struct net_conn *c, const char *marker, size_t *len, double deadline,
		     struct err *e);

#endif
