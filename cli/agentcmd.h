/* What the commands that run agent operations over targets share (inject,
 * diff, rollback, patches, uninstall): local scripts read and compiled before anything
 * is sent, the dispatcher's resolved targets as batch nodes, the queue of
 * audit-log records, and the per-target JSON line. */
#ifndef AGENTCMD_H
#define AGENTCMD_H

#include <stddef.h>
#include <stdint.h>

#include "agent.h"
#include "batch.h"
#include "fmt.h"
#include "audit.h"
#include "target.h"

struct cmd_ctx;

struct agentcmd_script {
	const char *path;	/* as given, for the audit log */
	const char *name;	/* its base name: the chunk name in the service */
	char *src;
	size_t len;
	char sha[65];
};

/* Read and compile n scripts with the embedded Lua, as the node will
 * (chunk name "@" and the base name, so messages read "fix.lua:3: ...");
 * print the first problem on stderr and return -1.  Scripts that do not
 * compile here are compiled by each node of another Lua than skyctl's
 * (one request to its first target) before anything runs. */
int agentcmd_load(struct cmd_ctx *c, struct batch_node *nodes, size_t nnodes,
		  struct agentcmd_script *sc, int n, char **paths);
void agentcmd_scripts_free(struct agentcmd_script *sc, int n);

/* write {..., "scripts" = {{name=, src=, sha=}...}, "timeout" = ...}
 * entries into b: a script still running after 30% of timeout (the
 * --timeout the command waits) is stopped and its changes undone, so
 * that the target settles "failed" within the wait rather than
 * "unknown" after it */
void agentcmd_w_scripts(struct fmt_buf *b, const struct agentcmd_script *sc, int n,
			double timeout);
/* args = {ARGS...} (what a script sees as ...) */
void agentcmd_w_args(struct fmt_buf *b, char **args, int nargs);
/* write the "who" and "time" fields of a request that changes a service */
void agentcmd_w_who(struct fmt_buf *b);

/* options of the commands that run batches: --keep-going, --canary N|P%,
 * --canary-wait SECONDS, --no-agent, --failures (show only the targets
 * that did not succeed), --force; --dry-run (inject, apply) */
extern const struct args_opt agentcmd_opt_keep_going, agentcmd_opt_canary,
	agentcmd_opt_canary_wait, agentcmd_opt_no_agent, agentcmd_opt_force,
	agentcmd_opt_failures, agentcmd_opt_dry;

/* the batch options c's command line asks for (keep-going, canary,
 * no-agent, timeout) into o; -1 if --canary is not a count or a
 * percentage, or --canary-wait comes without it */
int agentcmd_batch_opts(const struct cmd_ctx *c, struct batch_opts *o);

/* The run of an agent command (CMD_AGENT): the dispatcher's driver
 * (cli/agentrun.c) fills it, the command's hooks (struct cmd_agent) read it. */
struct agentrun {
	struct cmd_ctx *c;
	struct batch_node *nodes;	/* nodes with targets, as the batch takes them */
	size_t nnodes, total;		/* nodes; targets in all */
	const struct target **targets;	/* per node: the dispatcher's targets (launch commands) */
	struct agentcmd_script *sc;	/* the scripts (cmd_agent.scripts) */
	int nscripts;
	char **args;			/* what follows "--" */
	int nargs;
	char *argline;			/* the same joined, for the audit log (or NULL) */
	char batch[32];			/* one id per run, in the requests and the audit log */
	size_t count[8];		/* targets per state */
	size_t canaries_lost;		/* canaries that failed, or stopped answering */
	double t0;
	void *ud;			/* the command's own */
	/* the driver's: */
	uint32_t **addrs;
	struct agentcmd_audit *audit;
	size_t njson;			/* the targets in the document so far (--json) */
	struct agentcmd_groups *groups;	/* a big batch's text, grouped at the end (or NULL) */
	int progress;			/* a progress line may be drawn (stderr is a terminal) */
	int shown;			/* it is on the screen now */
	double drawn;			/* when it was last drawn */
};

/* What an agent command declares (cmd_entry.agent); the driver does the
 * setup, the batch, the output, the summary and the audit (CMD_AUDIT). */
