/* wire.h: the wire format.  Decoding never runs code and bounds its
 * nesting, so a reply from any node is safe to read. */
#include "wire.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- encoding ---- */

void wire_put_str(struct fmt_buf *b, const char *s, size_t len)
{
	char head[32];
	int n = snprintf(head, sizeof head, "s%zu:", len);
	fmt_putn(b, head, (size_t)n);
	fmt_putn(b, s, len);
}

void wire_put_cstr(struct fmt_buf *b, const char *s)
{
	if (s)
		wire_put_str(b, s, strlen(s));
	else
		fmt_putn(b, "~", 1);
}

void wire_put_int(struct fmt_buf *b, long long v)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof tmp, "i%lld;", v);
	fmt_putn(b, tmp, (size_t)n);
}

void wire_put_num(struct fmt_buf *b, double v)
{
	char tmp[40];
	int n;
	if (isnan(v))
		n = snprintf(tmp, sizeof tmp, "d0/0;");
	else if (isinf(v))
		n = snprintf(tmp, sizeof tmp, "d%s1e999;", v < 0 ? "-" : "");
	else
		n = snprintf(tmp, sizeof tmp, "d%.17g;", v);
	fmt_putn(b, tmp, (size_t)n);
}

void wire_put_bool(struct fmt_buf *b, int v)
{
	fmt_putn(b, v ? "t" : "f", 1);
}

void wire_put_raw(struct fmt_buf *b, const char *wire, size_t len)
{
	fmt_putn(b, wire, len);
}

void wire_put_open(struct fmt_buf *b)
{
	fmt_putn(b, "{", 1);
}

void wire_put_close(struct fmt_buf *b)
{
	fmt_putn(b, "}", 1);
}
/* ---- decoding ---- */

/* the text being decoded, and the keys and values of the tables being
 * decoded: a table takes its own from the top of these stacks when it
 * closes, so each gets arrays of its exact size (a reply from a thousand
 * services has tens of thousands of small tables); one that is most of a
 * stack takes the stack itself, so that a big table is never held twice */
struct wire_in {
	char *s;
	size_t len, pos;
	struct wire_val *ks, *vs;	/* keys, values */
	size_t top, cap;
};

/* the text from pos up to (not including) the next c; -1 if none */
static long wire_until(struct wire_in *in, char c)
{
	const char *end = memchr(in->s + in->pos, c, in->len - in->pos);
	return end ? end - in->s : -1;
}

static void wire_val_clear(struct wire_val *v)
{
	if (v->type == WIRE_TABLE) {
		for (size_t i = 0; i < v->len; i++) {
			wire_val_clear(&v->k[i]);
			wire_val_clear(&v->v[i]);
		}
		free(v->k);
		free(v->v);
	}
	memset(v, 0, sizeof *v);
}

/* push a table entry being decoded; 0 or -1 */
static int wire_push(struct wire_in *in, const struct wire_val *k, const struct wire_val *x)
{
	if (in->top == in->cap) {
		size_t cap = in->cap ? in->cap * 2 : 32;
		struct wire_val *ks = realloc(in->ks, cap * sizeof *ks), *vs;
		if (ks)
			in->ks = ks;
		if (!ks || !(vs = realloc(in->vs, cap * sizeof *vs)))
			return -1;
		in->vs = vs;
		in->cap = cap;
	}
	in->ks[in->top] = *k;
	in->vs[in->top++] = *x;
	return 0;
}

/* stack[keep..keep+n) moved to its start and the block shrunk to them */
static struct wire_val *wire_shrink(struct wire_val *stack, size_t keep, size_t n)
{
	memmove(stack, stack + keep, n * sizeof *stack);
	struct wire_val *p = realloc(stack, n * sizeof *p);
	return p ? p : stack;
}

/* the table v of the top n entries, popped: copies of them, or for a big
 * table that is most of the stacks the stacks themselves (the entries
 * below it are copied to new ones); -1 (nothing popped) if out of memory */
static int wire_table(struct wire_in *in, struct wire_val *v, size_t n)
{
	size_t base = in->top - n;
	int big = n >= base && in->cap >= 4096;
	size_t m = big ? (base ? base : 1) : n;
	struct wire_val *k = malloc(m * sizeof *k), *x = malloc(m * sizeof *x);
	if (!k || !x) {
		free(k);
		free(x);
		return -1;
	}
	if (big) {
		memcpy(k, in->ks, base * sizeof *k);
		memcpy(x, in->vs, base * sizeof *x);
		v->k = wire_shrink(in->ks, base, n);
		v->v = wire_shrink(in->vs, base, n);
		in->ks = k;
		in->vs = x;
		in->cap = m;
	} else {
		memcpy(k, in->ks + base, n * sizeof *k);
		memcpy(x, in->vs + base, n * sizeof *x);
		v->k = k;
		v->v = x;
	}
	v->len = n;
	in->top = base;
	return 0;
}

