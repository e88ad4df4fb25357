/* The patches in place across services, from their journals (patchset.h):
 * columns by sha256, newest first, and drift among siblings. */
#include "patchset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentcmd.h"
#include "json.h"

/* whether e is a patch still (partly) in place */
static int patchset_carried(const struct patchset_entry *e)
{
	return strcmp(e->kind, "apply") == 0 &&
	       (strcmp(e->state, "applied") == 0 || strcmp(e->state, "partly rolled back") == 0);
}

/* the pool's slot for s: where it is, or the empty one it would take */
static char **patchset_slot(char **pool, size_t cap, const char *s)
{
	for (size_t i = agentcmd_hash(s, 0) & (cap - 1);; i = (i + 1) & (cap - 1))
		if (!pool[i] || strcmp(pool[i], s) == 0)
			return &pool[i];
}

/* v's string at key ("" when absent), kept once in the pool; "" and
 * ps->oom set when out of memory */
static const char *patchset_string(struct patchset *ps, const struct wire_val *v,
				   const char *key)
{
	const char *s = wire_gets(v, key, "");
	if (2 * (ps->npool + 1) > ps->pool_cap) {	/* at most half full */
		size_t cap = ps->pool_cap ? 2 * ps->pool_cap : 64;
		char **pool = calloc(cap, sizeof *pool);
		if (!pool) {
			ps->oom = 1;
			return "";
		}
		for (size_t i = 0; i < ps->pool_cap; i++)
			if (ps->pool[i])
				*patchset_slot(pool, cap, ps->pool[i]) = ps->pool[i];
		free(ps->pool);
		ps->pool = pool;
		ps->pool_cap = cap;
	}
	char **slot = patchset_slot(ps->pool, ps->pool_cap, s);
	if (!*slot) {
		if (!(*slot = strdup(s))) {
			ps->oom = 1;
			return "";
		}
		ps->npool++;
	}
	return *slot;
}

void patchset_add(struct patchset *ps, size_t node, const char *nodename, uint32_t addr,
		  const char *cmd, const struct batch_result *res)
{
	struct patchset_svc *s = &ps->s[ps->ns++];
	const struct wire_val *j = wire_get(res->val, "journal");
	struct fmt_buf b = { 0 };
	char name[128];
	s->node = node;
	s->addr = addr;
	s->cmd = cmd;
	if (cmd)
		snprintf(s->group, sizeof s->group, "%s", target_service_name(cmd, name, sizeof name));
	else
		snprintf(s->group, sizeof s->group, "%s:%08x", nodename, (unsigned)addr);
	s->ok = res->state == BATCH_OK;
	if (!s->ok) {
		s->err = strdup(res->err ? res->err : agentcmd_state[res->state]);
		return;
	}
	const struct wire_val *set = wire_get(res->val, "set");
	if (set) {
		ps->nset++;
		snprintf(s->set, sizeof s->set, "%s %lld/%lld", wire_gets(set, "version", "?"),
			 wire_geti(set, "held", 0), wire_geti(set, "total", 0));
	}
	if (ps->json) {
		json_value(&b, j);
		s->json = b.oom ? NULL : b.p;
		char *fit = s->json ? realloc(s->json, b.len + 1) : NULL;	/* not its 4 KB */
		s->json = fit ? fit : s->json;
	}
	s->ne = wire_count(j);
	s->e = calloc(s->ne + 1, sizeof *s->e);
	for (size_t k = 0; s->e && k < s->ne; k++) {
		const struct wire_val *v = wire_at(j, (long long)(s->ne - k));	/* newest first */
		s->e[k] = (struct patchset_entry){
			.id = wire_geti(v, "id", 0), .time = wire_geti(v, "time", 0),
			.nchanges = wire_geti(v, "nchanges", 0), .of = wire_geti(v, "of", 0),
			.restored = wire_geti(v, "restored", 0), .kind = patchset_string(ps, v, "kind"),
			.name = patchset_string(ps, v, "name"), .sha = patchset_string(ps, v, "sha"),
			.who = patchset_string(ps, v, "who"), .state = patchset_string(ps, v, "state"),
			.nconflicts = wire_count(wire_get(v, "conflicts")),
		};
	}
	if (!s->e)
		s->ne = 0;
}

/* the patch column of sha, added if new; -1 when out of memory */
static long patchset_column(struct patchset *r, const struct patchset_entry *e)
{
	for (size_t k = 0; k < r->np; k++)
		if (strcmp(r->p[k].sha, e->sha) == 0) {
			if (e->time > r->p[k].time)
				r->p[k].time = e->time;
			return (long)k;
		}
	struct patchset_patch *p = realloc(r->p, (r->np + 1) * sizeof *p);
	if (!p)
		return -1;
	r->p = p;
	r->p[r->np] = (struct patchset_patch){ .sha = e->sha, .name = e->name, .time = e->time };
	return (long)r->np++;
}

