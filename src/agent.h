/* The skyctl agent in a node (lua/agent.lua), seen from skyctl: installing
 * and upgrading it over the debug console, and exchanging requests and
 * replies with it in the wire format (wire.h).  See lua/agent.lua for the
 * protocol and for what is left in a service. */
#ifndef AGENT_H
#define AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "wire.h"

#define AGENT_NO_AGENT 1	/* register nothing: one-shot loader per request */

struct agent_sess;

/* Prepare the embedded agent (version, escaped code) before any session;
 * the first call does it, from any thread.  0, or -1 if lua/agent.lua is
 * missing. */
int agent_init(void);
/* the version string of the embedded agent */
const char *agent_version(void);

struct net_conn;

/* Connect to the node at addr, "host:port" or "ssh://..." (proto_open;
 * its debug-mode helpers open more connections there), or take over conn,
 * a connection to it already greeted, when not NULL; timeout seconds for
 * every wait.  NULL on failure with e set (conn is then closed). */
struct agent_sess *agent_open(const char *addr, struct net_conn *conn, int flags, double timeout,
			      struct err *e);
void agent_close(struct agent_sess *s);

/* Send request req (a wire-encoded table) to the agent in service hub,
 * installing, upgrading or bootstrapping it first when needed.  0 with
 * *reply the decoded reply (free it); else -1 with e (not NULL) set:
 * ERR_NODE (the node or service failed), ERR_CONNECT, ERR_TIMEOUT or
 * ERR_PROTO (an answer skyctl cannot read, or one lost). */
int agent_request(struct agent_sess *s, uint32_t hub, const struct fmt_buf *req,
		  struct wire_val **reply, struct err *e);

/* whether the last agent_request failed before its request could run (no
 * agent could be loaded or attached in the hub): another hub may do */
int agent_attach_failed(const struct agent_sess *s);

/* The node's Lua is the truth: 1 if it compiles what skyctl's Lua (5.4)
 * rejects (Lua 5.5's `global`), 0 if it is skyctl's Lua, -1 with e set if
 * the console does not answer.  Asked once per session with one stock
 * command that reaches no service. */
int agent_lua_foreign(struct agent_sess *s, struct err *e);

/* 1 if the console has dbgcmd (skynet 1.5 and later), 0 if not (1.4: a
 * service is reached through a route one debug mode puts in it), -1 with e
 * set if it does not answer */
int agent_has_dbgcmd(struct agent_sess *s, struct err *e);

/* how many debug-mode bootstraps and agent loads this session made */
void agent_stats(const struct agent_sess *s, int *boots, int *loads);

#endif
