/* Polling one node for `skyctl top` and `skyctl stuck`: a console
 * connection kept open between polls, `stat` (and `mem`) sent together
 * with the node's own timeout so a stuck service shows TIMEOUT instead of
 * holding the reply, the two newest samples kept, and a node that stops
 * answering marked down and retried with a growing backoff. */
#ifndef POLLER_H
#define POLLER_H

#include "err.h"
#include "net.h"
#include "proto.h"
#include "sample.h"

struct poller_node {
	const char *name;	/* as shown (borrowed) */
	const char *addr;	/* "host:port" (borrowed) */
	struct net_conn *conn;	/* NULL while not connected */
	struct sample s[2];	/* s[newest] and s[!newest] */
	int newest;
	int nsamples;		/* how many of s hold samples of the current connection */
	int up;			/* the last poll was answered */
	int tried;		/* a poll was attempted */
	struct err why;		/* what went wrong last, when !up */
	double retry_at;	/* no reconnect before this (net_now seconds) */
	double backoff;		/* the next wait after a failure */
};

void poller_init(struct poller_node *p, const char *name, const char *addr);
void poller_free(struct poller_node *p);

/* One poll: connect if needed (not before retry_at: then -1 at once, why
 * kept), send `stat CS` and, when mem, `mem CS` in one write (CS: the
 * node's wait per service, 1/100 s), read both replies within wait + the
 * node's share, and make them the newest sample.  A failure closes the
 * connection, drops the samples, and sets why, retry_at and the backoff.
 * Returns 0, or -1 when the node did not answer. */
int poller_poll(struct poller_node *p, int cs, int mem, double wait);

/* Send n more lines on the node's connection (after a poll that left it
 * up) and read their replies into r by deadline, as the poll reads its
 * own; -1 (why set) when they did not come.  The connection is closed on
 * a failure, so the next poll starts afresh. */
int poller_ask(struct poller_node *p, char *const *lines, size_t n, struct proto_reply *r,
	       double deadline);

/* the newest sample and the one before it (NULL when not held) */
const struct sample *poller_newest(const struct poller_node *p);
const struct sample *poller_older(const struct poller_node *p);

#endif
