/* skyctl's side of the agent (lua/agent.lua): sessions that bootstrap,
 * load, upgrade and call the agent in a node's services over the debug
 * console, requests and replies in the wire format (wire.h). */
#include "agent.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embed.h"
#include "net.h"
#include "proto.h"
#include "sha256.h"

extern const struct embed_file skyctl_lua[];

static struct {
	const struct embed_file *agent_lua, *wire_lua, *engine_lua, *journal_lua;
	char version[17];
	char *agent, *wire, *engine, *journal;	/* the files escaped */
	char boot[2][512];	/* lua/boot.lua's lines: persistent, one-shot */
} agent_code;

struct agent_sess {
	struct net_conn *conn;
	struct err why;		/* the transport's last failure */
	char *buf;		/* bytes received and not yet consumed */
	size_t len, cap, scan;	/* scan: where the terminator search resumes */
	char *addr;		/* the node's address spec (net_open) */
	int flags, boots, loads;
	int debug;		/* a debug-mode connection (see agent_terminator) */
	int attach_failed;	/* see agent_attach_failed */
	double timeout;
};

int agent_init(void)
{
	const struct embed_file *a = embed_find(skyctl_lua, "agent.lua");
	const struct embed_file *w = embed_find(skyctl_lua, "wire.lua");
	const struct embed_file *e = embed_find(skyctl_lua, "engine.lua");
	const struct embed_file *j = embed_find(skyctl_lua, "journal.lua");
	const struct embed_file *b = embed_find(skyctl_lua, "boot.lua");
	if (!a || !w || !e || !j || !b)
		return -1;
	agent_code.agent_lua = a;
	agent_code.wire_lua = w;
	agent_code.engine_lua = e;
	agent_code.journal_lua = j;
	/* the version: a digest of the four files' digests, made at build time */
	struct sha256 h;
	unsigned char d[32];
	sha256_init(&h);
	sha256_update(&h, a->sha256, strlen(a->sha256));
	sha256_update(&h, w->sha256, strlen(w->sha256));
	sha256_update(&h, e->sha256, strlen(e->sha256));
	sha256_update(&h, j->sha256, strlen(j->sha256));
	sha256_final(&h, d);
	for (int i = 0; i < 8; i++)
		snprintf(agent_code.version + 2 * i, 3, "%02x", d[i]);
	int n = 0;
	for (const char *p = b->data; *p && n < 2;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len > 0 && strncmp(p, "--", 2) != 0 && len < sizeof agent_code.boot[0])
			memcpy(agent_code.boot[n++], p, len);
		p += len + (nl != NULL);
	}
	return n == 2 ? 0 : -1;
}

static void agent_escape_code(void)
{
	const struct embed_file *a = agent_code.agent_lua, *w = agent_code.wire_lua,
				*e = agent_code.engine_lua, *j = agent_code.journal_lua;
	agent_code.agent = proto_escape(a->data, a->size);
	agent_code.wire = proto_escape(w->data, w->size);
	agent_code.engine = proto_escape(e->data, e->size);
	agent_code.journal = proto_escape(j->data, j->size);
}

/* the escaped agent, wire.lua, engine.lua and journal.lua, made the first
 * time a hub needs them: a command that finds the agent in place never
 * does; 0 or -1 */
static int agent_escaped_code(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, agent_escape_code);
	return agent_code.agent && agent_code.wire && agent_code.engine && agent_code.journal ?
		       0 : -1;
}

const char *agent_version(void)
{
	return agent_code.version;
}

/* Move what arrived on the connection into s->buf, reading first (until
 * deadline) when nothing is pending.  0, or the status of what went wrong
 * (the transport's message in s->why). */
static enum agent_status agent_fill(struct agent_sess *s, double deadline)
{
	size_t n;
	net_data(s->conn, &n);
	if (n == 0) {
		int r = net_fill(s->conn, deadline, &s->why);
		if (r != 1)
			return r < 0 && s->why.code == ERR_TIMEOUT ? AGENT_ETIMEOUT : AGENT_EPROTO;
	}
	const char *d = net_data(s->conn, &n);
	if (s->cap - s->len < n + 1) {
		size_t cap = s->cap ? s->cap : 131072;
		while (cap - s->len < n + 1)
			cap *= 2;
		char *p = realloc(s->buf, cap);
		if (!p)
			return AGENT_ENODE;
		s->buf = p;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, d, n);
	s->len += n;
	s->buf[s->len] = '\0';
	net_consume(s->conn, n);
	return AGENT_OK;
}

