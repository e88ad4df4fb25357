/*
 * serial: skynet.pack / skynet.unpack in skynet's format (lua-seri.c),
 * byte for byte, since skyctl decodes what a service packed.  Each value
 * is a type byte, type | cookie << 3, then what the cookie says follows:
 *
 *   nil       0
 *   boolean   1  cookie 1 true, 0 false
 *   number    2  an integer: cookie 0 if zero, 1 and a uint8 up to 255,
 *                2 and a uint16 up to 65535, 4 and an int32 if it fits
 *                (a negative one too), else 6 and an int64; a float:
 *                8 and a double
 *   pointer   3  a light userdata: the pointer
 *   string    4  shorter than 32 bytes: the length in the cookie, the bytes
 *             5  cookie 2 and a uint16 length, or 4 and a uint32 one, then
 *                the bytes
 *   table     6  the array part's size in the cookie (31: the size follows
 *                as a number), its values, the other pairs, then a nil; a
 *                table with a __pairs metamethod: size 0, and the pairs
 *                iterating with it gives
 *
 * all in host byte order, as skynet's.  Tables nest up to 32 deep (which
 * also stops cycles).  A packed message lives outside the Lua heap (as on
 * skynet), so passing messages makes no garbage.  Unpack takes any bytes:
 * what no packing gives raises skynet's "Invalid serialize stream N" (N:
 * the bytes left unread) and nothing beyond the end is read.
 */
#include <lauxlib.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "serial.h"

enum {
	TYPE_NIL, TYPE_BOOLEAN, TYPE_NUMBER, TYPE_USERDATA, TYPE_SHORT_STRING,
	TYPE_LONG_STRING, TYPE_TABLE
};

enum {
	NUMBER_ZERO = 0, NUMBER_BYTE = 1, NUMBER_WORD = 2, NUMBER_DWORD = 4,
	NUMBER_QWORD = 6, NUMBER_REAL = 8
};

#define SERIAL_COOKIES 32	/* a cookie is 5 bits */
#define SERIAL_SIZE_FOLLOWS (SERIAL_COOKIES - 1)
#define SERIAL_DEPTH 32

/* packing is two passes over the values: the first checks them and sums
 * the size (so every error is raised before anything is allocated), the
 * second writes into one malloc'd block of that size.  Only a __pairs
 * metamethod (run in both passes) can make the second pass meet other
 * values; it then frees the block before it raises. */
struct serial_out {
	lua_State *L;
	char *p;	/* NULL in the sizing pass */
	size_t len, cap;
};

/* free the block being written, if any: what an error in the writing
 * pass does before it raises */
static void serial_drop(struct serial_out *b)
{
	free(b->p);
	b->p = NULL;
}

static void serial_add(struct serial_out *b, const void *p, size_t n)
{
	if (b->p) {
		if (n > b->cap - b->len) {
			serial_drop(b);
			luaL_error(b->L, "serialize: a table changed while it was packed");
		}
		memcpy(b->p + b->len, p, n);
	}
	b->len += n;
}

static void serial_type(struct serial_out *b, int type, int cookie)
{
	uint8_t c = (uint8_t)(type | cookie << 3);
	serial_add(b, &c, 1);
}

static void serial_integer(struct serial_out *b, lua_Integer v)
{
	if (v == 0) {
		serial_type(b, TYPE_NUMBER, NUMBER_ZERO);
	} else if (v < INT32_MIN || v > INT32_MAX) {
		int64_t n = v;
		serial_type(b, TYPE_NUMBER, NUMBER_QWORD);
		serial_add(b, &n, sizeof n);
	} else if (v > 0 && v <= UINT8_MAX) {
		uint8_t n = (uint8_t)v;
		serial_type(b, TYPE_NUMBER, NUMBER_BYTE);
		serial_add(b, &n, sizeof n);
	} else if (v > 0 && v <= UINT16_MAX) {
		uint16_t n = (uint16_t)v;
		serial_type(b, TYPE_NUMBER, NUMBER_WORD);
		serial_add(b, &n, sizeof n);
	} else {
		int32_t n = (int32_t)v;
		serial_type(b, TYPE_NUMBER, NUMBER_DWORD);
		serial_add(b, &n, sizeof n);
	}
}

