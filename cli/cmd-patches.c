/* skyctl patches TARGET: the patch journal each service keeps (lua/agent.lua).
 * One service: its journal, newest first.  Several: a matrix of the patches
 * in place (by sha256) × services, with drift flagged: among siblings
 * (services running the same Lua service, `snlua agent ...`, on any node),
 * a service that lacks a patch most of them carry, or carries one most of
 * them lack.  --json: one document with every journal and the drift. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentcmd.h"
#include "cmd.h"

struct patches_entry {
	long long id, time, nchanges, of, restored;
	char *kind, *name, *sha, *who, *state;
	size_t nconflicts;
};

struct patches_svc {
	size_t node;
	uint32_t addr;
	const char *cmd;	/* launch command, or NULL */
	char group[128];	/* siblings share it */
	int ok;
	char *err, *json;	/* why not read; the journal as JSON */
	struct patches_entry *e;
	size_t ne;
	char drift[256];
};

/* a patch in place somewhere: the matrix's columns */
struct patches_patch {
	const char *sha, *name;
	long long time;		/* newest application */
	size_t carriers;
};

struct patches_run {
	const struct agentcmd_nodes *nodes;
	struct patches_svc *s;
	size_t ns;
	struct patches_patch *p;
	size_t np;
	int json;
};

static int patches_carried(const struct patches_entry *e)
{
	return strcmp(e->kind, "apply") == 0 &&
	       (strcmp(e->state, "applied") == 0 || strcmp(e->state, "partly rolled back") == 0);
}

static char *patches_dup(const struct agent_val *v, const char *key)
{
	return strdup(agent_gets(v, key, ""));
}

static void patches_settled(void *ud, size_t node, size_t i, const struct batch_result *res)
{
	struct patches_run *r = ud;
	struct patches_svc *s = &r->s[r->ns++];
	const struct agent_val *j = agent_get(res->val, "journal");
	struct agent_buf b = { 0 };
	char name[128];
	s->node = node;
	s->addr = r->nodes->v[node].addrs[i];
	s->cmd = r->nodes->targets[node][i].cmd;
	if (s->cmd)
		snprintf(s->group, sizeof s->group, "%s", target_service_name(s->cmd, name, sizeof name));
	else
		snprintf(s->group, sizeof s->group, "%s:%08x", r->nodes->v[node].name, (unsigned)s->addr);
	s->ok = res->state == BATCH_OK;
	if (!s->ok) {
		s->err = strdup(res->err ? res->err : agentcmd_state[res->state]);
		return;
	}
	agent_json(&b, j);
	s->json = b.oom ? NULL : b.p;
	s->ne = agent_count(j);
	s->e = calloc(s->ne + 1, sizeof *s->e);
	for (size_t k = 0; s->e && k < s->ne; k++) {
		const struct agent_val *v = agent_at(j, (long long)(s->ne - k));	/* newest first */
		s->e[k] = (struct patches_entry){
			.id = agent_geti(v, "id", 0), .time = agent_geti(v, "time", 0),
			.nchanges = agent_geti(v, "nchanges", 0), .of = agent_geti(v, "of", 0),
			.restored = agent_geti(v, "restored", 0), .kind = patches_dup(v, "kind"),
			.name = patches_dup(v, "name"), .sha = patches_dup(v, "sha"),
			.who = patches_dup(v, "who"), .state = patches_dup(v, "state"),
			.nconflicts = agent_count(agent_get(v, "conflicts")),
		};
	}
	if (!s->e)
		s->ne = 0;
}

/* the patch column of sha, added if new; -1 when out of memory */
static long patches_column(struct patches_run *r, const struct patches_entry *e)
{
	for (size_t k = 0; k < r->np; k++)
		if (strcmp(r->p[k].sha, e->sha) == 0) {
			if (e->time > r->p[k].time)
				r->p[k].time = e->time;
			return (long)k;
		}
	struct patches_patch *p = realloc(r->p, (r->np + 1) * sizeof *p);
	if (!p)
		return -1;
	r->p = p;
	r->p[r->np] = (struct patches_patch){ .sha = e->sha, .name = e->name, .time = e->time };
	return (long)r->np++;
}

