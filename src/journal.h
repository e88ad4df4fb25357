/* The local audit log: one JSON object per line for every target of every
 * inject and rollback, private to the user, at $XDG_STATE_HOME/skyctl/audit.log (else
 * ~/.local/state/skyctl/audit.log).  The patch journal kept inside each
 * service is lua/agent.lua's; this is the operator-side record. */
#ifndef JOURNAL_H
#define JOURNAL_H

#include <stddef.h>

#include "err.h"

struct journal_record {
	const char *op;		/* "inject", "rollback" */
	const char *batch;	/* one id per skyctl run, to pair pending/result */
	const char *node;	/* host:port */
	const char *target;	/* ":0000000a" */
	const char *script;	/* path as given on the command line */
	const char *sha256;	/* 64 hex digits */
	const char *result;	/* "pending", "ok", "error: ...", "skipped", ... */
};

/* "user@host" of the caller into buf; returns buf */
char *journal_who(char *buf, size_t len);

/* the audit log's path into buf; 0, or -1 if no home can be found */
int journal_path(char *buf, size_t len);

/* Append n records with one write and fsync, creating the file 0600 and its
 * directories 0700.  Returns 0, or -1 with e set (ERR_LOCAL). */
int journal_append(const struct journal_record *r, size_t n, struct err *e);

#endif
