/* The prompt loop (see repl.h), shaped like Lua's own lua.c: read a line;
 * while the chunk so far fails to compile only because it ends too early
 * ("<eof>"), read more under a second prompt; then run it (one agent round
 * trip) and show what it printed and returned.  Syntax errors are found
 * here, with the embedded Lua parser, and never sent.  Meta-commands
 * (".help") are handled before anything goes on the wire. */
#include "repl.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "fmt.h"
#include "history.h"
#include "lineedit.h"
#include "repl_eval.h"
#include "repl_int.h"

/* set by the Ctrl-C handler while a line is waiting for its answer */
static volatile sig_atomic_t repl_interrupted;

static void repl_sigint(int sig)
{
	(void)sig;
	repl_interrupted = 1;
}

/* the prompt for the current service: "game1/:0000000a> " or "game1> " */
void repl_set_prompt(struct repl *r)
{
	if (r->service)
		snprintf(r->prompt, sizeof r->prompt, "%s/:%08x> ", r->c->node, (unsigned)r->service);
	else
		snprintf(r->prompt, sizeof r->prompt, "%s> ", r->c->node);
}

/* show text (lines, or NULL) on f and record it in the transcript */
void repl_show(struct repl *r, FILE *f, char mark, const char *text)
{
	if (!text || !text[0])
		return;
	size_t n = strlen(text);
	fmt_fsafe(f, text, n, "\n\t");
	if (text[n - 1] != '\n')
		fputc('\n', f);
	fflush(f);
	history_log_put(r->log, mark, text);
}

/* the worse of two exit statuses, as the prompt's final status */
void repl_fail(struct repl *r, int status)
{
	if (status > r->status)
		r->status = status;
}

/* 1 if chunk is incomplete (its only problem is an early end), 0 if it
 * compiles, -1 if it has a syntax error; the message of 1 and -1 is left
 * in *msg (malloc'd).  The node's Lua is the truth: in a node of another
 * Lua (5.5 syntax) a chunk skyctl's Lua rejects is complete, and the node
 * says whether it compiles. */
static int repl_incomplete(struct repl *r, const char *chunk, char **msg)
{
	size_t n = strlen(chunk);
	char *ret = malloc(n + 8);
	int rc = 0;
	if (!ret)
		return 0;
	memcpy(ret, "return ", 7);
	memcpy(ret + 7, chunk, n + 1);
	if (luaL_loadbufferx(r->L, ret, n + 7, "=repl", "t") != LUA_OK) {
		lua_pop(r->L, 1);
		if (luaL_loadbufferx(r->L, chunk, n, "=repl", "t") != LUA_OK) {
			size_t len;
			const char *m = lua_tolstring(r->L, -1, &len);
			rc = len >= 5 && strcmp(m + len - 5, "<eof>") == 0 ? 1 : -1;
			*msg = strdup(m);
			if (rc < 0 && repl_eval_foreign(r->ev))
				rc = 0;
		}
	}
	lua_settop(r->L, 0);
	free(ret);
	return rc;
}

/* One line: from the editor on a terminal, else from stdin (newline
 * dropped).  NULL at end of input; "" with *intr set after Ctrl-C. */
const char *repl_line(struct repl *r, const char *prompt, int *intr)
{
	*intr = 0;
	if (r->le)
		return lineedit_read(r->le, prompt, intr);
	ssize_t n = getline(&r->buf, &r->bufcap, stdin);
	if (n <= 0)
		return NULL;
	if (r->buf[n - 1] == '\n')
		r->buf[--n] = '\0';
	if (n > 0 && r->buf[n - 1] == '\r')
		r->buf[--n] = '\0';
	return r->buf;
}

/* append a line to a growing chunk (joined with newlines) */
static char *repl_join(char *chunk, const char *line)
{
	size_t have = chunk ? strlen(chunk) : 0, n = strlen(line);
	char *p = realloc(chunk, have + n + 2);
	if (!p) {
		free(chunk);
		return NULL;
	}
	if (chunk)
		p[have++] = '\n';
	memcpy(p + have, line, n + 1);
	return p;
}