static enum agent_status agent_send(struct agent_sess *s, const char *data, size_t len,
				    double deadline)
{
	if (net_write(s->conn, data, len, deadline, &s->why) == 0)
		return AGENT_OK;
	return s->why.code == ERR_TIMEOUT ? AGENT_ETIMEOUT : AGENT_EPROTO;
}

/* drop the first n buffered bytes */
static void agent_consume(struct agent_sess *s, size_t n)
{
	memmove(s->buf, s->buf + n, s->len - n);
	s->len -= n;
	s->buf[s->len] = '\0';
	s->scan = 0;
}

/* Find a terminator line in the buffer: its offset in *at and its length
 * in *tlen; returns 1 for <CMD OK>, 0 for <CMD Error>, -1 if none yet.
 * In debug mode (s->debug) it follows a prompt, not a newline. */
static int agent_terminator(struct agent_sess *s, size_t *at, size_t *tlen)
{
	static const char *const term[2] = { "<CMD Error>\n", "<CMD OK>\n" };
	size_t from = s->scan;
	for (size_t i = from; i < s->len; i++) {
		if (s->buf[i] != '<' || (i > 0 && s->buf[i - 1] != '\n' && !s->debug))
			continue;
		for (int ok = 0; ok < 2; ok++) {
			size_t n = strlen(term[ok]);
			if (s->len - i >= n && memcmp(s->buf + i, term[ok], n) == 0) {
				*at = i;
				*tlen = n;
				return ok;
			}
		}
	}
	s->scan = s->len > 12 ? s->len - 12 : 0;
	return -1;
}

/* Send one command line and read its reply: the output (without the
 * terminator line, NUL-terminated) in *out, which the caller frees, and
 * whether it ended with <CMD OK> in *ok. */
static enum agent_status agent_cmd(struct agent_sess *s, const char *line, char **out, int *ok,
				   double deadline)
{
	enum agent_status st = agent_send(s, line, strlen(line), deadline);
	size_t at, tlen;
	while (st == AGENT_OK && (*ok = agent_terminator(s, &at, &tlen)) < 0)
		st = agent_fill(s, deadline);
	if (st != AGENT_OK)
		return st;
	*out = malloc(at + 1);
	if (!*out)
		return AGENT_ENODE;
	memcpy(*out, s->buf, at);
	(*out)[at] = '\0';
	if (at > 0 && (*out)[at - 1] == '\n')
		(*out)[at - 1] = '\0';
	agent_consume(s, at + tlen);
	return AGENT_OK;
}

/* connect to the session's node and read the banner (the wait for it
 * bounded by timeout) */
static enum agent_status agent_connect(struct agent_sess *s, double timeout, char *err,
				       size_t errlen)
{
	s->conn = proto_open(s->addr, timeout, &s->why);
	if (s->conn)
		return AGENT_OK;
	snprintf(err, errlen, "%s", s->why.msg);
	return s->why.code == ERR_TIMEOUT ? AGENT_ETIMEOUT :
	       s->why.code == ERR_PROTO ? AGENT_EPROTO : AGENT_ECONNECT;
}

/* the connection of s and its buffer, released (s itself is not freed) */
static void agent_disconnect(struct agent_sess *s)
{
	net_close(s->conn);
	s->conn = NULL;
	free(s->buf);
	s->buf = NULL;
}

struct agent_sess *agent_open(const char *addr, struct net_conn *conn, int flags, double timeout,
			      char *err, size_t errlen, enum agent_status *status)
{
	struct agent_sess *s = calloc(1, sizeof *s);
	if (!s || !(s->addr = strdup(addr))) {
		free(s);
		net_close(conn);
		snprintf(err, errlen, "out of memory");
		*status = AGENT_ENODE;
		return NULL;
	}
	s->flags = flags;
	s->timeout = timeout;
	s->conn = conn;
	*status = conn ? AGENT_OK : agent_connect(s, timeout, err, errlen);
	if (*status != AGENT_OK) {
		agent_close(s);
		return NULL;
	}
	return s;
}

void agent_close(struct agent_sess *s)
{
	if (!s)
		return;
	agent_disconnect(s);
	free(s->addr);
	free(s);
}

int agent_attach_failed(const struct agent_sess *s)
{
	return s->attach_failed;
}

void agent_stats(const struct agent_sess *s, int *boots, int *loads)
{
	*boots = s->boots;
	*loads = s->loads;
}

/* Register the loader in service hub with one debug-mode line (lua/boot.lua;
 * the one-shot one when once), then leave debug mode.  The line and `cont`
 * are sent with `debug` at once; a second connection pings the service so
 * it reads them now rather than at its next 0.1 s idle tick.  A service
 * already being debugged never shows a prompt: that ends in an error after
 * the timeout, and closing the connection leaves nothing in debug mode. */
