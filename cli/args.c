/* The one option and argument parser: global options before or after the
 * command name, the command's own options (cmd_entry.opts) after it, "--"
 * ends options; argument counts are checked against the entry.  Commands
 * never parse their own command line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

enum args_id {
	OPT_HOST = 1, OPT_NODE, OPT_ALL, OPT_CONFIG, OPT_TIMEOUT, OPT_JSON, OPT_HELP, OPT_VERSION,
	OPT_MAX_REPLY, OPT_NO_AUDIT,
};

static const struct args_opt args_opts[] = {
	{ .lng = "host", .shrt = 'H', .arg = "HOST:PORT", .help = "the node's console, or ssh://... (default $SKYCTL_HOST, else 127.0.0.1:8000)", .id = OPT_HOST },
	{ .lng = "node", .shrt = 'n', .arg = "NAME", .help = "a node of the node file", .id = OPT_NODE },
	{ .lng = "all", .shrt = 'a', .help = "every node of the node file, in parallel", .id = OPT_ALL },
	{ .lng = "config", .arg = "FILE", .help = "the node file (default $XDG_CONFIG_HOME/skyctl/config.lua)", .id = OPT_CONFIG },
	{ .lng = "timeout", .arg = "SECONDS", .help = "give up any wait after this long (default 5)", .id = OPT_TIMEOUT, .want = "seconds (> 0)", .min = 1e-9, .max = 86400 },
	{ .lng = "max-reply", .arg = "SIZE", .help = "refuse a reply or script bigger than SIZE (default 64M)", .id = OPT_MAX_REPLY },
	{ .lng = "no-audit", .help = "run even if the audit log cannot be written", .id = OPT_NO_AUDIT },
	{ .lng = "json", .help = "one JSON document with typed fields", .id = OPT_JSON },
	{ .lng = "help", .shrt = 'h', .help = "show this help", .id = OPT_HELP },
	{ .lng = "version", .help = "show skyctl's version", .id = OPT_VERSION },
};
#define ARGS_NOPTS (sizeof args_opts / sizeof args_opts[0])

const struct args_opt args_opt_sort = { .lng = "sort", .arg = "FIELD", .help = "sort rows by FIELD (numbers: biggest first)" };
const struct args_opt args_opt_per_service = { .lng = "per-service", .help = "each service on its own (metrics: not only the top K; profile: not merged)" };

const struct args_opt *args_nth(const struct cmd_entry *cmd, size_t i)
{
	if (i < ARGS_NOPTS)
		return &args_opts[i];
	i -= ARGS_NOPTS;
	for (size_t k = 0; cmd && cmd->options && cmd->options[k]; k++)
		if (k == i)
			return cmd->options[k];
	return NULL;
}

/* the command's own option wins over a global one of the same name
 * (rollback --all: every patch; -a stays every node) */
const struct args_opt *args_find(const char *lng, size_t len, char shrt,
				 const struct cmd_entry *cmd)
{
	const struct args_opt *o, *global = NULL;
	for (size_t i = 0; (o = args_nth(cmd, i)); i++) {
		int hit = lng ? strlen(o->lng) == len && strncmp(o->lng, lng, len) == 0 :
			o->shrt && o->shrt == shrt;
		if (hit && !o->id)
			return o;
		if (hit && !global)
			global = o;
	}
	return global;
}

const char *cmd_opt(const struct cmd_ctx *c, const struct args_opt *o)
{
	for (int i = 0; i < c->noptv; i++)
		if (c->optv[i].opt == o)
			return c->optv[i].val;
	return NULL;
}

double cmd_num(const struct cmd_ctx *c, const struct args_opt *o)
{
	const char *v = cmd_opt(c, o);
	return v ? strtod(v, NULL) : 0;
}

/* val checked against a number option's range; -1 with e set */
static int args_number(const struct args_opt *o, const char *val, struct err *e)
{
	char *end;
	double d = strtod(val, &end);
	if (end == val || *end || !(d >= o->min && d <= o->max) || (o->integer && d != (long)d)) {
		if (o->shrt)
			return err_set(e, ERR_USAGE, "-%c wants %s, not '%s'", o->shrt, o->want, val);
		return err_set(e, ERR_USAGE, "--%s wants %s, not '%s'", o->lng, o->want, val);
	}
	return 0;
}

