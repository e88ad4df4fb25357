/* getenv and setenv on a console older than skynet 1.8's, which has
 * neither: 1.5 to 1.7 have dbgcmd, so the agent does what 1.8's console
 * does for them (lua/env.lua) in a console service, where 1.8 does them
 * (the node's list shows it), registering nothing there (AGENT_NO_AGENT),
 * and the reply is made the one 1.8's console gives.  1.4's console has
 * no dbgcmd either: the agent reaches a service there through a route one
 * debug mode puts in it, which a console's own service cannot take (its
 * debugger would wait on the service that serves it), so the console's
 * answer stands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentcmd.h"
#include "cmd.h"
#include "embed.h"

extern const struct embed_file skyctl_lua[];

/* the handle of the node's first console service, or 0 */
static uint32_t envagent_console(struct net_conn *conn, struct err *e)
{
	struct proto_reply r;
	struct target_service *svc = NULL;
	size_t n = 0;
	uint32_t addr = 0;
	if (proto_request_list(conn, &r, e) != 0)
		return 0;
	if (r.ok && target_parse_list(r.lines, r.nlines, 0, &svc, &n, e) == 0)
		for (size_t i = 0; i < n && !addr; i++)
			if (strncmp(svc[i].cmd, "snlua debug_console ", 20) == 0)
				addr = svc[i].addr;
	proto_reply_free(&r);
	target_services_free(svc, n);
	return addr;
}

/* {op = "exec", scripts = {lua/env.lua}, args = {words...}}, as `skyctl
 * exec` sends */
static void envagent_put_request(struct fmt_buf *b, const struct embed_file *env, char **words,
				 int n, double timeout)
{
	struct agentcmd_script sc = { .name = "skyctl-env", .src = (char *)env->data,
				      .len = env->size };
	snprintf(sc.sha, sizeof sc.sha, "%s", env->sha256);
	wire_put_open(b);
	wire_put_cstr(b, "op");
	wire_put_cstr(b, "exec");
	agentcmd_w_scripts(b, &sc, 1, timeout);
	agentcmd_w_args(b, words, n);
	wire_put_close(b);
}

/* err without its "chunk:line: " (an assert's, error's) */
static const char *envagent_unplaced(const char *err)
{
	const char *colon = strchr(err, ':');
	size_t digits = colon ? strspn(colon + 1, "0123456789") : 0;
	return digits && strncmp(colon + 1 + digits, ": ", 2) == 0 ? colon + 3 + digits : err;
}

/* the reply of 1.8's console from the exec op's: what the script printed
 * (<CMD OK>), or its error's first line, with no chunk:line (<CMD Error>) */
static int envagent_reply(const struct wire_val *rep, struct proto_reply *r, struct err *e)
{
	struct fmt_buf text = { 0 };
	int ok = wire_getb(rep, "ok");
	if (ok) {
		const struct wire_val *out = wire_get(wire_at(wire_get(rep, "scripts"), 1), "out");
		for (size_t l = 1; l <= wire_count(out); l++)
			fmt_printf(&text, "%s%s", l > 1 ? "\n" : "", wire_str(wire_at(out, (long long)l)));
	} else {
		const char *err = envagent_unplaced(wire_gets(rep, "err", "setenv failed"));
		fmt_printf(&text, "%.*s", (int)strcspn(err, "\n"), err);
	}
	int rc = text.oom ? err_set(e, ERR_LOCAL, "out of memory") :
		proto_reply_make(r, ok, text.p ? text.p : "", e);
	fmt_buf_free(&text);
	return rc;
}

/* line done by the agent, into r; -1 with e set, or with e's message
 * empty where the console has no dbgcmd either */
static int envagent_run(const char *addr, struct net_conn *conn, double timeout, const char *line,
			struct proto_reply *r, struct err *e)
{
	const struct embed_file *env = embed_find(skyctl_lua, "env.lua");
	char *copy = strdup(line), *words[3], *save = NULL;
	int n = 0;
	for (char *w = copy ? strtok_r(copy, " \t", &save) : NULL; w && n < 3;
	     w = strtok_r(NULL, " \t", &save))
		words[n++] = w;
	struct fmt_buf req = { 0 };
	struct wire_val *rep = NULL;
	struct agent_sess *s = NULL;
	uint32_t console = 0;
	int rc = -1;
	e->msg[0] = '\0';
	if (!copy || !env || agent_init() != 0)
		err_set(e, ERR_LOCAL, "out of memory");
	else if ((s = agent_open(addr, NULL, AGENT_NO_AGENT, timeout, e)) &&
		 agent_has_dbgcmd(s, e) == 1) {
		if ((console = envagent_console(conn, e)) == 0 && !e->msg[0])
			err_set(e, ERR_NODE, "no console service in the node's list to run it in");
		else if (console)
			envagent_put_request(&req, env, words, n, timeout);
		if (console && req.oom)
			err_set(e, ERR_LOCAL, "out of memory");
		else if (console && agent_request(s, console, &req, &rep, e) == 0)
			rc = envagent_reply(rep, r, e);
	}
	wire_val_free(rep);
	agent_close(s);
	fmt_buf_free(&req);
	free(copy);
	return rc;
}

int envagent_stand_in(const char *addr, struct net_conn *conn, double timeout, const char *line,
		      struct proto_reply *r, struct err *e)
{
	struct proto_reply a;
	if (!proto_lacks_env(line, r))
		return 0;
	if (envagent_run(addr, conn, timeout, line, &a, e) != 0)
		return e->msg[0] ? -1 : 0;	/* 1.4: the console's answer says it all */
	proto_reply_free(r);
	*r = a;
	return 0;
}