/* decode one value at in->pos into v; 0 or -1 (v is then cleared) */
static int wire_dec(struct wire_in *in, struct wire_val *v, int depth)
{
	memset(v, 0, sizeof *v);
	if (in->pos >= in->len || depth > 64)
		return -1;
	char c = in->s[in->pos++];
	if (c == '~' || c == 't' || c == 'f') {
		v->type = c == '~' ? WIRE_NIL : WIRE_BOOL;
		v->i = c == 't';
		return 0;
	}
	if (c == 'i' || c == 'd') {
		long end = wire_until(in, ';');
		if (end < 0 || (size_t)end - in->pos > 40)
			return -1;
		char tmp[48];
		memcpy(tmp, in->s + in->pos, (size_t)end - in->pos);
		tmp[end - in->pos] = '\0';
		in->pos = (size_t)end + 1;
		char *stop;
		if (c == 'i') {
			v->type = WIRE_INT;
			v->i = strtoll(tmp, &stop, 10);
		} else {
			v->type = WIRE_NUM;
			v->d = strcmp(tmp, "0/0") == 0 ? NAN : strtod(tmp, &stop);
			if (strcmp(tmp, "0/0") == 0)
				stop = tmp + 3;
		}
		return *stop || !tmp[0] ? -1 : 0;
	}
	if (c == 's') {
		long colon = wire_until(in, ':');
		if (colon < 0)
			return -1;
		char *stop;
		unsigned long long n = strtoull(in->s + in->pos, &stop, 10);
		if (stop != in->s + colon || n > in->len - (size_t)colon - 1)
			return -1;
		/* over the ':', so that the NUL goes where its last byte was */
		v->s = in->s + colon;
		memmove(v->s, v->s + 1, n);
		v->s[n] = '\0';
		v->len = n;
		v->type = WIRE_STR;
		in->pos = (size_t)colon + 1 + n;
		return 0;
	}
	if (c != '{')
		return -1;
	v->type = WIRE_TABLE;
	size_t base = in->top;
	while (in->pos < in->len && in->s[in->pos] != '}') {
		struct wire_val k, x;
		if (wire_dec(in, &k, depth + 1))
			goto fail;
		if (wire_dec(in, &x, depth + 1) || wire_push(in, &k, &x)) {
			wire_val_clear(&k);
			wire_val_clear(&x);
			goto fail;
		}
	}
	if (in->pos >= in->len)
		goto fail;
	in->pos++;
	if (in->top > base && wire_table(in, v, in->top - base) != 0)
		goto fail;
	return 0;
fail:
	while (in->top > base) {
		in->top--;
		wire_val_clear(&in->ks[in->top]);
		wire_val_clear(&in->vs[in->top]);
	}
	wire_val_clear(v);
	return -1;
}

/* a decoded tree's root, and the text its strings are in */
struct wire_root {
	struct wire_val v;	/* first: a root's address is its value's */
	void *own;
};

struct wire_val *wire_decode(char *s, size_t len, void *own)
{
	struct wire_in in = { s, len, 0, NULL, NULL, 0, 0 };
	struct wire_root *r = malloc(sizeof *r);
	if (!r)
		return NULL;
	int bad = wire_dec(&in, &r->v, 0) || in.pos != len;
	free(in.ks);
	free(in.vs);
	if (bad) {
		wire_val_clear(&r->v);
		free(r);
		return NULL;
	}
	r->own = own;
	return &r->v;
}

void wire_val_free(struct wire_val *v)
{
	if (v) {
		struct wire_root *r = (struct wire_root *)v;
		wire_val_clear(v);
		free(r->own);
		free(r);
	}
}

const struct wire_val *wire_get(const struct wire_val *t, const char *key)
{
	if (!t || t->type != WIRE_TABLE)
		return NULL;
	for (size_t i = 0; i < t->len; i++)
		if (t->k[i].type == WIRE_STR && strcmp(t->k[i].s, key) == 0)
			return t->v[i].type == WIRE_NIL ? NULL : &t->v[i];
	return NULL;
}

const struct wire_val *wire_at(const struct wire_val *t, long long i)
{
	if (!t || t->type != WIRE_TABLE)
		return NULL;
	/* replies list entries in order, so entry i is usually at i - 1 */
	if (i >= 1 && (size_t)i <= t->len && t->k[i - 1].type == WIRE_INT && t->k[i - 1].i == i)
		return &t->v[i - 1];
	for (size_t j = 0; j < t->len; j++)
		if (t->k[j].type == WIRE_INT && t->k[j].i == i)
			return t->v[j].type == WIRE_NIL ? NULL : &t->v[j];
	return NULL;
}

size_t wire_count(const struct wire_val *t)
{
	size_t n = 0;
	while (wire_at(t, (long long)n + 1))
		n++;
	return n;
}

const char *wire_gets(const struct wire_val *t, const char *key, const char *dflt)
{
	const struct wire_val *v = wire_get(t, key);
	return v && v->type == WIRE_STR ? v->s : dflt;
}

long long wire_geti(const struct wire_val *t, const char *key, long long dflt)
{
	const struct wire_val *v = wire_get(t, key);
	if (v && v->type == WIRE_INT)
		return v->i;
	if (v && v->type == WIRE_NUM)
		return (long long)v->d;
	return dflt;
}

int wire_getb(const struct wire_val *t, const char *key)
{
	const struct wire_val *v = wire_get(t, key);
	return v && !(v->type == WIRE_BOOL && !v->i);
}