static int patchset_cmp(const void *a, const void *b)
{
	const struct patchset_patch *x = a, *y = b;
	return x->time != y->time ? (x->time < y->time ? 1 : -1) : strcmp(x->name, y->name);
}

/* the entry of s that carries patch p, or NULL */
const struct patchset_entry *patchset_find(const struct patchset_svc *s,
					   const struct patchset_patch *p)
{
	for (size_t k = 0; k < s->ne; k++)
		if (patchset_carried(&s->e[k]) && strcmp(s->e[k].sha, p->sha) == 0)
			return &s->e[k];
	return NULL;
}

static const struct patchset *patchset_sorting;

static int patchset_cmp_group(const void *a, const void *b)
{
	const struct patchset_svc *s = patchset_sorting->s;
	return strcmp(s[*(const size_t *)a].group, s[*(const size_t *)b].group);
}

/* Flag drift: for each patch and each group of siblings that read their
 * journals, when only some carry it, the minority is flagged (those
 * lacking it on a tie); returns how many services drift.  Services are
 * numbered by group once (a sort), so each patch costs one pass over
 * them, not a pass per service. */
static size_t patchset_drift(struct patchset *r)
{
	size_t n = 0, ng = 0;
	size_t *order = calloc(r->ns + 1, sizeof *order), *gid = calloc(r->ns + 1, sizeof *gid);
	size_t *members = calloc(r->ns + 1, sizeof *members);
	size_t *carriers = calloc(r->ns + 1, sizeof *carriers);
	unsigned char *has = calloc(r->ns + 1, 1);
	if (!order || !gid || !members || !carriers || !has)
		goto done;
	for (size_t i = 0; i < r->ns; i++)
		order[i] = i;
	patchset_sorting = r;
	qsort(order, r->ns, sizeof *order, patchset_cmp_group);
	for (size_t i = 0; i < r->ns; i++) {
		if (i && strcmp(r->s[order[i]].group, r->s[order[i - 1]].group) != 0)
			ng++;
		gid[order[i]] = ng;
	}
	for (size_t k = 0; k < r->np; k++) {
		memset(members, 0, (ng + 1) * sizeof *members);
		memset(carriers, 0, (ng + 1) * sizeof *carriers);
		for (size_t i = 0; i < r->ns; i++) {
			has[i] = r->s[i].ok && patchset_find(&r->s[i], &r->p[k]) != NULL;
			members[gid[i]] += r->s[i].ok;
			carriers[gid[i]] += has[i];
		}
		for (size_t i = 0; i < r->ns; i++) {
			struct patchset_svc *s = &r->s[i];
			size_t c = carriers[gid[i]], m = members[gid[i]];
			if (!s->ok || c == 0 || c == m)
				continue;
			int majority_has = 2 * c >= m;
			if (has[i] == majority_has)
				continue;
			size_t len = strlen(s->drift);
			n += len == 0;
			snprintf(s->drift + len, sizeof s->drift - len, "%s%s P%zu (%s)", len ? "; " : "",
				 has[i] ? "extra" : "lacks", k + 1, r->p[k].name);
		}
	}
done:
	free(order), free(gid), free(members), free(carriers), free(has);
	return n;
}

int patchset_init(struct patchset *ps, size_t n)
{
	*ps = (struct patchset){ .s = calloc(n + 1, sizeof *ps->s) };
	return ps->s ? 0 : -1;
}

long patchset_finish(struct patchset *ps)
{
	if (ps->oom)
		return -1;
	for (size_t i = 0; i < ps->ns; i++)
		for (size_t k = 0; k < ps->s[i].ne; k++)
			if (patchset_carried(&ps->s[i].e[k]) && patchset_column(ps, &ps->s[i].e[k]) < 0)
				return -1;
	if (ps->np)
		qsort(ps->p, ps->np, sizeof *ps->p, patchset_cmp);
	for (size_t k = 0; k < ps->np; k++)
		for (size_t i = 0; i < ps->ns; i++)
			ps->p[k].carriers += ps->s[i].ok && patchset_find(&ps->s[i], &ps->p[k]) != NULL;
	return (long)patchset_drift(ps);
}

void patchset_free(struct patchset *ps)
{
	for (size_t i = 0; ps->s && i < ps->ns; i++) {
		free(ps->s[i].e);
		free(ps->s[i].err);
		free(ps->s[i].json);
	}
	for (size_t i = 0; i < ps->pool_cap; i++)
		free(ps->pool[i]);
	free(ps->pool);
	free(ps->s);
	free(ps->p);
}