static enum agent_status agent_boot(struct agent_sess *s, uint32_t hub, int once, char *err,
				    size_t errlen)
{
	double wait = s->timeout < 1.0 ? s->timeout : 1.0, deadline;
	struct agent_sess dbg = { .addr = s->addr, .debug = 1 };
	struct agent_sess poke = { .addr = s->addr };
	char line[700], ping[32];
	enum agent_status st;
	st = agent_connect(&dbg, s->timeout, err, errlen);
	if (st == AGENT_OK)
		net_set_nudge(dbg.conn, NULL);	/* it goes into debug mode */
	if (st == AGENT_OK)
		st = agent_connect(&poke, s->timeout, err, errlen);
	deadline = net_now() + wait;	/* for debug mode (connecting may take longer over ssh) */
	snprintf(line, sizeof line, "debug %x\n%s\ncont\n", (unsigned)hub, agent_code.boot[once != 0]);
	snprintf(ping, sizeof ping, "ping %x\n", (unsigned)hub);
	if (st == AGENT_OK)
		st = agent_send(&dbg, line, strlen(line), deadline);
	size_t at, tlen;
	int ok = -1;
	while (st == AGENT_OK && (ok = agent_terminator(&dbg, &at, &tlen)) < 0) {
		char *out = NULL;
		int pong;
		st = agent_cmd(&poke, ping, &out, &pong, deadline);
		free(out);
		if (st == AGENT_OK) {
			double soon = net_now() + 0.001;
			st = agent_fill(&dbg, soon < deadline ? soon : deadline);
			if (st == AGENT_ETIMEOUT && net_now() < deadline)
				st = AGENT_OK;
		}
	}
	s->boots++;
	if (ok == 0 && strstr(dbg.buf, "attach failed")) {
		/* a dead address fails the same way: tell them apart with a ping */
		char *out = NULL;
		int alive = 0;
		if (agent_cmd(&poke, ping, &out, &alive, net_now() + wait) != AGENT_OK)
			alive = 1;
		free(out);
		snprintf(err, errlen, alive ? "service :%08x is being debugged by another session" :
			 "service :%08x does not exist (or has exited)", (unsigned)hub);
		st = AGENT_ENODE;
	} else if (st == AGENT_ETIMEOUT) {
		snprintf(err, errlen, "service :%08x did not enter debug mode within %.1f s: it is "
			 "busy or being debugged by another session", (unsigned)hub, wait);
		st = AGENT_ENODE;
	} else if (st == AGENT_OK && (ok == 0 || strstr(dbg.buf, "(debug)"))) {
		dbg.buf[at] = '\0';
		snprintf(err, errlen, "cannot attach to :%08x: %s", (unsigned)hub, dbg.buf);
		st = AGENT_ENODE;
	} else if (st != AGENT_OK && !err[0]) {
		snprintf(err, errlen, "%s: connection lost while attaching to :%08x: %s", s->addr,
			 (unsigned)hub, dbg.why.msg[0] ? dbg.why.msg : poke.why.msg);
	}
	agent_disconnect(&dbg);
	agent_disconnect(&poke);
	return st;
}

/* Read the reply of an agent command: 1 with *reply decoded, 0 when the
 * agent asks for an upgrade, -1 when the output is not an agent reply. */
static int agent_parse(char *out, struct wire_val **reply)
{
	static const char prefix[] = "SKYCTL1 ";
	size_t n = strlen(out);
	if (strncmp(out, prefix, sizeof prefix - 1) != 0 || memchr(out, '\n', n))
		return -1;
	if (strncmp(out + sizeof prefix - 1, "upgrade ", 8) == 0)
		return 0;
	char *body = out + sizeof prefix - 1;
	size_t len = proto_unescape(body, n - (sizeof prefix - 1));
	*reply = wire_decode(body, len);
	return *reply && (*reply)->type == WIRE_TABLE ? 1 : -1;
}

/* run one agent command line; 1/0/-1 as agent_parse, or -2 on <CMD Error>
 * (the node's message in err) and -3 on a transport failure (*st set) */
