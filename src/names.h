/* Registered names to service handles.  Console commands take a local
 * name (".name") as it is, but the agent transport, the REPL and the
 * TARGET filters need the handle, and a global name ("NAME", registered
 * without a dot and seen by every harbor) is no console address at all
 * ("Need an address").  The harbor slave answers both: `call .cslave
 * "QUERYNAME", NAME` (cslave in a network, cdummy on a standalone node;
 * docs/protocol-harbors.md), without entering debug mode. */
#ifndef NAMES_H
#define NAMES_H

#include <stdint.h>

#include "err.h"

/* The handle of name, as the target grammar writes it (".launcher" or a
 * global "%DATACENTER"), on the node at spec (as proto_open takes it),
 * asked on a connection of its own.  0 with *addr set; -1 with e set
 * (ERR_NODE: no such name).  A local name is answered at once; the slave
 * answers a global name nobody registered only once someone does, so
 * that is ERR_NODE after timeout (the query stays pending on the node, a
 * few bytes, until the name is registered or the node restarts). */
int names_resolve(const char *spec, const char *name, double timeout, uint32_t *addr,
		  struct err *e);

#endif
