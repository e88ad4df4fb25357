/* skyctl profile TARGET: where live services spend their time, from
 * samples of the Lua stacks of every coroutine they run during a window
 * (lua/profile.lua, sent with the request through the agent and kept
 * nowhere).  Several targets merge into one profile, or one each with
 * --per-service.  Formats (src/profile*.c): a table of the top functions
 * (the default on a terminal), folded stacks (the default in a pipe, and
 * in -o FILE unless its name ends in .svg or .json), speedscope's JSON,
 * or an SVG flame graph.  The window ends inside each service; a service
 * that answers nothing (stuck in a loop) cannot be profiled this way, and
 * is pointed to `skyctl stuck`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentcmd.h"
#include "cmd.h"
#include "json.h"
#include "profile.h"

#define PROFILE_TOP 15		/* functions of the table, by self and by total */

static const struct args_opt profile_opt_seconds = {
	.lng = "seconds", .arg = "N", .help = "length of the window (default 5)",
	.want = "seconds (0.1 to 3600)", .min = 0.1, .max = 3600,
};
static const struct args_opt profile_opt_hz = {
	.lng = "hz", .arg = "N", .help = "samples per second of Lua running (default 100)",
	.want = "a rate (1 to 1000)", .min = 1, .max = 1000,
};
static const struct args_opt profile_opt_format = {
	.lng = "format", .arg = "FORMAT",
	.help = "table, folded, speedscope or svg (default: table on a terminal, else folded)",
};
static const struct args_opt profile_opt_output = {
	.lng = "output", .shrt = 'o', .arg = "FILE", .help = "write the profile to FILE",
};

static const char *const profile_formats[] = { "table", "folded", "speedscope", "svg", NULL };

/* one service's samples */
struct profile_svc {
	char name[160];		/* "[node/]:0000000a snlua hot 1" */
	struct profile p;
	int ok;
};

struct profile_run {
	struct profile_svc *svc;	/* every target, in batch order */
	size_t n;
	long long samples, coroutines, foreign;
	struct fmt_buf errs;	/* the failed targets' lines */
	int stuck;		/* a target answered nothing */
};

/* the format asked for, or chosen from -o's name or the output */
static const char *profile_format(const struct cmd_ctx *c)
{
	const char *f = cmd_opt(c, &profile_opt_format), *o = cmd_opt(c, &profile_opt_output);
	size_t len = o ? strlen(o) : 0;
	if (f)
		return f;
	if (o)
		return len > 4 && !strcmp(o + len - 4, ".svg") ? "svg" :
		       len > 5 && !strcmp(o + len - 5, ".json") ? "speedscope" : "folded";
	return c->mode == FMT_TABLE ? "table" : "folded";
}

static int profile_check(const struct cmd_ctx *c, struct err *e)
{
	const char *f = cmd_opt(c, &profile_opt_format);
	for (int i = 0; f && profile_formats[i]; i++)
		if (!strcmp(f, profile_formats[i]))
			return 0;
	return f ? err_set(e, ERR_USAGE, "--format: %s is not one of table, folded, speedscope, svg", f) : 0;
}

static double profile_seconds(const struct cmd_ctx *c)
{
	return cmd_opt(c, &profile_opt_seconds) ? cmd_num(c, &profile_opt_seconds) : 5;
}

static int profile_request_hook(struct agentrun *ar, struct fmt_buf *b)
{
	struct profile_run *r = ar->ud = calloc(1, sizeof *r);
	double hz = cmd_opt(ar->c, &profile_opt_hz) ? cmd_num(ar->c, &profile_opt_hz) : 100;
	if (!r || !(r->svc = calloc(ar->total + 1, sizeof *r->svc))) {
		fprintf(stderr, "skyctl: out of memory\n");
		return ERR_LOCAL;
	}
	if (profile_request(b, profile_seconds(ar->c), hz) != 0) {
		fprintf(stderr, "skyctl: lua/profile.lua is missing\n");
		return ERR_LOCAL;
	}
	return 0;
}

/* every target at once, waiting the window out on top of --timeout (the
 * hub answers with what it has at 3/4 of the batch's timeout: batch.c) */
static void profile_batch(struct agentrun *ar, struct batch_opts *bo)
{
	bo->timeout = (bo->timeout + profile_seconds(ar->c)) * 4 / 3;
	bo->par = ar->total < 256 ? (int)ar->total : 256;
	bo->keep_going = 1;
}

