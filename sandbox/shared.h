/* shared: bytes every service of the node can reach by pointer, kept for
 * the node's life (the sandbox's stand-in for skynet.sharetable.core's
 * matrices, which skynet never frees either). */
#ifndef SANDBOX_SHARED_H
#define SANDBOX_SHARED_H

#include <lua.h>

/* share(bytes) -> pointer (a light userdata) */
int shared_share(lua_State *L);

/* clone(pointer) -> the table packed at it (skynet.sharetable.core.lua's
 * matrix), its functions loaded when first read */
int shared_clone(lua_State *L);

#endif