struct cmd_agent {
	int scripts;		/* its arguments are SCRIPT... [-- ARGS...], read and
				 * compiled here before anything is sent */
	const char *const *states;	/* state words: enum batch_state, then its own */
	const int *order;	/* the states of the summary, in order, then -1 */
	int width;		/* the state column's width in text */
	int keep_going;		/* every target is tried (a failure changes nothing) */
	int no_agent;		/* always as --no-agent (uninstall) */
	/* write the per-service request into b; 0, or an exit status after
	 * printing why */
	int (*request)(struct agentrun *r, struct fmt_buf *b);
	/* optional: change the batch's options (profile: its window) */
	void (*batch)(struct agentrun *r, struct batch_opts *bo);
	/* Target i of node settled: its state (an index of states), a line
	 * saying what happened into what, and (without --json) text lines
	 * to print after it into more. */
	int (*describe)(struct agentrun *r, size_t node, size_t i, const struct batch_result *res,
			char *what, size_t len, struct fmt_buf *more);
	/* Optional, after the batch: the output instead of a line per target
	 * (text), or with --json and json_members the document's members
	 * before "summary" (else they are "targets"); returns an exit status
	 * to add. */
	int (*report)(struct agentrun *r, struct fmt_buf *out);
	int json_members;	/* --json: report writes the members, not "targets" */
	/* optional: the text summary after "NAME: " (default: the counts),
	 * and its JSON members (after the counts) */
	void (*summary)(struct agentrun *r, struct fmt_buf *text, struct fmt_buf *json);
	int summary_stderr;	/* the text summary goes to stderr (stdout: a table) */
	void (*free)(struct agentrun *r);	/* optional: free r->ud */
};

/* the driver: run c's agent command over its resolved targets; the exit
 * status */
int agentrun_exec(struct cmd_ctx *c);

/* "skipped", "ok", "failed", "unknown": per enum batch_state */
extern const char *const agentcmd_state[4];
/* the summary's order of those: ok, failed, unknown, skipped */
extern const int agentcmd_order[5];

/* a journal time (seconds since the epoch) as "2026-12-03 21:04 UTC" */
const char *agentcmd_when(long long t, char *buf, size_t len);

/* A change as the agent exports it ({kind, what, path, upvalue, old, new}):
 * its path as the user reads it ("upvalue balance of _P.lua.CMD.balance"
 * for an upvalue) into buf, and its mark: '+' added, '-' removed, '~'
 * changed (or joined). */
const char *agentcmd_change_path(const struct wire_val *c, char *buf, size_t len);
char agentcmd_change_mark(const struct wire_val *c);

/* append "  M PATH  OLD -> NEW\n" (OLD alone when removed, NEW alone when
 * added), the path padded to width; arrow: "->" or "→" */
void agentcmd_change_line(struct fmt_buf *b, const struct wire_val *c, int width,
			  const char *arrow);

/* append the checks' lines of a result v (errors and warnings from
 * lua/apply.lua's lint, suspended tasks running replaced code, a script
 * that waited), each "PAD! ...\n" */
void agentcmd_warnings(struct fmt_buf *b, const struct wire_val *v, const char *pad);
/* whether result v leaves anything that was not undone, or not tracked:
 * then no summary may say "nothing was changed" or "all undone" */
int agentcmd_uncertain(const struct wire_val *v);

/* what a failed apply of scripts undid (its reply v), honestly, as
 * " (all its changes undone)": "all" only when nothing was left or left
 * out */
void agentcmd_undone(const struct wire_val *v, char *buf, size_t len);

/* keep the scripts' sources in the local store (src/scriptstore.h), so
 * `patches --show` prints what a service runs; warns once on failure */
void agentcmd_keep_sources(const struct agentcmd_script *sc, int n);

/* targets with the same text shown once (diff, exec) */
/* a string's hash (FNV-1a, its start varied by salt), for the open hash
 * tables of big batches' results */
size_t agentcmd_hash(const char *s, size_t salt);

struct agentcmd_groups {
	struct agentcmd_group_target {
		size_t node;
		uint32_t addr;
		int state;
		char *body;	/* what is printed for its group (its group's first only), first
				 * line the verdict */
		size_t next, tail;	/* the next target of its group, its group's
					 * last (the first one's): index + 1, 0 none */
	} *t;
	size_t n, cap;
	size_t *slot;	/* open hash by (state, body): a group's first target, index + 1 */
};
/* room for n targets; -1 when out of memory */
int agentcmd_groups_init(struct agentcmd_groups *g, size_t n);
/* the text of a settled target (malloc'd, taken; NULL: nothing to show) */
void agentcmd_groups_add(struct agentcmd_groups *g, size_t node, uint32_t addr, int state,
			 char *body);
/* "[node/]:addr, ... [and N more]  BODY" per group, in first-target order */
void agentcmd_groups_print(struct agentcmd_groups *g, const struct batch_node *nodes,
			   size_t nnodes, struct fmt_buf *out);
void agentcmd_groups_free(struct agentcmd_groups *g);

#endif
