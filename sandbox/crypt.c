/*
 * crypt: skynet.crypt's base64encode (lualib-src/lua-crypt.c): the
 * standard alphabet, padded with '='.  A node started with the config key
 * no_crypt = "1" has no such module, as a skynet built without it: its
 * hubs escape their peers' replies in Lua.
 */
#include <lauxlib.h>

#include "crypt.h"
#include "env.h"

static int crypt_base64encode(lua_State *L)
{
	static const char digits[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n;
	const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 1, &n);
	luaL_Buffer b;
	char *out = luaL_buffinitsize(L, &b, (n + 2) / 3 * 4);
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0) |
			     (i + 2 < n ? s[i + 2] : 0);
		out[o++] = digits[v >> 18 & 63];
		out[o++] = digits[v >> 12 & 63];
		out[o++] = i + 1 < n ? digits[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? digits[v & 63] : '=';
	}
	luaL_pushresultsize(&b, o);
	return 1;
}

int crypt_open(lua_State *L)
{
	char off[2];
	if (env_get("no_crypt", off, sizeof off) == 1 && off[0] == '1')
		return luaL_error(L, "module 'skynet.crypt' not found");
	static const luaL_Reg funcs[] = {
		{ "base64encode", crypt_base64encode },
		{ NULL, NULL },
	};
	luaL_newlib(L, funcs);
	return 1;
}
