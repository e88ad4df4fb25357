/* The command table's types and what command files may use.  Each
 * cli/cmd-<name>.c exports one `const struct cmd_entry`; cli/cmds.c lists
 * them; the dispatcher (cli/main.c, cli/run.c, cli/agentrun.c,
 * cli/output.c, cli/cmdaudit.c, cli/confirm.c) does everything the flags ask for:
 * parsing, choosing nodes, connecting, resolving targets, pipelining,
 * agent batches, output, the audit log and exit codes. */
#ifndef CMD_H
#define CMD_H

#include <stddef.h>

#include "audit.h"
#include "config.h"
#include "fmt.h"
#include "proto.h"
#include "session.h"
#include "target.h"

enum cmd_flags {
	CMD_CONNECT = 1,	/* talks to nodes */
	CMD_TARGETS = 2,	/* the first argument is a target list */
	CMD_CHECK_ALIVE = 4,	/* explicit addresses are checked with list first: a dead
				 * one is an error, not a silent success (kill, exit) or
				 * a hub waiting on nothing (agent commands) */
	CMD_FRESH = 8,		/* sends on a connection of its own (signal) */
	CMD_DASHARGS = 16,	/* "--" also ends its own arguments: what follows is
				 * passed on (inject: SCRIPT... -- ARGS...) */
	CMD_HANDLES = 32,	/* needs handles: registered names are looked up (names.h) */
	CMD_EVERY = 64,		/* with CMD_TARGETS: no target list means "@*" (ctx.every) */
	CMD_KEEPCONN = 128,	/* exec goes on with the nodes' connections (repl) */
	CMD_TARGET_OPT = 256,	/* with CMD_TARGETS: the target list may be left out
				 * (no filter: every service) */
	CMD_ONE = 512,		/* one node, and with a target exactly one service (repl) */
	CMD_REFRESH = 1024,	/* targets are resolved again on each refresh, from
				 * samples (top): the command calls cmd_resolve */
	CMD_AGENT = 2048,	/* runs through the agent driver (cli/agentrun.c) with
				 * the hooks of cmd_entry.agent */
	CMD_AUDIT = 4096,	/* changes a service or a node: the dispatcher writes
				 * an audit record before and after (src/audit.h);
				 * cli/cmds.c says which commands and why */
	CMD_CONFIRM = 8192,	/* destroys: selecting more than one service asks first on
				 * a terminal and needs --yes in a pipe (run.c) */
	CMD_LOCAL = 16384,	/* reaches only the node's own services: a target on
				 * another harbor is refused (kill, logon, list...) */
	CMD_TARGET_SECOND = 32768,	/* with CMD_TARGETS: the target list is the second
				 * argument, after the first (apply DIR [TARGET]) */
	CMD_BYTES = 65536,	/* into a pipe its output is the node's bytes as they
				 * are (raw); on a terminal it is escaped as all is */
};

/* One option.  The global ones are args.c's table; a command declares
 * its own in its file (cmd_entry.options) and reads them back with
 * cmd_opt / cmd_num: adding one touches nothing else. */
struct args_opt {
	const char *lng;
	char shrt;
	const char *arg;	/* name of its argument, or NULL for a flag */
	const char *help;
	int id;			/* global options: args.c's enum args_id; else 0 */
	const char *want;	/* a number: what a bad value is told it wants,
				 * e.g. "a count (>= 1)"; NULL: any text */
	double min, max;	/* a number's range */
	int integer;		/* a number must be whole */
};

/* a command's option list: CMD_OPTIONS(&a, &b) */
#define CMD_OPTIONS(...) ((const struct args_opt *const[]){ __VA_ARGS__, NULL })

/* --sort FIELD: the dispatcher sorts the rows (c->o.sort) */
extern const struct args_opt args_opt_sort;
/* --per-service, shared by the commands that sum services up (metrics, profile) */
extern const struct args_opt args_opt_per_service;
/* --yes: a CMD_CONFIRM command goes ahead without asking */
extern const struct args_opt args_opt_yes;

/* what the command line said: the global options */
struct cmd_opts {
	struct session_opts sess;
	const char *config;	/* --config FILE */
	double timeout;		/* --timeout, seconds */
	int json, help, version;
	int no_audit;		/* --no-audit: run even if the audit log cannot be written */
	long long max_reply;	/* --max-reply, bytes (0: net.h's default) */
	const char *sort;	/* --sort (args_opt_sort) */
};

/* a command's own option as given */
struct cmd_optval {
	const struct args_opt *opt;
	const char *val;	/* "" for a flag */
};
#define CMD_MAXOPTS 16

struct cmd_ctx;
struct cmd_node;
struct cmd_agent;

