/* What `skyctl top` and `skyctl stuck` look at: the nodes (-a, -n, -H, and
 * the node prefixes of an optional TARGET) and, on each node, the services
 * the TARGET selects (all of them without one).  Unlike the dispatcher's
 * targets, the TARGET is optional, and services are picked from a sample
 * (stat/mem rows carry the launch command) rather than from `list`. */
#ifndef SCOPE_H
#define SCOPE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "sample.h"
#include "session.h"
#include "target.h"

struct scope {
	struct target_list tl;	/* empty without a TARGET */
	int has_target;
	struct session sess;	/* the nodes, in order */
	struct config config;	/* loaded here when only the TARGET needed it */
};

/* Parse spec (NULL: none), load the node file if a node prefix needs it
 * and cfg (the dispatcher's) is not loaded, and choose the nodes.  Items
 * naming registered names (.name) are refused unless names_ok.  -1 with e
 * set (ERR_USAGE, ERR_LOCAL). */
int scope_open(struct scope *sc, const char *spec, const struct config *cfg, int cfg_loaded,
	       const char *cfg_file, const struct session_opts *o, int names_ok, struct err *e);
void scope_close(struct scope *sc);

/* The TARGET's items for node i resolved against its services (as
 * target_resolve does); *t malloc'd.  -1 when out of memory. */
int scope_resolve(const struct scope *sc, size_t i, const struct target_service *svc,
		  size_t nsvc, struct target **t, size_t *nt);

/* The addresses of s's rows that the TARGET (there must be one) selects
 * on node i, sorted, into *keep (malloc'd; free it).  -1 when out of
 * memory. */
int scope_select(const struct scope *sc, size_t i, const struct sample *s, uint32_t **keep,
		 size_t *n);

#endif
