/* skyctl's side of the agent (lua/agent.lua): sessions that bootstrap,
 * load, upgrade and call the agent in a node's services over the debug
 * console, requests and replies in the wire format (wire.h). */
#include "agent.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embed.h"
#include "net.h"
#include "proto.h"
#include "sha256.h"

extern const struct embed_file skyctl_lua[];

/* the chunks a hub is sent after lua/agent.lua, in the order it takes them */
static const char *const agent_chunk_names[] = {
	"wire.lua", "engine.lua", "apply.lua", "journal.lua", "rollback.lua", "set.lua",
};
#define AGENT_NCHUNKS (sizeof agent_chunk_names / sizeof *agent_chunk_names)

static struct {
	const struct embed_file *agent_lua, *chunk_lua[AGENT_NCHUNKS], *probe_lua;
	char version[17];
	char *agent, *chunk[AGENT_NCHUNKS], *probe;	/* the files escaped */
	char boot[3][512];	/* lua/boot.lua's lines: persistent, one-shot, route */
	char run[512];		/* lua/run.lua's line: RUN's source */
} agent_code;

/* How the console reaches the agent's debug commands: `dbgcmd` (skynet
 * 1.5 and later), or `info` through the route lua/boot.lua's third line
 * puts in each service (1.4, whose console has no dbgcmd).  Learned once
 * per connection (agent_learn_route). */
enum { ROUTE_UNKNOWN, ROUTE_DBGCMD, ROUTE_INFO };

struct agent_sess {
	struct net_conn *conn;
	char *addr;		/* the node's address spec (proto_open) */
	int flags, boots, loads;
	int attach_failed;	/* see agent_attach_failed */
	int route;		/* ROUTE_* */
	uint32_t routed;	/* ROUTE_INFO: the hub last seen routed */
	int foreign;		/* agent_lua_foreign's answer; -1 until asked */
	int probed;		/* a request was answered: the agent is in the hub */
	uint32_t served;	/* the hub this session's agent answered or was loaded in */
	double timeout;
};

static int agent_init_rc = -1;

static void agent_init_once(void)
{
	const struct embed_file *a = embed_find(skyctl_lua, "agent.lua");
	const struct embed_file *b = embed_find(skyctl_lua, "boot.lua");
	const struct embed_file *run = embed_find(skyctl_lua, "run.lua");
	agent_code.probe_lua = embed_find(skyctl_lua, "probe.lua");
	if (!a || !b || !run || !agent_code.probe_lua)
		return;
	agent_code.agent_lua = a;
	/* the version: a digest of the agent's and the chunks' digests, made
	 * at build time */
	struct sha256 h;
	unsigned char d[32];
	sha256_init(&h);
	sha256_update(&h, a->sha256, strlen(a->sha256));
	for (size_t i = 0; i < AGENT_NCHUNKS; i++) {
		const struct embed_file *f = embed_find(skyctl_lua, agent_chunk_names[i]);
		if (!f)
			return;
		agent_code.chunk_lua[i] = f;
		sha256_update(&h, f->sha256, strlen(f->sha256));
	}
	sha256_final(&h, d);
	for (int i = 0; i < 8; i++)
		snprintf(agent_code.version + 2 * i, 3, "%02x", d[i]);
	int n = 0;
	for (const char *p = b->data; *p && n < 3;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len > 0 && strncmp(p, "--", 2) != 0 && len < sizeof agent_code.boot[0])
			memcpy(agent_code.boot[n++], p, len);
		p += len + (nl != NULL);
	}
	for (const char *p = run->data; *p;) {	/* its one line that is not a comment */
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len > 0 && strncmp(p, "--", 2) != 0 && len < sizeof agent_code.run)
			memcpy(agent_code.run, p, len);
		p += len + (nl != NULL);
	}
	agent_init_rc = n == 3 && agent_code.run[0] ? 0 : -1;
}

/* once, whichever thread asks first (a command's nodes run in threads of
 * their own, and each may need the agent) */
int agent_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, agent_init_once);
	return agent_init_rc;
}

static void agent_escape_code(void)
{
	agent_code.agent = proto_escape(agent_code.agent_lua->data, agent_code.agent_lua->size);
	for (size_t i = 0; i < AGENT_NCHUNKS; i++)
		agent_code.chunk[i] = proto_escape(agent_code.chunk_lua[i]->data,
						   agent_code.chunk_lua[i]->size);
	agent_code.probe = proto_escape(agent_code.probe_lua->data, agent_code.probe_lua->size);
}

