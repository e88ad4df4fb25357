/* Inside the prompt: the state the loop (repl.c), the meta-commands
 * (repl_meta.c) and completion (repl_complete.c) share.  Not for use
 * outside src/repl*.c. */
#ifndef REPL_INT_H
#define REPL_INT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <lua.h>

#include "repl.h"

struct repl {
	const struct repl_conf *c;
	uint32_t service;		/* 0: the node prompt */
	int tty, status, quit;		/* status: the worst failure so far */
	int entered;			/* services entered so far */
	char prompt[300];
	lua_State *L;			/* the local parser */
	struct lineedit *le;		/* NULL without a terminal */
	struct history_file *hist;
	struct history_log *log;
	struct repl_eval *ev;
	char *buf;			/* stdin line buffer */
	size_t bufcap;
	volatile sig_atomic_t *stop;	/* set by Ctrl-C while waiting */
	char **addrs;			/* the node's addresses, for completion */
	size_t naddrs;
};

void repl_set_prompt(struct repl *r);
void repl_show(struct repl *r, FILE *f, char mark, const char *text);
void repl_fail(struct repl *r, int status);
int repl_enter(struct repl *r, uint32_t service);
void repl_history_load(void *ud, const char *entry);
/* run a Lua chunk in the current service and show the outcome */
void repl_eval_line(struct repl *r, const char *chunk);
/* one line of input (editor or stdin); NULL at its end, "" + *intr on ^C */
const char *repl_line(struct repl *r, const char *prompt, int *intr);

/* handle a line starting with '.' */
void repl_meta(struct repl *r, const char *line);
/* the name of meta-command i (0, 1, ...), NULL past the last */
const char *repl_meta_name(size_t i);

/* lineedit's completion hook (ud is the struct repl) */
size_t repl_complete(void *ud, const char *line, size_t len, size_t *start, char ***out);
void repl_complete_free(struct repl *r);

#endif
