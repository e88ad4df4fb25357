/* fmt.h: a table's storage and its order.  Its cells are in an arena (a
 * few big chunks, not one block each: a reply of millions of tiny cells
 * costs about its size) or in blocks it was given; a cell equal to the
 * one above it is that one. */
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

/* Sorting moves the rows' pointers in place, stably (ties keep their
 * order), with no memory of its own: a table of millions of rows is
 * sorted where it is.  Insertion sort of short runs, then runs merged by
 * rotations (SymMerge: Kim and Kutzner, 2004), as Go's sort.Stable. */
struct fmt_order {
	struct fmt_table *t;
	size_t col;
	int numeric;
};

/* row a goes before row b: numbers first (biggest first), then text */
static int fmt_less(const struct fmt_order *o, size_t a, size_t b)
{
	size_t w = (size_t)o->t->ncols;
	const char *x = o->t->cells[a * w + o->col], *y = o->t->cells[b * w + o->col];
	double u, v;
	int nx = o->numeric && fmt_is_number(x, &u), ny = o->numeric && fmt_is_number(y, &v);
	if (nx != ny)
		return nx;
	return nx ? u > v : strcmp(x ? x : "", y ? y : "") < 0;
}

static void fmt_swap(const struct fmt_order *o, size_t a, size_t b)
{
	size_t w = (size_t)o->t->ncols;
	char **x = o->t->cells + a * w, **y = o->t->cells + b * w;
	for (size_t i = 0; i < w; i++) {
		char *c = x[i];
		x[i] = y[i];
		y[i] = c;
	}
}

/* rows [lo, hi) in reverse order */
static void fmt_reverse(const struct fmt_order *o, size_t lo, size_t hi)
{
	while (lo + 1 < hi)
		fmt_swap(o, lo++, --hi);
}

/* the sorted rows [a, m) and [m, b) merged */
static void fmt_merge(const struct fmt_order *o, size_t a, size_t m, size_t b)
{
	size_t lo, hi, h;
	if (!fmt_less(o, m, m - 1))	/* in order already */
		return;
	if (m - a == 1) {	/* row a after the rows of [m, b) not after it */
		for (lo = m, hi = b; lo < hi;)
			if (h = lo + (hi - lo) / 2, fmt_less(o, h, a))
				lo = h + 1;
			else
				hi = h;
		for (size_t k = a; k + 1 < lo; k++)
			fmt_swap(o, k, k + 1);
		return;
	}
	if (b - m == 1) {	/* row m before the rows of [a, m) after it */
		for (lo = a, hi = m; lo < hi;)
			if (h = lo + (hi - lo) / 2, !fmt_less(o, m, h))
				lo = h + 1;
			else
				hi = h;
		for (size_t k = m; k > lo; k--)
			fmt_swap(o, k, k - 1);
		return;
	}
	size_t mid = a + (b - a) / 2, n = mid + m;
	for (lo = m > mid ? n - b : a, hi = m > mid ? mid : m; lo < hi;)
		if (h = lo + (hi - lo) / 2, !fmt_less(o, n - 1 - h, h))
			lo = h + 1;
		else
			hi = h;
	size_t end = n - lo;
	if (lo < m && m < end) {	/* [lo, m) and [m, end) swapped */
		fmt_reverse(o, lo, m);
		fmt_reverse(o, m, end);
		fmt_reverse(o, lo, end);
	}
	if (a < lo && lo < mid)
		fmt_merge(o, a, lo, mid);
	if (mid < end && end < b)
		fmt_merge(o, mid, end, b);
}

int fmt_sort(struct fmt_table *t, const char *key, struct err *e)
{
	int col = fmt_col_index(t, key);
	if (col < 0) {
		char keys[256] = "";
		for (int i = 0; i < t->ncols; i++)
			if (t->cols[i].type != FMT_LINES && !(t->hide_json & (1u << i)))
				snprintf(keys + strlen(keys), sizeof keys - strlen(keys), "%s%s",
					 *keys ? ", " : "", t->cols[i].key);
		return err_set(e, ERR_USAGE, "cannot sort by '%s' (one of: %s)", key, keys);
	}
	struct fmt_order o = { t, (size_t)col, t->cols[col].type != FMT_STR &&
			       t->cols[col].type != FMT_LINES };
	size_t n = t->nrows, run = 16;
	for (size_t a = 0; a < n; a += run)
		for (size_t i = a + 1; i < a + run && i < n; i++)
			for (size_t j = i; j > a && fmt_less(&o, j, j - 1); j--)
				fmt_swap(&o, j, j - 1);
	for (; run < n; run *= 2)
		for (size_t a = 0; a + run < n; a += 2 * run)
			fmt_merge(&o, a, a + run, a + 2 * run < n ? a + 2 * run : n);
	return 0;
}
