/* skyctl diff TARGET [SCRIPT... [-- ARGS...]]: what a hot-fix would change,
 * found by running it inside the live services as a dry run (lua/agent.lua
 * applies, records and reverts before the service handles its next
 * message), or with no SCRIPT the patches each service carries now and
 * what they changed.  One line per change (+ added, - removed, ~ changed),
 * warnings for suspended tasks still running replaced code and for what
 * the engine did not track; targets with the same result are shown once.
 * Exit 0: the scripts would apply cleanly everywhere; 1: one would fail;
 * 6: a script does not compile here (nothing is sent).  State a script
 * changes by running the service's own code (CMD.deposit(5) moves a
 * balance) is beyond the engine's reach: it stays, and diff says which
 * handlers ran. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentcmd.h"
#include "cmd.h"

struct diff_run {
	const struct batch_node *nodes;
	size_t nnodes;
	int journal;		/* no script: the patches in place */
	const char *arrow;
	struct agentcmd_groups g;	/* every target's text */
	int stuck;		/* a dry run could not undo everything */
	int uncertain;		/* something was not undone, or not tracked */
};

/* the request: a dry apply of the scripts, or the journal */
static int diff_request(struct agentrun *ar, struct fmt_buf *b)
{
	struct diff_run *r = ar->ud = calloc(1, sizeof *r);
	int n = ar->nscripts;
	if (!n && ar->nargs) {
		fprintf(stderr, "skyctl: diff: arguments after -- need a SCRIPT\n");
		return ERR_USAGE;
	}
	if (!r || agentcmd_groups_init(&r->g, ar->total) != 0) {
		fprintf(stderr, "skyctl: out of memory\n");
		return ERR_LOCAL;
	}
	r->nodes = ar->nodes;
	r->nnodes = ar->nnodes;
	r->journal = n == 0;
	r->arrow = ar->c->mode == FMT_TABLE ? "→" : "->";
	wire_put_open(b);
	wire_put_cstr(b, "op");
	if (!n) {
		wire_put_cstr(b, "journal");
		wire_put_close(b);
		return 0;
	}
	wire_put_cstr(b, "apply");
	wire_put_cstr(b, "dry");
	wire_put_bool(b, 1);
	agentcmd_w_scripts(b, ar->sc, n, ar->c->o.timeout);
	agentcmd_w_args(b, ar->args, ar->nargs);
	wire_put_close(b);
	return 0;
}

static int diff_cmp_path(const void *a, const void *b)
{
	const struct wire_val *x = *(const struct wire_val *const *)a;
	const struct wire_val *y = *(const struct wire_val *const *)b;
	return strcmp(wire_gets(x, "path", ""), wire_gets(y, "path", ""));
}

/* the change lines of a list, sorted by path and aligned, indented by pad */
static void diff_changes(struct diff_run *r, struct fmt_buf *b, const struct wire_val *list,
			 const char *pad)
{
	size_t n = wire_count(list);
	const struct wire_val **v = n ? calloc(n, sizeof *v) : NULL;
	char path[1024];
	int width = 0;
	if (!v)
		return;
	for (size_t k = 0; k < n; k++) {
		v[k] = wire_at(list, (long long)k + 1);
		int w = (int)strlen(agentcmd_change_path(v[k], path, sizeof path));
		width = w > width && w < 60 ? w : width;
	}
	qsort(v, n, sizeof *v, diff_cmp_path);
	for (size_t k = 0; k < n; k++) {
		fmt_puts(b, pad);
		agentcmd_change_line(b, v[k], width, r->arrow);
	}
	free(v);
}