/* Read a whole chunk: more lines while it is an incomplete Lua chunk (in a
 * service, for lines that are not meta-commands).  NULL at end of input;
 * "" after Ctrl-C.  Caller frees. */
static char *repl_chunk(struct repl *r)
{
	char *chunk = NULL;
	int intr;
	for (;;) {
		const char *line = repl_line(r, chunk ? ">> " : r->prompt, &intr);
		if (!line) {
			if (chunk && r->le)
				fputc('\n', stdout);
			if (chunk)
				return chunk;	/* an unfinished chunk at end of input: let it fail */
			return NULL;
		}
		if (intr) {
			free(chunk);
			return strdup("");
		}
		chunk = repl_join(chunk, line);
		if (!chunk || !r->service || chunk[0] == '.')
			return chunk;
		char *msg = NULL;
		int inc = repl_incomplete(r, chunk, &msg);
		free(msg);
		if (inc <= 0)
			return chunk;
	}
}

/* the chunk into the editor's history and the history file, once */
static void repl_remember(struct repl *r, const char *chunk)
{
	if (!r->le || !chunk[0])
		return;
	lineedit_save(r->le, chunk);
	history_append(r->hist, chunk);
}

/* run a Lua chunk in the current service and show the outcome */
void repl_eval_line(struct repl *r, const char *chunk)
{
	char *msg = NULL;
	struct repl_reply rep;
	if (repl_incomplete(r, chunk, &msg) != 0) {
		repl_show(r, stderr, '!', msg ? msg : "repl: out of memory");
		free(msg);
		repl_fail(r, 1);
		return;
	}
	repl_interrupted = 0;
	repl_eval_chunk(r->ev, r->service, chunk, &rep);
	repl_show(r, stdout, '<', rep.out);
	if (rep.status < 0) {
		repl_show(r, stderr, '!', "^C: the line was abandoned (the service may still run it)");
		repl_fail(r, 1);
	} else if (rep.status > 0) {
		repl_show(r, stderr, '!', rep.err);
		repl_fail(r, rep.status);
	}
	repl_reply_clear(&rep);
}

/* run a console command at the node prompt */
static void repl_command(struct repl *r, const char *line)
{
	char *out = NULL;
	const char *word = line + strspn(line, " \t");
	if (!r->c->hooks.command) {
		repl_show(r, stderr, '!', "the node prompt is not available yet: use .target ADDR");
		repl_fail(r, 2);
		return;
	}
	if (strncmp(word, "debug", 5) == 0 && (!word[5] || word[5] == ' ' || word[5] == '\t')) {
		repl_show(r, stderr, '!', "debug mode from the prompt: use .target ADDR (a Lua prompt) "
			  "or .watch PROTO there");
		repl_fail(r, 2);
		return;
	}
	repl_interrupted = 0;
	int st = r->c->hooks.command(r->c, line, 0, &out);
	history_log_put(r->log, '<', out ? out : "");
	free(out);
	repl_fail(r, st);
}

/* switch to service (0: the node prompt): attach first, stay put if that fails */
int repl_enter(struct repl *r, uint32_t service)
{
	char note[64];
	if (service) {
		struct repl_reply rep;
		repl_interrupted = 0;
		if (repl_eval_attach(r->ev, service, &rep) != 0) {
			repl_show(r, stderr, '!', rep.err ? rep.err : "cannot attach");
			int st = rep.status < 0 ? 1 : rep.status;
			repl_reply_clear(&rep);
			return st;
		}
		repl_reply_clear(&rep);
	}
	r->service = service;
	repl_set_prompt(r);
	if (service)
		snprintf(note, sizeof note, "service :%08x", (unsigned)service);
	else
		snprintf(note, sizeof note, "service -");
	if (r->entered++)	/* the transcript's header names the first one */
		history_log_put(r->log, '#', note);
	if (r->le) {
		history_close(r->hist);
		snprintf(note, sizeof note, ":%08x", (unsigned)service);
		r->hist = history_open(r->c->node, service ? note : NULL);
		history_each(r->hist, repl_history_load, r);
	}
	return 0;
}

