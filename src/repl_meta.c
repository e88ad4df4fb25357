/* The prompt's meta-commands: local verbs handled before anything goes on
 * the wire.  One table drives dispatch, .help and completion; a unique
 * prefix is accepted (".t :b").  What needs the rest of skyctl (inject,
 * diff, rollback, target names) comes through repl_conf's hooks. */
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "repl_int.h"
#include "repl_watch.h"

#define REPL_MAX_ARGS 32

struct repl_meta_cmd {
	const char *name, *args, *help;
	int service;	/* needs a service prompt */
	void (*fn)(struct repl *r, char **argv, int argc);
};

static void repl_meta_help(struct repl *r, char **argv, int argc);

static void repl_meta_quit(struct repl *r, char **argv, int argc)
{
	(void)argv;
	(void)argc;
	r->quit = 1;
}

/* ":a", ":0000000a", "a": a handle; 0 if word is not one */
static uint32_t repl_meta_hex(const char *word)
{
	char *end;
	const char *p = word[0] == ':' ? word + 1 : word;
	if (!p[0] || strlen(p) > 8 || p[strspn(p, "0123456789abcdefABCDEF")])
		return 0;
	return (uint32_t)strtoul(p, &end, 16);
}

static void repl_meta_target(struct repl *r, char **argv, int argc)
{
	uint32_t to = 0;
	if (argc < 2) {
		repl_fail(r, repl_enter(r, 0));
		return;
	}
	if (r->c->hooks.resolve)
		to = r->c->hooks.resolve(r->c, argv[1]);
	else if (!(to = repl_meta_hex(argv[1])))
		repl_show(r, stderr, '!', "not a service address (:a, :0000000a or a)");
	if (!to) {
		repl_fail(r, 2);
		return;
	}
	repl_fail(r, repl_enter(r, to));
}

static void repl_meta_unavailable(struct repl *r, const char *what)
{
	char msg[128];
	snprintf(msg, sizeof msg, "%s is not available yet in this skyctl", what);
	repl_show(r, stderr, '!', msg);
	repl_fail(r, 1);
}

/* .inject and .exec: FILE... run as that command would, on this service */
static void repl_meta_scripts(struct repl *r, char **argv, int argc, const char *usage,
			      int (*hook)(const struct repl_conf *, uint32_t, char **, int))
{
	if (argc < 2) {
		repl_show(r, stderr, '!', usage);
		repl_fail(r, 2);
	} else if (!hook) {
		repl_meta_unavailable(r, argv[0]);
	} else {
		fflush(stdout);
		repl_fail(r, hook(r->c, r->service, argv + 1, argc - 1));
		fflush(stdout);
	}
}

static void repl_meta_inject(struct repl *r, char **argv, int argc)
{
	repl_meta_scripts(r, argv, argc, "usage: .inject FILE...", r->c->hooks.inject);
}

static void repl_meta_exec(struct repl *r, char **argv, int argc)
{
	repl_meta_scripts(r, argv, argc, "usage: .exec FILE...", r->c->hooks.exec);
}

static void repl_meta_diff(struct repl *r, char **argv, int argc)
{
	if (!r->c->hooks.diff) {
		repl_meta_unavailable(r, ".diff");
	} else {
		fflush(stdout);
		repl_fail(r, r->c->hooks.diff(r->c, r->service, argc > 1 ? argv[1] : NULL));
	}
}

static void repl_meta_rollback(struct repl *r, char **argv, int argc)
{
	if (!r->c->hooks.rollback) {
		repl_meta_unavailable(r, ".rollback");
	} else {
		fflush(stdout);
		repl_fail(r, r->c->hooks.rollback(r->c, r->service, argv + 1, argc - 1));
	}
}

static void repl_meta_patches(struct repl *r, char **argv, int argc)
{
	(void)argv;
	(void)argc;
	if (!r->c->hooks.patches) {
		repl_meta_unavailable(r, ".patches");
	} else {
		fflush(stdout);
		repl_fail(r, r->c->hooks.patches(r->c, r->service));
	}
}

static void repl_meta_watch(struct repl *r, char **argv, int argc)
{
	if (argc < 2) {
		repl_show(r, stderr, '!', "usage: .watch PROTO (e.g. .watch lua)");
		repl_fail(r, 2);
		return;
	}
	repl_fail(r, repl_watch(r, argv[1]));
}

static void repl_meta_more(struct repl *r, char **argv, int argc)
{
	(void)argv;
	(void)argc;
	repl_eval_line(r, "__skyctl_repl_more()");
}