/* the escaped agent and chunks, made the first time a hub needs them: a
 * command that finds the agent in place never does; 0 or -1 */
static int agent_escaped_code(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, agent_escape_code);
	for (size_t i = 0; i < AGENT_NCHUNKS; i++)
		if (!agent_code.chunk[i])
			return -1;
	return agent_code.agent && agent_code.probe ? 0 : -1;
}

/* the arguments of a RUN of lua/run.lua's line that runs the agent in
 * mode (lua/agent.lua's: mode, version, the chunks, then req when not
 * NULL), NULL-terminated in args */
static void agent_run_args(const char **args, const char *mode, const char *req)
{
	size_t n = 0;
	args[n++] = agent_code.run;
	args[n++] = "skyctl";
	args[n++] = agent_code.agent;
	args[n++] = mode;
	args[n++] = agent_code.version;
	for (size_t i = 0; i < AGENT_NCHUNKS; i++)
		args[n++] = agent_code.chunk[i];
	args[n++] = req;
	args[n] = NULL;
}

const char *agent_version(void)
{
	return agent_code.version;
}

/* Send one command line on c and read its reply into r, waiting until
 * deadline.  -1 with e set when the transport fails: ERR_TIMEOUT, or
 * ERR_PROTO (a session cannot go on once a reply is lost). */
static int agent_cmd(struct net_conn *c, const char *line, struct proto_reply *r,
		     double deadline, struct err *e)
{
	if (proto_send(c, line, e) == 0 && proto_read_reply(c, r, deadline, e) == 0)
		return 0;
	if (e->code != ERR_TIMEOUT)
		e->code = ERR_PROTO;
	return -1;
}

/* connect to the node at addr and read the banner (the wait for it
 * bounded by timeout); -1 with e set (ERR_TIMEOUT, ERR_PROTO or
 * ERR_CONNECT) */
static int agent_connect(const char *addr, double timeout, struct net_conn **c, struct err *e)
{
	*c = proto_open(addr, timeout, e);
	if (*c)
		return 0;
	if (e->code != ERR_TIMEOUT && e->code != ERR_PROTO)
		e->code = ERR_CONNECT;
	return -1;
}

struct agent_sess *agent_open(const char *addr, struct net_conn *conn, int flags, double timeout,
			      struct err *e)
{
	struct agent_sess *s = calloc(1, sizeof *s);
	if (!s || !(s->addr = strdup(addr))) {
		free(s);
		net_close(conn);
		err_set(e, ERR_NODE, "out of memory");
		return NULL;
	}
	s->flags = flags;
	s->foreign = -1;
	s->timeout = timeout;
	s->conn = conn;
	if (!conn && agent_connect(s->addr, timeout, &s->conn, e) != 0) {
		agent_close(s);
		return NULL;
	}
	return s;
}

