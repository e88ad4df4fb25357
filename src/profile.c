/* Profiles of Lua stacks (profile.h): the request and its replies,
 * merging, the per-function table and the folded lines. */
#include "profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embed.h"
#include "wire.h"

extern const struct embed_file skyctl_lua[];

int profile_request(struct fmt_buf *b, double seconds, double hz)
{
	const struct embed_file *chunk = embed_find(skyctl_lua, "profile.lua");
	if (!chunk)
		return -1;
	wire_put_open(b);
	wire_put_cstr(b, "op");
	wire_put_cstr(b, "profile");
	wire_put_cstr(b, "chunk");
	wire_put_str(b, chunk->data, chunk->size);
	wire_put_cstr(b, "seconds");
	wire_put_num(b, seconds);
	wire_put_cstr(b, "hz");
	wire_put_num(b, hz);
	wire_put_cstr(b, "together");	/* a hub runs it in itself alongside the others */
	wire_put_bool(b, 1);
	wire_put_close(b);
	return 0;
}

void profile_add_reply(struct profile *p, const char *root, const struct wire_val *rep)
{
	const struct wire_val *st = wire_get(rep, "stacks");
	for (size_t k = 0; st && st->type == WIRE_TABLE && k < st->len; k++) {
		struct wire_val key = wire_key(st, k);
		if (key.type == WIRE_STR && wire_value(st, k)->type == WIRE_INT)
			profile_add(p, root, key.s, key.len, wire_value(st, k)->i);
	}
}

void profile_add(struct profile *p, const char *root, const char *stack, size_t len,
		 long long count)
{
	if (p->oom || count <= 0)
		return;
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 256;
		struct profile_stack *v = realloc(p->v, cap * sizeof *v);
		if (!v) {
			p->oom = 1;
			return;
		}
		p->v = v;
		p->cap = cap;
	}
	size_t rlen = root ? strlen(root) + 1 : 0;
	char *s = malloc(rlen + len + 1);
	if (!s) {
		p->oom = 1;
		return;
	}
	if (root) {
		memcpy(s, root, rlen - 1);
		s[rlen - 1] = ';';
	}
	memcpy(s + rlen, stack, len);
	s[rlen + len] = '\0';
	p->v[p->n++] = (struct profile_stack){ s, count };
	p->samples += count;
	p->sorted = 0;
}

static int profile_cmp_stack(const void *a, const void *b)
{
	return strcmp(((const struct profile_stack *)a)->frames,
		      ((const struct profile_stack *)b)->frames);
}

void profile_sort(struct profile *p)
{
	if (p->sorted || !p->n)
		return;
	qsort(p->v, p->n, sizeof *p->v, profile_cmp_stack);
	size_t k = 0;
	for (size_t i = 0; i < p->n; i++) {
		if (k && strcmp(p->v[k - 1].frames, p->v[i].frames) == 0) {
			p->v[k - 1].count += p->v[i].count;
			free(p->v[i].frames);
		} else {
			p->v[k++] = p->v[i];
		}
	}
	p->n = k;
	p->sorted = 1;
}

void profile_free(struct profile *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].frames);
	free(p->v);
	*p = (struct profile){ 0 };
}

/* one frame of one stack, for counting by function */
struct profile_ref {
	const char *f;
	size_t len;
	size_t stack;
	int leaf;
};

static int profile_cmp_ref(const void *a, const void *b)
{
	const struct profile_ref *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->f, y->f, n);
	if (c || x->len != y->len)
		return c ? c : (x->len < y->len ? -1 : 1);
	return x->stack < y->stack ? -1 : x->stack > y->stack;
}

static int profile_cmp_func(const void *a, const void *b)
{
	const struct profile_func *x = a, *y = b;
	if (x->self != y->self)
		return x->self > y->self ? -1 : 1;
	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	return 0;
}