static int patches_cmp(const void *a, const void *b)
{
	const struct patches_patch *x = a, *y = b;
	return x->time != y->time ? (x->time < y->time ? 1 : -1) : strcmp(x->name, y->name);
}

/* the entry of s that carries patch p, or NULL */
static const struct patches_entry *patches_find(const struct patches_svc *s,
						const struct patches_patch *p)
{
	for (size_t k = 0; k < s->ne; k++)
		if (patches_carried(&s->e[k]) && strcmp(s->e[k].sha, p->sha) == 0)
			return &s->e[k];
	return NULL;
}

/* Flag drift: for each patch and each group of siblings that read their
 * journals, when only some carry it, the minority is flagged (those
 * lacking it on a tie); returns how many services drift. */
static size_t patches_drift(struct patches_run *r)
{
	size_t n = 0;
	for (size_t k = 0; k < r->np; k++) {
		for (size_t i = 0; i < r->ns; i++) {
			struct patches_svc *s = &r->s[i];
			size_t members = 0, carriers = 0;
			if (!s->ok)
				continue;
			for (size_t j = 0; j < r->ns; j++)
				if (r->s[j].ok && strcmp(r->s[j].group, s->group) == 0) {
					members++;
					carriers += patches_find(&r->s[j], &r->p[k]) != NULL;
				}
			int has = patches_find(s, &r->p[k]) != NULL;
			if (carriers == 0 || carriers == members)
				continue;
			int majority_has = 2 * carriers >= members;
			if (has == majority_has)
				continue;
			size_t len = strlen(s->drift);
			n += len == 0;
			snprintf(s->drift + len, sizeof s->drift - len, "%s%s P%zu (%s)", len ? "; " : "",
				 has ? "extra" : "lacks", k + 1, r->p[k].name);
		}
	}
	return n;
}

static const struct fmt_col patches_journal_cols[] = {
	{ "id", FMT_INT }, { "patch", FMT_STR }, { "sha256", FMT_STR }, { "when", FMT_STR },
	{ "who", FMT_STR }, { "changes", FMT_INT }, { "state", FMT_STR },
};

/* one service's journal as a table, newest first */
static void patches_journal(const struct patches_svc *s, struct fmt_table *t)
{
	fmt_table_init(t, patches_journal_cols, 7);
	for (size_t k = 0; k < s->ne; k++) {
		const struct patches_entry *e = &s->e[k];
		char id[32], sha[16], when[64], changes[32], state[128];
		snprintf(id, sizeof id, "%lld", e->id);
		snprintf(sha, sizeof sha, "%.12s", e->sha);
		snprintf(changes, sizeof changes, "%lld", strcmp(e->kind, "apply") ? e->restored :
			 e->nchanges);
		if (strcmp(e->kind, "rollback") == 0)
			snprintf(state, sizeof state, "rollback of #%lld%s", e->of,
				 e->nconflicts ? ", with conflicts" : "");
		else
			snprintf(state, sizeof state, "%s", e->state);
		const char *vals[7] = { id, e->name, sha, agentcmd_when(e->time, when, sizeof when),
					e->who, changes, state };
		fmt_add_row(t, vals);
	}
}