static int profile_describe(struct agentrun *ar, size_t node, size_t i,
			    const struct batch_result *res, char *what, size_t len,
			    struct fmt_buf *more)
{
	struct profile_run *r = ar->ud;
	struct profile_svc *s = &r->svc[r->n++];
	const char *cmd = ar->targets[node][i].cmd;
	(void)more;
	snprintf(s->name, sizeof s->name, "%s%s:%08x%s%s", ar->nnodes > 1 ? ar->nodes[node].name : "",
		 ar->nnodes > 1 ? "/" : "", (unsigned)ar->nodes[node].addrs[i], cmd ? " " : "",
		 cmd ? cmd : "");
	if (res->state != BATCH_OK) {
		int silent = res->state == BATCH_UNKNOWN || res->code == ERR_TIMEOUT;
		snprintf(what, len, "%s", res->err ? res->err : "");
		fmt_printf(&r->errs, "skyctl: profile: %s: %s%s\n", s->name, what,
			   silent ? " (a service stuck in a loop answers nothing and cannot be "
				    "profiled: try `skyctl stuck`)" : "");
		r->stuck |= silent;
		return res->state;
	}
	profile_add_reply(&s->p, NULL, res->val);
	s->ok = 1;
	r->samples += s->p.samples;
	r->coroutines += wire_geti(res->val, "coroutines", 0);
	r->foreign += wire_geti(res->val, "foreign", 0);
	snprintf(what, len, "%lld samples", s->p.samples);
	return BATCH_OK;
}

/* the table of one profile, under a heading when there are several */
static void profile_text(struct cmd_ctx *c, struct profile *p, const char *heading,
			 struct fmt_buf *b)
{
	struct fmt_table t;
	if (heading)
		fmt_printf(b, "%s%s  (%lld samples)\n", b->len ? "\n" : "", heading, p->samples);
	profile_table(p, PROFILE_TOP, &t);
	fmt_render(&t, c->mode, c->color, b);
	if (t.oom)
		b->oom = 1;
	fmt_table_free(&t);
}

/* --json: p's functions as "rows" members and its stacks as "stacks"
 * members (into rows and stacks), each naming its profile */
static void profile_json(struct profile *p, const char *name, struct fmt_buf *rows,
			 struct fmt_buf *stacks)
{
	size_t n;
	struct profile_func *fn = profile_funcs(p, &n);
	for (size_t i = 0; fn && i < n; i++) {
		char fname[256], where[256];
		profile_frame_split(fn[i].frame, fn[i].len, fname, sizeof fname, where, sizeof where);
		fmt_puts(rows, rows->len ? ",\n{\"profile\":" : "\n{\"profile\":");
		json_string(rows, name, strlen(name));
		fmt_puts(rows, ",\"function\":");
		json_string(rows, fname, strlen(fname));
		fmt_puts(rows, ",\"where\":");
		json_string(rows, where, strlen(where));
		fmt_printf(rows, ",\"self\":%lld,\"total\":%lld}", fn[i].self, fn[i].total);
	}
	for (size_t i = 0; i < p->n; i++) {
		fmt_puts(stacks, stacks->len ? ",\n{\"profile\":" : "\n{\"profile\":");
		json_string(stacks, name, strlen(name));
		fmt_puts(stacks, ",\"stack\":");
		json_string(stacks, p->v[i].frames, strlen(p->v[i].frames));
		fmt_printf(stacks, ",\"count\":%lld}", p->v[i].count);
	}
	if (!fn)
		rows->oom = 1;
	free(fn);
}

