/* What command files use (cmd.h, "for command files"): requests on a
 * node's connection, error lines, rows, and the usual shapes of console
 * commands (key-value lines, free text, `list` with a second command). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "sample.h"

const struct fmt_col cmd_output_cols[1] = { { "output", FMT_LINES } };
const struct fmt_col cmd_target_cols[4] = {
	{ "address", FMT_STR }, { "output", FMT_LINES }, { "ok", FMT_BOOL }, { "error", FMT_STR },
};

char *cmd_join(const struct cmd_ctx *c, int i, int end)
{
	size_t len = 1;
	for (int k = i; k < end; k++)
		len += strlen(c->argv[k]) + 1;
	char *s = malloc(len);
	if (!s)
		return NULL;
	s[0] = '\0';
	for (int k = i; k < end; k++) {
		if (k > i)
			strcat(s, " ");
		strcat(s, c->argv[k]);
	}
	return s;
}

void cmd_fail(struct cmd_node *nd, int code, const char *what, const char *msg)
{
	fmt_printf(&nd->errs, "skyctl: %s: %s: %s\n", nd->sn->name, what, msg);
	nd->status = err_worst(nd->status, code);
}

int cmd_request(struct cmd_ctx *c, struct cmd_node *nd, const char *line, struct proto_reply *r)
{
	struct err e = { 0 };
	(void)c;
	if (proto_request(nd->sn->conn, line, r, &e) != 0) {
		cmd_fail(nd, e.code, line, e.msg);
		return -1;
	}
	return 0;
}

int cmd_request_env(struct cmd_ctx *c, struct cmd_node *nd, const char *line,
		    struct proto_reply *r)
{
	struct err e = { 0 };
	if (cmd_request(c, nd, line, r) != 0)
		return -1;
	if (envagent_stand_in(nd->sn->addr, nd->sn->conn, c->o.timeout, line, r, &e) != 0)
		cmd_fail(nd, e.code, line, e.msg);
	return 0;
}

int cmd_check(struct cmd_node *nd, const char *line, const struct proto_reply *r)
{
	const char *why = proto_failure(line, r);
	if (!why)
		return 0;
	cmd_fail(nd, ERR_NODE, line, why);
	return -1;
}

void cmd_row(struct cmd_node *nd, const char *const *vals)
{
	const char *row[32] = { nd->sn->name };
	for (int i = 1; i < nd->out.ncols && i < 32; i++)
		row[i] = vals[i - 1];
	fmt_add_row(&nd->out, row);
}

int cmd_requestv(struct cmd_ctx *c, struct cmd_node *nd, char *const *lines, size_t n,
		 struct proto_reply *r)
{
	struct err e = { 0 };
	(void)c;
	if (proto_sendv(nd->sn->conn, lines, n, &e) != 0) {
		cmd_fail(nd, e.code, lines[0], e.msg);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (proto_read_reply(nd->sn->conn, &r[i], 0, &e) != 0) {
			cmd_fail(nd, e.code, lines[i], e.msg);
			while (i-- > 0)
				proto_reply_free(&r[i]);
			return -1;
		}
	return 0;
}

int cmd_services_from(struct cmd_node *nd, struct proto_reply *r)
{
	struct err e = { 0 };
	if (cmd_check(nd, "list", r) != 0)
		return -1;
	if (proto_reply_as_list(r, &e) != 0) {
		cmd_fail(nd, e.code, "list", e.msg);
		return -1;
	}
	target_services_free(nd->svc, nd->nsvc);	/* a fresh list replaces one fetched before */
	nd->svc = NULL;
	nd->nsvc = 0;
	if (target_parse_list(r->lines, r->nlines, 0, &nd->svc, &nd->nsvc, &e) != 0) {
		cmd_fail(nd, e.code, "list", e.msg);
		return -1;
	}
	return 0;
}

const char *cmd_service_cmd(const struct cmd_node *nd, const char *addr)
{
	unsigned long a;
	char *end;
	if (addr[0] != ':')
		return NULL;
	a = strtoul(addr + 1, &end, 16);
	const struct target_service *s = *end || a > UINT32_MAX ? NULL :
		target_service_find(nd->svc, nd->nsvc, (uint32_t)a);
	return s ? s->cmd : NULL;
}

