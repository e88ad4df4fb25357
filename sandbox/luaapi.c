/*
 * luaapi: "sandbox.core", the C side of our skynet.lua: messages, sessions,
 * timeouts, names, the environment, launch/kill/exit, stats, the log,
 * pack/unpack, coroutine resume that tracks the running thread (so a
 * signal can reach it), a hook that may pause a coroutine (debug mode's
 * breakpoints), and Lua 5.5 style number printing.  Sockets and debug
 * channels are in luanet.c, bytes shared between services in shared.c.
 */
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codecache.h"
#include "crypt.h"
#include "env.h"
#include "log.h"
#include "luaapi.h"
#include "luanet.h"
#include "mq.h"
#include "node.h"
#include "serial.h"
#include "service.h"
#include "shared.h"
#include "timer.h"

/* a destination: an integer handle, ":hex" or ".name"; 0 when unknown */
static uint32_t luaapi_dest(lua_State *L, int idx)
{
	if (lua_type(L, idx) == LUA_TNUMBER) {
		uint32_t h = (uint32_t)lua_tointeger(L, idx);
		if (h == 0)
			luaL_error(L, "Invalid service address 0");
		return h;
	}
	const char *name = luaL_checkstring(L, idx);
	return node_resolve(name);
}

/* the message argument at idx: a packed message (lightuserdata and size,
 * whose ownership passes to the caller) or a string (copied); NULL for
 * nil */
static char *luaapi_msg(lua_State *L, int idx, size_t *size)
{
	*size = 0;
	if (lua_isnoneornil(L, idx))
		return NULL;
	if (lua_type(L, idx) == LUA_TLIGHTUSERDATA) {
		lua_Integer sz = luaL_checkinteger(L, idx + 1);
		*size = sz > 0 ? (size_t)sz : 0;
		return lua_touserdata(L, idx);
	}
	size_t len;
	const char *s = luaL_checklstring(L, idx, &len);
	if (lua_type(L, idx + 1) == LUA_TNUMBER) {
		lua_Integer sz = lua_tointeger(L, idx + 1);
		if (sz >= 0 && (size_t)sz < len)
			len = (size_t)sz;
	}
	char *data = malloc(len ? len : 1);
	if (!data)
		abort();
	memcpy(data, s, len);
	*size = len;
	return data;
}

/* the bytes of a message given as a string or as lightuserdata and size */
static const char *luaapi_bytes(lua_State *L, int idx, size_t *len)
{
	if (lua_type(L, idx) == LUA_TLIGHTUSERDATA) {
		lua_Integer sz = luaL_checkinteger(L, idx + 1);
		*len = sz > 0 ? (size_t)sz : 0;
		return lua_touserdata(L, idx);
	}
	const char *s = luaL_checklstring(L, idx, len);
	if (lua_type(L, idx + 1) == LUA_TNUMBER) {
		lua_Integer sz = lua_tointeger(L, idx + 1);
		if (sz >= 0 && (size_t)sz < *len)
			*len = (size_t)sz;
	}
	return s;
}

/* send(dest, type, session|nil, msg[, sz]) -> session, or nil if dest is dead */
static int luaapi_send(lua_State *L)
{
	struct service *self = service_of(L);
	uint32_t dest = luaapi_dest(L, 1);
	int type = (int)luaL_checkinteger(L, 2);
	int session = lua_isnil(L, 3) ? service_genid(self) : (int)luaL_checkinteger(L, 3);
	size_t size;
	char *data = luaapi_msg(L, 4, &size);
	if (dest == 0 || service_post(dest, self->handle, session, type, data, size) < 0) {
		if (dest == 0)
			free(data);
		return 0;
	}
	lua_pushinteger(L, session);
	return 1;
}

