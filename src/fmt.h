/* Output: tables of typed cells rendered into a buffer (formatters never
 * print) as an aligned table with a header (a terminal), tab-separated
 * lines without decoration (a pipe), or a JSON array of objects. */
#ifndef FMT_H
#define FMT_H

#include <stddef.h>
#include <stdio.h>

#include "err.h"

enum fmt_mode { FMT_TABLE, FMT_TSV, FMT_JSON };

enum fmt_type {
	FMT_STR,
	FMT_INT,		/* JSON integer (null if the cell is not one) */
	FMT_NUM,		/* JSON number (null if the cell is not one) */
	FMT_BYTES,		/* an integer count of bytes; human units in a table */
	FMT_BOOL,		/* "true"/"false" */
	FMT_LINES,		/* text of '\n'-separated lines: one output line each, a JSON array */
	FMT_RAW,		/* JSON text, as it is (only in JSON output) */
};

struct fmt_col {
	const char *key;	/* JSON key; the table header is its upper case */
	enum fmt_type type;
};

struct fmt_buf {
	char *p;
	size_t len, cap;
	int oom;
	FILE *sink;		/* if set, what p holds goes there in 64 KiB pieces */
	size_t sent;		/* the bytes that went there */
};

void fmt_puts(struct fmt_buf *b, const char *s);
void fmt_putn(struct fmt_buf *b, const char *s, size_t n);
void fmt_printf(struct fmt_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fmt_buf_free(struct fmt_buf *b);

/* Text from a node, as a terminal may show it: s[0..n) with ESC as \e,
 * tab, CR and newline as \t \r \n, other C0 controls and DEL as \xHH,
 * C1 controls (U+0080..U+009F) as \u00HH and each byte that is not UTF-8
 * as \xHH; the control bytes in keep (e.g. "\n\t") stay as they are.
 * fmt_safe_len: the length of the prefix that needs none of that. */
void fmt_safe(struct fmt_buf *b, const char *s, size_t n, const char *keep);
size_t fmt_safe_len(const char *s, size_t n, const char *keep);

/* fmt_safe to f (stdout, stderr) */
void fmt_fsafe(FILE *f, const char *s, size_t n, const char *keep);

struct fmt_table {
	const struct fmt_col *cols;
	int ncols;
	char **cells;		/* nrows * ncols strings in arena (NULL: empty) */
	size_t nrows, cap;
	struct fmt_chunk *arena;	/* what the cells are in (fmt_table.c) */
	unsigned hide_text;	/* bit i: leave column i out of table and TSV output */
	unsigned hide_json;	/* bit i: leave column i out of JSON output */
	int bytes;		/* TSV: cells as they are, not made safe (fmt_safe) */
	int oom;
};

void fmt_table_init(struct fmt_table *t, const struct fmt_col *cols, int ncols);
void fmt_table_free(struct fmt_table *t);

/* append a row; vals has ncols entries (NULL for empty), copied but for
 * those in a block the table owns */
void fmt_add_row(struct fmt_table *t, const char *const *vals);

/* the table owns block (len bytes, malloc'd; freed with it, or now if
 * this fails: -1), so rows may point into it without copies */
int fmt_table_own(struct fmt_table *t, void *block, size_t len);

/* move every row of src (same columns) to the end of dst */
void fmt_append(struct fmt_table *dst, struct fmt_table *src);

/* keep the rows for which keep(its ncols cells, ud) is true, in order */
void fmt_keep(struct fmt_table *t, int (*keep)(char *const *row, void *ud), void *ud);

/* column index of key (case-insensitive), or -1 */
int fmt_col_index(const struct fmt_table *t, const char *key);

/* stable sort by column key, in place (no memory of its own): numbers
 * descending (biggest first), text ascending; -1 (ERR_USAGE) naming the
 * valid keys if key is unknown */
int fmt_sort(struct fmt_table *t, const char *key, struct err *e);

/* render t in mode into out; color adds ANSI bold to the table header */
void fmt_render(const struct fmt_table *t, enum fmt_mode mode, int color, struct fmt_buf *out);

/* whether s is a finite number, *v */
int fmt_is_number(const char *s, double *v);

/* "45.85 Kb" style sizes (as `mem` prints them) to bytes; -1 if not one */
long long fmt_parse_size(const char *s);

#endif
