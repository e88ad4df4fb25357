/* json.h: JSON text.  Bytes are copied as they are: the string writer
 * escapes only what JSON requires and DEL. */
#include "json.h"

#include <math.h>
#include <stdio.h>

void json_string(struct fmt_buf *b, const char *s, size_t len)
{
	char tmp[8];
	fmt_putn(b, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)c;
			fmt_putn(b, tmp, 2);
		} else if (c == '\n') {
			fmt_putn(b, "\\n", 2);
		} else if (c == '\t') {
			fmt_putn(b, "\\t", 2);
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(tmp, sizeof tmp, "\\u%04x", c);
			fmt_putn(b, tmp, 6);
		} else {
			fmt_putn(b, (const char *)&s[i], 1);
		}
	}
	fmt_putn(b, "\"", 1);
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
	case WIRE_TABLE: {
		size_t list = wire_count(v);
		int array = list == v->len;
		fmt_putn(b, array ? "[" : "{", 1);
		for (size_t i = 0; i < v->len; i++) {
			if (i)
				fmt_putn(b, ",", 1);
			if (array) {
				json_value(b, wire_at(v, (long long)i + 1));
				continue;
			}
			if (v->k[i].type == WIRE_STR) {
				json_string(b, v->k[i].s, v->k[i].len);
			} else {
				struct fmt_buf kb = { 0 };
				json_value(&kb, &v->k[i]);
				json_string(b, kb.p ? kb.p : "", kb.len);
				fmt_buf_free(&kb);
			}
			fmt_putn(b, ":", 1);
			json_value(b, &v->v[i]);
		}
		fmt_putn(b, array ? "]" : "}", 1);
		break;
	}
	}
}
