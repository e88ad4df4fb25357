/* The output contract: a command's rows merged from its nodes and
 * rendered once (a table, TSV, or JSON); with --json every command prints
 * exactly one JSON document, which this file writes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "json.h"

/* a per-target command's rows: "ok" and "failed" counts in the summary */
static void output_count_ok(struct cmd_ctx *c, const struct fmt_table *t)
{
	int k = fmt_col_index(t, "ok");
	size_t ok = 0;
	if (k < 0)
		return;
	for (size_t r = 0; r < t->nrows; r++) {
		const char *v = t->cells[r * (size_t)t->ncols + (size_t)k];
		ok += v && strcmp(v, "true") == 0;
	}
	fmt_printf(&c->json_summary, ",\"ok\":%zu,\"failed\":%zu", ok, t->nrows - ok);
}

/* The one JSON document of every command: {MEMBERS, "summary": {...,
 * "status": exit status, "errors": [the error lines]}}.  Commands add
 * their members (c->json: "rows", "targets", "output") and summary
 * members (c->json_summary); a command that did not get to run shows
 * an empty list.  The members go to stdout as they are made (they may be
 * most of what skyctl holds), then the summary. */
void output_json_open(struct cmd_ctx *c)
{
	c->json.sink = stdout;
	fmt_puts(&c->json, "{");
}

/* the members made so far dropped (out of memory: no half a document),
 * unless some are out already: the document is then cut short */
static void output_json_drop(struct cmd_ctx *c)
{
	if (c->json.sent)
		return;
	fmt_buf_free(&c->json);
	output_json_open(c);
}

void output_json(struct cmd_ctx *c, int status)
{
	struct fmt_buf b = { 0 };
	fmt_puts(&b, ",\n\"summary\":{");
	if (c->json_summary.len) {
		fmt_putn(&b, c->json_summary.p, c->json_summary.len);
		fmt_puts(&b, ",");
	}
	fmt_printf(&b, "\"status\":%d,\"errors\":[", status);
	for (size_t i = 0, n = 0; i < c->sess.n; i++) {
		const char *s = c->nodes[i].errs.p;
		while (s && *s) {
			const char *nl = strchr(s, '\n');
			size_t len = nl ? (size_t)(nl - s) : strlen(s);
			fmt_puts(&b, n++ ? "," : "");
			json_string(&b, s, len);
			s += len + (nl != NULL);
		}
	}
	fmt_puts(&b, "]}}\n");
	if (b.oom || c->json.oom) {
		fputs("skyctl: out of memory\n", stderr);
	} else {
		fwrite(c->json.p, 1, c->json.len, stdout);
		if (c->json.sent + c->json.len == 1)	/* "{" and no member */
			fputs(c->cmd->flags & CMD_AGENT ? "\"targets\":[]" :
			      c->cmd->ncols ? "\"rows\":[]" : "\"output\":[]", stdout);
		fwrite(b.p, 1, b.len, stdout);
	}
	fmt_buf_free(&b);
}

/* exec, with --json and no columns of its own its text output caught as
 * the "output" lines (help, history, complete, repl fed by a pipe) */
int output_exec(struct cmd_ctx *c, int (*exec)(struct cmd_ctx *))
{
	char *text = NULL;
	size_t len = 0;
	FILE *real = stdout, *mem;
	if (!c->o.json || c->cmd->ncols || (c->cmd->flags & CMD_AGENT) ||
	    !(mem = open_memstream(&text, &len)))
		return exec(c);
	stdout = mem;
	int status = exec(c);
	fclose(mem);
	stdout = real;
	fmt_puts(&c->json, "\"output\":[");
	size_t n = 0;
	for (const char *s = text; s && s < text + len; n++) {
		const char *nl = memchr(s, '\n', (size_t)(text + len - s));
		size_t l = nl ? (size_t)(nl - s) : (size_t)(text + len - s);
		fmt_puts(&c->json, n ? ",\n" : "\n");
		json_string(&c->json, s, l);
		s += l + (nl != NULL);
	}
	fmt_puts(&c->json, n ? "\n]" : "]");
	fmt_printf(&c->json_summary, "\"lines\":%zu", n);
	free(text);
	return status;
}

/* merge the nodes' rows, render, write; returns the status of writing */
int output_rows(struct cmd_ctx *c, size_t ntargets)
{
	struct fmt_table all;
	struct fmt_buf b = { 0 };
	struct err e = { 0 };
	int ncols = c->cmd->ncols + 1, rc = 0;
	fmt_table_init(&all, c->cols, ncols);
	for (size_t i = 0; i < c->sess.n; i++)
		fmt_append(&all, &c->nodes[i].out);
	for (int i = 0; i < ncols; i++) {
		const char *k = c->cols[i].key;
		if (strcmp(k, "ok") == 0 || strcmp(k, "error") == 0 || c->cols[i].type == FMT_RAW)
			all.hide_text |= 1u << i;
		if (strcmp(k, "address") == 0 && !c->cmd->node && ntargets == 1 && !c->sess.named)
			all.hide_text |= 1u << i;
	}
	if (!c->sess.named)
		all.hide_text |= all.hide_json |= 1u;
	all.bytes = (c->cmd->flags & CMD_BYTES) && c->mode == FMT_TSV;
	if (c->o.sort)
		fmt_sort(&all, c->o.sort, &e);
	if (c->mode == FMT_JSON)	/* straight into the document: it may be big */
		fmt_puts(&c->json, "\"rows\":");
	else
		b.sink = stdout;	/* written as it is rendered, not held whole */
	if (!all.oom)	/* a table with rows missing is not shown */
		fmt_render(&all, c->mode, c->color, c->mode == FMT_JSON ? &c->json : &b);
	if (b.oom || all.oom || c->json.oom) {
		fprintf(stderr, "skyctl: out of memory\n");
		if (c->mode == FMT_JSON)
			output_json_drop(c);
		rc = ERR_LOCAL;
	} else if (c->mode == FMT_JSON) {
		fmt_printf(&c->json_summary, "%s\"rows\":%zu,\"nodes\":%zu",
			   c->json_summary.len ? "," : "", all.nrows, c->sess.n);
		output_count_ok(c, &all);
	} else if (b.len) {
		fwrite(b.p, 1, b.len, stdout);
	}
	fmt_buf_free(&b);
	fmt_table_free(&all);
	return rc;
}