static void serial_real(struct serial_out *b, double v)
{
	serial_type(b, TYPE_NUMBER, NUMBER_REAL);
	serial_add(b, &v, sizeof v);
}

static void serial_string(struct serial_out *b, const char *s, size_t len)
{
	if (len < SERIAL_COOKIES) {
		serial_type(b, TYPE_SHORT_STRING, (int)len);
	} else if (len <= UINT16_MAX) {
		uint16_t n = (uint16_t)len;
		serial_type(b, TYPE_LONG_STRING, sizeof n);
		serial_add(b, &n, sizeof n);
	} else if (len <= UINT32_MAX) {
		uint32_t n = (uint32_t)len;
		serial_type(b, TYPE_LONG_STRING, sizeof n);
		serial_add(b, &n, sizeof n);
	} else {
		serial_drop(b);
		luaL_error(b->L, "string too long to pack");
	}
	serial_add(b, s, len);
}

static void serial_value(struct serial_out *b, int idx, int depth);

/* the array part 1..#t: its size, then its values; returns the size */
static lua_Integer serial_array(struct serial_out *b, int t, int depth)
{
	lua_State *L = b->L;
	lua_Integer n = (lua_Integer)lua_rawlen(L, t);
	if (n >= SERIAL_SIZE_FOLLOWS) {
		serial_type(b, TYPE_TABLE, SERIAL_SIZE_FOLLOWS);
		serial_integer(b, n);
	} else {
		serial_type(b, TYPE_TABLE, (int)n);
	}
	for (lua_Integer i = 1; i <= n; i++) {
		lua_rawgeti(L, t, i);
		serial_value(b, lua_gettop(L), depth);
		lua_pop(L, 1);
	}
	return n;
}

/* the pairs the array part left out, then the nil that ends the table */
static void serial_hash(struct serial_out *b, int t, int depth, lua_Integer array)
{
	lua_State *L = b->L;
	lua_pushnil(L);
	while (lua_next(L, t) != 0) {
		int top = lua_gettop(L);
		if (lua_isinteger(L, top - 1)) {
			lua_Integer k = lua_tointeger(L, top - 1);
			if (k > 0 && k <= array) {
				lua_pop(L, 1);
				continue;
			}
		}
		serial_value(b, top - 1, depth);
		serial_value(b, top, depth);
		lua_pop(L, 1);
	}
	serial_type(b, TYPE_NIL, 0);
}

/* call the function under the top n values with them, protected: an
 * error frees the block and raises again */
static void serial_call(struct serial_out *b, int n, int results)
{
	if (lua_pcall(b->L, n, results, 0) != LUA_OK) {
		serial_drop(b);
		lua_error(b->L);
	}
}

/* with the table's __pairs at the top: as skynet, no array part and
 * every pair that iterating with it gives (lua's generic for) */
static void serial_metapairs(struct serial_out *b, int t, int depth)
{
	lua_State *L = b->L;
	serial_type(b, TYPE_TABLE, 0);
	lua_pushvalue(L, t);
	serial_call(b, 1, 3);	/* the iterator, its state, the first key */
	for (;;) {
		lua_pushvalue(L, -3);
		lua_pushvalue(L, -3);
		lua_pushvalue(L, -3);
		serial_call(b, 2, 2);
		if (lua_isnil(L, -2)) {
			lua_pop(L, 5);
			break;
		}
		int top = lua_gettop(L);
		serial_value(b, top - 1, depth);
		serial_value(b, top, depth);
		lua_pop(L, 1);
		lua_replace(L, -2);	/* the key just packed is the next one's control */
	}
	serial_type(b, TYPE_NIL, 0);
}

