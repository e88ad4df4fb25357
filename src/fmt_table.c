/* fmt.h: a table's storage.  Its cells are in an arena (a few big chunks,
 * not one block each: a reply of millions of tiny cells costs about its
 * size) or in blocks it was given; a cell equal to the one above it is
 * that one. */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fmt.h"

/* a piece of the arena: its own bytes after it, or a block given */
struct fmt_chunk {
	struct fmt_chunk *next;
	char *p;
	size_t used, cap;
};

void fmt_table_init(struct fmt_table *t, const struct fmt_col *cols, int ncols)
{
	memset(t, 0, sizeof *t);
	t->cols = cols;
	t->ncols = ncols;
}

void fmt_table_free(struct fmt_table *t)
{
	for (struct fmt_chunk *c = t->arena, *next; c; c = next) {
		next = c->next;
		if (c->p != (char *)(c + 1))
			free(c->p);
		free(c);
	}
	free(t->cells);
	t->cells = NULL;
	t->arena = NULL;
	t->nrows = t->cap = 0;
}

int fmt_table_own(struct fmt_table *t, void *block, size_t len)
{
	struct fmt_chunk *c = malloc(sizeof *c);
	if (!c) {
		free(block);
		t->oom = 1;
		return -1;
	}
	*c = (struct fmt_chunk){ t->arena, block, len, len };
	t->arena = c;
	return 0;
}

/* n bytes from the arena; its chunks grow to 1 MiB */
static char *fmt_alloc(struct fmt_table *t, size_t n)
{
	struct fmt_chunk *c = t->arena;
	if (!c || c->p != (char *)(c + 1) || c->cap - c->used < n) {
		size_t cap = c && c->p == (char *)(c + 1) && c->cap < (1 << 20) ? c->cap * 2 : 4096;
		cap = cap < n ? n : cap;
		if (!(c = malloc(sizeof *c + cap)))
			return NULL;
		*c = (struct fmt_chunk){ t->arena, (char *)(c + 1), 0, cap };
		t->arena = c;
	}
	c->used += n;
	return c->p + c->used - n;
}

/* whether s is in a block the table was given (it is not copied) */
static int fmt_given(const struct fmt_table *t, const char *s)
{
	for (const struct fmt_chunk *c = t->arena; c; c = c->next)
		if (c->p != (const char *)(c + 1) && (uintptr_t)s - (uintptr_t)c->p < c->cap)
			return 1;
	return 0;
}

static int fmt_reserve(struct fmt_table *t, size_t rows)
{
	if (t->nrows + rows <= t->cap)
		return 0;
	size_t cap = t->cap ? t->cap : 16;
	while (cap < t->nrows + rows)
		cap *= 2;
	char **c = realloc(t->cells, cap * (size_t)t->ncols * sizeof *c);
	if (!c) {
		t->oom = 1;
		return -1;
	}
	t->cells = c;
	t->cap = cap;
	return 0;
}

void fmt_add_row(struct fmt_table *t, const char *const *vals)
{
	if (fmt_reserve(t, 1) != 0)
		return;
	size_t w = (size_t)t->ncols;
	char **row = t->cells + t->nrows * w, **above = t->nrows ? row - w : NULL;
	for (size_t i = 0; i < w; i++) {
		const char *v = vals[i];
		size_t l = v ? strlen(v) + 1 : 0;
		if (!v || fmt_given(t, v))
			row[i] = (char *)v;
		else if (above && above[i] && strcmp(above[i], v) == 0)
			row[i] = above[i];
		else if ((row[i] = fmt_alloc(t, l)))
			memcpy(row[i], v, l);
		else
			t->oom = 1;
	}
	t->nrows++;
}

