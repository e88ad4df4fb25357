/* Transport to a node's console: a TCP socket, or a socketpair to an ssh
 * child (ssh.h); everything above it (proto.c) sees only a byte stream
 * with deadlines.  Reads go into a buffer owned by the connection:
 * net_fill adds to it, net_data shows it, net_consume drops a prefix.
 *
 * Every wait ends at a deadline (absolute, net_now() seconds); a deadline
 * of 0 means "now + the connection's timeout".  Timeout messages read
 * "timed out after N s" with that timeout. */
#ifndef NET_H
#define NET_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

struct net_conn;

/* monotonic clock, seconds */
double net_now(void);

/* Split "host:port" or "[v6addr]:port" into host (NUL-terminated) and port;
 * -1 (ERR_USAGE) if spec is not of that form. */
int net_parse_addr(const char *spec, char *host, size_t hostlen, int *port, struct err *e);

/* Connect to a node given as an address spec ("host:port", or
 * "ssh://..." for the ssh transport).  timeout bounds the connect and
 * becomes the connection's default wait.  NULL with e set on failure. */
struct net_conn *net_open(const char *spec, double timeout, struct err *e);

/* TCP connect with TCP_NODELAY; QUICKACK is re-armed before every read */
struct net_conn *net_connect(const char *host, int port, double timeout, struct err *e);

/* A connection over a stream socket whose peer is the child process child
 * (ssh), errfd its stderr; the connection owns all three: net_close kills
 * and reaps the child.  When the stream ends, a failed child's reason
 * (ssh_ended) is the error.  NULL when out of memory. */
struct net_conn *net_child(int fd, pid_t child, int errfd, double timeout);

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
 * closed (e says how, class ERR_CONNECT); -1: error or timeout (e set). */
int net_fill(struct net_conn *c, double deadline, struct err *e);

/* the unconsumed received bytes (not NUL-terminated) */
const char *net_data(const struct net_conn *c, size_t *len);
void net_consume(struct net_conn *c, size_t n);

/* Read until marker appears (e.g. a debug-mode prompt); return a malloc'd
 * NUL-terminated copy of everything through the marker (consumed), *len
 * its length.  NULL with e set on error, timeout or close. */
char *net_read_until(struct net_conn *c, const char *marker, size_t *len, double deadline,
		     struct err *e);

#endif
