/* The local audit log: JSON lines, a "pending" record before and one with
 * the result after, for every target (or node) of every command that
 * changes a service or a node (CMD_AUDIT), private to the user, at
 * $XDG_STATE_HOME/skyctl/audit.log (else ~/.local/state/skyctl/audit.log).  The patch journal kept inside each
 * service is lua/agent.lua's; this is the operator-side record. */
#ifndef AUDIT_H
#define AUDIT_H

#include <stddef.h>

#include "err.h"

struct audit_record {
	const char *op;		/* the command: "inject", "kill", "setenv", ... */
	const char *batch;	/* one id per skyctl run, to pair pending/result */
	const char *node;	/* host:port */
	const char *target;	/* ":0000000a", or NULL for a node-wide command */
	const char *script;	/* path as given on the command line */
	const char *sha256;	/* 64 hex digits */
	const char *args;	/* a console command's arguments after the target */
	const char *result;	/* "pending", "ok", "error: ...", "skipped", ... */
};

/* "user@host" of the caller into buf; returns buf */
char *audit_who(char *buf, size_t len);

/* the audit log's path into buf; 0, or -1 if no home can be found */
int audit_path(char *buf, size_t len);

/* Append n records with one write and fsync, creating the file 0600 and its
 * missing directories 0700 (n 0: only check that it can be opened).  A
 * symbolic link as the file is refused and nothing skyctl did not create
 * has its mode changed.  Returns 0, or -1 with e set (ERR_LOCAL). */
int audit_append(const struct audit_record *r, size_t n, struct err *e);

#endif
