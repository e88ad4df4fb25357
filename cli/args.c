/* The one option and argument parser: global options before or after the
 * command name, the command's own options (cmd_entry.opts) after it, "--"
 * ends options; argument counts are checked against the entry.  Commands
 * never parse their own command line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

enum args_id {
	OPT_HOST, OPT_NODE, OPT_ALL, OPT_CONFIG, OPT_TIMEOUT, OPT_JSON, OPT_HELP, OPT_VERSION,
	OPT_SORT, OPT_KEEP_GOING, OPT_CANARY, OPT_NO_AGENT, OPT_DRY_RUN,
	OPT_DELAY, OPT_ONCE, OPT_ITERATIONS, OPT_SIGNAL, OPT_GREP, OPT_SESSION, OPT_PATCH,
	OPT_ALL_PATCHES, OPT_FORCE, OPT_EXIT_CODE,
};

const struct args_opt args_opts[] = {
	{ "host", 'H', "HOST:PORT", OPT_HOST, 0, "the node's console, or ssh://... (default $SKYCTL_HOST, else 127.0.0.1:8000)" },
	{ "node", 'n', "NAME", OPT_NODE, 0, "a node of the node file" },
	{ "all", 'a', NULL, OPT_ALL, 0, "every node of the node file, in parallel" },
	{ "config", 0, "FILE", OPT_CONFIG, 0, "the node file (default $XDG_CONFIG_HOME/skyctl/config.lua)" },
	{ "timeout", 0, "SECONDS", OPT_TIMEOUT, 0, "give up any wait after this long (default 5)" },
	{ "json", 0, NULL, OPT_JSON, 0, "JSON output with typed fields" },
	{ "help", 'h', NULL, OPT_HELP, 0, "show this help" },
	{ "version", 0, NULL, OPT_VERSION, 0, "show skyctl's version" },
	{ "sort", 0, "FIELD", OPT_SORT, OPTB_SORT, "sort rows by FIELD (numbers: biggest first)" },
	{ "keep-going", 0, NULL, OPT_KEEP_GOING, OPTB_INJECT, "go on after a failing target" },
	{ "canary", 0, "N", OPT_CANARY, OPTB_INJECT, "first run N targets; go on only if all succeed" },
	{ "no-agent", 0, NULL, OPT_NO_AGENT, OPTB_AGENT, "leave nothing registered in the services (slower)" },
	{ "dry-run", 0, NULL, OPT_DRY_RUN, OPTB_DRY, "run the scripts, then undo every change (see diff)" },
	{ "patch", 0, "ID", OPT_PATCH, OPTB_ROLLBACK, "undo patch ID and every patch applied after it" },
	{ "all", 0, NULL, OPT_ALL_PATCHES, OPTB_ROLLBACK, "undo every patch in place (every node: -a)" },
	{ "force", 0, NULL, OPT_FORCE, OPTB_ROLLBACK, "also restore items changed since the patch" },
	{ "exit-code", 0, NULL, OPT_EXIT_CODE, OPTB_PATCHES, "exit 1 if a service drifts (for CI checks)" },
	{ "delay", 'd', "SECONDS", OPT_DELAY, OPTB_TOP, "time between refreshes (default 2)" },
	{ "once", 0, NULL, OPT_ONCE, OPTB_TOP, "print one table (two samples SECONDS apart) and exit" },
	{ "iterations", 0, "N", OPT_ITERATIONS, OPTB_TOP, "print N tables, one per refresh, and exit" },
	{ "signal", 0, NULL, OPT_SIGNAL, OPTB_STUCK, "interrupt the stuck services, check they answer again" },
	{ "grep", 0, "PATTERN", OPT_GREP, OPTB_HISTORY, "only sessions and lines matching PATTERN (extended regex)" },
	{ "session", 0, "ID", OPT_SESSION, OPTB_HISTORY, "show session ID (as the ID argument does)" },
};
const size_t args_nopts = sizeof args_opts / sizeof args_opts[0];

int args_allowed(const struct args_opt *o, const struct cmd_entry *cmd)
{
	return o->bit == 0 || (cmd && (cmd->opts & o->bit));
}

/* the command's own option wins over a global one of the same name
 * (rollback --all: every patch; -a stays every node) */
