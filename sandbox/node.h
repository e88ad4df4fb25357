/* node: the registry of live services by handle, and their local names. */
#ifndef SANDBOX_NODE_H
#define SANDBOX_NODE_H

#include <stdint.h>

struct service;

/* harbor id goes in the top 8 bits of every handle */
void node_init(int harbor);
int node_harbor(void);

/* the service that carries messages to other harbors (the harbor
 * slave), set when it launches `harbor ID SLAVE`; 0 while there is none */
void node_set_relay(uint32_t handle);
uint32_t node_relay(void);

/* whether handle belongs to another harbor (skynet's rule: harbor bits
 * that are neither 0 nor ours) */
int node_remote(uint32_t handle);

/* give s the next handle (in s->handle) and list it; return the handle */
uint32_t node_register(struct service *s);

/* the live service with this handle, with a reference taken (release it
 * with service_release), or NULL */
struct service *node_grab(uint32_t handle);

/* unlist handle and drop its names; return the service (whose registry
 * reference the caller now owns) or NULL if it was not listed */
struct service *node_unregister(uint32_t handle);

/* resolve ".name" (local name) or ":hex"; return 0 when unknown */
uint32_t node_resolve(const char *name);

/* bind a local name (with its dot) to handle; -1 if taken */
int node_bindname(const char *name, uint32_t handle);

/* fill out with up to max live handles, ascending; return how many */
int node_handles(uint32_t *out, int max);

void node_free(void);

#endif
