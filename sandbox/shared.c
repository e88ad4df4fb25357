/*
 * shared: bytes shared by the node's services by pointer.  Each copy is
 * linked from a list that lives as long as the node, so a pointer handed
 * to another service stays good (and a leak checker sees them held).
 */
#include <lauxlib.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

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

int shared_bytes(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TLIGHTUSERDATA);
	const struct shared *b = lua_touserdata(L, 1);
	lua_pushlstring(L, b->bytes, b->size);
	return 1;
}

int shared_load(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TLIGHTUSERDATA);
	const struct shared *b = lua_touserdata(L, 1);
	if (luaL_loadbufferx(L, b->bytes, b->size, "=?", "b") != LUA_OK)
		return lua_error(L);
	return 1;
}