/* word and the positional arguments as one console line (malloc'd) */
static char *run_line(const struct cmd_ctx *c, const char *word)
{
	char *args = cmd_join(c, 0, c->argc), *line = NULL;
	if (args && asprintf(&line, "%s%s%s", word ? word : "", word && *args ? " " : "", args) < 0)
		line = NULL;
	free(args);
	return line;
}

int cmd_kv(struct cmd_ctx *c, struct cmd_node *nd, const char *word)
{
	struct proto_reply r;
	char *line = run_line(c, word);
	size_t max = (size_t)c->cmd->ncols < 32 ? (size_t)c->cmd->ncols : 32;
	int rc = -1;
	if (!line)
		cmd_fail(nd, ERR_LOCAL, c->cmd->name, "out of memory");
	else if (cmd_request(c, nd, line, &r) == 0) {
		rc = cmd_check(nd, line, &r);
		for (size_t i = 0; rc == 0 && i < r.nlines; i++) {
			char *f[32] = { 0 };
			proto_split(r.lines[i], f, max);
			cmd_row(nd, (const char *const *)f);
		}
		proto_reply_free(&r);
	}
	free(line);
	return rc;
}

int cmd_output(struct cmd_ctx *c, struct cmd_node *nd, const char *word)
{
	struct proto_reply r;
	char *line = run_line(c, word);
	int rc = -1;
	if (!line)
		cmd_fail(nd, ERR_LOCAL, c->cmd->name, "out of memory");
	/* raw sends its line as it is: no agent stands in for the console */
	else if ((word ? cmd_request_env(c, nd, line, &r) : cmd_request(c, nd, line, &r)) == 0) {
		rc = cmd_check(nd, line, &r);
		char *text = proto_reply_take(&r);	/* its lines go before the row's copy */
		if (rc == 0) {
			const char *vals[1] = { text };
			cmd_row(nd, vals);
		}
		free(text);
	}
	free(line);
	return rc;
}

static int cmdlib_cmp_addr(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

uint32_t *cmd_target_handles(const struct cmd_node *nd)
{
	uint32_t *h = malloc((nd->ntargets + 1) * sizeof *h);
	if (!h)
		return NULL;
	for (size_t k = 0; k < nd->ntargets; k++)
		h[k] = nd->targets[k].addr;
	qsort(h, nd->ntargets, sizeof *h, cmdlib_cmp_addr);
	return h;
}

int cmd_handle_in(const uint32_t *handles, size_t n, uint32_t a)
{
	return bsearch(&a, handles, n, sizeof a, cmdlib_cmp_addr) != NULL;
}

int cmd_select_sample(struct cmd_ctx *c, size_t i, const struct sample *s, uint32_t **keep,
		      size_t *n)
{
	struct cmd_node *nd = &c->nodes[i];
	struct target_service *svc = malloc((s->n + 1) * sizeof *svc);
	*keep = NULL;
	*n = 0;
	if (!svc) {
		cmd_fail(nd, ERR_LOCAL, c->cmd->name, "out of memory");
		return ERR_LOCAL;
	}
	for (size_t k = 0; k < s->n; k++) {
		svc[k].addr = s->rows[k].addr;
		svc[k].cmd = (char *)sample_name(s, &s->rows[k]);
	}
	nd->svc = svc;
	nd->nsvc = s->n;
	int rc = cmd_resolve(c, nd, &c->targets);
	nd->svc = NULL;	/* the sample's, not to be freed as a list */
	nd->nsvc = 0;
	free(svc);
	if (rc != 0 || nd->status)
		return nd->status ? nd->status : ERR_NODE;
	if (!(*keep = cmd_target_handles(nd))) {
		cmd_fail(nd, ERR_LOCAL, c->cmd->name, "out of memory");
		return ERR_LOCAL;
	}
	*n = nd->ntargets;
	return 0;
}
