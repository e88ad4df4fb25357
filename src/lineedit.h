/* The line editor behind skyctl's prompt: four small wrappers around
 * libedit (init, read, save, free), so the REPL never touches the editor
 * library.  Emacs keys by default, vi keys and everything else from
 * ~/.editrc, Ctrl-R searches the history, Tab calls a completion hook. */
#ifndef LINEEDIT_H
#define LINEEDIT_H

#include <stddef.h>

struct lineedit;

/* Completion hook: line holds the len bytes before the cursor.  Store in
 * *start where the word being completed begins and in *out a malloc'd
 * array of malloc'd candidates (each replaces line[*start..len)); return
 * how many.  lineedit frees them. */
typedef size_t (*lineedit_complete_fn)(void *ud, const char *line, size_t len, size_t *start,
				       char ***out);

/* An editor on the terminal (stdin/stdout); prog names the ~/.editrc
 * section.  NULL if libedit cannot start. */
struct lineedit *lineedit_init(const char *prog, lineedit_complete_fn complete, void *ud);

/* Read one line after prompt, without its newline; the string lives until
 * the next call.  NULL at end of input (Ctrl-D on an empty line).  When
 * Ctrl-C discarded the line, returns "" with *interrupted set. */
const char *lineedit_read(struct lineedit *le, const char *prompt, int *interrupted);

/* add an entry (a whole chunk, newlines and all) to the in-memory history */
void lineedit_save(struct lineedit *le, const char *entry);

void lineedit_free(struct lineedit *le);

#endif
