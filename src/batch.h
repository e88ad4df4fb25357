/* Running one agent operation (inject, diff, rollback, patches) over many
 * services of many nodes: nodes in parallel, each through one hub service
 * that fans out inside the node; stop at the first failure unless told to
 * keep going; an optional canary phase; exactly which targets ran is known
 * and reported as it happens. */
#ifndef BATCH_H
#define BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "agent.h"

struct batch_node {
	const char *name;	/* as shown to the user: "game1" or "127.0.0.1:8000" */
	const char *addr;	/* its address spec, "host:port" or "ssh://..." */
	const uint32_t *addrs;	/* its targets, in order */
	size_t n;
	struct net_conn *conn;	/* greeted and idle, or NULL: a session takes it */
	const uint32_t *hubs;	/* the services that may be the hub, in order: on
				 * the node's own harbor (debug mode does not
				 * cross harbors); the hub reaches the targets */
	size_t nhubs;
};

struct batch_opts {
	int keep_going;		/* go on after a failing target */
	/* canaries: first run this many targets of each node (or this
	 * percentage of them, rounded up); go on only if all succeed and,
	 * for canary_wait seconds after, keep answering */
	size_t canary;
	double canary_pct, canary_wait;
	int flags;		/* AGENT_NO_AGENT */
	double timeout;		/* seconds, for every wait */
	int par;		/* services a hub works on at once */
};

enum batch_state {
	BATCH_SKIPPED,		/* never sent: stopped before */
	BATCH_OK,
	BATCH_FAILED,		/* the service reported an error, or could not be reached */
	BATCH_UNKNOWN,		/* sent, but the node's answer was lost */
};

/* what happened to one target; val is the agent's reply for it (or NULL) */
struct batch_result {
	enum batch_state state;
	const struct wire_val *val;
	const char *err;	/* FAILED / UNKNOWN: why */
	int code;		/* enum err_code of a transport failure (UNKNOWN), else 0 */
	int canary;		/* the target was one of its node's canaries */
};

struct batch_hooks {
	/* targets lo..hi-1 of node are about to be sent (NULL: nothing to do) */
	void (*sending)(void *ud, size_t node, size_t lo, size_t hi);
	/* target i of node is settled (called in target order per node) */
	void (*settled)(void *ud, size_t node, size_t i, const struct batch_result *r);
	/* a first interrupt came: nothing more is sent; what is in flight
	 * is waited for */
	void (*interrupted)(void *ud);
	/* canary i of node, settled ok, stopped answering during canary_wait */
	void (*canary_lost)(void *ud, size_t node, size_t i, const char *why);
	void *ud;
};

/* the exit status of a batch stopped by SIGINT or SIGTERM (128 + SIGINT) */
#define BATCH_INTERRUPTED 130

/* Run the operation whose per-service request is the wire table sub on
 * every target.  Every target is settled through hooks exactly once
 * (skipped ones too).  Returns 0 if all succeeded, else the exit status:
 * the first transport status met (3, 4, 5), or 1.  A first SIGINT or
 * SIGTERM stops sending, waits for the rounds in flight and settles the
 * rest skipped; a second settles the rounds in flight unknown at once:
 * both return BATCH_INTERRUPTED, and after the second the caller must
 * exit (the rounds in flight go on alone). */
int batch_run(struct batch_node *nodes, size_t nnodes, const struct batch_opts *opts,
	      const struct fmt_buf *sub, const struct batch_hooks *hooks);

/* whether a batch was left to its rounds in flight (a second interrupt):
 * the process must then end at once */
int batch_abandoned(void);

#endif
