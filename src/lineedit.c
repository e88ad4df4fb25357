/* libedit behind lineedit.h.  Choices worth knowing:
 * - Ctrl-C is a key, not a signal, while a line is edited: the terminal's
 *   isig flag is off in edit mode and ^C is bound to a function that
 *   discards the line.  No signal handler runs inside libedit.
 * - Our bindings (^R incremental search, Tab completion, ^C) are set
 *   before ~/.editrc is read, so it can override them; if it switches to
 *   vi keys (which resets the key maps) they are set again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <histedit.h>

#include "lineedit.h"

struct lineedit {
	EditLine *el;
	History *hist;
	char *prompt;
	char *line;		/* the last line read, without newline */
	int interrupted;
	lineedit_complete_fn complete;
	void *ud;
};

static char *lineedit_prompt(EditLine *el)
{
	struct lineedit *le = NULL;
	el_get(el, EL_CLIENTDATA, &le);
	return le && le->prompt ? le->prompt : "";
}

/* ^C: drop what was typed and end the line */
static unsigned char lineedit_interrupt(EditLine *el, int ch)
{
	struct lineedit *le = NULL;
	(void)ch;
	el_get(el, EL_CLIENTDATA, &le);
	le->interrupted = 1;
	fputs("^C", stdout);
	return CC_NEWLINE;
}

/* the longest prefix common to all n candidates */
static size_t lineedit_common(char **c, size_t n)
{
	size_t k = strlen(c[0]);
	for (size_t i = 1; i < n; i++) {
		size_t j = 0;
		while (j < k && c[i][j] == c[0][j])
			j++;
		k = j;
	}
	return k;
}

/* print candidates in columns under the line being edited */
static void lineedit_list(char **c, size_t n)
{
	size_t w = 0;
	for (size_t i = 0; i < n; i++)
		if (strlen(c[i]) > w)
			w = strlen(c[i]);
	size_t cols = 78 / (w + 2);
	cols = cols ? cols : 1;
	fputc('\n', stdout);
	for (size_t i = 0; i < n; i++)
		printf("%-*s%s", (int)w + 2, c[i], (i + 1) % cols == 0 || i + 1 == n ? "\n" : "");
}

/* Tab: insert what all candidates share; list them when that adds nothing */
static unsigned char lineedit_tab(EditLine *el, int ch)
{
	struct lineedit *le = NULL;
	(void)ch;
	el_get(el, EL_CLIENTDATA, &le);
	const LineInfo *li = el_line(el);
	size_t len = (size_t)(li->cursor - li->buffer), start = len;
	char **c = NULL, *before = strndup(li->buffer, len);
	size_t n = before ? le->complete(le->ud, before, len, &start, &c) : 0;
	unsigned char rc = CC_REFRESH_BEEP;
	if (n > 0 && start <= len) {
		size_t have = len - start, k = lineedit_common(c, n);
		if (k > have && strncmp(c[0], before + start, have) == 0) {
			char *ins = strndup(c[0] + have, k - have);
			if (ins && el_insertstr(el, ins) == 0)
				rc = CC_REFRESH;
			free(ins);
			if (n == 1 && rc == CC_REFRESH && strchr(".:", c[0][k - 1]) == NULL)
				el_insertstr(el, " ");
		} else if (n > 1) {
			lineedit_list(c, n);
			rc = CC_REDISPLAY;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(c[i]);
	free(c);
	free(before);
	return rc;
}

/* the bindings skyctl adds to whichever key map is current */
static void lineedit_bind(EditLine *el)
{
	el_set(el, EL_BIND, "^R", "em-inc-search-prev", NULL);
	el_set(el, EL_BIND, "^I", "skyctl-complete", NULL);
	el_set(el, EL_BIND, "^C", "skyctl-interrupt", NULL);
}

struct lineedit *lineedit_init(const char *prog, lineedit_complete_fn complete, void *ud)
{
	struct lineedit *le = calloc(1, sizeof *le);
	HistEvent ev;
	if (!le)
		return NULL;
	le->complete = complete;
	le->ud = ud;
	le->el = el_init(prog, stdin, stdout, stderr);
	le->hist = history_init();
	if (!le->el || !le->hist) {
		lineedit_free(le);
		return NULL;
	}
	history(le->hist, &ev, H_SETSIZE, 1000);
	history(le->hist, &ev, H_SETUNIQUE, 1);
	el_set(le->el, EL_CLIENTDATA, le);
	el_set(le->el, EL_EDITOR, "emacs");
	el_set(le->el, EL_PROMPT, lineedit_prompt);
	el_set(le->el, EL_HIST, history, le->hist);
	el_set(le->el, EL_SETTY, "-d", "-isig", NULL);
	/* the wide form keeps the (static) names: the narrow one leaks copies */
	el_wset(le->el, EL_ADDFN, L"skyctl-complete", L"complete a name", lineedit_tab);
	el_wset(le->el, EL_ADDFN, L"skyctl-interrupt", L"discard the line", lineedit_interrupt);
	lineedit_bind(le->el);
	el_source(le->el, NULL);
	const char *mode = NULL;
	if (el_get(le->el, EL_EDITOR, &mode) == 0 && mode && strcmp(mode, "vi") == 0)
		lineedit_bind(le->el);
	return le;
}

const char *lineedit_read(struct lineedit *le, const char *prompt, int *interrupted)
{
	int n = 0;
	free(le->prompt);
	le->prompt = strdup(prompt);
	le->interrupted = 0;
	const char *s = el_gets(le->el, &n);
	*interrupted = le->interrupted;
	if (!s || n <= 0) {
		if (le->interrupted)
			return "";
		return NULL;
	}
	free(le->line);
	le->line = strndup(s, (size_t)n);
	if (!le->line)
		return NULL;
	if (n > 0 && le->line[n - 1] == '\n')
		le->line[n - 1] = '\0';
	if (le->interrupted) {
		fputc('\n', stdout);
		fflush(stdout);
		le->line[0] = '\0';
	}
	return le->line;
}

void lineedit_save(struct lineedit *le, const char *entry)
{
	HistEvent ev;
	if (entry[0])
		history(le->hist, &ev, H_ENTER, entry);
}

void lineedit_free(struct lineedit *le)
{
	if (!le)
		return;
	if (le->el)
		el_end(le->el);
	if (le->hist)
		history_end(le->hist);
	free(le->prompt);
	free(le->line);
	free(le);
}
