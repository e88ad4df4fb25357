/* The command table's types and what command files may use.  Each
 * cli/cmd-<name>.c exports one `const struct cmd_entry`; cli/cmds.c lists
 * them; the dispatcher (cli/main.c, cli/run.c) does everything the flags
 * ask for: parsing, choosing nodes, connecting, resolving targets,
 * pipelining, output and exit codes. */
#ifndef CMD_H
#define CMD_H

#include <stddef.h>

#include "config.h"
#include "fmt.h"
#include "proto.h"
#include "session.h"
#include "target.h"

enum cmd_flags {
	CMD_CONNECT = 1,	/* talks to nodes */
	CMD_TARGETS = 2,	/* the first argument is a target list */
	CMD_MUTATES = 4,	/* changes a service: explicit addresses are checked with list */
	CMD_FRESH = 8,		/* sends on a connection of its own (signal) */
	CMD_DASHARGS = 16,	/* "--" also ends its own arguments: what follows is
				 * passed on (inject: SCRIPT... -- ARGS...) */
	CMD_HANDLES = 32,	/* needs handles: registered names are looked up (names.h) */
	CMD_EVERY = 64,		/* with CMD_TARGETS: no target list means "@*" (ctx.every) */
	CMD_KEEPCONN = 128,	/* exec goes on with the nodes' connections (agentcmd_nodes) */
};

/* options a command may accept besides the global ones (cmd_entry.opts) */
enum cmd_opt_bits {
	OPTB_SORT = 1,
	OPTB_INJECT = 2,	/* --keep-going --canary (batches that change services) */
	OPTB_TOP = 4,		/* -d --once --iterations (top) */
	OPTB_STUCK = 8,		/* --signal (stuck) */
	OPTB_HISTORY = 16,	/* --grep --session (history) */
	OPTB_AGENT = 32,	/* --no-agent (commands run by the agent) */
	OPTB_DRY = 64,		/* --dry-run (inject) */
	OPTB_ROLLBACK = 128,	/* --patch --all --force (rollback) */
	OPTB_PATCHES = 256,	/* --exit-code (patches) */
};

/* what the command line said */
struct cmd_opts {
	struct session_opts sess;
	const char *config;	/* --config FILE */
	double timeout;		/* --timeout, seconds */
	int json, help, version;
	const char *sort;
	int keep_going, no_agent, dry_run;
	long canary;
	double delay;		/* top -d: seconds between refreshes (0: not given) */
	int once, signal;	/* top --once; stuck --signal */
	long iterations;	/* top --iterations N (0: not given) */
	const char *grep, *session;	/* history --grep PATTERN --session ID */
	long patch;		/* rollback --patch ID (0: not given) */
	int all_patches, force;	/* rollback --all, --force */
	int exit_code;		/* patches --exit-code */
};

struct cmd_ctx;
struct cmd_node;

struct cmd_entry {
	const char *name;
	const char *args;	/* usage of the positional arguments, e.g. "TARGET [SIG]" */
	const char *summary;
	unsigned opts;		/* enum cmd_opt_bits */
	int min, max;		/* positional arguments after the target list; max -1: any */
	int flags;		/* enum cmd_flags */
	const struct fmt_col *cols;	/* output columns, after the implicit "node" */
	int ncols;
	/* one of these does the work: */
	int (*node)(struct cmd_ctx *, struct cmd_node *);	/* per node, nodes in parallel */
	int (*exec)(struct cmd_ctx *);	/* the whole run, after targets are resolved */
	/* neither: a target command, one console line per target (run.c) */
	const char *console;	/* its console command word (default: name) */
	enum target_form form;	/* how it names targets (default ":0000000a") */
	/* the value cell of a target's row from its reply (default: the output) */
	const char *(*value)(const struct proto_reply *r, char *buf, size_t len);
};

struct cmd_node {
	struct session_node *sn;
	struct target_service *svc;	/* the node's `list`, when fetched */
	size_t nsvc;
	struct target *targets;
	size_t ntargets;
	size_t *matched;	/* per target item */
	struct fmt_table out;	/* rows: "node" then the entry's columns */
	struct fmt_buf errs;	/* stderr lines */
	int status;		/* exit status for this node */
};

struct cmd_ctx {
	const struct cmd_entry *cmd;
	struct cmd_opts o;
	char **argv;		/* positional arguments after the target list */
	int argc;
	int dashdash;		/* CMD_DASHARGS: argv index of the first argument
				 * after "--", or -1 */
	const char *target_spec;
	int every;		/* the target list was left out (CMD_EVERY) */
	struct target_list targets;
	struct config config;
	struct session sess;
	struct cmd_node *nodes;	/* sess.n of them */
	struct fmt_col *cols;	/* "node" + cmd->cols */
	enum fmt_mode mode;
	int color;
};

