/* wire.h: the wire format.  Decoding never runs code and bounds its
 * nesting, so a reply from any node is safe to read. */
#include "wire.h"

#include <errno.h>
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
 * decoded: a table takes its own from the top of this stack when it
 * closes, so each gets an array of its exact size (a reply from a thousand
 * services has tens of thousands of small tables); one that is most of the
 * stack takes the stack itself, so that a big table is never held twice */
struct wire_in {
	char *s;
	size_t len, pos;
	struct wire_val *st;
	size_t top, cap;
	size_t values, max_values;	/* kept so far (a list's keys are not), allowed */
};

/* the text from pos up to (not including) the next c; -1 if none */
static long wire_until(struct wire_in *in, char c)
{
	const char *end = memchr(in->s + in->pos, c, in->len - in->pos);
	return end ? end - in->s : -1;
}

/* the number of values in table v's kv */
static size_t wire_slots(const struct wire_val *v)
{
	return v->list ? v->len : 2 * v->len;
}

static void wire_val_clear(struct wire_val *v)
{
	if (v->type == WIRE_TABLE) {
		for (size_t i = 0; i < wire_slots(v); i++)
			wire_val_clear(&v->kv[i]);
		free(v->kv);
	}
	memset(v, 0, sizeof *v);
}

/* room for n more values on the stack; 0 or -1 */
static int wire_room(struct wire_in *in, size_t n)
{
	if (in->top + n <= in->cap)
		return 0;
	size_t cap = in->cap ? in->cap : 32;
	while (cap < in->top + n)
		cap *= 2;
	struct wire_val *st = realloc(in->st, cap * sizeof *st);
	if (!st)
		return -1;
	in->st = st;
	in->cap = cap;
	return 0;
}

/* the list of n values at base becomes pairs: its keys 1..n go in */
static int wire_unlist(struct wire_in *in, size_t base, size_t n)
{
	if (wire_room(in, n) != 0)
		return -1;
	for (size_t j = n; j-- > 0;) {
		in->st[base + 2 * j + 1] = in->st[base + j];
		in->st[base + 2 * j] = (struct wire_val){ .type = WIRE_INT, .i = (long long)j + 1 };
	}
	in->top += n;
	in->values += n;
	return 0;
}

/* table v takes the values from base up, popped: a copy of them, or for a
 * big table that is most of the stack the stack itself (the values below
 * it are copied to a new one); -1 (nothing popped) if out of memory */
static int wire_table(struct wire_in *in, struct wire_val *v, size_t base)
{
	size_t n = in->top - base;
	int big = n >= base && in->cap >= 4096;
	size_t m = big ? (base ? base : 1) : n;
	struct wire_val *x = malloc(m * sizeof *x);
	if (!x)
		return -1;
	if (big) {
		memcpy(x, in->st, base * sizeof *x);
		memmove(in->st, in->st + base, n * sizeof *x);
		struct wire_val *p = realloc(in->st, n * sizeof *p);
		v->kv = p ? p : in->st;
		in->st = x;
		in->cap = m;
	} else {
		memcpy(x, in->st + base, n * sizeof *x);
		v->kv = x;
	}
	in->top = base;
	return 0;
}

static int wire_dec(struct wire_in *in, struct wire_val *v, int depth);

/* decode a table's pairs up to its '}' onto the stack, keys 1, 2... left
 * out while they come in that order with values (a list: its count is
 * its len); 0 or -1 */
static int wire_dec_pairs(struct wire_in *in, struct wire_val *v, int depth)
{
	size_t base = in->top, n = 0;
	v->list = 1;
	while (in->pos < in->len && in->s[in->pos] != '}') {
		struct wire_val k, x;
		if (wire_dec(in, &k, depth + 1))
			return -1;
		if (wire_dec(in, &x, depth + 1) || wire_room(in, 2) != 0) {
			wire_val_clear(&k);
			wire_val_clear(&x);
			return -1;
		}
		if (v->list && !(k.type == WIRE_INT && k.i == (long long)n + 1 &&
				 x.type != WIRE_NIL)) {
			if (wire_unlist(in, base, n) != 0 || wire_room(in, 2) != 0) {
				wire_val_clear(&k);
				wire_val_clear(&x);
				return -1;
			}
			v->list = 0;
		}
		if ((in->values += v->list ? 1 : 2) > in->max_values) {
			wire_val_clear(&k);
			wire_val_clear(&x);
			errno = E2BIG;
			return -1;
		}
		if (!v->list)
			in->st[in->top++] = k;
		in->st[in->top++] = x;
		n++;
	}
	v->len = n;
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
	if (wire_dec_pairs(in, v, depth) != 0 || in->pos >= in->len)
		goto fail;
	in->pos++;
	if (in->top > base && wire_table(in, v, base) != 0)
		goto fail;
	return 0;
fail:
	while (in->top > base)
		wire_val_clear(&in->st[--in->top]);
	memset(v, 0, sizeof *v);
	return -1;
}

/* a decoded tree's root, and the text its strings are in */
struct wire_root {
	struct wire_val v;	/* first: a root's address is its value's */
	void *own;
};

struct wire_val *wire_decode(char *s, size_t len, size_t max_values, void *own)
{
	struct wire_in in = { s, len, 0, NULL, 0, 0, 0, max_values };
	struct wire_root *r = malloc(sizeof *r);
	if (!r)
		return NULL;
	int bad = wire_dec(&in, &r->v, 0) || in.pos != len;
	free(in.st);
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

const char *wire_str(const struct wire_val *v)
{
	return v && v->type == WIRE_STR ? v->s : NULL;
}

struct wire_val wire_key(const struct wire_val *t, size_t i)
{
	if (t->list)
		return (struct wire_val){ .type = WIRE_INT, .i = (long long)i + 1 };
	return t->kv[2 * i];
}

const struct wire_val *wire_value(const struct wire_val *t, size_t i)
{
	return &t->kv[t->list ? i : 2 * i + 1];
}

const struct wire_val *wire_get(const struct wire_val *t, const char *key)
{
	if (!t || t->type != WIRE_TABLE || t->list)
		return NULL;
	for (size_t i = 0; i < t->len; i++)
		if (t->kv[2 * i].type == WIRE_STR && strcmp(t->kv[2 * i].s, key) == 0)
			return t->kv[2 * i + 1].type == WIRE_NIL ? NULL : &t->kv[2 * i + 1];
	return NULL;
}

const struct wire_val *wire_at(const struct wire_val *t, long long i)
{
	const struct wire_val *v = NULL;
	if (!t || t->type != WIRE_TABLE)
		return NULL;
	if (i >= 1 && (size_t)i <= t->len)	/* a list's entry i, or most often a table's */
		v = t->list ? &t->kv[i - 1] : t->kv[2 * i - 2].type == WIRE_INT &&
			t->kv[2 * i - 2].i == i ? &t->kv[2 * i - 1] : NULL;
	for (size_t j = 0; !t->list && !v && j < t->len; j++)
		if (t->kv[2 * j].type == WIRE_INT && t->kv[2 * j].i == i)
			v = &t->kv[2 * j + 1];
	return v && v->type != WIRE_NIL ? v : NULL;
}

size_t wire_count(const struct wire_val *t)
{
	size_t n = 0;
	if (t && t->type == WIRE_TABLE && t->list)
		return t->len;
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