/* redirect(dest, source, type, session, msg[, sz]) */
static int luaapi_redirect(lua_State *L)
{
	uint32_t dest = luaapi_dest(L, 1);
	uint32_t source = luaapi_dest(L, 2);
	int type = (int)luaL_checkinteger(L, 3);
	int session = (int)luaL_optinteger(L, 4, 0);
	size_t size;
	char *data = luaapi_msg(L, 5, &size);
	if (dest == 0 || service_post(dest, source, session, type, data, size) < 0) {
		if (dest == 0)
			free(data);
		return 0;
	}
	lua_pushinteger(L, session);
	return 1;
}

static int luaapi_genid(lua_State *L)
{
	lua_pushinteger(L, service_genid(service_of(L)));
	return 1;
}

static int luaapi_timeout(lua_State *L)
{
	struct service *self = service_of(L);
	int ticks = (int)luaL_checkinteger(L, 1);
	int session = service_genid(self);
	timer_add(self->handle, session, ticks);
	lua_pushinteger(L, session);
	return 1;
}

static int luaapi_now(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)timer_now());
	return 1;
}

static int luaapi_hpc(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)timer_hpc());
	return 1;
}

static int luaapi_self(lua_State *L)
{
	lua_pushinteger(L, service_of(L)->handle);
	return 1;
}

static int luaapi_localname(lua_State *L)
{
	uint32_t h = node_resolve(luaL_checkstring(L, 1));
	if (h == 0)
		return 0;
	lua_pushinteger(L, h);
	return 1;
}

static int luaapi_harbor(lua_State *L)
{
	uint32_t h = (uint32_t)luaL_checkinteger(L, 1);
	lua_pushinteger(L, h >> 24);
	lua_pushboolean(L, (int)(h >> 24) != node_harbor());
	return 2;
}

static int luaapi_pushaddr(lua_State *L, uint32_t h)
{
	if (h == 0)
		return 0;
	char buf[16];
	snprintf(buf, sizeof buf, ":%08x", (unsigned)h);
	lua_pushstring(L, buf);
	return 1;
}

/* command(name, arg): skynet's text commands */
static int luaapi_command(lua_State *L)
{
	struct service *self = service_of(L);
	const char *cmd = luaL_checkstring(L, 1);
	if (strcmp(cmd, "GETENV") == 0) {
		char *v = env_dup(luaL_checkstring(L, 2));
		if (!v)
			return 0;
		lua_pushstring(L, v);
		free(v);
		return 1;
	}
	if (strcmp(cmd, "SETENV") == 0) {
		const char *kv = luaL_checkstring(L, 2);
		const char *sp = strchr(kv, ' ');
		if (sp) {
			lua_pushlstring(L, kv, (size_t)(sp - kv));
			env_set(lua_tostring(L, -1), sp + 1);
		}
		return 0;
	}
	if (strcmp(cmd, "LAUNCH") == 0)
		return luaapi_pushaddr(L, service_launch(luaL_checkstring(L, 2), 1));
	if (strcmp(cmd, "EXIT") == 0) {
		log_printf(self->handle, "KILL self");
		service_retire(self->handle);
		return 0;
	}
	if (strcmp(cmd, "KILL") == 0) {
		uint32_t h = node_resolve(luaL_checkstring(L, 2));
		if (h && service_retire(h) == 0)
			log_printf(self->handle, "KILL :%x", (unsigned)h);
		return 0;
	}
	if (strcmp(cmd, "REG") == 0) {
		const char *name = luaL_optstring(L, 2, NULL);
		if (!name || !*name)
			return luaapi_pushaddr(L, self->handle);
		if (name[0] == '.')
			node_bindname(name, self->handle);
		return 0;
	}
	if (strcmp(cmd, "NAME") == 0) {
		const char *arg = luaL_checkstring(L, 2);
		const char *sp = strchr(arg, ' ');
		if (sp && arg[0] == '.') {
			lua_pushlstring(L, arg, (size_t)(sp - arg));
			node_bindname(lua_tostring(L, -1), node_resolve(sp + 1));
		}
		return 0;
	}
	if (strcmp(cmd, "QUERY") == 0)
		return luaapi_pushaddr(L, node_resolve(luaL_checkstring(L, 2)));
	if (strcmp(cmd, "LOGON") == 0 || strcmp(cmd, "LOGOFF") == 0) {
		struct service *s = node_grab(node_resolve(luaL_checkstring(L, 2)));
		if (s) {
			atomic_store(&s->logon, cmd[3] == 'O');
			service_release(s);
		}
		return 0;
	}
	if (strcmp(cmd, "SIGNAL") == 0) {
		const char *arg = luaL_checkstring(L, 2);
		const char *sp = strchr(arg, ' ');
		service_signal(node_resolve(arg), sp ? atoi(sp + 1) : 0);
		return 0;
	}
	if (strcmp(cmd, "STARTTIME") == 0) {
		lua_pushinteger(L, (lua_Integer)timer_starttime());
		return 1;
	}
	if (strcmp(cmd, "ABORT") == 0) {
		log_printf(self->handle, "abort");
		exit(1);
	}
	return 0;	/* MONITOR and friends: nothing to do here */
}

