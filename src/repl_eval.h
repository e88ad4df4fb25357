/* Evaluating prompt lines inside a service through the agent: lua/repl.lua
 * is installed once in the prompt's session environment, then each chunk
 * is one agent request.  A request runs in a worker thread so that Ctrl-C
 * can abandon it: the prompt comes back at once, the abandoned request
 * ends on its own (reply or timeout) and takes its connection with it. */
#ifndef REPL_EVAL_H
#define REPL_EVAL_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

struct repl_eval;

/* what one chunk gave */
struct repl_reply {
	int status;	/* 0 ok, 1 the chunk failed, 3/4/5 transport (skyctl exit codes),
			 * -1 abandoned by Ctrl-C */
	char *out;	/* what it printed and its values, NUL-terminated lines; or NULL */
	char *err;	/* why it failed, or NULL */
};

/* An evaluator for services of the node at addr (agent_open); session
 * names the environment kept in each service for this prompt.  *stop is
 * polled while waiting (set by the Ctrl-C handler).  NULL on allocation
 * failure. */
struct repl_eval *repl_eval_new(const char *addr, double timeout, const char *session,
				volatile sig_atomic_t *stop);
void repl_eval_free(struct repl_eval *e);

/* Make service ready for lines (connect, install the agent and lua/repl.lua);
 * 0, or the status with a message in r. */
int repl_eval_attach(struct repl_eval *e, uint32_t service, struct repl_reply *r);

/* run chunk in service; fills r (release it with repl_reply_clear) */
void repl_eval_chunk(struct repl_eval *e, uint32_t service, const char *chunk,
		     struct repl_reply *r);
void repl_reply_clear(struct repl_reply *r);

/* 1 if the node runs another Lua than skyctl's (agent_lua_foreign), asked
 * once per connection; 0 if the same or unknown */
int repl_eval_foreign(struct repl_eval *e);

/* names that complete expr ("_P.lua.CM") in service: the keys of the table
 * before the last '.' or ':' that start with the rest; malloc'd array of
 * malloc'd strings in *out, count returned (0 on any failure) */
size_t repl_eval_names(struct repl_eval *e, uint32_t service, const char *expr, char ***out);

#endif