static int agent_exchange(struct agent_sess *s, const char *line, struct wire_val **reply,
			  enum agent_status *st, char *err, size_t errlen)
{
	char *out = NULL;
	int ok = 0, r;
	*st = agent_cmd(s, line, &out, &ok, net_now() + s->timeout);
	if (*st != AGENT_OK) {
		snprintf(err, errlen, "%s: %s: %s", s->addr,
			 *st == AGENT_ETIMEOUT ? "no reply in time" : "connection lost", s->why.msg);
		r = -3;
	} else if (!ok) {
		snprintf(err, errlen, "%s", out[0] ? out : "<CMD Error>");
		r = -2;
	} else {
		r = agent_parse(out, reply);
		if (r < 0)
			snprintf(err, errlen, "unexpected reply: %.200s", out);
	}
	free(out);
	return r;
}

/* build "dbgcmd <hub> <cmd> <args...>\n" from the NULL-terminated args */
static char *agent_line(uint32_t hub, const char *cmd, const char *const *args)
{
	size_t len = 64 + strlen(cmd);
	for (int i = 0; args[i]; i++)
		len += strlen(args[i]) + 1;
	char *line = malloc(len);
	if (!line)
		return NULL;
	int n = snprintf(line, len, "dbgcmd %x %s", (unsigned)hub, cmd);
	for (int i = 0; args[i]; i++)
		n += snprintf(line + n, len - (size_t)n, " %s", args[i]);
	snprintf(line + n, len - (size_t)n, "\n");
	return line;
}

/* load this skyctl's agent into hub through SKYCTL, bootstrapping SKYCTL
 * first if the service lacks it */
static enum agent_status agent_load(struct agent_sess *s, uint32_t hub, char *err, size_t errlen)
{
	if (agent_escaped_code() != 0)
		return AGENT_ENODE;
	const char *args[] = { agent_code.agent, "load", agent_code.version, agent_code.wire,
			       agent_code.engine, agent_code.journal, NULL };
	char *line = agent_line(hub, "SKYCTL", args);
	enum agent_status st = AGENT_ENODE;
	struct wire_val *rep = NULL;
	if (!line)
		return AGENT_ENODE;
	for (int attempt = 0; attempt < 2; attempt++) {
		int r = agent_exchange(s, line, &rep, &st, err, errlen);
		wire_val_free(rep);
		rep = NULL;
		if (r == 1) {
			s->loads++;
			st = AGENT_OK;
			break;
		}
		if (r != -2 || attempt == 1) {
			st = r == -3 ? st : r == -2 ? AGENT_ENODE : AGENT_EPROTO;
			break;
		}
		err[0] = '\0';
		st = agent_boot(s, hub, 0, err, errlen);
		if (st != AGENT_OK)
			break;
	}
	free(line);
	return st;
}

enum agent_status agent_request(struct agent_sess *s, uint32_t hub, const struct fmt_buf *req,
				struct wire_val **reply, char *err, size_t errlen)
{
	char *esc = proto_escape(req->p ? req->p : "", req->len);
	char *line;
	enum agent_status st = AGENT_ENODE;
	err[0] = '\0';
	*reply = NULL;
	if (!esc || req->oom || ((s->flags & AGENT_NO_AGENT) && agent_escaped_code() != 0)) {
		free(esc);
		snprintf(err, errlen, "out of memory");
		return AGENT_ENODE;
	}
	if (s->flags & AGENT_NO_AGENT) {
		const char *args[] = { agent_code.agent, "once", agent_code.version,
				       agent_code.wire, agent_code.engine, agent_code.journal,
				       esc, NULL };
		line = agent_line(hub, "SKYCTL_ONCE", args);
	} else {
		const char *args[] = { agent_code.version, esc, NULL };
		line = agent_line(hub, "SKYCTL1", args);
	}
	free(esc);
	s->attach_failed = 0;
	for (int attempt = 0; line && attempt < 3; attempt++) {
		if (s->flags & AGENT_NO_AGENT) {
			st = agent_boot(s, hub, 1, err, errlen);
			if (st != AGENT_OK) {
				s->attach_failed = st == AGENT_ENODE;
				break;
			}
		}
		int r = agent_exchange(s, line, reply, &st, err, errlen);
		if (r == 1) {
			st = AGENT_OK;
			err[0] = '\0';
			break;
		}
		if (r == -3 || r == -1 || (s->flags & AGENT_NO_AGENT)) {
			st = r == -3 ? st : r == -2 ? AGENT_ENODE : AGENT_EPROTO;
			break;
		}
		/* no agent there (-2) or an older one (0): load ours, then retry */
		err[0] = '\0';
		st = agent_load(s, hub, err, errlen);
		if (st != AGENT_OK) {
			s->attach_failed = st == AGENT_ENODE;
			break;
		}
		st = AGENT_EPROTO;
		snprintf(err, errlen, "the agent in :%08x does not answer after loading it",
			 (unsigned)hub);
	}
	free(line);
	return st;
}