/* stat(what): mqlen, message, cpu (seconds), endless */
static int luaapi_stat(lua_State *L)
{
	struct service *self = service_of(L);
	const char *what = luaL_checkstring(L, 1);
	if (strcmp(what, "mqlen") == 0)
		lua_pushinteger(L, mq_length(self->queue));
	else if (strcmp(what, "message") == 0)
		lua_pushinteger(L, (lua_Integer)self->messages);
	else if (strcmp(what, "cpu") == 0)
		lua_pushnumber(L, (lua_Number)self->cpu_us / 1000000.0);
	else
		lua_pushinteger(L, 0);
	return 1;
}

static void luaapi_tostr(lua_State *L, int idx)
{
	if (lua_type(L, idx) == LUA_TNUMBER && !lua_isinteger(L, idx))
		luaapi_pushfloat(L, lua_tonumber(L, idx));
	else
		luaL_tolstring(L, idx, NULL);
}

/* error(...): one log line, the arguments joined by spaces */
static int luaapi_error(lua_State *L)
{
	int n = lua_gettop(L);
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	for (int i = 1; i <= n; i++) {
		luaapi_tostr(L, i);
		luaL_addvalue(&b);
		if (i < n)
			luaL_addchar(&b, ' ');
	}
	luaL_pushresult(&b);
	size_t len;
	const char *msg = lua_tolstring(L, -1, &len);
	log_write(service_of(L)->handle, msg, len);
	return 0;
}

/* print(...) for services: stdout, tab separated, Lua 5.5 numbers */
static int luaapi_print(lua_State *L)
{
	int n = lua_gettop(L);
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	for (int i = 1; i <= n; i++) {
		luaapi_tostr(L, i);
		luaL_addvalue(&b);
		if (i < n)
			luaL_addchar(&b, '\t');
	}
	luaL_addchar(&b, '\n');
	luaL_pushresult(&b);
	size_t len;
	const char *s = lua_tolstring(L, -1, &len);
	log_raw(s, len);
	return 0;
}

static int luaapi_callback(lua_State *L)
{
	struct service *self = service_of(L);
	luaL_checktype(L, 1, LUA_TFUNCTION);
	lua_State *main = self->L;
	lua_settop(L, 1);
	lua_xmove(L, main, 1);
	if (self->callback != LUA_NOREF)
		luaL_unref(main, LUA_REGISTRYINDEX, self->callback);
	self->callback = luaL_ref(main, LUA_REGISTRYINDEX);
	return 0;
}

/* pack(...) -> msg, size: a malloc'd message for send (or trash) */
static int luaapi_pack(lua_State *L)
{
	size_t size;
	char *msg = serial_pack(L, 1, &size);
	lua_pushlightuserdata(L, msg);
	lua_pushinteger(L, (lua_Integer)size);
	return 2;
}

/* packstring(...): the packed message as a string; a C function, as
 * skynet's, so its errors carry no position of the sandbox's Lua */
