/* luanet: the parts of "sandbox.core" that reach beyond messages: sockets,
 * debug channels, a tracking coroutine.resume and a pausing hook. */
#ifndef SANDBOX_LUANET_H
#define SANDBOX_LUANET_H

#include <lua.h>

/* add the functions to the module table on top of L's stack */
void luanet_register(lua_State *L);

#endif
