/* codecache: the sandbox's embedded Lua files compiled once for the node.
 * skynet's own Lua keeps a code cache: a module a service loads was
 * compiled once for every service of the node, so a require of a module
 * not loaded in that service costs it little.  The sandbox's services are
 * states of a stock Lua, which cannot share functions: each loads the
 * file's bytecode, made once, instead of compiling its source again. */
#ifndef SANDBOX_CODECACHE_H
#define SANDBOX_CODECACHE_H

#include <lua.h>

#include "embed.h"

/* push the chunk of embedded file f, as luaL_loadbuffer would with chunk
 * name "@sandbox/<name>"; returns a lua_load status (the error pushed) */
int codecache_load(lua_State *L, const struct embed_file *f);

#endif