static const struct repl_meta_cmd repl_meta_cmds[] = {
	{ ".help", "", "this list", 0, repl_meta_help },
	{ ".target", "[ADDR]", "a Lua prompt in service ADDR (no ADDR: the node prompt)", 0,
	  repl_meta_target },
	{ ".inject", "FILE...", "run hot-fix scripts in this service (as skyctl inject)", 1,
	  repl_meta_inject },
	{ ".exec", "FILE...", "run scripts in this service, not as a patch (as skyctl exec)", 1,
	  repl_meta_exec },
	{ ".diff", "[FILE]", "what FILE would change here (dry run); no FILE: the patches", 1,
	  repl_meta_diff },
	{ ".rollback", "[--patch ID | --all] [--force]",
	  "undo this service's newest patch (or patch ID, or all; as skyctl rollback)", 1,
	  repl_meta_rollback },
	{ ".patches", "", "this service's patch journal", 1, repl_meta_patches },
	{ ".watch", "PROTO", "break on the next PROTO message; step with s, n, c (debug mode)", 1,
	  repl_meta_watch },
	{ ".more", "", "the last values again, uncut and deeper", 1, repl_meta_more },
	{ ".quit", "", "leave (Ctrl-D does too)", 0, repl_meta_quit },
	{ NULL, NULL, NULL, 0, NULL },
};

const char *repl_meta_name(size_t i)
{
	return i < sizeof repl_meta_cmds / sizeof *repl_meta_cmds ? repl_meta_cmds[i].name : NULL;
}

static void repl_meta_help(struct repl *r, char **argv, int argc)
{
	(void)argv;
	(void)argc;
	if (r->service)
		printf("Lua runs in the service: expressions show their values, statements run,\n"
		       "print() output comes back.  Names you assign stay in this session\n"
		       "(a line's leading `local` too); _G.x = v sets a global.  _P, _U and\n"
		       "hotfix are there, as in inject.  Long values are cut: .more.\n");
	else
		printf("Lines are console commands (list, stat, mem, ...), run on the node.\n");
	struct fmt_buf b = { 0 };
	repl_meta_list(&b);
	fwrite(b.p ? b.p : "", 1, b.len, stdout);
	fmt_buf_free(&b);
}

void repl_meta_list(struct fmt_buf *b)
{
	for (const struct repl_meta_cmd *m = repl_meta_cmds; m->name; m++)
		if (strlen(m->args) > 8)	/* its help on a line of its own */
			fmt_printf(b, "  %s %s\n  %-9s %-8s %s\n", m->name, m->args, "", "", m->help);
		else
			fmt_printf(b, "  %-9s %-8s %s\n", m->name, m->args, m->help);
	fmt_puts(b, "Ctrl-C clears the line or abandons a waiting one; Ctrl-R searches history.\n");
}

/* the entry named by word (exact or unique prefix); NULL with a message */
static const struct repl_meta_cmd *repl_meta_find(struct repl *r, const char *word)
{
	const struct repl_meta_cmd *hit = NULL;
	size_t n = strlen(word), count = 0;
	char msg[256];
	for (const struct repl_meta_cmd *m = repl_meta_cmds; m->name; m++) {
		if (strcmp(m->name, word) == 0)
			return m;
		if (strncmp(m->name, word, n) == 0) {
			hit = m;
			count++;
		}
	}
	if (count == 1)
		return hit;
	if (count == 0)
		snprintf(msg, sizeof msg, "unknown command %s (.help lists them)", word);
	else
		snprintf(msg, sizeof msg, "ambiguous command %s (.help lists them)", word);
	repl_show(r, stderr, '!', msg);
	return NULL;
}

void repl_meta(struct repl *r, const char *line)
{
	char *copy = strdup(line), *argv[REPL_MAX_ARGS], *save = NULL;
	int argc = 0;
	if (!copy)
		return;
	for (char *w = strtok_r(copy, " \t\n", &save); w && argc < REPL_MAX_ARGS;
	     w = strtok_r(NULL, " \t\n", &save))
		argv[argc++] = w;
	const struct repl_meta_cmd *m = argc ? repl_meta_find(r, argv[0]) : NULL;
	if (!m) {
		repl_fail(r, 2);
	} else if (m->service && !r->service) {
		char msg[128];
		snprintf(msg, sizeof msg, "%s needs a service: .target ADDR first", m->name);
		repl_show(r, stderr, '!', msg);
		repl_fail(r, 2);
	} else {
		m->fn(r, argv, argc);
	}
	free(copy);
}