struct profile_func *profile_funcs(struct profile *p, size_t *n)
{
	size_t nref = 0, k = 0;
	*n = 0;
	profile_sort(p);
	for (size_t i = 0; i < p->n; i++)
		for (const char *s = p->v[i].frames; s; s = strchr(s + 1, ';'))
			nref++;
	struct profile_ref *refs = malloc((nref ? nref : 1) * sizeof *refs);
	struct profile_func *fn = malloc((nref ? nref : 1) * sizeof *fn);
	if (!refs || !fn) {
		free(refs);
		free(fn);
		p->oom = 1;
		return NULL;
	}
	for (size_t i = 0; i < p->n; i++) {
		const char *s = p->v[i].frames;
		for (;;) {
			const char *e = strchr(s, ';');
			size_t len = e ? (size_t)(e - s) : strlen(s);
			refs[k++] = (struct profile_ref){ s, len, i, !e };
			if (!e)
				break;
			s = e + 1;
		}
	}
	qsort(refs, nref, sizeof *refs, profile_cmp_ref);
	for (size_t i = 0; i < nref; i++) {
		const struct profile_ref *r = &refs[i];
		long long c = p->v[r->stack].count;
		if (!*n || fn[*n - 1].len != r->len || memcmp(fn[*n - 1].frame, r->f, r->len)) {
			fn[(*n)++] = (struct profile_func){ r->f, r->len, 0, c };
		} else if (refs[i - 1].stack != r->stack) {
			fn[*n - 1].total += c;	/* a recursive function counts once per stack */
		}
		if (r->leaf)
			fn[*n - 1].self += c;
	}
	free(refs);
	qsort(fn, *n, sizeof *fn, profile_cmp_func);
	return fn;
}

void profile_frame_split(const char *frame, size_t len, char *name, size_t nlen, char *where,
			 size_t wlen)
{
	size_t cut = len, wstart = len, wend = len;
	if (len > 4 && memcmp(frame + len - 4, " [C]", 4) == 0) {
		cut = len - 4;
		wstart = len - 3;
		wend = len;
	} else if (len && frame[len - 1] == ')') {
		for (size_t i = len - 1; i-- > 1;) {
			if (frame[i] == '(' && frame[i - 1] == ' ') {
				cut = i - 1;
				wstart = i + 1;
				wend = len - 1;
				break;
			}
		}
	}
	snprintf(name, nlen, "%.*s", (int)cut, frame);
	snprintf(where, wlen, "%.*s", (int)(wend - wstart), frame + wstart);
}

const struct fmt_col profile_cols[4] = {
	{ "self", FMT_STR }, { "total", FMT_STR }, { "function", FMT_STR }, { "where", FMT_STR },
};

static int profile_in_top(const struct profile_func *fn, size_t n, size_t i, size_t top)
{
	if (i < top && fn[i].self > 0)
		return 1;
	size_t above = 0;	/* functions with a bigger total */
	for (size_t j = 0; j < n && above < top; j++)
		above += fn[j].total > fn[i].total;
	return above < top;
}

void profile_table(struct profile *p, size_t top, struct fmt_table *t)
{
	size_t n;
	struct profile_func *fn = profile_funcs(p, &n);
	double all = p->samples > 0 ? (double)p->samples : 1;
	fmt_table_init(t, profile_cols, 4);
	if (!fn) {
		t->oom = 1;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (!profile_in_top(fn, n, i, top))
			continue;
		char self[16], total[16], name[256], where[256];
		snprintf(self, sizeof self, "%.1f%%", 100.0 * (double)fn[i].self / all);
		snprintf(total, sizeof total, "%.1f%%", 100.0 * (double)fn[i].total / all);
		profile_frame_split(fn[i].frame, fn[i].len, name, sizeof name, where, sizeof where);
		const char *vals[4] = { self, total, name, where };
		fmt_add_row(t, vals);
	}
	free(fn);
}

void profile_folded(struct profile *p, struct fmt_buf *b)
{
	profile_sort(p);
	for (size_t i = 0; i < p->n; i++)
		fmt_printf(b, "%s %lld\n", p->v[i].frames, p->v[i].count);
}
