/*
 * serial: values become a tag byte each, then their payload: integers and
 * floats as 8 raw bytes, strings as a 32-bit length and the bytes, tables
 * as their key/value pairs up to an end tag.  Tables nest up to 32 deep
 * (which also stops cycles).  Both ends live in this process, so host byte
 * order is fine.  A packed message lives outside the Lua heap (as on
 * skynet), so passing messages makes no garbage.
 */
#include <lauxlib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "serial.h"

enum {
	TAG_NIL, TAG_FALSE, TAG_TRUE, TAG_INT, TAG_FLOAT, TAG_STRING,
	TAG_TABLE, TAG_END, TAG_POINTER
};

#define SERIAL_DEPTH 32

/* packing is two passes over the values: the first checks them and sums
 * the size (so every error is raised before anything is allocated), the
 * second writes into one malloc'd block of exactly that size */
struct serial_out {
	char *p;	/* NULL in the sizing pass */
	size_t len;
};

static void serial_add(struct serial_out *b, const void *p, size_t n)
{
	if (b->p)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void serial_tag(struct serial_out *b, int tag)
{
	char c = (char)tag;
	serial_add(b, &c, 1);
}

static void serial_value(lua_State *L, struct serial_out *b, int idx, int depth);

static void serial_table(lua_State *L, struct serial_out *b, int idx, int depth)
{
	if (depth > SERIAL_DEPTH)
		luaL_error(L, "serialize can't pack too depth table");
	luaL_checkstack(L, 4, NULL);
	serial_tag(b, TAG_TABLE);
	lua_pushnil(L);
	while (lua_next(L, idx) != 0) {
		int top = lua_gettop(L);
		serial_value(L, b, top - 1, depth + 1);
		serial_value(L, b, top, depth + 1);
		lua_pop(L, 1);
	}
	serial_tag(b, TAG_END);
}

static void serial_value(lua_State *L, struct serial_out *b, int idx, int depth)
{
	switch (lua_type(L, idx)) {
	case LUA_TNIL:
		serial_tag(b, TAG_NIL);
		break;
	case LUA_TBOOLEAN:
		serial_tag(b, lua_toboolean(L, idx) ? TAG_TRUE : TAG_FALSE);
		break;
	case LUA_TNUMBER:
		if (lua_isinteger(L, idx)) {
			lua_Integer i = lua_tointeger(L, idx);
			serial_tag(b, TAG_INT);
			serial_add(b, &i, sizeof i);
		} else {
			lua_Number n = lua_tonumber(L, idx);
			serial_tag(b, TAG_FLOAT);
			serial_add(b, &n, sizeof n);
		}
		break;
	case LUA_TSTRING: {
		size_t len;
		const char *s = lua_tolstring(L, idx, &len);
		if (len > UINT32_MAX)
			luaL_error(L, "string too long to pack");
		uint32_t n = (uint32_t)len;
		serial_tag(b, TAG_STRING);
		serial_add(b, &n, sizeof n);
		serial_add(b, s, len);
		break;
	}
	case LUA_TTABLE:
		serial_table(L, b, lua_absindex(L, idx), depth);
		break;
	case LUA_TLIGHTUSERDATA: {
		void *p = lua_touserdata(L, idx);
		serial_tag(b, TAG_POINTER);
		serial_add(b, &p, sizeof p);
		break;
	}
	default:
		luaL_error(L, "Unsupport type %s to serialize", luaL_typename(L, idx));
	}
}

char *serial_pack(lua_State *L, int from, size_t *size)
{
	int top = lua_gettop(L);
	struct serial_out b = { NULL, 0 };
	for (int i = from; i <= top; i++)
		serial_value(L, &b, i, 0);
	b.p = malloc(b.len ? b.len : 1);
	if (!b.p)
		luaL_error(L, "not enough memory");
	*size = b.len;
	b.len = 0;
	for (int i = from; i <= top; i++)
		serial_value(L, &b, i, 0);
	return b.p;
}

struct serial_reader {
	const char *p, *end;
};

static void serial_need(lua_State *L, struct serial_reader *r, size_t n)
{
	if ((size_t)(r->end - r->p) < n)
		luaL_error(L, "Invalid unpack stream");
}

/* push one value; return 0 at an end tag (nothing pushed) */
static int serial_read(lua_State *L, struct serial_reader *r, int depth)
{
	serial_need(L, r, 1);
	int tag = (unsigned char)*r->p++;
	luaL_checkstack(L, 3, NULL);
	switch (tag) {
	case TAG_NIL:
		lua_pushnil(L);
		break;
	case TAG_FALSE:
	case TAG_TRUE:
		lua_pushboolean(L, tag == TAG_TRUE);
		break;
	case TAG_INT: {
		lua_Integer i;
		serial_need(L, r, sizeof i);
		memcpy(&i, r->p, sizeof i);
		r->p += sizeof i;
		lua_pushinteger(L, i);
		break;
	}
	case TAG_FLOAT: {
		lua_Number n;
		serial_need(L, r, sizeof n);
		memcpy(&n, r->p, sizeof n);
		r->p += sizeof n;
		lua_pushnumber(L, n);
		break;
	}
	case TAG_STRING: {
		uint32_t n;
		serial_need(L, r, sizeof n);
		memcpy(&n, r->p, sizeof n);
		r->p += sizeof n;
		serial_need(L, r, n);
		lua_pushlstring(L, r->p, n);
		r->p += n;
		break;
	}
	case TAG_POINTER: {
		void *p;
		serial_need(L, r, sizeof p);
		memcpy(&p, r->p, sizeof p);
		r->p += sizeof p;
		lua_pushlightuserdata(L, p);
		break;
	}
	case TAG_TABLE:
		if (depth > SERIAL_DEPTH)
			luaL_error(L, "Invalid unpack stream");
		lua_newtable(L);
		while (serial_read(L, r, depth + 1)) {
			if (!serial_read(L, r, depth + 1) || lua_isnil(L, -2))
				luaL_error(L, "Invalid unpack stream");
			lua_rawset(L, -3);
		}
		break;
	case TAG_END:
		return 0;
	default:
		luaL_error(L, "Invalid unpack stream");
	}
	return 1;
}

int serial_unpack(lua_State *L, const char *s, size_t len)
{
	struct serial_reader r = { s, s + len };
	int n = 0;
	while (r.p < r.end) {
		if (!serial_read(L, &r, 0))
			luaL_error(L, "Invalid unpack stream");
		n++;
	}
	return n;
}