static void serial_table(struct serial_out *b, int t, int depth)
{
	lua_State *L = b->L;
	if (!lua_checkstack(L, LUA_MINSTACK)) {
		serial_drop(b);
		luaL_error(L, "out of memory");
	}
	if (luaL_getmetafield(L, t, "__pairs") != LUA_TNIL) {
		serial_metapairs(b, t, depth);
	} else {
		lua_Integer array = serial_array(b, t, depth);
		serial_hash(b, t, depth, array);
	}
}

/* pack the value at absolute index idx, a table's contents one deeper */
static void serial_value(struct serial_out *b, int idx, int depth)
{
	lua_State *L = b->L;
	if (depth > SERIAL_DEPTH) {
		serial_drop(b);
		luaL_error(L, "serialize can't pack too depth table");
	}
	int type = lua_type(L, idx);
	switch (type) {
	case LUA_TNIL:
		serial_type(b, TYPE_NIL, 0);
		break;
	case LUA_TBOOLEAN:
		serial_type(b, TYPE_BOOLEAN, lua_toboolean(L, idx));
		break;
	case LUA_TNUMBER:
		if (lua_isinteger(L, idx))
			serial_integer(b, lua_tointeger(L, idx));
		else
			serial_real(b, (double)lua_tonumber(L, idx));
		break;
	case LUA_TSTRING: {
		size_t len;
		const char *s = lua_tolstring(L, idx, &len);
		serial_string(b, s, len);
		break;
	}
	case LUA_TLIGHTUSERDATA: {
		void *p = lua_touserdata(L, idx);
		serial_type(b, TYPE_USERDATA, 0);
		serial_add(b, &p, sizeof p);
		break;
	}
	case LUA_TTABLE:
		serial_table(b, idx, depth + 1);
		break;
	default:
		serial_drop(b);
		luaL_error(L, "Unsupport type %s to serialize", lua_typename(L, type));
	}
}

char *serial_pack(lua_State *L, int from, size_t *size)
{
	int top = lua_gettop(L);
	struct serial_out b = { L, NULL, 0, 0 };
	for (int i = from; i <= top; i++)
		serial_value(&b, i, 0);
	b.cap = b.len;
	b.p = malloc(b.cap ? b.cap : 1);
	if (!b.p)
		luaL_error(L, "not enough memory");
	b.len = 0;
	for (int i = from; i <= top; i++)
		serial_value(&b, i, 0);
	*size = b.len;
	return b.p;
}

struct serial_in {
	lua_State *L;
	const unsigned char *p, *end;
};

static void serial_invalid(struct serial_in *r)
{
	luaL_error(r->L, "Invalid serialize stream %I", (lua_Integer)(r->end - r->p));
}

/* the next n bytes, consumed; raises, consuming nothing, where fewer are left */
static const unsigned char *serial_take(struct serial_in *r, size_t n)
{
	if ((size_t)(r->end - r->p) < n)
		serial_invalid(r);
	const unsigned char *at = r->p;
	r->p += n;
	return at;
}

static void serial_copy(struct serial_in *r, void *to, size_t n)
{
	memcpy(to, serial_take(r, n), n);
}

static lua_Integer serial_read_integer(struct serial_in *r, int cookie)
{
	switch (cookie) {
	case NUMBER_ZERO:
		return 0;
	case NUMBER_BYTE:
		return *serial_take(r, 1);
	case NUMBER_WORD: {
		uint16_t n;
		serial_copy(r, &n, sizeof n);
		return n;
	}
	case NUMBER_DWORD: {
		int32_t n;
		serial_copy(r, &n, sizeof n);
		return n;
	}
	case NUMBER_QWORD: {
		int64_t n;
		serial_copy(r, &n, sizeof n);
		return n;
	}
	}
	serial_invalid(r);
	return 0;
}

