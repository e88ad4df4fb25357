/* serial: skynet.pack / skynet.unpack, in skynet's format (lua-seri.c). */
#ifndef SANDBOX_SERIAL_H
#define SANDBOX_SERIAL_H

#include <lua.h>

/* pack the values from stack index from to the top into a malloc'd block
 * (its size in *size); raises, allocating nothing, on a value it can't pack
 * (or freeing the block, when a __pairs gives other pairs the second time) */
char *serial_pack(lua_State *L, int from, size_t *size);

/* push the values packed in s[0..len); return how many.  Raises "Invalid
 * serialize stream" on bytes no packing gives, reading none past len */
int serial_unpack(lua_State *L, const char *s, size_t len);

#endif
