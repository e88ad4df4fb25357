/* config.h: reading the node file with the embedded Lua. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "config.h"

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
	lua_State *L = luaL_newstate();
	int rc = 0;
	if (!L || !c->path) {
		rc = err_set(e, ERR_LOCAL, "out of memory");
	} else if (luaL_loadbufferx(L, buf, len, "=", "t") != LUA_OK) {
		/* chunk "=": messages read ":LINE: ..." and get the full path */
		rc = err_set(e, ERR_LOCAL, "%s%s", path, lua_tostring(L, -1));
	} else {
		lua_newtable(L);	/* the file's environment: empty */
		lua_pushvalue(L, -1);
		lua_setupvalue(L, -3, 1);
		lua_insert(L, -2);
		if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
			rc = err_set(e, ERR_LOCAL, "%s%s", path, lua_tostring(L, -1));
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
