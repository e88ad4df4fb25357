/* skyctl's interactive prompt: a Lua prompt inside one live service
 * (evaluated by the agent, lua/agent.lua's eval and complete operations,
 * one round trip per line), or a node prompt running console commands.
 * On a terminal: line editing, history, completion, transcripts.  Without
 * one: reads stdin line by line and prints only results. */
#ifndef REPL_H
#define REPL_H

#include <stdint.h>

struct repl_conf;
struct fmt_buf;

/* the prompt's meta-commands (.help, .target, ...), a line each, and its
 * keys: what .help and `skyctl help repl` print */
void repl_meta_list(struct fmt_buf *b);

/* What the command line wires in for meta-commands the library does not
 * implement itself (NULL: "not available yet").  Each returns an exit
 * status (0 ok). */
struct repl_hooks {
	int (*inject)(const struct repl_conf *c, uint32_t service, char **paths, int n);
	int (*exec)(const struct repl_conf *c, uint32_t service, char **paths, int n);
	int (*diff)(const struct repl_conf *c, uint32_t service, const char *path);
	int (*rollback)(const struct repl_conf *c, uint32_t service, char **opts, int nopts);
	int (*patches)(const struct repl_conf *c, uint32_t service);
	/* resolve a target word (".name", "@agent", ":a") to one address of
	 * this node; 0 with a message on stderr when it does not name one */
	uint32_t (*resolve)(const struct repl_conf *c, const char *word);
	/* run one console command on the node prompt, printing its reply to
	 * stdout and its failure to stderr (nothing when quiet); when out is
	 * not NULL, a copy of the reply (caller frees) */
	int (*command)(const struct repl_conf *c, const char *line, int quiet, char **out);
};

struct repl_conf {
	const char *node;	/* as the user names it: "game1", "127.0.0.1:8000" */
	const char *addr;	/* its address spec, "host:port" or "ssh://..." */
	uint32_t service;	/* 0: start at the node prompt */
	double timeout;		/* seconds, for every wait */
	struct repl_hooks hooks;
	void *ud;		/* for the hooks */
};

/* Run the prompt until end of input or .quit; returns the exit status:
 * 0, or (without a terminal) the worst status of a line that failed. */
int repl_run(const struct repl_conf *c);

#endif
