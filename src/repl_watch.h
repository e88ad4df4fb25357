/* .watch PROTO at a service prompt: stock debug mode's breakpoint on the
 * next message of a protocol, stepped with s (step), n (next), c
 * (continue); other lines are evaluated in the paused frame.  Uses its own
 * connection (bare hex `debug` form), left with `cont` and closed, so
 * neither leaving nor being killed leaves the service in debug mode. */
#ifndef REPL_WATCH_H
#define REPL_WATCH_H

#include "repl_int.h"

/* run a watch session in r's service; returns an exit status */
int repl_watch(struct repl *r, const char *proto);

#endif
