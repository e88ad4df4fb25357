/* The skyctl agent in a node (lua/agent.lua), seen from skyctl: installing
 * and upgrading it over the debug console, and exchanging requests and
 * replies with it in lua/wire.lua's format.  See lua/agent.lua for the
 * protocol and for what is left in a service. */
#ifndef AGENT_H
#define AGENT_H

#include <stddef.h>
#include <stdint.h>

/* ---- wire values: building requests, reading replies ---- */

/* a request being encoded; oom is set (and writes ignored) on allocation failure */
struct agent_buf {
	char *p;
	size_t len, cap;
	int oom;
};

void agent_w_str(struct agent_buf *b, const char *s, size_t len);
void agent_w_cstr(struct agent_buf *b, const char *s);	/* NULL writes nil */
void agent_w_int(struct agent_buf *b, long long v);
void agent_w_num(struct agent_buf *b, double v);
void agent_w_bool(struct agent_buf *b, int v);
void agent_w_raw(struct agent_buf *b, const char *wire, size_t len);	/* encoded already */
void agent_w_open(struct agent_buf *b);		/* { */
void agent_w_close(struct agent_buf *b);	/* } */
void agent_buf_free(struct agent_buf *b);

enum agent_type { AGENT_NIL, AGENT_BOOL, AGENT_INT, AGENT_NUM, AGENT_STR, AGENT_TABLE };

/* a decoded value; strings are NUL-terminated copies (len excludes the NUL) */
struct agent_val {
	enum agent_type type;
	long long i;		/* AGENT_INT, and AGENT_BOOL as 0/1 */
	double d;		/* AGENT_NUM */
	char *s;		/* AGENT_STR */
	size_t len;		/* AGENT_STR length, AGENT_TABLE pair count */
	struct agent_val *k, *v;	/* AGENT_TABLE: len keys and values */
};

/* decode a wire string; NULL if it is not well formed */
struct agent_val *agent_decode(const char *s, size_t len);
void agent_val_free(struct agent_val *v);

/* field key of table t, entry i (1-based) of t; NULL when absent */
const struct agent_val *agent_get(const struct agent_val *t, const char *key);
const struct agent_val *agent_at(const struct agent_val *t, long long i);
/* number of entries 1..n of a table used as a list */
size_t agent_count(const struct agent_val *t);
/* the string / integer / truth of field key of t, or the default */
const char *agent_gets(const struct agent_val *t, const char *key, const char *dflt);
long long agent_geti(const struct agent_val *t, const char *key, long long dflt);
int agent_getb(const struct agent_val *t, const char *key);

/* v as JSON (lists for tables keyed 1..n, objects otherwise) appended to b */
void agent_json(struct agent_buf *b, const struct agent_val *v);
/* s as a JSON string appended to b */
void agent_json_string(struct agent_buf *b, const char *s, size_t len);

/* ---- escaping for console lines ---- */

/* s with '%', NUL and whitespace as %XX (a dbgcmd argument); caller frees */
char *agent_escape(const char *s, size_t len);
/* undo %XX in place; returns the new length */
size_t agent_unescape(char *s, size_t len);

/* ---- sessions: one connection to a node's console ---- */

/* what went wrong, as skyctl's exit codes */
enum agent_status {
	AGENT_OK = 0,
	AGENT_ENODE = 1,	/* the node or a service failed */
	AGENT_ECONNECT = 3,	/* cannot connect */
	AGENT_ETIMEOUT = 4,	/* no answer in time */
	AGENT_EPROTO = 5,	/* an answer skyctl cannot read */
};

#define AGENT_NO_AGENT 1	/* register nothing: one-shot loader per request */

struct agent_sess;

/* Prepare the embedded agent (version, escaped code); call once before any
 * session, from one thread.  0, or -1 if lua/agent.lua is missing. */
int agent_init(void);
/* the version string of the embedded agent */
const char *agent_version(void);

struct net_conn;

/* Connect to the node at addr, "host:port" or "ssh://..." (net_open; its
 * debug-mode helpers open more connections there), or take over conn, a
 * connection to it already greeted, when not NULL; timeout seconds for
 * every wait.  NULL on failure, with a message in err and the status in
 * *status (conn is then closed). */
struct agent_sess *agent_open(const char *addr, struct net_conn *conn, int flags, double timeout,
			      char *err, size_t errlen, enum agent_status *status);
void agent_close(struct agent_sess *s);

/* Send request req (a wire-encoded table) to the agent in service hub,
 * installing, upgrading or bootstrapping it first when needed.  On success
 * *reply is the decoded reply (free it).  Else a message is in err. */
enum agent_status agent_request(struct agent_sess *s, uint32_t hub, const struct agent_buf *req,
				struct agent_val **reply, char *err, size_t errlen);

/* whether the last agent_request failed before its request could run (no
 * agent could be loaded or attached in the hub): another hub may do */
int agent_attach_failed(const struct agent_sess *s);

/* how many debug-mode bootstraps and agent loads this session made */
void agent_stats(const struct agent_sess *s, int *boots, int *loads);

#endif