static int args_set(struct cmd_ctx *c, const struct args_opt *o, const char *val, struct err *e)
{
	if (o->want && args_number(o, val, e) != 0)
		return -1;
	if (!o->id) {
		int i = 0;
		while (i < c->noptv && c->optv[i].opt != o)
			i++;
		if (i == CMD_MAXOPTS)
			return err_set(e, ERR_USAGE, "too many options");
		c->optv[i] = (struct cmd_optval){ o, val ? val : "" };
		c->noptv += i == c->noptv;
		if (o == &args_opt_sort)
			c->o.sort = val;
		return 0;
	}
	switch (o->id) {
	case OPT_HOST:
		if (!val[0])	/* else it would silently mean the default */
			return err_set(e, ERR_USAGE, "-H wants HOST:PORT, not an empty string");
		c->o.sess.host = val;
		break;
	case OPT_MAX_REPLY:
		c->o.max_reply = fmt_parse_size(val);
		if (c->o.max_reply < 1024 || c->o.max_reply > ((long long)1 << 40))
			return err_set(e, ERR_USAGE, "--max-reply wants a size from 1K to 1T (e.g. 64M), not '%s'", val);
		net_set_max((size_t)c->o.max_reply);
		break;
	case OPT_NO_AUDIT: c->o.no_audit = 1; break;
	case OPT_NODE: c->o.sess.node = val; break;
	case OPT_ALL: c->o.sess.all = 1; break;
	case OPT_CONFIG: c->o.config = val; break;
	case OPT_TIMEOUT: c->o.timeout = strtod(val, NULL); break;
	case OPT_JSON: c->o.json = 1; break;
	case OPT_HELP: c->o.help = 1; break;
	case OPT_VERSION: c->o.version = 1; break;
	}
	return 0;
}

/* the option name cmd accepts closest to the mistyped "--name" (at most 2
 * edits, and fewer than its length), or NULL */
static const char *args_closest(const char *name, size_t len, const struct cmd_entry *cmd)
{
	char word[33];
	const char *best = NULL;
	size_t bestd = 3;
	if (len >= sizeof word)
		return NULL;
	memcpy(word, name, len);
	word[len] = '\0';
	const struct args_opt *o;
	for (size_t i = 0; (o = args_nth(cmd, i)); i++) {
		size_t d = cmd_edit_distance(word, o->lng);
		if (d < bestd && d < len) {
			best = o->lng;
			bestd = d;
		}
	}
	return best;
}

/* the option at argv[*i]; advances *i past its argument */
static int args_option(int argc, char **argv, int *i, struct cmd_ctx *c, struct err *e)
{
	const char *a = argv[*i], *val = NULL;
	const struct args_opt *o;
	char where[64] = "";	/* "list: " after a command */
	if (c->cmd)
		snprintf(where, sizeof where, "%s: ", c->cmd->name);
	if (a[1] == '-') {
		const char *eq = strchr(a + 2, '=');
		size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
		o = args_find(a + 2, len, 0, c->cmd);
		const char *hint = o ? NULL : args_closest(a + 2, len, c->cmd);
		if (hint)
			return err_set(e, ERR_USAGE, "%sunknown option '%.*s'; did you mean '--%s'?",
				       where, (int)len + 2, a, hint);
		if (!o)
			return err_set(e, ERR_USAGE, "%sunknown option '%.*s'", where,
				       (int)len + 2, a);
		if (eq && !o->arg)
			return err_set(e, ERR_USAGE, "%soption '--%s' takes no value", where,
				       o->lng);
		val = eq ? eq + 1 : NULL;
	} else {
		o = args_find(NULL, 0, a[1], c->cmd);
		if (!o)
			return err_set(e, ERR_USAGE, "%sunknown option '-%c'", where, a[1]);
		if (a[2] && !o->arg)
			return err_set(e, ERR_USAGE, "%soption '-%c' takes no value", where, a[1]);
		val = a[2] ? a + 2 : NULL;
	}
	if (o->arg && !val) {
		if (*i + 1 >= argc)
			return err_set(e, ERR_USAGE, "%soption '--%s' needs %s", where, o->lng,
				       o->arg);
		val = argv[++*i];
	}
	return args_set(c, o, val, e);
}

