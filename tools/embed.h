/* Lua sources embedded in a binary at build time (see tools/embed.c). */
#ifndef EMBED_H
#define EMBED_H

#include <stddef.h>
#include <string.h>

struct embed_file {
	const char *name;	/* file name without directory, e.g. "agent.lua" */
	const char *data;	/* NUL-terminated contents */
	size_t size;		/* length without the NUL */
	const char *sha256;	/* hex digest of data, made at build time */
};

/* return the entry named name in a table ended by a NULL name, or NULL */
static inline const struct embed_file *
embed_find(const struct embed_file *table, const char *name)
{
	for (; table->name; table++)
		if (strcmp(table->name, name) == 0)
			return table;
	return NULL;
}

#endif