/* the matrix: a row per service, a column per patch in place */
static void patches_matrix(struct patches_run *r, struct fmt_table *t, struct fmt_col *cols,
			   char (*keys)[24])
{
	size_t nc = r->np + 4;
	cols[0] = (struct fmt_col){ "node", FMT_STR };
	cols[1] = (struct fmt_col){ "address", FMT_STR };
	cols[2] = (struct fmt_col){ "service", FMT_STR };
	for (size_t k = 0; k < r->np; k++) {
		snprintf(keys[k], sizeof keys[k], "p%zu", k + 1);
		cols[3 + k] = (struct fmt_col){ keys[k], FMT_STR };
	}
	cols[nc - 1] = (struct fmt_col){ "drift", FMT_STR };
	fmt_table_init(t, cols, (int)nc);
	const char **vals = calloc(nc, sizeof *vals);
	char (*cells)[32] = calloc(nc, sizeof *cells);
	for (size_t i = 0; vals && cells && i < r->ns; i++) {
		const struct patches_svc *s = &r->s[i];
		snprintf(cells[1], sizeof cells[1], ":%08x", (unsigned)s->addr);
		vals[0] = r->nodes->v[s->node].name;
		vals[1] = cells[1];
		vals[2] = s->cmd ? s->cmd : "";
		for (size_t k = 0; k < r->np; k++) {
			const struct patches_entry *e = s->ok ? patches_find(s, &r->p[k]) : NULL;
			if (e)
				snprintf(cells[3 + k], sizeof cells[3 + k], "#%lld%s", e->id,
					 strcmp(e->state, "applied") ? " partly" : "");
			else
				snprintf(cells[3 + k], sizeof cells[3 + k], "%s", s->ok ? "-" : "?");
			vals[3 + k] = cells[3 + k];
		}
		vals[nc - 1] = s->ok ? s->drift : s->err;
		fmt_add_row(t, vals);
	}
	if (!vals || !cells)
		t->oom = 1;
	free(vals);
	free(cells);
}

/* {"patches":[{"column","name","sha","services"}],"services":[...]} */
static void patches_json(const struct patches_run *r, struct fmt_buf *b)
{
	fmt_puts(b, "{\"patches\":[");
	for (size_t k = 0; k < r->np; k++) {
		fmt_printf(b, "%s{\"column\":\"P%zu\",\"name\":", k ? "," : "", k + 1);
		fmt_json_string(b, r->p[k].name);
		fmt_puts(b, ",\"sha256\":");
		fmt_json_string(b, r->p[k].sha);
		fmt_printf(b, ",\"services\":%zu}", r->p[k].carriers);
	}
	fmt_puts(b, "],\"services\":[");
	for (size_t i = 0; i < r->ns; i++) {
		const struct patches_svc *s = &r->s[i];
		char addr[16];
		snprintf(addr, sizeof addr, ":%08x", (unsigned)s->addr);
		fmt_puts(b, i ? ",{\"node\":" : "{\"node\":");
		fmt_json_string(b, r->nodes->v[s->node].name);
		fmt_puts(b, ",\"target\":");
		fmt_json_string(b, addr);
		fmt_puts(b, ",\"command\":");
		if (s->cmd)
			fmt_json_string(b, s->cmd);
		else
			fmt_puts(b, "null");
		fmt_printf(b, ",\"ok\":%s,\"error\":", s->ok ? "true" : "false");
		if (s->err)
			fmt_json_string(b, s->err);
		else
			fmt_puts(b, "null");
		fmt_printf(b, ",\"journal\":%s,\"drift\":[", s->json ? s->json : "null");
		for (const char *d = s->drift; *d;) {
			char item[256];
			const char *end = strstr(d, "; ");
			size_t len = end ? (size_t)(end - d) : strlen(d);
			snprintf(item, sizeof item, "%.*s", (int)len, d);
			fmt_puts(b, d == s->drift ? "" : ",");
			fmt_json_string(b, item);
			d += len + (end ? 2 : 0);
		}
		fmt_puts(b, "]}");
	}
	fmt_puts(b, "]}\n");
}