void fmt_append(struct fmt_table *dst, struct fmt_table *src)
{
	if (!dst->nrows) {	/* the rows as they are: a big table is never held twice */
		free(dst->cells);
		dst->cells = src->cells;
		dst->nrows = src->nrows;
		dst->cap = src->cap;
		src->cells = NULL;
		src->nrows = 0;
	} else if (src->nrows && fmt_reserve(dst, src->nrows) == 0) {
		size_t k = src->nrows * (size_t)src->ncols;
		memcpy(dst->cells + dst->nrows * (size_t)dst->ncols, src->cells, k * sizeof *src->cells);
		dst->nrows += src->nrows;
		src->nrows = 0;
	}
	struct fmt_chunk **end = &src->arena;	/* the cells' storage goes with them */
	while (*end)
		end = &(*end)->next;
	*end = dst->arena;
	dst->arena = src->arena;
	src->arena = NULL;
	dst->oom |= src->oom;
	dst->hide_text |= src->hide_text;
	dst->hide_json |= src->hide_json;
	fmt_table_free(src);
}

void fmt_keep(struct fmt_table *t, int (*keep)(char *const *row, void *ud), void *ud)
{
	size_t n = 0, w = (size_t)t->ncols;
	for (size_t r = 0; r < t->nrows; r++) {
		char **row = t->cells + r * w;
		if (keep(row, ud))
			memmove(t->cells + n * w, row, w * sizeof *row), n++;
	}
	t->nrows = n;
}

int fmt_col_index(const struct fmt_table *t, const char *key)
{
	for (int i = 0; i < t->ncols; i++)
		if (strcasecmp(t->cols[i].key, key) == 0)
			return i;
	return -1;
}

int fmt_is_number(const char *s, double *v)
{
	char *end;
	if (!s || !*s || isspace((unsigned char)*s))
		return 0;
	*v = strtod(s, &end);
	return *end == '\0' && isfinite(*v);
}

/* sorting context: qsort has none, so rows are sorted as index arrays */
struct fmt_key {
	size_t row;
	const char *s;
	double v;
	int num;
};

static int fmt_key_cmp(const void *pa, const void *pb)
{
	const struct fmt_key *a = pa, *b = pb;
	int c;
	if (a->num != b->num)
		c = b->num - a->num;	/* numbers first */
	else if (a->num)
		c = a->v < b->v ? 1 : a->v > b->v ? -1 : 0;
	else
		c = strcmp(a->s ? a->s : "", b->s ? b->s : "");
	if (c == 0)
		c = a->row < b->row ? -1 : a->row > b->row;
	return c;
}

int fmt_sort(struct fmt_table *t, const char *key, struct err *e)
{
	int col = fmt_col_index(t, key);
	size_t w = (size_t)t->ncols;
	if (col < 0) {
		char keys[256] = "";
		for (int i = 0; i < t->ncols; i++)
			if (t->cols[i].type != FMT_LINES && !(t->hide_json & (1u << i)))
				snprintf(keys + strlen(keys), sizeof keys - strlen(keys), "%s%s",
					 *keys ? ", " : "", t->cols[i].key);
		return err_set(e, ERR_USAGE, "cannot sort by '%s' (one of: %s)", key, keys);
	}
	if (t->nrows < 2)
		return 0;
	int numeric = t->cols[col].type != FMT_STR && t->cols[col].type != FMT_LINES;
	struct fmt_key *k = malloc((t->nrows + 1) * sizeof *k);
	char **cells = malloc((t->nrows * w + 1) * sizeof *cells);
	if (!k || !cells) {
		free(k);
		free(cells);
		return err_set(e, ERR_LOCAL, "out of memory");
	}
	for (size_t r = 0; r < t->nrows; r++) {
		k[r].row = r;
		k[r].s = t->cells[r * w + (size_t)col];
		k[r].num = numeric && fmt_is_number(k[r].s, &k[r].v);
	}
	qsort(k, t->nrows, sizeof *k, fmt_key_cmp);
	for (size_t r = 0; r < t->nrows; r++)	/* the rows' pointers move, not their text */
		memcpy(cells + r * w, t->cells + k[r].row * w, w * sizeof *cells);
	free(k);
	free(t->cells);
	t->cells = cells;
	t->cap = t->nrows;
	return 0;
}
