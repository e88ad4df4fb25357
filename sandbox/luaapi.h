/* luaapi: the C module "sandbox.core" every service's Lua code is built on. */
#ifndef SANDBOX_LUAAPI_H
#define SANDBOX_LUAAPI_H

#include <lua.h>

#include "embed.h"

/* the sandbox's Lua files, embedded at build time */
extern const struct embed_file sandbox_lua[];

/* make require "sandbox.core" (and "skynet.crypt") available in L */
void luaapi_install(lua_State *L);

/* push a float formatted the way Lua 5.5 prints it (what real skynet's
 * bundled Lua shows): %.15g, or %.17g when that does not read back */
void luaapi_pushfloat(lua_State *L, lua_Number n);

#endif
