/* skyctl patches [TARGET]: the patch journal each service keeps (lua/agent.lua);
 * no TARGET: every Lua service of the nodes.
 * One service: its journal, newest first.  Several: the matrix of the
 * patches in place × services with drift flagged (cli/patchset.c finds
 * both).  --json: one document with every journal and the drift.
 * The matrix's columns P1, P2, ... are told above it: on a terminal as
 * "P1  fix.lua  sha256 1ce44f4e3fc9  in place on 2 of 3 services", in a
 * pipe as "# P1<TAB>fix.lua<TAB>SHA256<TAB>2<TAB>3" lines before the rows
 * (as JSON's "patches": column, name, sha256, services; then how many
 * services were asked), which `grep -v '^#'` leaves out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentcmd.h"
#include "cmd.h"
#include "json.h"
#include "patchset.h"
#include "scriptstore.h"

struct patches_run {
	const struct agentrun *ar;
	struct patchset ps;
	long drift;
};

static const struct args_opt patches_opt_exit_code = {
	.lng = "exit-code",
	.help = "exit 1 if a service drifts (for CI checks)",
};

static const struct args_opt patches_opt_show = {
	.lng = "show", .arg = "ID",
	.help = "print the source of patch ID of the one TARGET, as kept when it was applied",
	.want = "a patch id (>= 1)", .min = 1, .max = 1e15, .integer = 1,
};

/* the source of patch id of service s, from the local script store */
static int patches_show(const struct patchset_svc *s, long long id, struct fmt_buf *out)
{
	struct err e;
	for (size_t k = 0; k < s->ne; k++) {
		const struct patchset_entry *p = &s->e[k];
		if (p->id != id || strcmp(p->kind ? p->kind : "", "apply") != 0)
			continue;
		if (!p->sha) {
			fprintf(stderr, "skyctl: patches: #%lld %s was made at a prompt: it has no "
				"script (patches shows its changes)\n", id, p->name ? p->name : "");
			return ERR_NODE;
		}
		if (scriptstore_get(p->sha, out, &e) != 0) {
			fprintf(stderr, "skyctl: patches: #%lld %s: %s\n", id, p->name ? p->name : "",
				e.msg);
			return e.code;
		}
		return 0;
	}
	fprintf(stderr, "skyctl: patches: no patch #%lld in that service's journal\n", id);
	return ERR_NODE;
}

/* {op="journal", brief=true}; a sweep of every service leaves no agent
 * behind where none was */
static int patches_request(struct agentrun *ar, struct fmt_buf *b)
{
	struct patches_run *r = ar->ud = calloc(1, sizeof *r);
	if (!r || patchset_init(&r->ps, ar->total) != 0) {
		fprintf(stderr, "skyctl: out of memory\n");
		return ERR_LOCAL;
	}
	r->ar = ar;
	r->ps.json = ar->c->o.json;
	wire_put_open(b);
	wire_put_cstr(b, "op");
	wire_put_cstr(b, "journal");
	wire_put_cstr(b, "brief");
	wire_put_bool(b, 1);
	wire_put_close(b);
	return 0;
}

static int patches_describe(struct agentrun *ar, size_t node, size_t i,
			    const struct batch_result *res, char *what, size_t len,
			    struct fmt_buf *more)
{
	struct patches_run *r = ar->ud;
	(void)more;
	snprintf(what, len, "%s", res->err && res->state != BATCH_OK ? res->err : "");
	patchset_add(&r->ps, node, ar->nodes[node].name, ar->nodes[node].addrs[i],
		     ar->targets[node][i].cmd, res);
	return res->state;
}

static const struct fmt_col patches_journal_cols[] = {
	{ "id", FMT_INT }, { "patch", FMT_STR }, { "sha256", FMT_STR }, { "when", FMT_STR },
	{ "who", FMT_STR }, { "changes", FMT_INT }, { "state", FMT_STR },
};

