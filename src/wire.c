/* wire.h: the wire format.  Decoding never runs code and bounds its
 * nesting, so a reply from any node is safe to read. */
#include "wire.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
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

/* add pair k, x to table v, whose values so far (v->len of them) are on
 * the stack from base: keys 1, 2... left out while they come in that order
 * with values (a list: its count is its len); 0 or -1 (k and x cleared) */
static int wire_add_pair(struct wire_in *in, struct wire_val *v, size_t base,
			 struct wire_val *k, struct wire_val *x)
{
	size_t n = v->len;
	if (wire_room(in, 2) != 0)
		goto fail;
	if (v->list && !(k->type == WIRE_INT && k->i == (long long)n + 1 &&
			 x->type != WIRE_NIL)) {
		if (wire_unlist(in, base, n) != 0 || wire_room(in, 2) != 0)
			goto fail;
		v->list = 0;
	}
	if ((in->values += v->list ? 1 : 2) > in->max_values) {
		errno = E2BIG;
		goto fail;
	}
	if (!v->list)
		in->st[in->top++] = *k;
	in->st[in->top++] = *x;
	v->len = n + 1;
	return 0;
fail:
	wire_val_clear(k);
	wire_val_clear(x);
	return -1;
}

/* decode a table's pairs up to its '}' onto the stack; 0 or -1 */
static int wire_dec_pairs(struct wire_in *in, struct wire_val *v, int depth)
{
	size_t base = in->top;
	v->list = 1;
	while (in->pos < in->len && in->s[in->pos] != '}') {
		struct wire_val k, x;
		if (wire_dec(in, &k, depth + 1))
			return -1;
		if (wire_dec(in, &x, depth + 1)) {
			wire_val_clear(&k);
			return -1;
		}
		if (wire_add_pair(in, v, base, &k, &x) != 0)
			return -1;
	}
	return 0;
}

/* a table v left unfinished: its values on the stack from base popped,
 * v cleared; -1 */
static int wire_drop(struct wire_in *in, struct wire_val *v, size_t base)
{
	while (in->top > base)
		wire_val_clear(&in->st[--in->top]);
	memset(v, 0, sizeof *v);
	return -1;
}

/* table v takes the values on the stack from base; 0 or -1 (see wire_drop) */
static int wire_close(struct wire_in *in, struct wire_val *v, size_t base)
{
	if (in->top == base || wire_table(in, v, base) == 0)
		return 0;
	return wire_drop(in, v, base);
}

/* the length n of an element "<n>:" at in->pos, whose bytes follow the
 * colon (at *colon); 0 or -1 */
static int wire_len(struct wire_in *in, long *colon, size_t *n)
{
	*colon = wire_until(in, ':');
	if (*colon < 0)
		return -1;
	char *stop;
	unsigned long long len = strtoull(in->s + in->pos, &stop, 10);
	if (stop != in->s + *colon || len > in->len - (size_t)*colon - 1)
		return -1;
	*n = (size_t)len;
	return 0;
}

/* ---- skynet's serialization: the "p" and "b" elements ---- */

/* A peer packs its reply with skynet.packstring (lualib-src/lua-seri.c's
 * format, made in C: half the time of encoding it in Lua, escaping
 * included).  A value is a byte, its type and a cookie (type | cookie <<
 * 3), then its payload in the node's byte order (little endian: skynet
 * runs on nothing else). */
enum { SERI_NIL, SERI_BOOLEAN, SERI_NUMBER, SERI_USERDATA, SERI_SHORT_STRING,
       SERI_LONG_STRING, SERI_TABLE };
enum { SERI_ZERO = 0, SERI_BYTE = 1, SERI_WORD = 2, SERI_DWORD = 4, SERI_QWORD = 6,
       SERI_REAL = 8 };
#define SERI_BIG_ARRAY 31	/* a table's cookie: its array's size follows as a number */

/* the next n bytes as a little-endian number; 0 or -1 past the end */
static int seri_bytes(struct wire_in *in, size_t n, unsigned long long *u)
{
	if (in->len - in->pos < n)
		return -1;
	*u = 0;
	for (size_t i = n; i-- > 0;)
		*u = *u << 8 | (unsigned char)in->s[in->pos + i];
	in->pos += n;
	return 0;
}

/* an integer of the given cookie; 0 or -1 */
static int seri_int(struct wire_in *in, int cookie, long long *i)
{
	unsigned long long u = 0;
	if (cookie == SERI_ZERO) {
		*i = 0;
		return 0;
	}
	if ((cookie != SERI_BYTE && cookie != SERI_WORD && cookie != SERI_DWORD &&
	     cookie != SERI_QWORD) || seri_bytes(in, cookie == SERI_QWORD ? 8 : cookie, &u))
		return -1;
	/* a dword is signed (negative ones come that way), a qword two's complement */
	*i = cookie == SERI_DWORD ? (long long)(int32_t)(uint32_t)u : (long long)u;
	return 0;
}

/* a string of n bytes at in->pos, moved one byte back (over its header's
 * last) so that its NUL goes where its last byte was; 0 or -1 */
static int seri_string(struct wire_in *in, struct wire_val *v, unsigned long long n)
{
	if (n > in->len - in->pos)
		return -1;
	v->s = in->s + in->pos - 1;
	memmove(v->s, v->s + 1, n);
	v->s[n] = '\0';
	v->len = n;
	v->type = WIRE_STR;
	in->pos += n;
	return 0;
}

