/* Tab completion at the prompt: meta-commands (".ta" -> ".target"); at the
 * node prompt, console command names and then service addresses (from
 * `list`, fetched once per prompt); in a service, remote names: globals and
 * session names, or the fields of the table a dotted path names
 * ("_P.lua.CM" -> "CMD"), asked of the service itself. */
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "repl_eval.h"
#include "repl_int.h"

/* the stock console commands (docs/protocol.md), less debug: see repl_command */
static const char *const repl_console_cmds[] = {
	"call", "clearcache", "cmem", "dbgcmd", "dumpheap", "exit", "gc", "getenv", "help",
	"info", "inject", "jmem", "kill", "killtask", "list", "log", "logoff", "logon", "mem",
	"netstat", "ping", "profactive", "service", "setenv", "signal", "snax", "start", "stat",
	"task", "trace", "uniqtask", NULL,
};

/* keep the candidates starting with prefix (n bytes); returns the count.
 * A name a terminal would act on (a service's global "\e[2J") is no
 * candidate: the line editor shows candidates as they are. */
static size_t repl_keep(char **c, size_t n, const char *prefix, size_t plen)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(c[i]);
		if (strncmp(c[i], prefix, plen) == 0 && fmt_safe_len(c[i], l, "") == l)
			c[k++] = c[i];
		else
			free(c[i]);
	}
	return k;
}

/* copies of the NULL-terminated names (or next(i) until NULL) starting with prefix */
static size_t repl_from(const char *const *names, const char *(*next)(size_t), const char *prefix,
			size_t plen, char ***out)
{
	size_t n = 0, cap = 0;
	for (size_t i = 0;; i++) {
		const char *s = names ? names[i] : next(i);
		if (!s)
			break;
		if (strncmp(s, prefix, plen) != 0 || fmt_safe_len(s, strlen(s), "") != strlen(s))
			continue;
		if (n == cap) {
			char **p = realloc(*out, (cap = cap ? 2 * cap : 16) * sizeof *p);
			if (!p)
				break;
			*out = p;
		}
		if (((*out)[n] = strdup(s)))
			n++;
	}
	return n;
}

/* the node's addresses (":0000000a"), from `list`, once per node prompt */
static void repl_addresses(struct repl *r)
{
	char *out = NULL;
	if (r->addrs || !r->c->hooks.command || r->c->hooks.command(r->c, "list", 1, &out) != 0) {
		free(out);
		return;
	}
	size_t cap = 0;
	for (char *line = out, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (line[0] != ':' || strcspn(line, "\t") != 9)
			continue;
		if (r->naddrs == cap) {
			char **p = realloc(r->addrs, (cap = cap ? 2 * cap : 64) * sizeof *p);
			if (!p)
				break;
			r->addrs = p;
		}
		if ((r->addrs[r->naddrs] = strndup(line, 9)))
			r->naddrs++;
	}
	free(out);
	if (r->addrs) {
		char **p = realloc(r->addrs, (r->naddrs + 1) * sizeof *p);
		r->addrs = p ? p : r->addrs;
		r->addrs[r->naddrs] = NULL;
	}
}

void repl_complete_free(struct repl *r)
{
	for (size_t i = 0; i < r->naddrs; i++)
		free(r->addrs[i]);
	free(r->addrs);
	r->addrs = NULL;
	r->naddrs = 0;
}

/* the dotted name ending at len ("_P.lua.CM"), as its start offset */
static size_t repl_expr_start(const char *line, size_t len)
{
	size_t s = len;
	while (s > 0 && (strchr("_.:", line[s - 1]) || (line[s - 1] >= 'a' && line[s - 1] <= 'z') ||
			 (line[s - 1] >= 'A' && line[s - 1] <= 'Z') ||
			 (line[s - 1] >= '0' && line[s - 1] <= '9')))
		s--;
	return s;
}

size_t repl_complete(void *ud, const char *line, size_t len, size_t *start, char ***out)
{
	struct repl *r = ud;
	size_t word = len;
	while (word > 0 && line[word - 1] != ' ' && line[word - 1] != '\t')
		word--;
	int first = strspn(line, " \t") == word;
	*out = NULL;
	*start = word;
	if (first && line[word] == '.')
		return repl_from(NULL, repl_meta_name, line + word, len - word, out);
	if (!r->service || strncmp(line, ".t", 2) == 0) {
		if (first)
			return repl_from(repl_console_cmds, NULL, line + word, len - word, out);
		repl_addresses(r);
		return r->addrs ? repl_from((const char *const *)r->addrs, NULL, line + word,
					    len - word, out) : 0;
	}
	size_t s = repl_expr_start(line, len), last = s;
	if (s < len && line[s] >= '0' && line[s] <= '9')
		return 0;
	for (size_t i = s; i < len; i++)
		if (line[i] == '.' || line[i] == ':')
			last = i + 1;
	char *expr = strndup(line + s, len - s);
	size_t n = expr ? repl_eval_names(r->ev, r->service, expr, out) : 0;
	free(expr);
	*start = last;
	return repl_keep(*out, n, line + last, len - last);
}
