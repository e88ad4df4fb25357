/*
 * codecache: each embedded file's bytecode, dumped from its first
 * compilation (debug information kept: the same chunk name, lines and
 * messages) and kept for the node's life.
 */
#include <lauxlib.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "codecache.h"

struct code {
	struct code *next;
	const struct embed_file *file;
	char *bytes;
	size_t size, cap;
};

static struct code *codes;
static pthread_mutex_t codes_lock = PTHREAD_MUTEX_INITIALIZER;

static int code_write(lua_State *L, const void *p, size_t n, void *ud)
{
	(void)L;
	struct code *c = ud;
	if (c->size + n > c->cap) {
		size_t cap = c->cap ? c->cap : 4096;
		while (cap < c->size + n)
			cap *= 2;
		char *b = realloc(c->bytes, cap);
		if (!b)
			return 1;
		c->bytes = b;
		c->cap = cap;
	}
	memcpy(c->bytes + c->size, p, n);
	c->size += n;
	return 0;
}

/* f's code in the cache, or NULL; codes_lock held */
static const struct code *code_of(const struct embed_file *f)
{
	const struct code *c = codes;
	while (c && c->file != f)
		c = c->next;
	return c;
}

/* f's function on top of L's stack, dumped into the cache (a file two
 * services compile at once is kept once; a dump that fails, not at all) */
static void code_add(lua_State *L, const struct embed_file *f)
{
	struct code *c = calloc(1, sizeof *c);
	if (!c)
		return;
	c->file = f;
	if (lua_dump(L, code_write, c, 0) != 0) {
		free(c->bytes);
		free(c);
		return;
	}
	pthread_mutex_lock(&codes_lock);
	if (code_of(f)) {
		free(c->bytes);
		free(c);
	} else {
		c->next = codes;
		codes = c;
	}
	pthread_mutex_unlock(&codes_lock);
}

int codecache_load(lua_State *L, const struct embed_file *f)
{
	pthread_mutex_lock(&codes_lock);
	const struct code *c = code_of(f);
	pthread_mutex_unlock(&codes_lock);
	if (c) /* the chunk name is in the bytecode; a cached code never changes */
		return luaL_loadbufferx(L, c->bytes, c->size, f->name, "b");
	lua_pushfstring(L, "@sandbox/%s", f->name);
	int err = luaL_loadbufferx(L, f->data, f->size, lua_tostring(L, -1), "t");
	lua_remove(L, -2);
	if (err == LUA_OK)
		code_add(L, f);
	return err;
}
