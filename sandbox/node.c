/*
 * node: handles are never reused (a counter from 1, harbor id in the top
 * byte), so a stale address stays dead.  A reader-writer lock guards the
 * table; node_grab takes a service reference while holding it, so a
 * service cannot be freed between lookup and use.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "service.h"

struct node_name {
	char *name;
	uint32_t handle;
};

static pthread_rwlock_t node_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct service **node_slots;
static uint32_t node_cap;
static uint32_t node_next = 1;
static uint32_t node_harbor_bits;
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

uint32_t node_register(struct service *s)
{
	pthread_rwlock_wrlock(&node_lock);
	uint32_t index = node_next++;
	if (index >= node_cap) {
		uint32_t cap = node_cap ? node_cap * 2 : 64;
		struct service **slots = realloc(node_slots, sizeof *slots * cap);
		if (!slots)
			abort();
		memset(slots + node_cap, 0, sizeof *slots * (cap - node_cap));
		node_slots = slots;
		node_cap = cap;
	}
	node_slots[index] = s;
	pthread_rwlock_unlock(&node_lock);
	return node_harbor_bits | index;
}

static struct service *node_slot(uint32_t handle)
{
	if ((handle & 0xff000000u) != node_harbor_bits)
		return NULL;
	uint32_t index = handle & 0xffffff;
	return index < node_cap ? node_slots[index] : NULL;
}

struct service *node_grab(uint32_t handle)
{
	pthread_rwlock_rdlock(&node_lock);
	struct service *s = node_slot(handle);
	if (s)
		service_ref(s);
	pthread_rwlock_unlock(&node_lock);
	return s;
}

struct service *node_unregister(uint32_t handle)
{
	pthread_rwlock_wrlock(&node_lock);
	struct service *s = node_slot(handle);
	if (s) {
		node_slots[handle & 0xffffff] = NULL;
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
	for (uint32_t i = 0; i < node_cap && n < max; i++)
		if (node_slots[i])
			out[n++] = node_harbor_bits | i;
	pthread_rwlock_unlock(&node_lock);
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
	node_cap = 0;
	pthread_rwlock_unlock(&node_lock);
}
