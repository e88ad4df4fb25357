/* env: the node's environment, config keys plus skynet.setenv, all strings. */
#ifndef SANDBOX_ENV_H
#define SANDBOX_ENV_H

#include <stddef.h>

/* copy of the value of key into buf (NUL-terminated); return its length,
 * or -1 when unset; a value longer than size-1 is truncated */
long env_get(const char *key, char *buf, size_t size);

/* a malloc'd copy of the value, or NULL when unset */
char *env_dup(const char *key);

/* set key; return -1 when it already exists (skynet never overwrites) */
int env_set(const char *key, const char *value);

void env_free(void);

#endif