static void serial_read_number(struct serial_in *r, int cookie)
{
	if (cookie == NUMBER_REAL) {
		double n;
		serial_copy(r, &n, sizeof n);
		lua_pushnumber(r->L, (lua_Number)n);
	} else {
		lua_pushinteger(r->L, serial_read_integer(r, cookie));
	}
}

static void serial_read_string(struct serial_in *r, size_t len)
{
	const char *s = (const char *)serial_take(r, len);
	lua_pushlstring(r->L, s, len);
}

static void serial_read_long_string(struct serial_in *r, int cookie)
{
	if (cookie == sizeof(uint16_t)) {
		uint16_t n;
		serial_copy(r, &n, sizeof n);
		serial_read_string(r, n);
	} else if (cookie == sizeof(uint32_t)) {
		uint32_t n;
		serial_copy(r, &n, sizeof n);
		serial_read_string(r, n);
	} else {
		serial_invalid(r);
	}
}

/* the array part's size: the cookie, or an integer after it */
static lua_Integer serial_read_array_size(struct serial_in *r, int cookie)
{
	if (cookie != SERIAL_SIZE_FOLLOWS)
		return cookie;
	int type = *serial_take(r, 1);
	if ((type & 7) != TYPE_NUMBER || type >> 3 == NUMBER_REAL)
		serial_invalid(r);
	lua_Integer n = serial_read_integer(r, type >> 3);
	/* each value takes a byte at least: a size beyond the bytes left (or
	 * below 0) is no packing's, and would only make a table too big */
	if (n < 0 || n > r->end - r->p)
		serial_invalid(r);
	return n;
}

static void serial_read_value(struct serial_in *r, int depth);

/* a table at depth: refused deeper than pack writes one, which bounds
 * the recursion */
static void serial_read_table(struct serial_in *r, int cookie, int depth)
{
	lua_State *L = r->L;
	if (depth > SERIAL_DEPTH)
		serial_invalid(r);
	lua_Integer n = serial_read_array_size(r, cookie);
	luaL_checkstack(L, LUA_MINSTACK, NULL);
	lua_createtable(L, n < INT_MAX ? (int)n : INT_MAX, 0);
	for (lua_Integer i = 1; i <= n; i++) {
		serial_read_value(r, depth + 1);
		lua_rawseti(L, -2, i);
	}
	for (;;) {
		serial_read_value(r, depth + 1);
		if (lua_isnil(L, -1)) {
			lua_pop(L, 1);
			return;
		}
		serial_read_value(r, depth + 1);
		lua_rawset(L, -3);
	}
}

static void serial_read_value(struct serial_in *r, int depth)
{
	lua_State *L = r->L;
	int byte = *serial_take(r, 1);
	int cookie = byte >> 3;
	switch (byte & 7) {
	case TYPE_NIL:
		lua_pushnil(L);
		break;
	case TYPE_BOOLEAN:
		lua_pushboolean(L, cookie);
		break;
	case TYPE_NUMBER:
		serial_read_number(r, cookie);
		break;
	case TYPE_USERDATA: {
		void *p;
		serial_copy(r, &p, sizeof p);
		lua_pushlightuserdata(L, p);
		break;
	}
	case TYPE_SHORT_STRING:
		serial_read_string(r, (size_t)cookie);
		break;
	case TYPE_LONG_STRING:
		serial_read_long_string(r, cookie);
		break;
	case TYPE_TABLE:
		serial_read_table(r, cookie, depth);
		break;
	default:
		serial_invalid(r);
	}
}

int serial_unpack(lua_State *L, const char *s, size_t len)
{
	const unsigned char *bytes = (const unsigned char *)s;
	struct serial_in r = { L, bytes, bytes + len };
	int n = 0;
	while (r.p < r.end) {
		luaL_checkstack(L, LUA_MINSTACK, NULL);
		serial_read_value(&r, 0);
		n++;
	}
	return n;
}
