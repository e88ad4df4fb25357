/* The patches in place across many services, read from their journals
 * (lua/agent.lua's journal op): per service its entries newest first; the
 * distinct patches in place (by sha256) as matrix columns, newest first;
 * and drift: among siblings (the same Lua service, `snlua agent ...`, on
 * any node) a service lacking a patch most of them carry, or carrying one
 * most of them lack (those lacking it on a tie). */
#ifndef PATCHSET_H
#define PATCHSET_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"

struct patchset_entry {
	long long id, time, nchanges, of, restored;
	const char *kind, *name, *sha, *who, *state;	/* in the patchset's pool */
	size_t nconflicts;
};

struct patchset_svc {
	size_t node;
	uint32_t addr;
	const char *cmd;	/* launch command, or NULL */
	char group[128];	/* siblings share it */
	int ok;
	char *err, *json;	/* why not read; the journal as JSON, trimmed */
	struct patchset_entry *e;
	size_t ne;
	char drift[256];
	char set[96];		/* the patch set it was brought to (apply): "v2 2/3", or "" */
};

/* a patch in place somewhere: the matrix's columns */
struct patchset_patch {
	const char *sha, *name;
	long long time;		/* newest application */
	size_t carriers;
};

struct patchset {
	struct patchset_svc *s;
	size_t ns;
	size_t nset;		/* services brought to a patch set */
	struct patchset_patch *p;
	size_t np;
	int json;		/* keep each journal as JSON (--json): 10,000 of
				 * them are tens of MB a text run has no use for */
	/* the entries' strings, each kept once: 10,000 services carrying the
	 * same patches name them the same way */
	char **pool;
	size_t npool, pool_cap;	/* pool_cap: a power of two, or 0 */
	int oom;
};

/* room for n services; -1 when out of memory */
int patchset_init(struct patchset *ps, size_t n);
/* record service addr (launch command cmd, or NULL) of node from its
 * journal reply res; the strings of cmd and nodename must outlive ps */
void patchset_add(struct patchset *ps, size_t node, const char *nodename, uint32_t addr,
		  const char *cmd, const struct batch_result *res);
/* the columns, their carriers and the drift; returns how many services
 * drift, -1 when out of memory (then or while adding) */
long patchset_finish(struct patchset *ps);
void patchset_free(struct patchset *ps);

/* the entry of s that carries patch p, or NULL */
const struct patchset_entry *patchset_find(const struct patchset_svc *s,
					   const struct patchset_patch *p);

#endif
