/* What skyctl's prompt keeps between runs, under $XDG_STATE_HOME/skyctl/
 * (else ~/.local/state/skyctl/), files 0600 in directories 0700:
 * - history/<node>/<service>.hist: the lines typed at one prompt, one entry
 *   a line ("\\" and newlines escaped, so a multi-line chunk is one entry).
 *   SKYCTL_HISTFILE names another file for every prompt; /dev/null turns
 *   history off.  Entries matching SKYCTL_HISTIGNORE (an extended regular
 *   expression, case-insensitive; default HISTORY_IGNORE_DEFAULT; empty:
 *   keep everything) or starting with a space are never written.
 * - sessions/<id>.log: a transcript of every session: a header (id, start,
 *   node, service), then one line per line of input ("> "), output ("< ")
 *   and error ("! "), each with its UTC time; "# service" when it changes. */
#ifndef HISTORY_H
#define HISTORY_H

#include <stddef.h>
#include <stdio.h>

#include "err.h"

#define HISTORY_IGNORE_DEFAULT "passw(or)?d|secret|token|private_?key|credential"

/* $XDG_STATE_HOME/skyctl/<sub> into buf, created 0700 with its parents;
 * 0, or -1 with e set (ERR_LOCAL) */
int history_dir(const char *sub, char *buf, size_t len, struct err *e);

/* whether entry must stay out of history files and transcripts */
int history_ignored(const char *entry);

/* ---- the history file of one prompt ---- */

struct history_file;

/* The history of service (":0000000a", or NULL for the node prompt) on
 * node ("game1", "127.0.0.1:8000").  NULL when history is off; problems
 * are reported on stderr once and turn it off. */
struct history_file *history_open(const char *node, const char *service);
/* call fn with each saved entry, oldest first (at most the last 1000) */
void history_each(struct history_file *h, void (*fn)(void *ud, const char *entry), void *ud);
/* append entry to the file unless it is ignored; 1 if written */
int history_append(struct history_file *h, const char *entry);
void history_close(struct history_file *h);

/* ---- transcripts ---- */

struct history_log;

/* start a transcript for node and service (NULL: node prompt); NULL on
 * failure, with e set (ERR_LOCAL) */
struct history_log *history_log_open(const char *node, const char *service, struct err *e);
/* the session id ("20261124-174501-1234") */
const char *history_log_id(const struct history_log *l);
/* record text (may hold several lines) with mark '>' input, '<' output,
 * '!' error, '#' a note such as "service :0000000b" */
void history_log_put(struct history_log *l, char mark, const char *text);
void history_log_close(struct history_log *l);

/* ---- reading transcripts back (skyctl history) ---- */

/* list every session (id, start, node, service, lines typed) to out, oldest
 * first, or only those with a line matching the regex grep (NULL: all)
 * followed by those lines; 0, or -1 with e set (ERR_LOCAL) */
int history_sessions(FILE *out, const char *grep, struct err *e);
/* print session id (its lines matching grep when grep is not NULL) to out;
 * 0, or -1 with e set: ERR_NODE (exit 1) if there is no such session,
 * else ERR_LOCAL */
int history_session(FILE *out, const char *id, const char *grep, struct err *e);

#endif
