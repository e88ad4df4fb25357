/* crypt: skynet.crypt as the sandbox has it: base64encode, which a hub
 * uses to pass its peers' replies on (the rest of skynet's module, hashes
 * and ciphers for its login server, no test asks for). */
#ifndef SANDBOX_CRYPT_H
#define SANDBOX_CRYPT_H

#include <lua.h>

/* the module's opener, for package.preload["skynet.crypt"] */
int crypt_open(lua_State *L);

#endif
