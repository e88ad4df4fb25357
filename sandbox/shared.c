/*
 * shared: bytes shared by the node's services by pointer.  Each copy is
 * linked from a list that lives as long as the node, so a pointer handed
 * to another service stays good (and a leak checker sees them held).
 * clone makes a service's copy of a table packed there, as skynet's
 * sharetable.core clone does, in C as skynet's is: a service that keeps it
 * keeps no Lua code of the sandbox's with it.
 */
#include <lauxlib.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "serial.h"
#include "shared.h"

struct shared {
	struct shared *next;
	size_t size;
	char bytes[];
};

static struct shared *shared_all;
static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;

int shared_share(lua_State *L)
{
	size_t n;
	const char *s = luaL_checklstring(L, 1, &n);
	struct shared *b = malloc(sizeof *b + n);
	if (!b)
		return luaL_error(L, "not enough memory to share %zu bytes", n);
	b->size = n;
	memcpy(b->bytes, s, n);
	pthread_mutex_lock(&shared_lock);
	b->next = shared_all;
	shared_all = b;
	pthread_mutex_unlock(&shared_lock);
	lua_pushlightuserdata(L, b);
	return 1;
}

/* where a packed table (skynet.sharetable.core.lua's pack) holds the
 * shared bytecode of a function: { [FN] = pointer } */
static const char FN[] = "\0function";
#define FN_LEN (sizeof FN - 1)

/* with key k at the top: t[k] = the function whose bytecode code[k] points
 * at, loaded now, and code[k] = nil; k replaced by the function, or popped
 * (returning 0) when code has none */
static int load_code(lua_State *L, int t, int code)
{
	lua_pushvalue(L, -1);
	if (lua_rawget(L, code) != LUA_TLIGHTUSERDATA) {
		lua_pop(L, 2);
		return 0;
	}
	const struct shared *b = lua_touserdata(L, -1);
	lua_pop(L, 1);
	lua_pushvalue(L, -1);
	lua_pushnil(L);
	lua_rawset(L, code);
	if (luaL_loadbufferx(L, b->bytes, b->size, "=?", "b") != LUA_OK)
		return lua_error(L);
	lua_pushvalue(L, -2);
	lua_pushvalue(L, -2);
	lua_rawset(L, t);
	lua_remove(L, -2);
	return 1;
}

/* a clone's __index(t, k): its function k, loaded when first read
 * (upvalue 1: the code table) */
static int clone_index(lua_State *L)
{
	lua_settop(L, 2);
	return load_code(L, 1, lua_upvalueindex(1));
}

static int clone_next(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 2);
	if (lua_next(L, 1))
		return 2;
	lua_pushnil(L);
	return 1;
}

/* a clone's __pairs(t): its functions are there when it is iterated */
static int clone_pairs(lua_State *L)
{
	lua_settop(L, 1);
	for (;;) {
		lua_pushnil(L);
		if (!lua_next(L, lua_upvalueindex(1)))
			break;
		lua_pop(L, 1);
		load_code(L, 1, lua_upvalueindex(1));
		lua_pop(L, 1);
	}
	lua_pushcfunction(L, clone_next);
	lua_pushvalue(L, 1);
	lua_pushnil(L);
	return 3;
}

/* the packed table at t made a copy: each function's entry moves to a code
 * table its metatable loads from when read; the tables in it likewise */
static void build(lua_State *L, int t)
{
	t = lua_absindex(L, t);
	luaL_checkstack(L, 8, "shared table too deep");
	lua_newtable(L);
	int code = lua_gettop(L), functions = 0;
	lua_pushnil(L);
	while (lua_next(L, t)) {
		if (lua_type(L, -1) != LUA_TTABLE) {
			lua_pop(L, 1);
			continue;
		}
		lua_pushlstring(L, FN, FN_LEN);
		if (lua_rawget(L, -2) == LUA_TLIGHTUSERDATA) {
			lua_pushvalue(L, -3);
			lua_insert(L, -2);
			lua_rawset(L, code);
			lua_pop(L, 1);
			lua_pushvalue(L, -1);
			lua_pushnil(L);
			lua_rawset(L, t); /* an existing field set to nil: next goes on */
			functions++;
		} else {
			lua_pop(L, 1);
			build(L, -1);
			lua_pop(L, 1);
		}
	}
	if (functions) {
		lua_createtable(L, 0, 2);
		lua_pushvalue(L, code);
		lua_pushcclosure(L, clone_index, 1);
		lua_setfield(L, -2, "__index");
		lua_pushvalue(L, code);
		lua_pushcclosure(L, clone_pairs, 1);
		lua_setfield(L, -2, "__pairs");
		lua_setmetatable(L, t);
	}
	lua_pop(L, 1);
}

int shared_clone(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TLIGHTUSERDATA);
	const struct shared *b = lua_touserdata(L, 1);
	lua_settop(L, 1);
	if (serial_unpack(L, b->bytes, b->size) != 1 || !lua_istable(L, -1))
		return luaL_error(L, "not a shared table");
	build(L, -1);
	return 1;
}
