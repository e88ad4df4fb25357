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
#include "journal.h"
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
 * print the first problem on stderr and return -1. */
int agentcmd_load(struct agentcmd_script *sc, int n, char **paths);
void agentcmd_scripts_free(struct agentcmd_script *sc, int n);

/* write {..., "scripts" = {{name=, src=, sha=}...}} entries into b */
void agentcmd_w_scripts(struct fmt_buf *b, const struct agentcmd_script *sc, int n);
/* args = {ARGS...} (what a script sees as ...) */
void agentcmd_w_args(struct fmt_buf *b, char **args, int nargs);
/* write the "who" and "time" fields of a request that changes a service */
void agentcmd_w_who(struct fmt_buf *b);

/* the dispatcher's resolved targets as batch nodes */
struct agentcmd_nodes {
	struct batch_node *v;
	size_t n, total;	/* nodes with targets; targets in all */
	uint32_t **addrs;
	const struct target **targets;	/* per node: the dispatcher's targets (launch commands) */
};

/* fill nodes from c and ready the embedded agent (agent_init); returns 0,
 * or the exit status after printing why */
int agentcmd_nodes(struct cmd_ctx *c, struct agentcmd_nodes *nodes);
/* "3 targets on 1 node", for the summary lines, into buf */
const char *agentcmd_span(const struct agentcmd_nodes *nodes, char *buf, size_t len);
void agentcmd_nodes_free(struct agentcmd_nodes *nodes);
/* With no TARGET (CMD_EVERY), keep every Lua service but the console itself
 * (a console that debugged itself as the hub would wait on itself); C
 * services run no Lua. */
void agentcmd_every_lua(struct cmd_ctx *c);

/* audit-log records waiting to be written */
struct agentcmd_audit {
	struct journal_record *v;
	char **text;		/* their target and result strings, freed after writing */
	size_t n, cap;
	int failed;
};

/* queue rec with its result and target copied */
void agentcmd_audit_add(struct agentcmd_audit *a, const struct journal_record *rec,
			const char *result, const char *target);
/* write the queued records (one write, one fsync); warn once on failure */
void agentcmd_audit_flush(struct agentcmd_audit *a);
void agentcmd_audit_free(struct agentcmd_audit *a);

/* "skipped", "ok", "failed", "unknown": per enum batch_state */
extern const char *const agentcmd_state[4];

/* print {"node":,"target":,"status":,"detail":,"result":} and a newline */
void agentcmd_json_line(const char *node, const char *target, const char *status,
			const char *detail, const struct wire_val *result);
/* a settled target of nodes[node]: its JSON line, or
 * "[node/]target  state  what" with state padded to width; returns json */
int agentcmd_target_line(const struct batch_node *nodes, size_t nnodes, size_t node,
			 const char *target, const char *state, int width, const char *what,
			 const struct wire_val *val, int json);

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

#endif