const struct args_opt *args_find(const char *lng, size_t len, char shrt,
				 const struct cmd_entry *cmd)
{
	const struct args_opt *global = NULL;
	for (size_t i = 0; i < args_nopts; i++) {
		const struct args_opt *o = &args_opts[i];
		int hit = lng ? strlen(o->lng) == len && strncmp(o->lng, lng, len) == 0 :
			o->shrt && o->shrt == shrt;
		if (hit && o->bit && args_allowed(o, cmd))
			return o;
		if (hit && !o->bit && !global)
			global = o;
	}
	return global;
}

static int args_set(struct cmd_ctx *c, const struct args_opt *o, const char *val, struct err *e)
{
	char *end;
	switch (o->id) {
	case OPT_HOST: c->o.sess.host = val; break;
	case OPT_NODE: c->o.sess.node = val; break;
	case OPT_ALL: c->o.sess.all = 1; break;
	case OPT_CONFIG: c->o.config = val; break;
	case OPT_TIMEOUT:
		c->o.timeout = strtod(val, &end);
		if (end == val || *end || !(c->o.timeout > 0 && c->o.timeout <= 86400))
			return err_set(e, ERR_USAGE, "--timeout wants seconds (> 0), not '%s'", val);
		break;
	case OPT_JSON: c->o.json = 1; break;
	case OPT_HELP: c->o.help = 1; break;
	case OPT_VERSION: c->o.version = 1; break;
	case OPT_SORT: c->o.sort = val; break;
	case OPT_KEEP_GOING: c->o.keep_going = 1; break;
	case OPT_CANARY:
		c->o.canary = strtol(val, &end, 10);
		if (end == val || *end || c->o.canary < 1)
			return err_set(e, ERR_USAGE, "--canary wants a count (>= 1), not '%s'", val);
		break;
	case OPT_NO_AGENT: c->o.no_agent = 1; break;
	case OPT_DRY_RUN: c->o.dry_run = 1; break;
	case OPT_DELAY:
		c->o.delay = strtod(val, &end);
		if (end == val || *end || !(c->o.delay >= 0.05 && c->o.delay <= 3600))
			return err_set(e, ERR_USAGE, "-d wants seconds (0.05 to 3600), not '%s'", val);
		break;
	case OPT_ONCE: c->o.once = 1; break;
	case OPT_ITERATIONS:
		c->o.iterations = strtol(val, &end, 10);
		if (end == val || *end || c->o.iterations < 1)
			return err_set(e, ERR_USAGE, "--iterations wants a count (>= 1), not '%s'", val);
		break;
	case OPT_SIGNAL: c->o.signal = 1; break;
	case OPT_GREP: c->o.grep = val; break;
	case OPT_SESSION: c->o.session = val; break;
	case OPT_PATCH:
		c->o.patch = strtol(val, &end, 10);
		if (end == val || *end || c->o.patch < 1)
			return err_set(e, ERR_USAGE, "--patch wants a patch id (>= 1), not '%s'", val);
		break;
	case OPT_ALL_PATCHES: c->o.all_patches = 1; break;
	case OPT_FORCE: c->o.force = 1; break;
	case OPT_EXIT_CODE: c->o.exit_code = 1; break;
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
	for (size_t i = 0; i < args_nopts; i++) {
		size_t d = cmd_edit_distance(word, args_opts[i].lng);
		if (args_allowed(&args_opts[i], cmd) && d < bestd && d < len) {
			best = args_opts[i].lng;
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
	if ((cmd->flags & CMD_EVERY) && (c->argc < 1 || c->dashdash == 0)) {
		c->target_spec = "@*";
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
	if (c->o.patch && c->o.all_patches)
		return err_set(e, ERR_USAGE, "%s: --patch and --all cannot be combined", cmd->name);
	return 0;
}

void args_usage_opts(unsigned bits, struct fmt_buf *b)
{
	for (size_t i = 0; i < args_nopts; i++) {
		const struct args_opt *o = &args_opts[i];
		char left[64];
		if (bits ? !(o->bit & bits) : o->bit != 0)
			continue;
		if (o->shrt)
			snprintf(left, sizeof left, "-%c, --%s%s%s", o->shrt, o->lng,
				 o->arg ? " " : "", o->arg ? o->arg : "");
		else
			snprintf(left, sizeof left, "    --%s%s%s", o->lng, o->arg ? " " : "",
				 o->arg ? o->arg : "");
		fmt_printf(b, "  %-26s %s\n", left, o->help);
	}
}
