/* The nodes one invocation talks to, chosen from the command line, the
 * environment, the node file and the node prefixes of its targets; and
 * running work on them in parallel (one thread per node). */
#ifndef SESSION_H
#define SESSION_H

#include <stddef.h>

#include "config.h"
#include "err.h"
#include "net.h"
#include "target.h"

#define SESSION_DEFAULT_HOST "127.0.0.1:8000"

struct session_node {
	char *name;		/* as shown: the node-file name, or the address */
	char *addr;		/* "host:port" or "ssh://..." */
	int is_default;		/* targets without a node prefix apply to it */
	struct net_conn *conn;	/* NULL until connected */
};

struct session {
	struct session_node *v;
	size_t n;
	int named;		/* several nodes, or -a: output carries a NODE column */
};

struct session_opts {
	const char *host;	/* -H (else $SKYCTL_HOST, else the default) */
	const char *node;	/* -n NAME */
	int all;		/* -a */
};

/* Choose the nodes: -a (every node of the file), else -n, else -H, else
 * $SKYCTL_HOST, else 127.0.0.1:8000; plus the nodes named by target
 * prefixes (t may be NULL).  -1 (ERR_USAGE) for an unknown node name or a
 * bad address. */
int session_select(struct session *s, const struct config *c, const struct session_opts *o,
		   const struct target_list *t, struct err *e);
void session_free(struct session *s);

/* whether target item sel applies to node nd (for target_resolve) */
int session_applies(const struct target_sel *sel, const struct session_node *nd);

/* whether the command line needs the node file (-a, -n, or a node prefix) */
int session_needs_config(const struct session_opts *o, const struct target_list *t);

/* run fn(ud, i) for i in 0..n-1, in parallel threads when n > 1 */
void session_run(size_t n, void (*fn)(void *ud, size_t i), void *ud);

#endif
