/* The wire format skyctl and its agent exchange (the C twin of
 * lua/wire.lua; the grammar is there): encoding requests into a fmt_buf
 * and decoding replies into a tree of values. */
#ifndef WIRE_H
#define WIRE_H

#include <stddef.h>

#include "fmt.h"

/* Encoding appends to b; on allocation failure b->oom is set and later
 * writes are ignored. */
void wire_put_str(struct fmt_buf *b, const char *s, size_t len);
void wire_put_cstr(struct fmt_buf *b, const char *s);	/* NULL writes nil */
void wire_put_int(struct fmt_buf *b, long long v);
void wire_put_num(struct fmt_buf *b, double v);
void wire_put_bool(struct fmt_buf *b, int v);
void wire_put_raw(struct fmt_buf *b, const char *wire, size_t len);	/* encoded already */
void wire_put_open(struct fmt_buf *b);		/* { */
void wire_put_close(struct fmt_buf *b);	/* } */

enum wire_type { WIRE_NIL, WIRE_BOOL, WIRE_INT, WIRE_NUM, WIRE_STR, WIRE_TABLE };

/* a decoded value (16 bytes: a reply's size is mostly these; read the
 * member of its type only); strings are NUL-terminated and point into the
 * decoded text (len excludes the NUL); a table whose keys are 1..len in
 * order (a list) keeps its values only */
struct wire_val {
	unsigned long long type : 3;	/* enum wire_type */
	unsigned long long list : 1;	/* WIRE_TABLE: kv is its len values */
	unsigned long long len : 60;	/* WIRE_STR length, WIRE_TABLE pair count */
	union {
		long long i;	/* WIRE_INT, and WIRE_BOOL as 0/1 */
		double d;	/* WIRE_NUM */
		char *s;	/* WIRE_STR */
		struct wire_val *kv;	/* WIRE_TABLE: keys and values alternate */
	};
};

/* Decode a wire string in place: s is rewritten (each string moves one
 * byte to make room for its NUL) and must outlive the result; own (the
 * malloc'd block s is in, or NULL) is freed with the result.  NULL if s is
 * not well formed (own is then the caller's still), or (errno E2BIG) if it
 * holds more than max_values values: "t" is one byte of text and 16 of
 * tree, so a reply from a node is held to a share of its size. */
struct wire_val *wire_decode(char *s, size_t len, size_t max_values, void *own);
void wire_val_free(struct wire_val *v);	/* a tree wire_decode returned */

/* the string v is, or NULL */
const char *wire_str(const struct wire_val *v);
/* key and value of pair i (0-based, i < t->len) of table t */
struct wire_val wire_key(const struct wire_val *t, size_t i);
const struct wire_val *wire_value(const struct wire_val *t, size_t i);

/* field key of table t, entry i (1-based) of t; NULL when absent */
const struct wire_val *wire_get(const struct wire_val *t, const char *key);
const struct wire_val *wire_at(const struct wire_val *t, long long i);
/* number of entries 1..n of a table used as a list */
size_t wire_count(const struct wire_val *t);
/* the string / integer / truth of field key of t, or the default */
const char *wire_gets(const struct wire_val *t, const char *key, const char *dflt);
long long wire_geti(const struct wire_val *t, const char *key, long long dflt);
int wire_getb(const struct wire_val *t, const char *key);

#endif
