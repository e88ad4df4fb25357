/* session.h: choosing nodes and fanning out over them. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "ssh.h"

int session_needs_config(const struct session_opts *o, const struct target_list *t)
{
	if (o->all || o->node)
		return 1;
	for (size_t i = 0; t && i < t->n; i++)
		if (t->v[i].node)
			return 1;
	return 0;
}

/* the node called name (or with that address when name is NULL) */
static struct session_node *session_find(struct session *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0)
			return &s->v[i];
	return NULL;
}

static int session_add(struct session *s, const char *name, const char *addr, int is_default,
		       struct err *e)
{
	struct session_node *nd = session_find(s, name);
	if (nd) {
		nd->is_default |= is_default;
		return 0;
	}
	if (strncmp(addr, SSH_PREFIX, strlen(SSH_PREFIX)) == 0) {
		struct ssh_addr sa;
		if (ssh_parse(addr, &sa, e) != 0)
			return -1;
	} else {
		char host[256];
		int port;
		if (net_parse_addr(addr, host, sizeof host, &port, e) != 0)
			return -1;
	}
	struct session_node *v = realloc(s->v, (s->n + 1) * sizeof *v);
	if (!v)
		return err_set(e, ERR_LOCAL, "out of memory");
	s->v = v;
	nd = &v[s->n];
	memset(nd, 0, sizeof *nd);
	nd->name = strdup(name);
	nd->addr = strdup(addr);
	nd->is_default = is_default;
	s->n++;
	if (!nd->name || !nd->addr)
		return err_set(e, ERR_LOCAL, "out of memory");
	return 0;
}

static int session_unknown(const struct config *c, const char *name, struct err *e)
{
	if (!c->path)
		return err_set(e, ERR_USAGE, "unknown node '%s' (no node file)", name);
	return err_set(e, ERR_USAGE, "unknown node '%s' (not in %s)", name, c->path);
}

/* the default nodes, added with is_default set */
static int session_defaults(struct session *s, const struct config *c,
			    const struct session_opts *o, struct err *e)
{
	if (o->all) {
		if (c->n == 0)
			return err_set(e, ERR_USAGE, "-a: no nodes in %s",
				       c->path ? c->path : "the node file (there is none)");
		for (size_t i = 0; i < c->n; i++)
			if (session_add(s, c->v[i].name, c->v[i].addr, 1, e) != 0)
				return -1;
		return 0;
	}
	if (o->node) {
		const struct config_node *cn = config_find(c, o->node);
		if (!cn)
			return session_unknown(c, o->node, e);
		return session_add(s, cn->name, cn->addr, 1, e);
	}
	const char *host = o->host;
	if (!host)
		host = getenv("SKYCTL_HOST");
	if (!host || !*host)
		host = SESSION_DEFAULT_HOST;
	return session_add(s, host, host, 1, e);
}

int session_select(struct session *s, const struct config *c, const struct session_opts *o,
		   const struct target_list *t, struct err *e)
{
	int plain = !t;		/* some target without a node prefix */
	memset(s, 0, sizeof *s);
	for (size_t i = 0; t && i < t->n; i++)
		plain |= !t->v[i].node;
	if (plain && session_defaults(s, c, o, e) != 0)
		return -1;
	for (size_t i = 0; t && i < t->n; i++) {
		const char *p = t->v[i].node;
		if (!p)
			continue;
		if (strcmp(p, "*") == 0) {
			if (c->n == 0)
				return err_set(e, ERR_USAGE, "%s: no nodes in %s", t->v[i].orig,
					       c->path ? c->path : "the node file (there is none)");
			for (size_t k = 0; k < c->n; k++)
				if (session_add(s, c->v[k].name, c->v[k].addr, 0, e) != 0)
					return -1;
			continue;
		}
		const struct config_node *cn = config_find(c, p);
		if (!cn)
			return session_unknown(c, p, e);
		if (session_add(s, cn->name, cn->addr, 0, e) != 0)
			return -1;
	}
	s->named = s->n > 1 || o->all;
	return 0;
}

void session_free(struct session *s)
{
	for (size_t i = 0; i < s->n; i++) {
		net_close(s->v[i].conn);
		free(s->v[i].name);
		free(s->v[i].addr);
	}
	free(s->v);
	memset(s, 0, sizeof *s);
}

int session_applies(const struct target_sel *sel, const struct session_node *nd)
{
	if (!sel->node)
		return nd->is_default;
	return strcmp(sel->node, "*") == 0 || strcmp(sel->node, nd->name) == 0;
}

struct session_job {
	void (*fn)(void *ud, size_t i);
	void *ud;
	size_t i;
};

static void *session_thread(void *p)
{
	struct session_job *j = p;
	j->fn(j->ud, j->i);
	return NULL;
}

void session_run(size_t n, void (*fn)(void *ud, size_t i), void *ud)
{
	struct session_job *jobs = n > 1 ? calloc(n, sizeof *jobs) : NULL;
	pthread_t *th = n > 1 ? calloc(n, sizeof *th) : NULL;
	char *started = n > 1 ? calloc(n, 1) : NULL;
	for (size_t i = 0; i < n; i++) {
		if (jobs && th && started) {
			jobs[i] = (struct session_job){ fn, ud, i };
			started[i] = pthread_create(&th[i], NULL, session_thread, &jobs[i]) == 0;
			if (started[i])
				continue;
		}
		fn(ud, i);	/* one node, or no thread to be had: run it here */
	}
	for (size_t i = 0; started && i < n; i++)
		if (started[i])
			pthread_join(th[i], NULL);
	free(jobs);
	free(th);
	free(started);
}
