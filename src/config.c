/* config.h: reading the node file with the embedded Lua. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "config.h"

/* A node file is data, but it is Lua: a loop or a huge table in it must
 * end in an error, not hang skyctl or take the machine's memory. */
#define CONFIG_MAX_STEPS 10000000	/* Lua instructions */
#define CONFIG_MAX_MEM (16u << 20)	/* bytes of Lua heap */

struct config_heap {
	size_t used;
};

/* lua_Alloc that refuses to grow the heap past CONFIG_MAX_MEM */
static void *config_alloc(void *ud, void *p, size_t osize, size_t nsize)
{
	struct config_heap *h = ud;
	size_t old = p ? osize : 0;
	if (nsize == 0) {
		free(p);
		h->used -= old;
		return NULL;
	}
	if (nsize > old && h->used - old + nsize > CONFIG_MAX_MEM)
		return NULL;
	void *q = realloc(p, nsize);
	if (q)
		h->used = h->used - old + nsize;
	return q;
}

static void config_too_long(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	luaL_error(L, "ran for more than %d Lua instructions (a loop?)", CONFIG_MAX_STEPS);
}

/* "PATH:LINE: msg" for Lua's ":LINE: msg" (chunk "="), "PATH: msg" else */
static int config_lua_error(lua_State *L, const char *path, struct err *e)
{
	const char *msg = lua_tostring(L, -1);
	if (!msg)
		msg = "error object is not a string";
	return err_set(e, ERR_LOCAL, "%s%s%s", path, msg[0] == ':' ? "" : ": ", msg);
}

const char *config_default_path(char *buf, size_t len)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	if (xdg && *xdg)
		snprintf(buf, len, "%s/skyctl/config.lua", xdg);
	else if (home && *home)
		snprintf(buf, len, "%s/.config/skyctl/config.lua", home);
	else
		return NULL;
	return buf;
}

static int config_cmp(const void *a, const void *b)
{
	return strcmp(((const struct config_node *)a)->name, ((const struct config_node *)b)->name);
}

/* the `nodes` table at the top of L's stack into c */
static int config_nodes(lua_State *L, struct config *c, const char *path, struct err *e)
{
	size_t cap = 0;
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING) {
			lua_pop(L, 2);
			return err_set(e, ERR_LOCAL,
				       "%s: nodes must map names to \"host:port\" strings", path);
		}
		if (c->n == cap) {
			cap = cap ? cap * 2 : 8;
			struct config_node *v = realloc(c->v, cap * sizeof *v);
			if (!v)
				return err_set(e, ERR_LOCAL, "out of memory");
			c->v = v;
		}
		c->v[c->n].name = strdup(lua_tostring(L, -2));
		c->v[c->n].addr = strdup(lua_tostring(L, -1));
		c->n++;
		lua_pop(L, 1);
		if (!c->v[c->n - 1].name || !c->v[c->n - 1].addr)
			return err_set(e, ERR_LOCAL, "out of memory");
	}
	if (c->n)
		qsort(c->v, c->n, sizeof *c->v, config_cmp);
	return 0;
}

int config_load(const char *path, struct config *c, struct err *e)
{
	char buf[65536];
	int explicit = path != NULL;
	memset(c, 0, sizeof *c);
	char defpath[4096];
	if (!path && !(path = config_default_path(defpath, sizeof defpath)))
		return 0;
	FILE *f = fopen(path, "r");
	if (!f) {
		if (!explicit && errno == ENOENT)
			return 0;
		return err_set(e, ERR_LOCAL, "cannot read %s: %s", path, strerror(errno));
	}
	size_t len = fread(buf, 1, sizeof buf, f);
	int bad = ferror(f) || !feof(f);
	fclose(f);
	if (bad)
		return err_set(e, ERR_LOCAL, "cannot read %s: %s", path,
			       len == sizeof buf ? "larger than 64 KB" : strerror(errno));
	c->path = strdup(path);
	struct config_heap heap = { 0 };
	lua_State *L = lua_newstate(config_alloc, &heap);
	int rc = 0;
	if (!L || !c->path) {
		rc = err_set(e, ERR_LOCAL, "out of memory");
	} else if (luaL_loadbufferx(L, buf, len, "=", "t") != LUA_OK) {
		/* chunk "=": messages read ":LINE: ..." and get the full path */
		rc = config_lua_error(L, path, e);
	} else {
		lua_newtable(L);	/* the file's environment: empty */
		lua_pushvalue(L, -1);
		lua_setupvalue(L, -3, 1);
		lua_insert(L, -2);
		lua_sethook(L, config_too_long, LUA_MASKCOUNT, CONFIG_MAX_STEPS);
		int st = lua_pcall(L, 0, 0, 0);
		lua_sethook(L, NULL, 0, 0);
		if (st == LUA_ERRMEM) {
			rc = err_set(e, ERR_LOCAL, "%s: uses more than %u MB of memory", path,
				     CONFIG_MAX_MEM >> 20);
		} else if (st != LUA_OK) {
			rc = config_lua_error(L, path, e);
		} else {
			lua_getfield(L, -1, "nodes");
			if (lua_istable(L, -1))
				rc = config_nodes(L, c, path, e);
			else if (!lua_isnil(L, -1))
				rc = err_set(e, ERR_LOCAL, "%s: nodes must be a table", path);
		}
	}
	if (L)
		lua_close(L);
	return rc;
}

const struct config_node *config_find(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->v[i].name, name) == 0)
			return &c->v[i];
	return NULL;
}

void config_free(struct config *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].name);
		free(c->v[i].addr);
	}
	free(c->v);
	free(c->path);
	memset(c, 0, sizeof *c);
}
