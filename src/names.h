/* Registered local names (".name") to service handles, on a stock node.
 * Console commands take names as they are, but the agent transport and
 * the REPL need the handle, and no console command prints it.  Debug
 * mode's prompt does (":0000000f>"), so names_resolve enters debug mode
 * on the name and leaves at once with `cont`: nothing is left behind. */
#ifndef NAMES_H
#define NAMES_H

#include <stdint.h>

#include "err.h"

/* The handle of name (".launcher") on the node at spec (as net_open takes
 * it).  0 with *addr set; -1 with e set (ERR_NODE: no such name, or the
 * service is being debugged by someone else). */
int names_resolve(const char *spec, const char *name, double timeout, uint32_t *addr,
		  struct err *e);

/* The handle of the global name (registered without a dot, "DATACENTER";
 * given without the '%' of the target grammar) on the node at spec:
 * `call .cslave "QUERYNAME", "NAME"` on a connection of its own.  The
 * harbor slave answers a name nobody registered only once someone does,
 * so that is ERR_NODE after timeout (the query stays pending on the node,
 * a few bytes, until the name is registered or the node restarts). */
int names_global(const char *spec, const char *name, double timeout, uint32_t *addr,
		 struct err *e);

#endif