static int seri_dec(struct wire_in *in, struct wire_val *v, int depth);

/* a table: its array part's values (keys 1..size; a nil is a hole), then
 * its other pairs up to a nil key; 0 or -1 (v cleared) */
static int seri_table(struct wire_in *in, struct wire_val *v, int cookie, int depth)
{
	long long size = cookie;
	if (cookie == SERI_BIG_ARRAY) {
		unsigned char b = in->pos < in->len ? (unsigned char)in->s[in->pos++] : 0;
		if ((b & 7) != SERI_NUMBER || seri_int(in, b >> 3, &size) || size < 0)
			return -1;
	}
	size_t base = in->top;
	v->type = WIRE_TABLE;
	v->list = 1;
	for (long long i = 1; i <= size; i++) {
		struct wire_val k = { .type = WIRE_INT, .i = i }, x;
		if (seri_dec(in, &x, depth + 1))
			goto fail;
		if (x.type != WIRE_NIL && wire_add_pair(in, v, base, &k, &x) != 0)
			goto fail;
	}
	for (;;) {
		struct wire_val k, x;
		if (seri_dec(in, &k, depth + 1))
			goto fail;
		if (k.type == WIRE_NIL)
			break;
		if (seri_dec(in, &x, depth + 1)) {
			wire_val_clear(&k);
			goto fail;
		}
		if (wire_add_pair(in, v, base, &k, &x) != 0)
			goto fail;
	}
	return wire_close(in, v, base);
fail:
	return wire_drop(in, v, base);
}

/* the value of a base64 digit, or -1 */
static int base64_digit(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* the n bytes of base64 text at s (skynet.crypt's base64encode: padded
 * with '=') decoded in place; their count, or -1 */
static long base64_decode(char *s, size_t n)
{
	size_t text = n, out = 0;
	while (text > 0 && n - text < 2 && s[text - 1] == '=')
		text--;
	if (n % 4 != 0)
		return -1;
	unsigned acc = 0;
	int bits = 0;
	for (size_t i = 0; i < text; i++) {
		int d = base64_digit((unsigned char)s[i]);
		if (d < 0)
			return -1;
		acc = (acc << 6 | (unsigned)d) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			s[out++] = (char)(acc >> bits);
		}
	}
	return (long)out;
}

/* decode the n packed bytes at s into v (in: where the values go) */
static int wire_dec_packed(struct wire_in *in, char *s, size_t n, struct wire_val *v,
			   int depth)
{
	struct wire_in packed = *in;
	packed.s = s;
	packed.len = n;
	packed.pos = 0;
	int bad = seri_dec(&packed, v, depth) || packed.pos != n;
	in->st = packed.st, in->top = packed.top, in->cap = packed.cap;	/* one stack */
	in->values = packed.values;
	if (bad)
		wire_val_clear(v);
	return bad ? -1 : 0;
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
	long colon;
	size_t n;
	if (c == 's') {
		if (wire_len(in, &colon, &n) != 0)
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
	if (c == 'p' || c == 'b') {	/* one value, packed (b: in base64) */
		if (wire_len(in, &colon, &n) != 0)
			return -1;
		char *bytes = in->s + colon + 1;
		in->pos = (size_t)colon + 1 + n;
		long size = c == 'p' ? (long)n : base64_decode(bytes, n);
		return size < 0 ? -1 : wire_dec_packed(in, bytes, (size_t)size, v, depth);
	}
	if (c != '{')
		return -1;
	v->type = WIRE_TABLE;
	size_t base = in->top;
	if (wire_dec_pairs(in, v, depth) != 0 || in->pos >= in->len)
		return wire_drop(in, v, base);
	in->pos++;
	return wire_close(in, v, base);
}

/* decode one packed value at in->pos into v; 0 or -1 (v is then cleared) */
static int seri_dec(struct wire_in *in, struct wire_val *v, int depth)
{
	memset(v, 0, sizeof *v);
	if (in->pos >= in->len || depth > 64)
		return -1;
	unsigned char b = (unsigned char)in->s[in->pos++];
	int cookie = b >> 3;
	unsigned long long u;
	switch (b & 7) {
	case SERI_NIL:
		return 0;
	case SERI_BOOLEAN:
		v->type = WIRE_BOOL;
		v->i = cookie != 0;
		return 0;
	case SERI_NUMBER:
		if (cookie == SERI_REAL) {
			if (seri_bytes(in, 8, &u) != 0)
				return -1;
			memcpy(&v->d, &u, sizeof v->d);
			v->type = WIRE_NUM;
			return 0;
		}
		if (seri_int(in, cookie, &v->i) != 0)
			return -1;
		v->type = WIRE_INT;
		return 0;
	case SERI_SHORT_STRING:
		return seri_string(in, v, (unsigned long long)cookie);
	case SERI_LONG_STRING:
		if ((cookie != 2 && cookie != 4) || seri_bytes(in, (size_t)cookie, &u) != 0)
			return -1;
		return seri_string(in, v, u);
	case SERI_TABLE:
		return seri_table(in, v, cookie, depth);
	}
	return -1;	/* a userdata: a pointer in the node means nothing here */
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

