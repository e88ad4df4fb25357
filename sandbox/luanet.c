/*
 * luanet: sockets for the console (listen, start, write, close, netstat,
 * and decoding socket messages), channels for debug mode, resume (records
 * which coroutine runs, so `signal` can hook the right thread) and sethook
 * (a per-coroutine hook whose Lua function may ask to pause the coroutine
 * at a line: debug mode's breakpoints and stepping).
 */
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "luaapi.h"
#include "luanet.h"
#include "service.h"
#include "socket.h"

/* listen or open on host, port: the socket id, or nil and why */
static int luanet_socket(lua_State *L, int (*make)(uint32_t, const char *, int, char *, size_t))
{
	const char *host = luaL_checkstring(L, 1);
	int port = (int)luaL_checkinteger(L, 2);
	char err[128];
	int id = make(service_of(L)->handle, host, port, err, sizeof err);
	if (id < 0) {
		lua_pushnil(L);
		lua_pushstring(L, err);
		return 2;
	}
	lua_pushinteger(L, id);
	return 1;
}

static int luanet_listen(lua_State *L)
{
	return luanet_socket(L, socket_listen);
}

static int luanet_open(lua_State *L)
{
	return luanet_socket(L, socket_open);
}

static int luanet_start(lua_State *L)
{
	socket_start(service_of(L)->handle, (int)luaL_checkinteger(L, 1));
	return 0;
}

static int luanet_write(lua_State *L)
{
	size_t len;
	int id = (int)luaL_checkinteger(L, 1);
	const char *s = luaL_checklstring(L, 2, &len);
	lua_pushboolean(L, socket_write(id, s, len) == 0);
	return 1;
}

static int luanet_close(lua_State *L)
{
	socket_close((int)luaL_checkinteger(L, 1));
	return 0;
}

/* sunpack(msg) -> kind, id, ud, data */
static int luanet_sunpack(lua_State *L)
{
	size_t len;
	const char *s = luaL_checklstring(L, 1, &len);
	struct socket_msg m;
	if (len < sizeof m)
		return luaL_error(L, "Invalid socket message");
	memcpy(&m, s, sizeof m);
	lua_pushinteger(L, m.kind);
	lua_pushinteger(L, m.id);
	lua_pushinteger(L, m.ud);
	lua_pushlstring(L, s + sizeof m, len - sizeof m);
	return 4;
}

static void luanet_setint(lua_State *L, const char *k, uint64_t v)
{
	lua_pushinteger(L, (lua_Integer)v);
	lua_setfield(L, -2, k);
}

/* netstat() -> { {id=, type=, address=, ...}, ... } with raw numbers */
static int luanet_netstat(lua_State *L)
{
	static struct socket_info info[256];
	int n = socket_netstat(info, 256);
	lua_createtable(L, n, 0);
	for (int i = 0; i < n; i++) {
		struct socket_info *s = &info[i];
		lua_newtable(L);
		luanet_setint(L, "id", (uint64_t)s->id);
		luanet_setint(L, "address", s->owner);
		lua_pushstring(L, s->listen ? "LISTEN" : "TCP");
		lua_setfield(L, -2, "type");
		lua_pushstring(L, s->addr);
		lua_setfield(L, -2, s->listen ? "sock" : "peer");
		if (s->listen) {
			luanet_setint(L, "accept", s->accepts);
			luanet_setint(L, "rtime", s->rtime);
		} else {
			luanet_setint(L, "read", s->rbytes);
			luanet_setint(L, "write", s->wbytes);
			luanet_setint(L, "rtime", s->rtime);
			if (s->wbytes)
				luanet_setint(L, "wtime", s->wtime);
			lua_pushboolean(L, s->reading);
			lua_setfield(L, -2, "reading");
			lua_pushboolean(L, s->writing);
			lua_setfield(L, -2, "writing");
		}
		lua_rawseti(L, -2, i + 1);
	}
	return 1;
}

static int luanet_chnew(lua_State *L)
{
	lua_pushinteger(L, channel_new());
	return 1;
}

static int luanet_chretain(lua_State *L)
{
	lua_pushboolean(L, channel_retain((int)luaL_checkinteger(L, 1)) == 0);
	return 1;
}

static int luanet_chrelease(lua_State *L)
{
	channel_release((int)luaL_checkinteger(L, 1));
	return 0;
}

static int luanet_chwrite(lua_State *L)
{
	size_t len;
	int id = (int)luaL_checkinteger(L, 1);
	const char *s = luaL_checklstring(L, 2, &len);
	lua_pushboolean(L, channel_write(id, s, len) == 0);
	return 1;
}

static int luanet_chread(lua_State *L)
{
	size_t len;
	char *s = channel_read((int)luaL_checkinteger(L, 1), &len);
	if (!s)
		return 0;
	lua_pushlstring(L, s, len);
	free(s);
	return 1;
}