/* the editor's history gets the file's entries */
void repl_history_load(void *ud, const char *entry)
{
	struct repl *r = ud;
	lineedit_save(r->le, entry);
}

/* set up what a terminal session has: editor, history, Ctrl-C handler */
static void repl_terminal(struct repl *r)
{
	struct sigaction sa = { .sa_handler = repl_sigint };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);	/* no SA_RESTART: waits see EINTR */
	r->le = lineedit_init("skyctl", repl_complete, r);
	if (!r->le)
		fprintf(stderr, "skyctl: no line editor on this terminal: plain input\n");
}

/* a session id for the transcript and the agent's session environment */
static void repl_session_id(struct repl *r, char *buf, size_t len)
{
	if (r->log)
		snprintf(buf, len, "%s", history_log_id(r->log));
	else
		snprintf(buf, len, "%ld-%ld", (long)time(NULL), (long)getpid());
}

static void repl_banner(struct repl *r)
{
	if (r->service)
		printf("skyctl repl: Lua in %s :%08x (names you set, locals too, stay in this "
		       "session; _G.x for globals)\n", r->c->node, (unsigned)r->service);
	else
		printf("skyctl repl: console of %s (.target ADDR for a Lua prompt in a service)\n",
		       r->c->node);
	printf(".help for commands, Tab completes, Ctrl-D leaves\n");
}

int repl_run(const struct repl_conf *c)
{
	struct repl r = { .c = c, .tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO),
			  .stop = &repl_interrupted };
	char id[64], svc[16];
	struct err err;
	snprintf(svc, sizeof svc, ":%08x", (unsigned)c->service);
	r.log = history_log_open(c->node, c->service ? svc : NULL, &err);
	if (!r.log && r.tty)
		fprintf(stderr, "skyctl: no transcript: %s\n", err.msg);
	repl_session_id(&r, id, sizeof id);
	r.L = luaL_newstate();
	r.ev = r.L ? repl_eval_new(c->addr, c->timeout, id, &repl_interrupted) : NULL;
	if (!r.ev) {
		fprintf(stderr, "skyctl: out of memory\n");
		r.status = 1;
		goto done;
	}
	if (r.tty)
		repl_terminal(&r);
	int st = repl_enter(&r, c->service);
	if (st != 0) {
		r.status = st;
		r.tty = 0;	/* a prompt that never started fails like a script */
		goto done;
	}
	if (r.tty)
		repl_banner(&r);
	for (char *chunk; !r.quit && (chunk = repl_chunk(&r)) != NULL; free(chunk)) {
		if (!chunk[0] || strspn(chunk, " \t") == strlen(chunk))
			continue;
		repl_remember(&r, chunk);
		history_log_put(r.log, '>', chunk);
		if (chunk[0] == '.' && chunk[1] != '.' && (chunk[1] < '0' || chunk[1] > '9'))
			repl_meta(&r, chunk);
		else if (r.service)
			repl_eval_line(&r, chunk);
		else
			repl_command(&r, chunk);
	}
	if (r.le && !r.quit)
		fputc('\n', stdout);
done:
	if (fflush(stdout) != 0 && r.status == 0)
		r.status = 1;
	repl_complete_free(&r);
	lineedit_free(r.le);
	history_close(r.hist);
	history_log_close(r.log);
	repl_eval_free(r.ev);
	if (r.L)
		lua_close(r.L);
	free(r.buf);
	return r.tty ? (r.status >= 3 && r.status <= 5 ? r.status : 0) : r.status;
}
