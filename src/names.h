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

#endif
