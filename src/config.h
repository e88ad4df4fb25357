/* The node file: Lua syntax, evaluated by the embedded Lua in an empty
 * environment, e.g.
 *     nodes = { game1 = "127.0.0.1:8000", game2 = "ssh://ops@gw/127.0.0.1:8000" }
 * Found at --config FILE, else $XDG_CONFIG_HOME/skyctl/config.lua, else
 * ~/.config/skyctl/config.lua; a missing default file means no nodes. */
#ifndef CONFIG_H
#define CONFIG_H

#include <stddef.h>

#include "err.h"

struct config_node {
	char *name;
	char *addr;		/* "host:port" or "ssh://..." */
};

struct config {
	struct config_node *v;	/* sorted by name */
	size_t n;
	char *path;		/* the file read, or NULL */
};

/* load path (NULL: the default location) into c; -1 (ERR_LOCAL) with the
 * Lua error or the bad entry named */
int config_load(const char *path, struct config *c, struct err *e);
const struct config_node *config_find(const struct config *c, const char *name);
void config_free(struct config *c);

/* the default node file's path into buf (NULL if neither variable is set) */
const char *config_default_path(char *buf, size_t len);

#endif
