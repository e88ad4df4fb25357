/*
 * node: services by handle, allocated the way skynet allocates them, so a
 * node's addresses match a real one's even after services die: a table of
 * slots (a power of two, from 4, doubled when full), a handle lives in
 * slot handle & (size-1), and the next handle is the first one at or
 * after the last given out whose slot is free.  A reader-writer lock
 * guards the table; node_grab takes a service reference under it, so a
 * service cannot be freed between lookup and use.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "service.h"

#define NODE_HANDLE_MASK 0xffffffu

struct node_name {
	char *name;
	uint32_t handle;
};

static pthread_rwlock_t node_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct service **node_slots;
static uint32_t node_size;
static uint32_t node_index = 1;
static uint32_t node_harbor_bits;
static _Atomic uint32_t node_relay_handle;
static struct node_name *node_names;
static int node_nnames, node_capnames;

void node_init(int harbor)
{
	node_harbor_bits = (uint32_t)(harbor & 0xff) << 24;
}

int node_harbor(void)
{
	return (int)(node_harbor_bits >> 24);
}

void node_set_relay(uint32_t handle)
{
	atomic_store(&node_relay_handle, handle);
}

uint32_t node_relay(void)
{
	return atomic_load(&node_relay_handle);
}

int node_remote(uint32_t handle)
{
	uint32_t bits = handle & ~NODE_HANDLE_MASK;
	return bits != 0 && bits != node_harbor_bits;
}

/* double the slot table, moving every service to its new slot */
static void node_grow(void)
{
	uint32_t size = node_size ? node_size * 2 : 4;
	struct service **slots = calloc(size, sizeof *slots);
	if (!slots)
		abort();
	for (uint32_t i = 0; i < node_size; i++)
		if (node_slots[i])
			slots[node_slots[i]->handle & (size - 1)] = node_slots[i];
	free(node_slots);
	node_slots = slots;
	node_size = size;
}

uint32_t node_register(struct service *s)
{
	pthread_rwlock_wrlock(&node_lock);
	for (;;) {
		uint32_t handle = node_index;
		for (uint32_t i = 0; i < node_size; i++, handle++) {
			if (handle > NODE_HANDLE_MASK)
				handle = 1;	/* 0 is never a handle */
			uint32_t slot = handle & (node_size - 1);
			if (!node_slots[slot]) {
				s->handle = node_harbor_bits | handle;
				node_slots[slot] = s;
				node_index = handle + 1;
				pthread_rwlock_unlock(&node_lock);
				return s->handle;
			}
		}
		node_grow();
	}
}

/* the slot holding handle, or NULL */
static struct service **node_slot(uint32_t handle)
{
	if (node_size == 0 || (handle & ~NODE_HANDLE_MASK) != node_harbor_bits)
		return NULL;
	struct service **slot = &node_slots[handle & (node_size - 1)];
	return *slot && (*slot)->handle == handle ? slot : NULL;
}

struct service *node_grab(uint32_t handle)
{
	pthread_rwlock_rdlock(&node_lock);
	struct service **slot = node_slot(handle);
	struct service *s = slot ? *slot : NULL;
	if (s)
		service_ref(s);
	pthread_rwlock_unlock(&node_lock);
	return s;
}

struct service *node_unregister(uint32_t handle)
{
	pthread_rwlock_wrlock(&node_lock);
	struct service **slot = node_slot(handle);
	struct service *s = slot ? *slot : NULL;
	if (s) {
		*slot = NULL;
		int j = 0;
		for (int i = 0; i < node_nnames; i++) {
			if (node_names[i].handle == handle)
				free(node_names[i].name);
			else
				node_names[j++] = node_names[i];
		}
		node_nnames = j;
	}
	pthread_rwlock_unlock(&node_lock);
	return s;
}

uint32_t node_resolve(const char *name)
{
	if (name[0] == ':')
		return (uint32_t)strtoul(name + 1, NULL, 16);
	uint32_t handle = 0;
	if (name[0] != '.')
		return 0;
	pthread_rwlock_rdlock(&node_lock);
	for (int i = 0; i < node_nnames; i++)
		if (strcmp(node_names[i].name, name) == 0) {
			handle = node_names[i].handle;
			break;
		}
	pthread_rwlock_unlock(&node_lock);
	return handle;
}

int node_bindname(const char *name, uint32_t handle)
{
	int ret = 0;
	pthread_rwlock_wrlock(&node_lock);
	for (int i = 0; i < node_nnames; i++)
		if (strcmp(node_names[i].name, name) == 0)
			ret = -1;
	if (ret == 0) {
		if (node_nnames == node_capnames) {
			int cap = node_capnames ? node_capnames * 2 : 16;
			struct node_name *names = realloc(node_names, sizeof *names * (size_t)cap);
			if (!names)
				abort();
			node_names = names;
			node_capnames = cap;
		}
		node_names[node_nnames].name = strdup(name);
		node_names[node_nnames].handle = handle;
		node_nnames++;
	}
	pthread_rwlock_unlock(&node_lock);
	return ret;
}

int node_handles(uint32_t *out, int max)
{
	int n = 0;
	pthread_rwlock_rdlock(&node_lock);
	for (uint32_t i = 0; i < node_size && n < max; i++)
		if (node_slots[i])
			out[n++] = node_slots[i]->handle;
	pthread_rwlock_unlock(&node_lock);
	/* by handle */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && out[j - 1] > out[j]; j--) {
			uint32_t t = out[j];
			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return n;
}

void node_free(void)
{
	pthread_rwlock_wrlock(&node_lock);
	for (int i = 0; i < node_nnames; i++)
		free(node_names[i].name);
	free(node_names);
	node_names = NULL;
	node_nnames = node_capnames = 0;
	free(node_slots);
	node_slots = NULL;
	node_size = 0;
	pthread_rwlock_unlock(&node_lock);
}
