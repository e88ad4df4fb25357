/* json.h: JSON text.  Strings come out as valid UTF-8 whatever bytes go
 * in, and object keys sorted, so one run's documents compare as text. */
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t json_utf8_len(const unsigned char *s, size_t n)
{
	size_t len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
	unsigned cp;
	if (!len || s[0] > 0xf4 || len > n)
		return 0;
	cp = s[0] & (0x3fu >> (len - 1));
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

void json_string(struct fmt_buf *b, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	char tmp[8];
	fmt_putn(b, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = u[i];
		size_t n;
		if (c == '"' || c == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)c;
			fmt_putn(b, tmp, 2);
		} else if (c == '\n') {
			fmt_putn(b, "\\n", 2);
		} else if (c == '\t') {
			fmt_putn(b, "\\t", 2);
		} else if (c < 0x80 && c >= 0x20 && c != 0x7f) {
			fmt_putn(b, s + i, 1);
		} else if (c >= 0x80 && (n = json_utf8_len(u + i, len - i)) != 0) {
			fmt_putn(b, s + i, n);
			i += n - 1;
		} else {	/* a control byte, or a byte that is not UTF-8: its value */
			snprintf(tmp, sizeof tmp, "\\u%04x", c);
			fmt_putn(b, tmp, 6);
		}
	}
	fmt_putn(b, "\"", 1);
}

/* an object member: its key as JSON object keys are (a string) */
struct json_member {
	struct fmt_buf key;
	const struct wire_val *v;
};

static int json_member_cmp(const void *a, const void *b)
{
	const struct fmt_buf *x = &((const struct json_member *)a)->key;
	const struct fmt_buf *y = &((const struct json_member *)b)->key;
	int c = memcmp(x->p ? x->p : "", y->p ? y->p : "", x->len < y->len ? x->len : y->len);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* table v as an object, keys sorted (a Lua table comes in hash order,
 * which differs between services) */
static void json_object(struct fmt_buf *b, const struct wire_val *v)
{
	struct json_member *m = calloc(v->len + 1, sizeof *m);
	if (!m) {
		b->oom = 1;
		return;
	}
	for (size_t i = 0; i < v->len; i++) {
		struct wire_val k = wire_key(v, i);
		if (k.type == WIRE_STR)
			fmt_putn(&m[i].key, k.s, k.len);
		else	/* non-string keys as their JSON text */
			json_value(&m[i].key, &k);
		m[i].v = wire_value(v, i);
	}
	qsort(m, v->len, sizeof *m, json_member_cmp);
	fmt_putn(b, "{", 1);
	for (size_t i = 0; i < v->len; i++) {
		if (i)
			fmt_putn(b, ",", 1);
		json_string(b, m[i].key.p ? m[i].key.p : "", m[i].key.len);
		fmt_putn(b, ":", 1);
		json_value(b, m[i].v);
		fmt_buf_free(&m[i].key);
	}
	fmt_putn(b, "}", 1);
	free(m);
}

void json_value(struct fmt_buf *b, const struct wire_val *v)
{
	char tmp[48];
	int n;
	switch (v ? v->type : WIRE_NIL) {
	case WIRE_NIL:
		fmt_putn(b, "null", 4);
		break;
	case WIRE_BOOL:
		fmt_putn(b, v->i ? "true" : "false", v->i ? 4 : 5);
		break;
	case WIRE_INT:
		n = snprintf(tmp, sizeof tmp, "%lld", v->i);
		fmt_putn(b, tmp, (size_t)n);
		break;
	case WIRE_NUM:
		if (isfinite(v->d)) {
			n = snprintf(tmp, sizeof tmp, "%.17g", v->d);
			fmt_putn(b, tmp, (size_t)n);
		} else {
			fmt_putn(b, "null", 4);
		}
		break;
	case WIRE_STR:
		json_string(b, v->s, v->len);
		break;
	case WIRE_TABLE:
		if (wire_count(v) != v->len) {
			json_object(b, v);
			break;
		}
		fmt_putn(b, "[", 1);
		for (size_t i = 0; i < v->len; i++) {
			if (i)
				fmt_putn(b, ",", 1);
			json_value(b, wire_at(v, (long long)i + 1));
		}
		fmt_putn(b, "]", 1);
		break;
	}
}