/* resume(co, ...): coroutine.resume that records the running thread */
static int luanet_resume(lua_State *L)
{
	lua_State *co = lua_tothread(L, 1);
	luaL_argexpected(L, co, 1, "coroutine");
	lua_Debug ar;
	int status = lua_status(co);
	if (co == L || (status == LUA_OK && lua_getstack(co, 0, &ar) > 0)) {
		lua_pushboolean(L, 0);
		lua_pushliteral(L, "cannot resume non-suspended coroutine");
		return 2;
	}
	if ((status == LUA_OK && lua_gettop(co) == 0) || (status != LUA_OK && status != LUA_YIELD)) {
		lua_pushboolean(L, 0);
		lua_pushliteral(L, "cannot resume dead coroutine");
		return 2;
	}
	int narg = lua_gettop(L) - 1;
	if (!lua_checkstack(co, narg))
		return luaL_error(L, "too many arguments to resume");
	lua_xmove(L, co, narg);
	struct service *s = service_of(L);
	lua_State *prev = atomic_exchange(&s->active, co);
	int nres;
	status = lua_resume(co, L, narg, &nres);
	atomic_store(&s->active, prev);
	if (status == LUA_OK || status == LUA_YIELD) {
		if (!lua_checkstack(L, nres + 1)) {
			lua_pop(co, nres);
			return luaL_error(L, "too many results to resume");
		}
		lua_pushboolean(L, 1);
		lua_xmove(co, L, nres);
		return nres + 1;
	}
	lua_pushboolean(L, 0);
	lua_xmove(co, L, 1);
	return 2;
}

static const char luanet_hookkey = 'h';

/* calls the thread's Lua hook with (event, line); a true result at a line
 * event pauses the coroutine (it yields nothing) */
static void luanet_hook(lua_State *L, lua_Debug *ar)
{
	static const char *const events[] = { "call", "return", "line", "count", "tail call" };
	lua_rawgetp(L, LUA_REGISTRYINDEX, &luanet_hookkey);
	lua_pushthread(L);
	if (lua_rawget(L, -2) != LUA_TFUNCTION) {
		lua_pop(L, 2);
		return;
	}
	lua_pushstring(L, events[ar->event]);
	if (ar->event == LUA_HOOKLINE)
		lua_pushinteger(L, ar->currentline);
	else
		lua_pushnil(L);
	lua_call(L, 2, 1);
	int pause = lua_toboolean(L, -1);
	lua_pop(L, 2);
	if (pause && ar->event == LUA_HOOKLINE && lua_isyieldable(L))
		lua_yield(L, 0);
}

/* sethook([co,] fn, mask) or sethook([co]) to remove */
static int luanet_sethook(lua_State *L)
{
	lua_State *co = L;
	int arg = 1;
	if (lua_isthread(L, 1)) {
		co = lua_tothread(L, 1);
		arg = 2;
	}
	int remove = lua_isnoneornil(L, arg);
	int mask = 0;
	if (!remove) {
		luaL_checktype(L, arg, LUA_TFUNCTION);
		const char *smask = luaL_checkstring(L, arg + 1);
		if (strchr(smask, 'c'))
			mask |= LUA_MASKCALL;
		if (strchr(smask, 'r'))
			mask |= LUA_MASKRET;
		if (strchr(smask, 'l'))
			mask |= LUA_MASKLINE;
	}
	lua_settop(L, arg);	/* the function (or nil) on top */
	lua_rawgetp(L, LUA_REGISTRYINDEX, &luanet_hookkey);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		lua_newtable(L);
		lua_newtable(L);
		lua_pushliteral(L, "k");
		lua_setfield(L, -2, "__mode");
		lua_setmetatable(L, -2);
		lua_pushvalue(L, -1);
		lua_rawsetp(L, LUA_REGISTRYINDEX, &luanet_hookkey);
	}
	if (co == L)
		lua_pushthread(L);
	else
		lua_pushvalue(L, 1);
	lua_pushvalue(L, arg);
	lua_rawset(L, -3);
	if (remove)
		lua_sethook(co, NULL, 0, 0);
	else
		lua_sethook(co, luanet_hook, mask, 0);
	return 0;
}

void luanet_register(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{ "listen", luanet_listen }, { "open", luanet_open }, { "sstart", luanet_start },
		{ "swrite", luanet_write }, { "sclose", luanet_close },
		{ "sunpack", luanet_sunpack }, { "netstat", luanet_netstat },
		{ "chnew", luanet_chnew }, { "chretain", luanet_chretain },
		{ "chrelease", luanet_chrelease }, { "chwrite", luanet_chwrite },
		{ "chread", luanet_chread }, { "resume", luanet_resume },
		{ "sethook", luanet_sethook },
		{ NULL, NULL },
	};
	luaL_setfuncs(L, funcs, 0);
}