/* one service's journal as a table, newest first */
static void patches_journal(const struct patchset_svc *s, struct fmt_table *t)
{
	fmt_table_init(t, patches_journal_cols, 7);
	for (size_t k = 0; k < s->ne; k++) {
		const struct patchset_entry *e = &s->e[k];
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

/* the matrix: a row per service, a column per patch in place; with no
 * patch in place anywhere and no set, only the services that did not
 * answer (a row of nothing each says nothing: the summary counts them) */
static void patches_matrix(struct patches_run *r, struct fmt_table *t, struct fmt_col *cols,
			   char (*keys)[24])
{
	size_t nc = r->ps.np + 4 + (r->ps.nset > 0);	/* a SET column when apply was run */
	cols[0] = (struct fmt_col){ "node", FMT_STR };
	cols[1] = (struct fmt_col){ "address", FMT_STR };
	cols[2] = (struct fmt_col){ "service", FMT_STR };
	for (size_t k = 0; k < r->ps.np; k++) {
		snprintf(keys[k], sizeof keys[k], "p%zu", k + 1);
		cols[3 + k] = (struct fmt_col){ keys[k], FMT_STR };
	}
	if (r->ps.nset)
		cols[nc - 2] = (struct fmt_col){ "set", FMT_STR };
	cols[nc - 1] = (struct fmt_col){ "drift", FMT_STR };
	fmt_table_init(t, cols, (int)nc);
	const char **vals = calloc(nc, sizeof *vals);
	char (*cells)[32] = calloc(nc, sizeof *cells);
	int empty = !r->ps.np && !r->ps.nset;
	for (size_t i = 0; vals && cells && i < r->ps.ns; i++) {
		const struct patchset_svc *s = &r->ps.s[i];
		if (empty && s->ok)
			continue;
		snprintf(cells[1], sizeof cells[1], ":%08x", (unsigned)s->addr);
		vals[0] = r->ar->nodes[s->node].name;
		vals[1] = cells[1];
		vals[2] = s->cmd ? s->cmd : "";
		for (size_t k = 0; k < r->ps.np; k++) {
			const struct patchset_entry *e = s->ok ? patchset_find(s, &r->ps.p[k]) : NULL;
			if (e)
				snprintf(cells[3 + k], sizeof cells[3 + k], "#%lld%s", e->id,
					 strcmp(e->state, "applied") ? " partly" : "");
			else
				snprintf(cells[3 + k], sizeof cells[3 + k], "%s", s->ok ? "-" : "?");
			vals[3 + k] = cells[3 + k];
		}
		if (r->ps.nset)
			vals[nc - 2] = s->set;
		vals[nc - 1] = s->ok ? s->drift : s->err;
		fmt_add_row(t, vals);
	}
	if (!vals || !cells)
		t->oom = 1;
	free(vals);
	free(cells);
}

/* "patches":[{"column","name","sha","services"}],"services":[...] */
static void patches_json(const struct patches_run *r, struct fmt_buf *b)
{
	fmt_puts(b, "\"patches\":[");
	for (size_t k = 0; k < r->ps.np; k++) {
		fmt_printf(b, "%s{\"column\":\"P%zu\",\"name\":", k ? "," : "", k + 1);
		json_string(b, r->ps.p[k].name, strlen(r->ps.p[k].name));
		fmt_puts(b, ",\"sha256\":");
		json_string(b, r->ps.p[k].sha, strlen(r->ps.p[k].sha));
		fmt_printf(b, ",\"services\":%zu}", r->ps.p[k].carriers);
	}
	fmt_puts(b, "],\"services\":[");
	for (size_t i = 0; i < r->ps.ns; i++) {
		const struct patchset_svc *s = &r->ps.s[i];
		char addr[16];
		snprintf(addr, sizeof addr, ":%08x", (unsigned)s->addr);
		fmt_puts(b, i ? ",{\"node\":" : "{\"node\":");
		json_string(b, r->ar->nodes[s->node].name, strlen(r->ar->nodes[s->node].name));
		fmt_puts(b, ",\"target\":");
		json_string(b, addr, strlen(addr));
		fmt_puts(b, ",\"command\":");
		if (s->cmd)
			json_string(b, s->cmd, strlen(s->cmd));
		else
			fmt_puts(b, "null");
		fmt_printf(b, ",\"ok\":%s,\"error\":", s->ok ? "true" : "false");
		if (s->err)
			json_string(b, s->err, strlen(s->err));
		else
			fmt_puts(b, "null");
		fmt_puts(b, ",\"set\":");
		if (*s->set)
			json_string(b, s->set, strlen(s->set));
		else
			fmt_puts(b, "null");
		fmt_printf(b, ",\"journal\":%s,\"drift\":[", s->json ? s->json : "null");
		for (const char *d = s->drift; *d;) {
			char item[256];
			const char *end = strstr(d, "; ");
			size_t len = end ? (size_t)(end - d) : strlen(d);
			snprintf(item, sizeof item, "%.*s", (int)len, d);
			fmt_puts(b, d == s->drift ? "" : ",");
			json_string(b, item, strlen(item));
			d += len + (end ? 2 : 0);
		}
		fmt_puts(b, "]}");
	}
	fmt_puts(b, "]");
}

/* the journal, the matrix or the JSON members into out; the exit status */
static int patches_report(struct agentrun *ar, struct fmt_buf *out)
{
	struct patches_run *r = ar->ud;
	struct cmd_ctx *c = ar->c;
	struct fmt_table t = { 0 };
	struct fmt_buf b = { 0 }, legend = { 0 };
	if ((r->drift = patchset_finish(&r->ps)) < 0) {
		fprintf(stderr, "skyctl: out of memory\n");
		return ERR_LOCAL;
	}
	struct fmt_col *cols = calloc(r->ps.np + 5, sizeof *cols);
	char (*keys)[24] = calloc(r->ps.np + 1, sizeof *keys);
	int rc = 0;
	if (cmd_opt(c, &patches_opt_show) && r->ps.ns != 1) {
		fprintf(stderr, "skyctl: patches: --show needs one TARGET service, not %zu\n",
			r->ps.ns);
		rc = ERR_USAGE;
	} else if (cmd_opt(c, &patches_opt_show) && r->ps.s[0].ok) {
		rc = patches_show(&r->ps.s[0], (long long)cmd_num(c, &patches_opt_show), &b);
	} else if (c->o.json) {
		patches_json(r, out);	/* tens of MB over 10,000 services: not copied */
	} else if (r->ps.ns == 1 && r->ps.s[0].ok) {
		patches_journal(&r->ps.s[0], &t);
		if (*r->ps.s[0].set)	/* in a pipe, a "# " line as the matrix's legend */
			fmt_printf(&legend, c->mode == FMT_TABLE ? "set %s (skyctl apply: version, "
				   "patches held of the set)\n" : "# set\t%s\n", r->ps.s[0].set);
		fmt_render(&t, c->mode, c->color, &b);
	} else if (cols && keys) {
		for (size_t k = 0; k < r->ps.np; k++) {
			const struct patchset_patch *p = &r->ps.p[k];
			/* the JSON's "patches" in TSV: column, name, sha256, services */
			fmt_printf(&legend, c->mode == FMT_TABLE ? "P%zu  " : "# P%zu\t", k + 1);
			fmt_safe(&legend, p->name, strlen(p->name), "");	/* the node's */
			fmt_printf(&legend, c->mode == FMT_TABLE ? "  sha256 %.12s  in place on %zu "
				   "of %zu services\n" : "\t%s\t%zu\t%zu\n", p->sha, p->carriers,
				   r->ps.ns);
		}
		patches_matrix(r, &t, cols, keys);
		if (!c->sess.named)
			t.hide_text |= 1u;	/* one node: no NODE column */
		if (t.nrows)
			fmt_render(&t, c->mode, c->color, &b);
	}
	if (b.oom || t.oom || legend.oom || out->oom || !cols || !keys) {
		fprintf(stderr, "skyctl: out of memory\n");
		rc = ERR_LOCAL;
	} else {
		if (legend.len)
			fmt_putn(out, legend.p, legend.len);
		if (b.len)
			fmt_putn(out, b.p, b.len);
	}
	fmt_table_free(&t);
	fmt_buf_free(&b);
	fmt_buf_free(&legend);
	free(cols);
	free(keys);
	if (cmd_opt(c, &patches_opt_exit_code) && r->drift > 0)
		rc = err_worst(rc, ERR_NODE);
	return rc;
}

static void patches_summary(struct agentrun *ar, struct fmt_buf *text, struct fmt_buf *json)
{
	struct patches_run *r = ar->ud;
	fmt_printf(text, "%zu service%s, %zu patch%s in place, %ld drifting", r->ps.ns,
		   r->ps.ns == 1 ? "" : "s", r->ps.np, r->ps.np == 1 ? "" : "es", r->drift);
	fmt_printf(json, ",\"services\":%zu,\"in_place\":%zu,\"drifting\":%ld", r->ps.ns,
		   r->ps.np, r->drift);
}

static void patches_free(struct agentrun *ar)
{
	struct patches_run *r = ar->ud;
	if (r)
		patchset_free(&r->ps);
	free(r);
}

static const struct cmd_agent patches_agent = {
	.states = agentcmd_state, .order = agentcmd_order, .keep_going = 1,
	.request = patches_request, .describe = patches_describe, .report = patches_report,
	.json_members = 1, .summary = patches_summary, .summary_stderr = 1, .free = patches_free,
};

const struct cmd_entry cmd_patches_entry = {
	.name = "patches", .args = "[TARGET]",
	.summary = "patch journals; several services: patches x services, drift flagged",
	.options = CMD_OPTIONS(&agentcmd_opt_no_agent, &patches_opt_exit_code, &patches_opt_show),
	.min = 0, .max = 0,
	/* reads journals, changes nothing: not audited */
	.flags = CMD_CONNECT | CMD_TARGETS | CMD_EVERY | CMD_CHECK_ALIVE | CMD_HANDLES | CMD_AGENT,
	.agent = &patches_agent,
};
