/* skyctl call TARGET LUA-ARGS...: skynet.call the service's lua protocol;
 * args are a Lua expression list; on every target (pipelined), one row
 * per target with the reply as it is, and with --json the returned values
 * as JSON values.  The console replies with the packed returns, one
 * "key\tvalue" line each, sorted by key ("1\t15", "n\t1"), every value
 * through tostring: so a string that reads as a number, a boolean or nil
 * comes out as that, and a table as the console's text of it (a string).
 * A call whose service raised an error fails with skynet's bare "call
 * failed": the error and its traceback went to the node's log, which the
 * console cannot read.  skyctl does not run the call again to catch the
 * message (it may have changed state before it raised: a second run
 * would do that twice); it says where that log is, from the node's
 * config (`logger`, `logservice`). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "json.h"

static const struct fmt_col call_cols[] = {
	{ "address", FMT_STR }, { "output", FMT_LINES }, { "ok", FMT_BOOL }, { "error", FMT_STR },
	{ "values", FMT_RAW },
};

/* one value as tostring printed it, as JSON */
static void call_value(struct fmt_buf *b, const char *s, size_t len)
{
	char *end, tmp[64];
	if (len < sizeof tmp) {
		memcpy(tmp, s, len);
		tmp[len] = '\0';
		if (strcmp(tmp, "nil") == 0 || strcmp(tmp, "true") == 0 || strcmp(tmp, "false") == 0) {
			fmt_puts(b, strcmp(tmp, "nil") == 0 ? "null" : tmp);
			return;
		}
		double d = strtod(tmp, &end);
		/* a Lua number: what JSON can carry (no hex, no inf or nan) */
		if (len && !*end && strspn(tmp, "0123456789+-.eE") == len) {
			fmt_printf(b, "%.17g", d);
			return;
		}
	}
	json_string(b, s, len);
}

/* the key of a line "key\tvalue" of the reply (1, 2, ... or "n": 0), or
 * -1 for a line that goes on with the value before it */
static long call_key(const char *line)
{
	size_t d = strspn(line, "0123456789");
	if (line[0] == 'n' && line[1] == '\t')
		return 0;
	return d && d < 9 && line[d] == '\t' ? strtol(line, NULL, 10) : -1;
}

/* [v1, v2, ...] (n of them) from the reply's lines */
static char *call_json(const struct proto_reply *r)
{
	enum { CALL_MAX_VALUES = 4096 };
	struct fmt_buf b = { 0 };
	const char *text = r->text ? r->text : "", *n = strstr(text, "\nn\t");
	long count = strncmp(text, "n\t", 2) == 0 ? strtol(text + 2, NULL, 10) :
		n ? strtol(n + 3, NULL, 10) : 0;
	/* one pass: value k runs from its key line to the next key line */
	const char **from = calloc(CALL_MAX_VALUES + 1, sizeof *from);
	const char **to = calloc(CALL_MAX_VALUES + 1, sizeof *to);
	long open = -1;
	if (!from || !to) {
		free(from);
		free(to);
		return NULL;
	}
	for (const char *p = text; p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		long key = call_key(p);
		if (key < 0)
			continue;
		if (open > 0)
			to[open] = p - 1;	/* the newline before this key */
		open = key >= 1 && key <= CALL_MAX_VALUES && !from[key] ? key : -1;
		if (open > 0)
			from[open] = strchr(p, '\t') + 1;
	}
	fmt_puts(&b, "[");
	for (long k = 1; k <= count && k <= CALL_MAX_VALUES; k++) {
		fmt_puts(&b, k > 1 ? "," : "");
		if (from[k])
			call_value(&b, from[k], to[k] ? (size_t)(to[k] - from[k]) : strlen(from[k]));
		else
			fmt_puts(&b, "null");
	}
	fmt_puts(&b, "]");
	free(from);
	free(to);
	if (b.oom) {
		fmt_buf_free(&b);
		return NULL;
	}
	return b.p;
}

/* the value of the node's config key, or NULL if unset; malloc'd.
 * *unknown says why the console could not tell, if it could not. */
static char *call_getenv(struct cmd_ctx *c, struct cmd_node *nd, const char *line,
			 const char **unknown)
{
	struct proto_reply r;
	char *v = NULL;
	if (cmd_request_env(c, nd, line, &r) != 0) {
		*unknown = "it did not answer getenv";
		return NULL;
	}
	const char *tab = r.ok && r.nlines ? strchr(r.lines[0], '\t') : NULL;
	if (!tab)
		*unknown = "no getenv before skynet 1.8";
	if (tab && strcmp(tab + 1, "nil") != 0)
		v = strdup(tab + 1);
	proto_reply_free(&r);
	return v;
}

/* after a bare "call failed": where the service's error went */
static void call_after(struct cmd_ctx *c, struct cmd_node *nd)
{
	size_t failed = 0;
	for (size_t i = 0; nd->results && i < nd->ntargets; i++) {
		const char *res = nd->results[i];	/* CMD_AUDIT keeps every result */
		size_t n = res ? strlen(res) : 0;
		failed += n >= 11 && strcmp(res + n - 11, "call failed") == 0;
	}
	if (!failed)
		return;
	const char *unknown = NULL;
	char *logger = call_getenv(c, nd, "getenv logger", &unknown);
	char *service = call_getenv(c, nd, "getenv logservice", &unknown);
	char where[512];
	if (unknown)
		snprintf(where, sizeof where, "its console cannot say where (%s)", unknown);
	else if (service && strcmp(service, "logger") != 0)
		snprintf(where, sizeof where, "wherever its log service %s writes", service);
	else if (logger)
		snprintf(where, sizeof where, "%s (its config's logger)", logger);
	else
		snprintf(where, sizeof where, "the node process's standard output "
			 "(no logger in its config)");
	fmt_printf(&nd->errs, "skyctl: %s: call: skynet reports only \"call failed\" (the service "
		   "raised an error, or is gone); the error and its traceback are in the node's "
		   "log: %s\n", nd->sn->name, where);
	free(logger);
	free(service);
}

const struct cmd_entry cmd_call_entry = {
	.name = "call", .args = "TARGET LUA-ARGS...",
	.summary = "skynet.call the service's lua protocol; args are a Lua expression list",
	/* changes whatever the called function changes: audited */
	.min = 1, .max = -1, .flags = CMD_CONNECT | CMD_TARGETS | CMD_AUDIT,
	.cols = call_cols, .ncols = 5, .json = call_json, .after = call_after,
};