/* what the engine left out of its comparison, said plainly */
static void diff_untracked(struct fmt_buf *b, const struct wire_val *u)
{
	long long nlarge = wire_geti(u, "nlarge", 0), deep = wire_geti(u, "deep", 0);
	const struct wire_val *large = wire_get(u, "large");
	if (nlarge) {
		fmt_printf(b, "  ? not tracked: %lld table%s of more than %lld entries (data, not "
			   "walked):", nlarge, nlarge == 1 ? "" : "s", wire_geti(u, "entries", 0));
		for (size_t k = 1; k <= wire_count(large); k++)
			fmt_printf(b, " %s", wire_str(wire_at(large, (long long)k)));
		fmt_puts(b, (size_t)nlarge > wire_count(large) ? " ...\n" : "\n");
	}
	if (deep)
		fmt_printf(b, "  ? not tracked: %lld table%s deeper than %lld levels below a code "
			   "table\n", deep, deep == 1 ? "" : "s", wire_geti(u, "depth", 0));
	if (wire_getb(u, "truncated"))
		fmt_printf(b, "  ? not tracked: tables past the first %lld entries in all\n",
			   wire_geti(u, "total", 0));
	const struct wire_val *uncopied = wire_get(u, "uncopied");
	for (size_t k = 1; k <= wire_count(uncopied); k++)
		fmt_printf(b, "  ! not contained: %s, reached by the script, is too big to copy: "
			   "what it wrote there stays\n", wire_str(wire_at(uncopied, (long long)k)));
}

/* the body of a dry run's result: verdict, changes, warnings, output */
static void diff_dry(struct diff_run *r, struct fmt_buf *b, const struct batch_result *res)
{
	const struct wire_val *v = res->val, *scripts = wire_get(v, "scripts");
	size_t n = wire_count(scripts), nchanges = 0, already = 0;
	for (size_t k = 1; k <= n; k++) {
		nchanges += wire_count(wire_get(wire_at(scripts, (long long)k), "changes"));
		already += wire_geti(wire_at(scripts, (long long)k), "already", 0) != 0;
	}
	if (res->state == BATCH_OK && already == n)
		fmt_printf(b, "already in place (patch #%lld): inject would change nothing\n",
			   wire_geti(wire_at(scripts, 1), "already", 0));
	else if (res->state == BATCH_OK)
		fmt_printf(b, "would apply cleanly, %zu change%s\n", nchanges, nchanges == 1 ? "" : "s");
	else if (wire_getb(v, "refused"))
		fmt_printf(b, "would be refused: %s (inject --force applies it anyway)\n",
			   res->err ? res->err : "failed");
	else
		fmt_printf(b, "would fail: %s\n", res->err ? res->err : "failed");
	for (size_t k = 1; k <= n && res->state == BATCH_OK; k++) {
		const struct wire_val *sv = wire_at(scripts, (long long)k), *out = wire_get(sv, "out");
		if (n > 1)
			fmt_printf(b, "  %s:%s\n", wire_gets(sv, "name", "?"),
				   wire_geti(sv, "already", 0) ? " already in place" : "");
		diff_changes(r, b, wire_get(sv, "changes"), n > 1 ? "  " : "");
		for (size_t l = 1; l <= wire_count(out); l++)
			fmt_printf(b, "  | %s\n", wire_str(wire_at(out, (long long)l)));
	}
	agentcmd_warnings(b, v, "  ");
	const struct wire_val *stuck = wire_get(v, "stuck"), *calls = wire_get(v, "calls");
	if (wire_count(calls)) {
		fmt_puts(b, "  ! the script ran the service's own code:");
		for (size_t k = 1; k <= wire_count(calls); k++)
			fmt_printf(b, " %s", wire_str(wire_at(calls, (long long)k)));
		fmt_puts(b, "; state that code changed stays (a dry run cannot undo it)\n");
	}
	for (size_t k = 1; k <= wire_count(stuck); k++)
		fmt_printf(b, "  ! could not be undone, still changed: %s\n",
			   wire_str(wire_at(stuck, (long long)k)));
	if (res->state == BATCH_OK || wire_get(v, "untracked"))
		diff_untracked(b, wire_get(v, "untracked"));
}

