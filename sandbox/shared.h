/* shared: bytes every service of the node can reach by pointer, kept for
 * the node's life (the sandbox's stand-in for skynet.sharetable.core's
 * matrices, which skynet never frees either). */
#ifndef SANDBOX_SHARED_H
#define SANDBOX_SHARED_H

#include <lua.h>

/* share(bytes) -> pointer (a light userdata) */
int shared_share(lua_State *L);

/* shared(pointer) -> the bytes shared at it */
int shared_bytes(lua_State *L);

/* load_shared(pointer) -> the function whose bytecode is shared at it,
 * loaded from there (no copy of the bytes made first) */
int shared_load(lua_State *L);

#endif