int args_parse(int argc, char **argv, struct cmd_ctx *c, struct err *e)
{
	char msg[256];
	int npos = 0;
	c->o.timeout = 5;
	c->dashdash = -1;
	c->argv = calloc((size_t)argc + 1, sizeof *c->argv);
	if (!c->argv)
		return err_set(e, ERR_LOCAL, "out of memory");
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (c->dashdash < 0 && a[0] == '-' && a[1] && strcmp(a, "--") != 0) {
			if (args_option(argc, argv, &i, c, e) != 0)
				return -1;
		} else if (c->dashdash < 0 && strcmp(a, "--") == 0 && c->cmd) {
			c->dashdash = npos;
		} else if (!c->cmd) {
			if (strcmp(a, "--") == 0)
				return err_set(e, ERR_USAGE, "'--' before a command");
			if (!(c->cmd = cmd_find(a, msg, sizeof msg)))
				return err_set(e, ERR_USAGE, "%s", msg);
		} else {
			c->argv[npos++] = argv[i];
		}
	}
	c->argc = npos;
	if (c->o.help || c->o.version || !c->cmd)
		return 0;
	const struct cmd_entry *cmd = c->cmd;
	if (!(cmd->flags & CMD_DASHARGS))
		c->dashdash = -1;	/* "--" only ended the options */
	int second = (cmd->flags & CMD_TARGET_SECOND) != 0;
	if (second && c->argc >= 2) {	/* the target list first, as for the others */
		char *t = c->argv[1];
		c->argv[1] = c->argv[0];
		c->argv[0] = t;
	}
	if ((cmd->flags & CMD_EVERY) && (c->argc < 1 + second || c->dashdash == 0)) {
		c->target_spec = "@*";
		c->every = 1;
	} else if ((cmd->flags & CMD_TARGET_OPT) && (c->argc < 1 || c->dashdash == 0)) {
		c->every = 1;
	} else if (cmd->flags & CMD_TARGETS) {
		if (c->argc < 1 || c->dashdash == 0)
			return err_set(e, ERR_USAGE, "%s: missing the target (e.g. :a, .name, @agent)",
				       cmd->name);
		c->target_spec = c->argv[0];
		c->argv++;
		c->argc--;
		if (c->dashdash > 0)
			c->dashdash--;
	}
	int before = c->dashdash >= 0 ? c->dashdash : c->argc;
	if (before < cmd->min)
		return err_set(e, ERR_USAGE, "%s: missing arguments", cmd->name);
	if (cmd->max >= 0 && c->argc > cmd->max)
		return err_set(e, ERR_USAGE, "%s: too many arguments", cmd->name);
	if (c->o.sess.all && (c->o.sess.node || c->o.sess.host))
		return err_set(e, ERR_USAGE, "-a cannot be combined with -n or -H");
	if (c->o.sess.node && c->o.sess.host)
		return err_set(e, ERR_USAGE, "-n and -H cannot be combined");
	return cmd->check ? cmd->check(c, e) : 0;
}

void args_usage_opts(const struct cmd_entry *cmd, struct fmt_buf *b)
{
	const struct args_opt *o;
	for (size_t i = cmd ? ARGS_NOPTS : 0; (o = args_nth(cmd, i)) && (cmd || i < ARGS_NOPTS); i++) {
		char left[64];
		if (o->shrt)
			snprintf(left, sizeof left, "-%c, --%s%s%s", o->shrt, o->lng,
				 o->arg ? " " : "", o->arg ? o->arg : "");
		else
			snprintf(left, sizeof left, "    --%s%s%s", o->lng, o->arg ? " " : "",
				 o->arg ? o->arg : "");
		fmt_printf(b, "  %-26s %s\n", left, o->help);
	}
}