struct cmd_entry {
	const char *name;
	const char *args;	/* usage of the positional arguments, e.g. "TARGET [SIG]" */
	const char *summary;
	const struct args_opt *const *options;	/* its own options (CMD_OPTIONS), or NULL */
	/* usage errors among its options, found before anything is sent;
	 * -1 with e set (ERR_USAGE) */
	int (*check)(const struct cmd_ctx *, struct err *);
	int min, max;		/* positional arguments after the target list; max -1: any */
	int flags;		/* enum cmd_flags */
	/* CMD_CONFIRM only when this option is given (rollback --all); NULL: always */
	const struct args_opt *confirm_when;
	/* more text for its help, after the options (repl: the meta-commands) */
	void (*help_more)(struct fmt_buf *b);
	const struct fmt_col *cols;	/* output columns, after the implicit "node" */
	int ncols;
	/* one of these does the work: */
	const struct cmd_agent *agent;	/* CMD_AGENT: its hooks (agentcmd.h) */
	int (*node)(struct cmd_ctx *, struct cmd_node *);	/* per node, nodes in parallel */
	int (*exec)(struct cmd_ctx *);	/* the whole run, after targets are resolved */
	/* neither: a target command, one console line per target (run.c) */
	const char *console;	/* its console command word (default: name) */
	enum target_form form;	/* how it names targets (default ":0000000a") */
	/* the value cell of a target's row from its reply (default: the output) */
	const char *(*value)(const struct proto_reply *r, char *buf, size_t len);
	/* a fifth cell after address, output, ok, error (a FMT_RAW column):
	 * JSON text from the reply, malloc'd (call: the typed values) */
	char *(*json)(const struct proto_reply *r);
	/* around a node's lines: before checks the node first (logon: it has a
	 * logpath), -1 after recording why, and nothing is sent; after adds to
	 * what the replies said (call: where a failure's error went) */
	int (*before)(struct cmd_ctx *, struct cmd_node *);
	void (*after)(struct cmd_ctx *, struct cmd_node *);
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
	char **results;		/* CMD_AUDIT: per target, "ok" or "failed: why"
				 * (NULL: no reply) */
	int harbor;		/* the node's harbor (cmd_harbor), once harbor_known */
	int harbor_known;
	int harbor_asked;	/* getenv harbor was answered with an error (skynet 1.4) */
};

struct cmd_ctx {
	const struct cmd_entry *cmd;
	struct cmd_opts o;
	struct cmd_optval optv[CMD_MAXOPTS];	/* the command's own options */
	int noptv;
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
	char batch[32];		/* one id per run, in requests and the audit log */
	int audit_failed;	/* the audit log could not be written: said so */
	/* --json: the document's members, written to stdout as they grow
	 * (output_json_open), and its summary's */
	struct fmt_buf json, json_summary;
};

/* ---- for command files ---- */

/* the positional arguments from i on, joined with spaces (malloc'd) */
char *cmd_join(const struct cmd_ctx *c, int i, int end);

/* send line on the node's connection and read the reply; -1 after
 * recording a transport error (as "skyctl: NODE: LINE: why") */
int cmd_request(struct cmd_ctx *c, struct cmd_node *nd, const char *line, struct proto_reply *r);

/* cmd_request; a getenv or setenv line the console does not know (skynet
 * 1.5 to 1.7) is done by the agent (envagent_stand_in) and r is its
 * answer, unless it could not: on skynet 1.4, or with its reason recorded */
int cmd_request_env(struct cmd_ctx *c, struct cmd_node *nd, const char *line,
		    struct proto_reply *r);

/* r, the answer of the console at addr (conn: a connection to it) to
 * line: where that is a getenv or setenv the console does not know (skynet
 * 1.5 to 1.7), the agent does line and r becomes its answer, as 1.8's
 * console gives it (cli/envagent.c); r stays on skynet 1.4, which has no
 * dbgcmd either.  0, or -1 with e set if the agent could not. */
int envagent_stand_in(const char *addr, struct net_conn *conn, double timeout, const char *line,
		      struct proto_reply *r, struct err *e);

/* send n lines at once, then read their n replies into r (free them);
 * -1 after recording a transport error */
int cmd_requestv(struct cmd_ctx *c, struct cmd_node *nd, char *const *lines, size_t n,
		 struct proto_reply *r);

/* 0 if the reply to line is a success; else record the failure, return -1 */
int cmd_check(struct cmd_node *nd, const char *line, const struct proto_reply *r);

/* record an error line "skyctl: NODE: what: msg" and worsen the status */
void cmd_fail(struct cmd_node *nd, int code, const char *what, const char *msg);

/* Resolve tl on nd into nd->targets: the one place targets are resolved
 * (cli/resolve.c).  The node's services (nd->svc) are fetched with `list`
 * on its connection when a selector or CMD_CHECK_ALIVE needs them and
 * nd->svc is empty; global names are looked up, and registered names
 * (CMD_HANDLES); handles get the node's harbor; targets on another harbor
 * are refused (CMD_LOCAL) or pinged through the node, dead addresses
 * dropped (CMD_CHECK_ALIVE); each failure is recorded and drops its
 * target.  -1 after recording why when nothing could be resolved. */
int cmd_resolve(struct cmd_ctx *c, struct cmd_node *nd, const struct target_list *tl);

/* the line resolving tl starts with ("list", or the node's harbor), to
 * go with the connection; NULL: none */