/* print the result; returns 0 or ERR_LOCAL when out of memory */
static int patches_print(struct patches_run *r, struct cmd_ctx *c)
{
	struct fmt_table t = { 0 };
	struct fmt_buf b = { 0 }, legend = { 0 };
	struct fmt_col *cols = calloc(r->np + 4, sizeof *cols);
	char (*keys)[24] = calloc(r->np + 1, sizeof *keys);
	int rc = 0;
	if (r->json) {
		patches_json(r, &b);
	} else if (r->ns == 1 && r->s[0].ok) {
		patches_journal(&r->s[0], &t);
		fmt_render(&t, c->mode, c->color, &b);
	} else if (cols && keys) {
		for (size_t k = 0; k < r->np; k++)
			fmt_printf(&legend, "P%zu  %s  sha256 %.12s  in place on %zu of %zu services\n",
				   k + 1, r->p[k].name, r->p[k].sha, r->p[k].carriers, r->ns);
		patches_matrix(r, &t, cols, keys);
		if (!c->sess.named)
			t.hide_text |= 1u;	/* one node: no NODE column */
		fmt_render(&t, c->mode, c->color, &b);
	}
	if (b.oom || t.oom || legend.oom || !cols || !keys) {
		fprintf(stderr, "skyctl: out of memory\n");
		rc = ERR_LOCAL;
	} else {
		if (legend.len)
			fwrite(legend.p, 1, legend.len, c->mode == FMT_TABLE ? stdout : stderr);
		if (b.len)
			fwrite(b.p, 1, b.len, stdout);
	}
	fmt_table_free(&t);
	fmt_buf_free(&b);
	fmt_buf_free(&legend);
	free(cols);
	free(keys);
	return rc;
}

static int cmd_patches_exec(struct cmd_ctx *c)
{
	struct agentcmd_nodes nodes;
	struct patches_run r = { .nodes = &nodes, .json = c->o.json };
	struct agent_buf sub = { 0 };
	int status = agentcmd_nodes(c, &nodes);
	if (status)
		goto done;
	status = ERR_NODE;
	if (agent_init() != 0 || !(r.s = calloc(nodes.total + 1, sizeof *r.s))) {
		fprintf(stderr, "skyctl: the embedded agent is missing\n");
		goto done;
	}
	agent_w_open(&sub);
	agent_w_cstr(&sub, "op");
	agent_w_cstr(&sub, "journal");
	agent_w_cstr(&sub, "brief");
	agent_w_bool(&sub, 1);
	agent_w_close(&sub);
	struct batch_opts bo = { .keep_going = 1, .flags = c->o.no_agent ? AGENT_NO_AGENT : 0,
				 .timeout = c->o.timeout, .par = 8 };
	struct batch_hooks hooks = { NULL, patches_settled, &r };
	status = batch_run(nodes.v, nodes.n, &bo, &sub, &hooks);
	for (size_t i = 0; i < r.ns; i++)
		for (size_t k = 0; k < r.s[i].ne; k++)
			if (patches_carried(&r.s[i].e[k]) && patches_column(&r, &r.s[i].e[k]) < 0)
				status = ERR_LOCAL;
	if (r.np)
		qsort(r.p, r.np, sizeof *r.p, patches_cmp);
	for (size_t k = 0; k < r.np; k++)
		for (size_t i = 0; i < r.ns; i++)
			r.p[k].carriers += r.s[i].ok && patches_find(&r.s[i], &r.p[k]) != NULL;
	size_t drift = patches_drift(&r);
	status = err_worst(status, patches_print(&r, c));
	fflush(stdout);	/* the summary after the table, also in one file */
	fprintf(stderr, "patches: %zu service%s, %zu patch%s in place, %zu drifting\n", r.ns,
		r.ns == 1 ? "" : "s", r.np, r.np == 1 ? "" : "es", drift);
done:
	for (size_t i = 0; r.s && i < r.ns; i++) {
		for (size_t k = 0; k < r.s[i].ne; k++) {
			struct patches_entry *e = &r.s[i].e[k];
			free(e->kind), free(e->name), free(e->sha), free(e->who), free(e->state);
		}
		free(r.s[i].e);
		free(r.s[i].err);
		free(r.s[i].json);
	}
	free(r.s);
	free(r.p);
	agentcmd_nodes_free(&nodes);
	agent_buf_free(&sub);
	return status;
}

const struct cmd_entry cmd_patches_entry = {
	.name = "patches", .args = "TARGET",
	.summary = "the patch journal of services; several: patches x services, drift flagged",
	.opts = OPTB_AGENT, .min = 0, .max = 0,
	.flags = CMD_CONNECT | CMD_TARGETS | CMD_MUTATES | CMD_HANDLES,
	.exec = cmd_patches_exec,
};