/* ---- for command files ---- */

/* the positional arguments from i on, joined with spaces (malloc'd) */
char *cmd_join(const struct cmd_ctx *c, int i, int end);

/* send line on the node's connection and read the reply; -1 after
 * recording a transport error (as "skyctl: NODE: LINE: why") */
int cmd_request(struct cmd_ctx *c, struct cmd_node *nd, const char *line, struct proto_reply *r);

/* send n lines at once, then read their n replies into r (free them);
 * -1 after recording a transport error */
int cmd_requestv(struct cmd_ctx *c, struct cmd_node *nd, char *const *lines, size_t n,
		 struct proto_reply *r);

/* 0 if the reply to line is a success; else record the failure, return -1 */
int cmd_check(struct cmd_node *nd, const char *line, const struct proto_reply *r);

/* record an error line "skyctl: NODE: what: msg" and worsen the status */
void cmd_fail(struct cmd_node *nd, int code, const char *what, const char *msg);

/* add a row; vals has the entry's ncols cells (the node cell is added) */
void cmd_row(struct cmd_node *nd, const char *const *vals);

/* take the node's services (nd->svc) from a reply to `list` */
int cmd_services_from(struct cmd_node *nd, const struct proto_reply *r);

/* the launch command of addr from nd->svc, or NULL */
const char *cmd_service_cmd(const struct cmd_node *nd, const char *addr);

/* send "word ARGS..." (word NULL: just the arguments), check the reply,
 * and add one row per output line, split at tabs into the entry's columns */
int cmd_kv(struct cmd_ctx *c, struct cmd_node *nd, const char *word);

/* the same, adding one row with the whole output (cmd_output_cols) */
int cmd_output(struct cmd_ctx *c, struct cmd_node *nd, const char *word);

/* send "list" and "word N" together (N: the node's own wait for its
 * services, within ours); nd->svc is filled, *r is the checked reply to
 * the second (stat, mem, gc) */
int cmd_with_list(struct cmd_ctx *c, struct cmd_node *nd, const char *word,
		  struct proto_reply *r);

/* mem and gc: rows of address, name, bytes from "word N" */
int cmd_mem_rows(struct cmd_ctx *c, struct cmd_node *nd, const char *word);
extern const struct fmt_col cmd_mem_cols[3];

/* the columns of a command whose output is free text */
extern const struct fmt_col cmd_output_cols[1];
/* the columns of a per-target command: address, output, ok, error */
extern const struct fmt_col cmd_target_cols[4];

/* ---- the table (cmds.c) ---- */

extern const struct cmd_entry *const cmd_table[];

/* the entry for name or a unique prefix of it; NULL with a message in err */
const struct cmd_entry *cmd_find(const char *name, char *err, size_t errlen);

/* Levenshtein distance between two short words (names of commands and
 * options), an adjacent swap counting as one edit ("lsit" is one from
 * "list"); (size_t)-1 for words over 32 bytes */
size_t cmd_edit_distance(const char *a, const char *b);

/* usage text of a command (NULL: of skyctl itself) into b */
void cmd_usage(const struct cmd_entry *e, struct fmt_buf *b);

/* ---- the dispatcher ---- */

/* one option of the parser's table (cli/args.c) */
struct args_opt {
	const char *lng;
	char shrt;
	const char *arg;	/* name of its argument, or NULL */
	int id;			/* args.c's enum args_id */
	unsigned bit;		/* 0: global; else the enum cmd_opt_bits that allows it */
	const char *help;
};
extern const struct args_opt args_opts[];
extern const size_t args_nopts;

/* whether cmd (NULL: before a command) accepts option o */
int args_allowed(const struct args_opt *o, const struct cmd_entry *cmd);

/* the option "--lng" (its first len bytes) or, lng NULL, "-shrt" that cmd
 * accepts; NULL if none */
const struct args_opt *args_find(const char *lng, size_t len, char shrt,
				 const struct cmd_entry *cmd);

/* parse argv into c; -1 with a message in e (ERR_USAGE) */
int args_parse(int argc, char **argv, struct cmd_ctx *c, struct err *e);

/* the help lines of the global options (bits 0) or of the given ones */
void args_usage_opts(unsigned bits, struct fmt_buf *b);

/* connect, resolve and run c on its nodes; returns the exit status */
int run_command(struct cmd_ctx *c);
void run_free(struct cmd_ctx *c);

/* "skyctl X.Y.Z" */
extern const char *cmd_version;

#endif