const char *cmd_resolve_first(const struct cmd_ctx *c, const struct target_list *tl);
/* read the reply to that line; -1 after recording why */
int cmd_resolve_read(struct cmd_node *nd, const char *line);

/* the node's harbor: from its services' handles when fetched, else asked
 * on its connection (0 with neither); -1 after recording why */
int cmd_harbor(struct cmd_ctx *c, struct cmd_node *nd);

/* The services an agent command may take as its hub on nd, in order, into
 * hubs (room for nd->ntargets + 1): its targets on the node's own harbor;
 * with none, the node's first Lua service that is neither the console nor
 * the harbor's own (the hub is reached in debug mode, which does not
 * cross harbors; it reaches the other targets with skynet.call).  0: none. */
size_t cmd_hubs(const struct cmd_node *nd, uint32_t *hubs);

/* why, reworded when it is the node's "call failed" for a target on
 * another harbor (a dead remote handle); else why itself */
const char *cmd_remote_failure(const struct cmd_node *nd, const struct target *t,
			       const char *why, char *buf, size_t len);

/* c->batch, the id of this run's audit records, set once */
void cmd_audit_id(struct cmd_ctx *c);
/* append n records to the audit log (src/audit.h; n 0: check it can be
 * written); c->batch is set on the first call.  When it cannot be written:
 * -1 after saying so once, and the command ends with ERR_LOCAL; with
 * --no-audit a warning, and 0. */
int cmd_audit(struct cmd_ctx *c, const struct audit_record *r, size_t n);
/* CMD_AUDIT console commands: the records of every target (node-wide:
 * node) that is sent, before (after 0: "pending") or with the result;
 * -1 as cmd_audit */
int cmd_audit_run(struct cmd_ctx *c, int after);

/* add a row; vals has the entry's ncols cells (the node cell is added) */
void cmd_row(struct cmd_node *nd, const char *const *vals);

/* take the node's services (nd->svc) from a reply to PROTO_LIST (rewritten
 * as `list` prints it) */
int cmd_services_from(struct cmd_node *nd, struct proto_reply *r);

/* CMD_REFRESH: the addresses of s's rows the TARGET selects on node i
 * (cmd_resolve on the sample's rows as services), sorted into *keep
 * (malloc'd); else the exit status, the errors recorded in the node */
struct sample;
int cmd_select_sample(struct cmd_ctx *c, size_t i, const struct sample *s, uint32_t **keep,
		      size_t *n);

/* the handles of nd's targets, sorted (malloc'd; NULL when out of
 * memory), and whether a is among the n of them: a bisection, so
 * picking 10,000 services' rows is not 10,000 passes over the targets */
uint32_t *cmd_target_handles(const struct cmd_node *nd);
int cmd_handle_in(const uint32_t *handles, size_t n, uint32_t a);

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

/* the i-th option cmd (NULL: before a command) accepts: the global
 * ones, then its own; NULL past the end */
const struct args_opt *args_nth(const struct cmd_entry *cmd, size_t i);

/* the option "--lng" (its first len bytes) or, lng NULL, "-shrt" that cmd
 * accepts; NULL if none */
const struct args_opt *args_find(const char *lng, size_t len, char shrt,
				 const struct cmd_entry *cmd);

/* parse argv into c; -1 with a message in e (ERR_USAGE) */
int args_parse(int argc, char **argv, struct cmd_ctx *c, struct err *e);

/* the help lines of the global options (cmd NULL) or of cmd's own */
void args_usage_opts(const struct cmd_entry *cmd, struct fmt_buf *b);

/* a command's own option o as given: its value, "" for a flag; NULL if
 * it was not given */
const char *cmd_opt(const struct cmd_ctx *c, const struct args_opt *o);
/* its value as a number (validated by the parser); 0 if not given */
double cmd_num(const struct cmd_ctx *c, const struct args_opt *o);

/* the output (cli/output.c): the nodes' rows merged, sorted, rendered
 * and written (--json: into the document); the status of writing */
int output_rows(struct cmd_ctx *c, size_t ntargets);
/* --json: start the one document (c->json then goes to stdout as it
 * grows), and end it with the summary's status and errors */
void output_json_open(struct cmd_ctx *c);
void output_json(struct cmd_ctx *c, int status);
/* run exec; with --json a command without columns has its text output
 * caught as the document's "output" lines */
int output_exec(struct cmd_ctx *c, int (*exec)(struct cmd_ctx *));

/* CMD_CONFIRM with ntargets settled: 0 to go on, else the exit status
 * (declined, or no terminal to ask on and no --yes); cli/confirm.c */
int confirm_targets(struct cmd_ctx *c, size_t ntargets);

/* connect to every node again and resolve c's targets anew, from fresh
 * `list`s (apply --follow); failures are recorded in the nodes */
void run_reconnect(struct cmd_ctx *c);

/* connect, resolve and run c on its nodes; returns the exit status */
int run_command(struct cmd_ctx *c);
void run_free(struct cmd_ctx *c);

/* "skyctl X.Y.Z" */
extern const char *cmd_version;

#endif
