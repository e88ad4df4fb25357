/*
 * env: a small locked list of key = value strings.  The config fills it at
 * start; services read it with skynet.getenv and add keys with setenv.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"

struct env_entry {
	struct env_entry *next;
	char *key;
	char *value;
};

static pthread_mutex_t env_lock = PTHREAD_MUTEX_INITIALIZER;
static struct env_entry *env_head;

static struct env_entry *env_find(const char *key)
{
	for (struct env_entry *e = env_head; e; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

long env_get(const char *key, char *buf, size_t size)
{
	long n = -1;
	pthread_mutex_lock(&env_lock);
	struct env_entry *e = env_find(key);
	if (e) {
		size_t len = strlen(e->value);
		if (len >= size)
			len = size - 1;
		memcpy(buf, e->value, len);
		buf[len] = '\0';
		n = (long)len;
	}
	pthread_mutex_unlock(&env_lock);
	return n;
}

char *env_dup(const char *key)
{
	char *copy = NULL;
	pthread_mutex_lock(&env_lock);
	struct env_entry *e = env_find(key);
	if (e)
		copy = strdup(e->value);
	pthread_mutex_unlock(&env_lock);
	return copy;
}

int env_set(const char *key, const char *value)
{
	int ret = -1;
	pthread_mutex_lock(&env_lock);
	if (!env_find(key)) {
		struct env_entry *e = malloc(sizeof *e);
		if (e) {
			e->key = strdup(key);
			e->value = strdup(value);
			e->next = env_head;
			env_head = e;
			ret = 0;
		}
	}
	pthread_mutex_unlock(&env_lock);
	return ret;
}

void env_free(void)
{
	pthread_mutex_lock(&env_lock);
	while (env_head) {
		struct env_entry *e = env_head;
		env_head = e->next;
		free(e->key);
		free(e->value);
		free(e);
	}
	pthread_mutex_unlock(&env_lock);
}