/* the body of a journal: the patches still in place, newest first */
static void diff_journal(struct diff_run *r, struct fmt_buf *b, const struct wire_val *v)
{
	const struct wire_val *j = wire_get(v, "journal");
	size_t n = 0;
	char when[64];
	for (size_t k = wire_count(j); k >= 1; k--) {
		const char *state = wire_gets(wire_at(j, (long long)k), "state", "");
		n += strcmp(state, "applied") == 0 || strcmp(state, "partly rolled back") == 0;
	}
	if (!n) {
		fmt_puts(b, "runs as it started: no patch in place\n");
		return;
	}
	fmt_printf(b, "%zu patch%s in place\n", n, n == 1 ? "" : "es");
	for (size_t k = wire_count(j); k >= 1; k--) {
		const struct wire_val *e = wire_at(j, (long long)k);
		const char *state = wire_gets(e, "state", "");
		if (strcmp(state, "applied") != 0 && strcmp(state, "partly rolled back") != 0)
			continue;
		fmt_printf(b, "  #%lld %s  sha256 %.12s  %s  by %s%s%s\n", wire_geti(e, "id", 0),
			   wire_gets(e, "name", "?"), wire_gets(e, "sha", "?"),
			   agentcmd_when(wire_geti(e, "time", 0), when, sizeof when),
			   wire_gets(e, "who", "?"), strcmp(state, "applied") ? ", " : "",
			   strcmp(state, "applied") ? state : "");
		diff_changes(r, b, wire_get(e, "changes"), "  ");
	}
}

/* keep what is printed for the target (text); the verdict line in what */
static int diff_describe(struct agentrun *ar, size_t node, size_t i,
			 const struct batch_result *res, char *what, size_t len,
			 struct fmt_buf *more)
{
	struct diff_run *r = ar->ud;
	struct fmt_buf b = { 0 };
	r->stuck |= wire_get(res->val, "stuck") != NULL;
	r->uncertain |= !r->journal && agentcmd_uncertain(res->val);
	snprintf(what, len, "%s", res->err && res->state != BATCH_OK ? res->err : "");
	if (!more)
		return res->state;
	if (res->state == BATCH_UNKNOWN || res->state == BATCH_SKIPPED || !res->val)
		fmt_printf(&b, "%s: %s\n", agentcmd_state[res->state],
			   res->err ? res->err : "not sent");
	else if (r->journal && res->state == BATCH_OK)
		diff_journal(r, &b, res->val);
	else if (r->journal)
		fmt_printf(&b, "failed: %s\n", res->err ? res->err : "failed");
	else
		diff_dry(r, &b, res);
	agentcmd_groups_add(&r->g, node, r->nodes[node].addrs[i], res->state, b.oom ? NULL : b.p);
	return res->state;
}

/* the targets grouped by what they would do (text); 1 if a dry run
 * could not undo everything */
static int diff_report(struct agentrun *ar, struct fmt_buf *out)
{
	struct diff_run *r = ar->ud;
	if (!ar->c->o.json)
		agentcmd_groups_print(&r->g, r->nodes, r->nnodes, out);
	return r->stuck ? ERR_NODE : 0;
}

static void diff_summary(struct agentrun *ar, struct fmt_buf *text, struct fmt_buf *json)
{
	struct diff_run *r = ar->ud;
	size_t ok = ar->count[BATCH_OK];
	if (r->journal)
		fmt_printf(text, "%zu journal%s read", ok, ok == 1 ? "" : "s");
	else
		fmt_printf(text, "%zu would apply cleanly", ok);
	fmt_printf(text, ", %zu failed, %zu unknown%s", ar->count[BATCH_FAILED],
		   ar->count[BATCH_UNKNOWN], r->journal ? "" : r->uncertain ?
		   "; its changes were undone, but for what the ! and ? lines name" :
		   "; nothing was changed");
	fmt_printf(json, ",\"dry_run\":%s", r->journal ? "false" : "true");
}

static void diff_free(struct agentrun *ar)
{
	struct diff_run *r = ar->ud;
	if (r)
		agentcmd_groups_free(&r->g);
	free(r);
}

static const struct cmd_agent diff_agent = {
	.scripts = 1, .states = agentcmd_state, .order = agentcmd_order, .keep_going = 1,
	.request = diff_request, .describe = diff_describe, .report = diff_report,
	.summary = diff_summary, .free = diff_free,
};

const struct cmd_entry cmd_diff_entry = {
	.name = "diff", .args = "TARGET [SCRIPT... [-- ARGS...]]",
	.summary = "what hot-fix scripts would change (dry run in place); no SCRIPT: the patches",
	.options = CMD_OPTIONS(&agentcmd_opt_no_agent), .min = 0, .max = -1,
	/* changes nothing (a dry run undoes itself): not audited */
	.flags = CMD_CONNECT | CMD_TARGETS | CMD_CHECK_ALIVE | CMD_DASHARGS | CMD_HANDLES |
		 CMD_AGENT,
	.agent = &diff_agent,
};