void agent_close(struct agent_sess *s)
{
	if (!s)
		return;
	net_close(s->conn);
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

/* Wait on dbg for the reply that ends debug mode (proto_read_prompted),
 * pinging the service on poke meanwhile, until deadline.  1 with r
 * filled; 0 when the transport failed (*why says which, on which side). */
static int agent_boot_wait(struct net_conn *dbg, struct net_conn *poke, const char *ping,
			   double deadline, struct proto_reply *r, struct err *dw, struct err *pw,
			   struct err **why)
{
	for (;;) {
		struct proto_reply pong;
		if (agent_cmd(poke, ping, &pong, deadline, pw) != 0) {
			*why = pw;
			return 0;
		}
		proto_reply_free(&pong);
		double soon = net_now() + 0.001;
		if (proto_read_prompted(dbg, r, soon < deadline ? soon : deadline, dw) == 0)
			return 1;
		if (dw->code != ERR_TIMEOUT || net_now() >= deadline) {
			*why = dw;
			return 0;
		}
	}
}

/* Register the loader in service hub with one debug-mode line (lua/boot.lua;
 * the one-shot one when once; on the info route the route's line too),
 * then leave debug mode.  The line and `cont`
 * are sent with `debug` at once; a second connection pings the service so
 * it reads them now rather than at its next 0.1 s idle tick.  A service
 * already being debugged never shows a prompt: that ends in an error after
 * the timeout, and closing the connection leaves nothing in debug mode. */
static int agent_boot(struct agent_sess *s, uint32_t hub, int once, struct err *e)
{
	double wait = s->timeout < 1.0 ? s->timeout : 1.0;
	struct net_conn *dbg = NULL, *poke = NULL;
	struct err dw = { 0 }, pw = { 0 }, *why = NULL;	/* why: the failing side */
	struct proto_reply r = { 0 };
	char debug[32], ping[32];
	int route = s->route == ROUTE_INFO, rc = -1, got = 0;
	char *lines[4], **l = lines;
	*l++ = debug;
	if (route)	/* first: the one-shot command runs through it */
		*l++ = agent_code.boot[2];
	*l++ = agent_code.boot[once != 0];
	*l++ = "cont";
	s->boots++;
	if (agent_connect(s->addr, s->timeout, &dbg, e) != 0 ||
	    agent_connect(s->addr, s->timeout, &poke, e) != 0) {
		net_close(dbg);
		return -1;
	}
	net_set_nudge(dbg, NULL);	/* it goes into debug mode */
	snprintf(debug, sizeof debug, "debug %x", (unsigned)hub);
	snprintf(ping, sizeof ping, "ping %x", (unsigned)hub);
	/* the deadline is for debug mode (connecting may take longer over ssh) */
	if (proto_sendv(dbg, lines, (size_t)(l - lines), &dw) != 0)
		why = &dw;
	else
		got = agent_boot_wait(dbg, poke, ping, net_now() + wait, &r, &dw, &pw, &why);
	if (got && !r.ok && strstr(r.text, "attach failed")) {
		/* a dead address fails the same way: tell them apart with a ping */
		struct proto_reply pong;
		int alive = agent_cmd(poke, ping, &pong, net_now() + wait, &pw) != 0;
		if (!alive) {
			alive = pong.ok;
			proto_reply_free(&pong);
		}
		err_set(e, ERR_NODE, alive ? "service :%08x is being debugged by another session" :
			"service :%08x does not exist (or has exited)", (unsigned)hub);
	} else if (why && why->code == ERR_TIMEOUT) {
		err_set(e, ERR_NODE, "service :%08x did not enter debug mode within %.1f s: it is "
			"busy or being debugged by another session", (unsigned)hub, wait);
	} else if (got && (!r.ok || strstr(r.text, "(debug)"))) {
		err_set(e, ERR_NODE, "cannot attach to :%08x: %s", (unsigned)hub, r.text);
	} else if (why) {
		err_set(e, ERR_PROTO, "%s: connection lost while attaching to :%08x: %s", s->addr,
			(unsigned)hub, why->msg);
	} else {
		rc = 0;
		s->routed = route ? hub : s->routed;
	}
	proto_reply_free(&r);
	net_close(dbg);
	net_close(poke);
	return rc;
}

/* a reply may hold one value per this many bytes it took on the wire (a
 * string takes 3 at least; real replies 6 to 12): its decoded tree (16
 * bytes a value) then costs at most 5.3 times its size, however many
 * bare booleans a node sends (1 byte each) */
#define AGENT_REPLY_BYTES_PER_VALUE 3

/* Read the reply of an agent command (r->text, unescaped in place): 1 with
 * *reply decoded, 0 when the agent asks for an upgrade, -1 when the output
 * is not an agent reply (errno E2BIG: too dense to hold, see above). */
static int agent_parse(struct proto_reply *r, struct wire_val **reply)
{
	static const char prefix[] = "SKYCTL1 ";
	char *out = r->text;
	if (strncmp(out, prefix, sizeof prefix - 1) != 0 || memchr(out, '\n', r->len))
		return -1;
	if (strncmp(out + sizeof prefix - 1, "upgrade ", 8) == 0)
		return 0;
	char *body = out + sizeof prefix - 1;
	size_t len = proto_unescape(body, r->len - (sizeof prefix - 1));
	errno = 0;
	if (len == 0 || body[0] != '{' ||
	    !(*reply = wire_decode(body, len, r->len / AGENT_REPLY_BYTES_PER_VALUE + 64, out)))
		return -1;	/* a reply is a table */
	proto_reply_take(r);	/* the tree's strings are in it */
	return 1;
}

/* "dbgcmd <hub> <cmd> <args...>" (or "info ..." on the info route) from
 * the NULL-terminated args */
static char *agent_line(const struct agent_sess *s, uint32_t hub, const char *cmd,
			const char *const *args)
{
	size_t len = 64 + strlen(cmd);
	for (int i = 0; args[i]; i++)
		len += strlen(args[i]) + 1;
	char *line = malloc(len);
	if (!line)
		return NULL;
	int n = snprintf(line, len, "%s %x %s", s->route == ROUTE_INFO ? "info" : "dbgcmd",
			 (unsigned)hub, cmd);
	for (int i = 0; args[i]; i++)
		n += snprintf(line + n, len - (size_t)n, " %s", args[i]);
	return line;
}

/* Learn the console's route once: a bare `dbgcmd` fails on any console,
 * reaching no service, with "Invalid command" where there is none.  0, or
 * -1 with e set. */
static int agent_learn_route(struct agent_sess *s, struct err *e)
{
	static const char invalid[] = "Invalid command";
	struct proto_reply r;
	if (s->route != ROUTE_UNKNOWN)
		return 0;
	if (agent_cmd(s->conn, "dbgcmd", &r, net_now() + s->timeout, e) != 0)
		return -1;
	s->route = strncmp(r.text, invalid, sizeof invalid - 1) == 0 ? ROUTE_INFO : ROUTE_DBGCMD;
	proto_reply_free(&r);
	return 0;
}

int agent_has_dbgcmd(struct agent_sess *s, struct err *e)
{
	return agent_learn_route(s, e) != 0 ? -1 : s->route == ROUTE_DBGCMD;
}

/* On the info route, make sure hub is routed: `trace HUB SKYCTL?` answers
 * <CMD OK> only through the route (a stock service logs the unknown
 * protocol and fails the call); else one debug mode puts it there.  0, or
 * -1 with e set. */
static int agent_route(struct agent_sess *s, uint32_t hub, struct err *e)
{
	char probe[40];
	struct proto_reply r;
	if (s->routed == hub)
		return 0;
	snprintf(probe, sizeof probe, "trace %x SKYCTL?", (unsigned)hub);
	if (agent_cmd(s->conn, probe, &r, net_now() + s->timeout, e) != 0)
		return -1;
	int ok = r.ok;
	proto_reply_free(&r);
	if (ok) {
		s->routed = hub;
		return 0;
	}
	return agent_boot(s, hub, (s->flags & AGENT_NO_AGENT) != 0, e);
}

/* Run debug command cmd with args in hub; 1/0/-1 as agent_parse (-1 with
 * e set, ERR_PROTO), -2 on <CMD Error> (the node's message in e,
 * ERR_NODE), -3 on a transport failure (e set), -4 when the info route
 * could not be put in hub (e set). */
static int agent_exchange(struct agent_sess *s, uint32_t hub, const char *cmd,
			  const char *const *args, struct wire_val **reply, struct err *e)
{
	struct proto_reply r;
	char *line;
	int rc;
	if (agent_learn_route(s, e) != 0)
		return -3;
	if (s->route == ROUTE_INFO && agent_route(s, hub, e) != 0)
		return e->code == ERR_NODE ? -4 : -3;
	if (!(line = agent_line(s, hub, cmd, args))) {
		err_set(e, ERR_NODE, "out of memory");
		return -2;
	}
	rc = agent_cmd(s->conn, line, &r, net_now() + s->timeout, e);
	free(line);
	if (rc != 0) {
		char why[sizeof e->msg];
		strcpy(why, e->msg);
		err_set(e, e->code, "%s: %s: %s", s->addr,
			e->code == ERR_TIMEOUT ? "no reply in time" :
			e->code == ERR_PROTO ? "a reply it cannot take" : "connection lost", why);
		return -3;
	}
	if (!r.ok) {
		err_set(e, ERR_NODE, "%s", r.text[0] ? r.text : "<CMD Error>");
		rc = -2;
	} else {
		rc = agent_parse(&r, reply);
		if (rc < 0 && errno == E2BIG)
			err_set(e, ERR_PROTO, "a reply of %zu bytes with more values than skyctl holds "
				"for that size (one per %d bytes)", r.len, AGENT_REPLY_BYTES_PER_VALUE);
		else if (rc < 0)
			err_set(e, ERR_PROTO, "unexpected reply: %.200s", r.text);
	}
	proto_reply_free(&r);
	return rc;
}

/* load this skyctl's agent into hub through SKYCTL, bootstrapping SKYCTL
 * first if the service lacks it */
static int agent_load(struct agent_sess *s, uint32_t hub, struct err *e)
{
	if (agent_escaped_code() != 0)
		return err_set(e, ERR_NODE, "out of memory");
	/* with dbgcmd, through the stock RUN (lua/run.lua): no debug mode and
	 * nothing in the node's log; else, or where that fails, SKYCTL */
	const char *args[AGENT_NCHUNKS + 7];
	agent_run_args(args, "load", NULL);
	struct wire_val *rep = NULL;
	int run = s->route == ROUTE_DBGCMD;
	for (int attempt = 0; attempt < 2; attempt++) {
		int r = agent_exchange(s, hub, run ? "RUN" : "SKYCTL", run ? args : args + 2, &rep,
				       e);
		wire_val_free(rep);
		rep = NULL;
		if (r == 1) {
			s->loads++;
			return 0;
		}
		if (r == 0)
			err_set(e, ERR_PROTO, "the agent in :%08x asks for an upgrade after loading it",
				(unsigned)hub);
		if (r != -2 || attempt == 1 || agent_boot(s, hub, 0, e) != 0)
			break;
		run = 0;	/* booted: SKYCTL loads it */
	}
	return -1;
}

int agent_request(struct agent_sess *s, uint32_t hub, const struct fmt_buf *req,
		  struct wire_val **reply, struct err *e)
{
	int once = (s->flags & AGENT_NO_AGENT) != 0;
	char *esc = proto_escape(req->p ? req->p : "", req->len);
	int rc = -1;
	*reply = NULL;
	if (!esc || req->oom || (once && agent_escaped_code() != 0)) {
		free(esc);
		return err_set(e, ERR_NODE, "out of memory");
	}
	const char *cmd = once ? "SKYCTL_ONCE" : "SKYCTL1";
	/* --no-agent: the agent in mode "once", through the stock RUN where
	 * the console has dbgcmd (no debug mode), else (or where RUN fails)
	 * through the one-shot command lua/boot.lua's second line registers */
	const char *onceargs[AGENT_NCHUNKS + 7];
	agent_run_args(onceargs, "once", esc);
	const char *args[] = { agent_code.version, esc, NULL };
	/* a session's first request asks through RUN (lua/probe.lua): a hub
	 * with no agent answers it with no error in the node's log */
	int probe = !once && !s->probed && agent_escaped_code() == 0;
	const char *probeargs[] = { agent_code.run, "skyctl", agent_code.probe, agent_code.version,
				    esc, NULL };
	s->attach_failed = 0;
	if (agent_learn_route(s, e) != 0) {	/* before a one-shot boot: it may need the route */
		free(esc);
		return -1;
	}
	for (int attempt = 0; attempt < 3; attempt++) {
		int run_once = once && !attempt && s->route == ROUTE_DBGCMD;
		if (once && !run_once && agent_boot(s, hub, 1, e) != 0) {
			s->attach_failed = e->code == ERR_NODE;
			break;
		}
		probe = probe && !attempt && s->route == ROUTE_DBGCMD;
		int r = agent_exchange(s, hub, probe || run_once ? "RUN" : cmd,
				       probe ? probeargs : run_once ? onceargs : once ? onceargs + 2 : args,
				       reply, e);
		if (r == 1) {
			s->probed = 1;
			s->served = hub;
			rc = 0;
			break;
		}
		if (r == -2 && !once && !probe && s->served == hub) {
			/* the agent is there (it answered or was just loaded): the
			 * request failed in it, after it may have run part of its
			 * work; sent again, that part would run twice.  (An agent
			 * uninstalled meanwhile reads the same: the console says
			 * "call failed" either way.  The next request asks anew.) */
			err_set(e, ERR_NODE, "%s: :%08x failed while running the request (it "
				"exited, or skyctl's agent in it failed)", s->addr, (unsigned)hub);
			s->served = 0;	/* the next request asks again (a prompt goes on) */
			s->probed = 0;
			break;
		}
		if (r == 0 && once)
			err_set(e, ERR_PROTO, "the one-shot agent in :%08x asks for an upgrade",
				(unsigned)hub);
		s->attach_failed = r == -4;
		if (run_once && r == -2)
			continue;	/* RUN refused: the one-shot command next */
		if (r == -4 || r == -3 || r == -1 || once)
			break;
		/* no agent there (-2) or an older one (0): load ours, then retry */
		if (agent_load(s, hub, e) != 0) {
			s->attach_failed = e->code == ERR_NODE;
			break;
		}
		s->served = hub;
		err_set(e, ERR_PROTO, "the agent in :%08x does not answer after loading it",
			(unsigned)hub);
	}
	free(esc);
	return rc;
}

int agent_lua_foreign(struct agent_sess *s, struct err *e)
{
	struct proto_reply r;
	if (s->foreign < 0) {
		/* `call` compiles its arguments in the node's Lua; a function
		 * value cannot be packed, so nothing is sent to any service */
		if (agent_cmd(s->conn, "call 0 (function() global x end)", &r,
			      net_now() + s->timeout, e) != 0)
			return -1;
		s->foreign = !strstr(r.text, "Invalid arguments");
		proto_reply_free(&r);
	}
	return s->foreign;
}
