/* JSON text: the one writer of JSON strings in skyctl (tables, replies
 * and records all go through it), and decoded wire values as JSON. */
#ifndef JSON_H
#define JSON_H

#include <stddef.h>

#include "fmt.h"
#include "wire.h"

/* the length of the well-formed UTF-8 sequence at s (n bytes left), or 0
 * (overlong forms, surrogates and code points past U+10FFFF are not) */
size_t json_utf8_len(const unsigned char *s, size_t n);

/* s[0..len) as a JSON string appended to b, always valid UTF-8: '"',
 * '\\' and control bytes escaped, valid UTF-8 as it is, and each byte that
 * is not part of valid UTF-8 as \u00XX, the code point of its value */
void json_string(struct fmt_buf *b, const char *s, size_t len);

/* v as JSON appended to b: tables keyed 1..n as arrays, other tables as
 * objects with their keys sorted (non-string keys as their JSON text),
 * NaN and infinities null */
void json_value(struct fmt_buf *b, const struct wire_val *v);

#endif