/* the profile in the format asked for into b */
static void profile_write(struct cmd_ctx *c, struct profile_run *r, struct fmt_buf *b)
{
	const char *fmt = profile_format(c);
	int per = cmd_opt(c, &args_opt_per_service) != NULL;
	struct profile all = { 0 };
	struct profile **ps = calloc(r->n + 1, sizeof *ps);
	const char **names = calloc(r->n + 1, sizeof *names);
	size_t np = 0;
	char title[200];
	for (size_t i = 0; i < r->n; i++) {
		struct profile_svc *s = &r->svc[i];
		for (size_t k = 0; s->ok && k < s->p.n; k++)
			profile_add(&all, per ? s->name : NULL, s->p.v[k].frames,
				    strlen(s->p.v[k].frames), s->p.v[k].count);
		if (s->ok && ps && names) {
			ps[np] = &s->p;
			names[np++] = s->name;
		}
	}
	snprintf(title, sizeof title, "skyctl profile %s (%lld samples, %g s)", c->target_spec,
		 all.samples, profile_seconds(c));
	if (!ps || !names) {
		b->oom = 1;
	} else if (c->o.json) {
		struct fmt_buf rows = { 0 }, stacks = { 0 };
		for (size_t i = 0; i < (per ? np : 1); i++)
			profile_json(per ? ps[i] : &all, per ? names[i] : c->target_spec, &rows, &stacks);
		fmt_printf(b, "\"rows\":[%s\n],\"stacks\":[%s\n]", rows.p ? rows.p : "",
			   stacks.p ? stacks.p : "");
		b->oom |= rows.oom | stacks.oom;
		fmt_buf_free(&rows);
		fmt_buf_free(&stacks);
	} else if (!strcmp(fmt, "table")) {
		for (size_t i = 0; i < (per ? np : 1); i++)
			profile_text(c, per ? ps[i] : &all, per ? names[i] : NULL, b);
	} else if (!strcmp(fmt, "folded")) {
		profile_folded(&all, b);
	} else if (!strcmp(fmt, "speedscope")) {
		struct profile *one = &all;
		const char *name = c->target_spec;
		profile_speedscope(per ? ps : &one, per ? names : &name, per ? np : 1, title, b);
	} else {
		profile_svg(&all, title, b);
	}
	if (all.oom)
		b->oom = 1;
	profile_free(&all);
	free(ps);
	free(names);
}

static int profile_report(struct agentrun *ar, struct fmt_buf *out)
{
	struct profile_run *r = ar->ud;
	struct cmd_ctx *c = ar->c;
	const char *path = cmd_opt(c, &profile_opt_output);
	struct fmt_buf b = { 0 };
	int rc = 0;
	if (r->errs.len)
		fwrite(r->errs.p, 1, r->errs.len, stderr);
	profile_write(c, r, &b);
	if (b.oom) {
		fprintf(stderr, "skyctl: out of memory\n");
		rc = ERR_LOCAL;
	} else if (path && !c->o.json) {
		FILE *f = fopen(path, "wb");
		if (!f || fwrite(b.p, 1, b.len, f) != b.len || fclose(f) != 0) {
			fprintf(stderr, "skyctl: profile: cannot write %s\n", path);
			rc = ERR_LOCAL;
		}
	} else if (b.len) {
		fmt_putn(out, b.p, b.len);
	}
	if (!r->samples && !rc)
		fprintf(stderr, "skyctl: profile: no samples: no Lua code ran in %s during the window\n",
			r->n == 1 ? "the service" : "the services");
	fmt_buf_free(&b);
	return rc;
}

static void profile_summary(struct agentrun *ar, struct fmt_buf *text, struct fmt_buf *json)
{
	struct profile_run *r = ar->ud;
	size_t ok = ar->count[BATCH_OK];
	const char *path = cmd_opt(ar->c, &profile_opt_output);
	fmt_printf(text, "%lld samples from %zu service%s (%lld coroutines hooked", r->samples, ok,
		   ok == 1 ? "" : "s", r->coroutines);
	if (r->foreign)
		fmt_printf(text, ", %lld with a hook of their own left out", r->foreign);
	fmt_printf(text, "), %zu failed", ar->count[BATCH_FAILED] + ar->count[BATCH_UNKNOWN]);
	if (path && !ar->c->o.json)
		fmt_printf(text, "; %s written to %s", profile_format(ar->c), path);
	fmt_printf(json, ",\"samples\":%lld,\"coroutines\":%lld", r->samples, r->coroutines);
}

static void profile_free_run(struct agentrun *ar)
{
	struct profile_run *r = ar->ud;
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		profile_free(&r->svc[i].p);
	free(r->svc);
	fmt_buf_free(&r->errs);
	free(r);
}

static const struct cmd_agent profile_agent = {
	.states = agentcmd_state, .order = agentcmd_order, .keep_going = 1,
	.request = profile_request_hook, .batch = profile_batch, .describe = profile_describe,
	.report = profile_report, .json_members = 1, .summary = profile_summary,
	.summary_stderr = 1, .free = profile_free_run,
};

const struct cmd_entry cmd_profile_entry = {
	.name = "profile", .args = "TARGET",
	.summary = "sample the Lua stacks of services: top functions, folded, speedscope, svg",
	.options = CMD_OPTIONS(&profile_opt_seconds, &profile_opt_hz, &profile_opt_format,
			       &profile_opt_output, &args_opt_per_service, &agentcmd_opt_no_agent),
	.check = profile_check, .min = 0, .max = 0,
	/* its hooks leave with the window: not audited */
	.flags = CMD_CONNECT | CMD_TARGETS | CMD_CHECK_ALIVE | CMD_HANDLES | CMD_AGENT,
	.agent = &profile_agent,
};