static int luaapi_packstring(lua_State *L)
{
	size_t size;
	char *msg = serial_pack(L, 1, &size);
	lua_pushlstring(L, msg, size);
	free(msg);
	return 1;
}

static int luaapi_unpack(lua_State *L)
{
	if (lua_isnoneornil(L, 1))
		return 0;
	size_t len;
	const char *s = luaapi_bytes(L, 1, &len);
	lua_settop(L, 1);
	return serial_unpack(L, s, len);
}

/* tostring(msg, sz): the message as a string */
static int luaapi_msgstring(lua_State *L)
{
	if (lua_isnoneornil(L, 1))
		return 0;
	size_t len;
	const char *s = luaapi_bytes(L, 1, &len);
	lua_pushlstring(L, s, len);
	return 1;
}

/* trash(msg, sz): free a packed message that will not be sent */
static int luaapi_trash(lua_State *L)
{
	if (lua_type(L, 1) == LUA_TLIGHTUSERDATA)
		free(lua_touserdata(L, 1));
	return 0;
}

void luaapi_pushfloat(lua_State *L, lua_Number n)
{
	char buf[64];
	int len = snprintf(buf, sizeof buf, "%.15g", n);
	if (strtod(buf, NULL) != n)
		len = snprintf(buf, sizeof buf, "%.17g", n);
	if (buf[strspn(buf, "-0123456789")] == '\0' && len < 60) {
		buf[len++] = '.';
		buf[len++] = '0';
	}
	lua_pushlstring(L, buf, (size_t)len);
}

static int luaapi_tostring(lua_State *L)
{
	luaL_checkany(L, 1);
	luaapi_tostr(L, 1);
	return 1;
}

/* assert as Lua 5.5 has it: a string message gets the caller's position */
static int luaapi_assert(lua_State *L)
{
	if (lua_toboolean(L, 1))
		return lua_gettop(L);
	luaL_checkany(L, 1);
	lua_remove(L, 1);
	lua_pushliteral(L, "assertion failed!");
	lua_settop(L, 1);
	if (lua_type(L, 1) == LUA_TSTRING) {
		luaL_where(L, 1);
		lua_insert(L, 1);
		lua_concat(L, 2);
	}
	return lua_error(L);
}

/* chunk(file) -> the embedded file's chunk (see codecache), or nil */
static int luaapi_chunk(lua_State *L)
{
	const struct embed_file *f = embed_find(sandbox_lua, luaL_checkstring(L, 1));
	if (!f)
		return 0;
	if (codecache_load(L, f) != LUA_OK)
		return lua_error(L);
	return 1;
}

static int luaapi_open(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{ "send", luaapi_send }, { "redirect", luaapi_redirect },
		{ "genid", luaapi_genid }, { "timeout", luaapi_timeout },
		{ "now", luaapi_now }, { "hpc", luaapi_hpc }, { "self", luaapi_self },
		{ "localname", luaapi_localname }, { "harbor", luaapi_harbor },
		{ "command", luaapi_command }, { "stat", luaapi_stat },
		{ "error", luaapi_error }, { "print", luaapi_print },
		{ "callback", luaapi_callback }, { "pack", luaapi_pack },
		{ "packstring", luaapi_packstring }, { "unpack", luaapi_unpack },
		{ "tostring", luaapi_msgstring },
		{ "trash", luaapi_trash }, { "tostr", luaapi_tostring },
		{ "assert", luaapi_assert }, { "chunk", luaapi_chunk },
		{ "share", shared_share }, { "clone_shared", shared_clone },
		{ NULL, NULL },
	};
	luaL_newlib(L, funcs);
	luanet_register(L);
	return 1;
}

void luaapi_install(lua_State *L)
{
	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
	lua_pushcfunction(L, luaapi_open);
	lua_setfield(L, -2, "sandbox.core");
	lua_pushcfunction(L, crypt_open);
	lua_setfield(L, -2, "skynet.crypt");
	lua_pop(L, 1);
}
