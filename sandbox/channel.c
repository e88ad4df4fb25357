/*
 * channel: reference-counted line queues in one locked list.  Small and
 * slow on purpose: a debug session moves a few lines a second.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"

struct channel_line {
	struct channel_line *next;
	size_t len;
	char data[];
};

struct channel {
	struct channel *next;
	int id, ref;
	struct channel_line *head, *tail;
};

static pthread_mutex_t channel_lock = PTHREAD_MUTEX_INITIALIZER;
static struct channel *channel_list;
static int channel_nextid;

static struct channel *channel_find(int id)
{
	for (struct channel *c = channel_list; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

int channel_new(void)
{
	struct channel *c = calloc(1, sizeof *c);
	if (!c)
		abort();
	pthread_mutex_lock(&channel_lock);
	c->id = ++channel_nextid;
	c->ref = 1;
	c->next = channel_list;
	channel_list = c;
	pthread_mutex_unlock(&channel_lock);
	return c->id;
}

int channel_retain(int id)
{
	pthread_mutex_lock(&channel_lock);
	struct channel *c = channel_find(id);
	if (c)
		c->ref++;
	pthread_mutex_unlock(&channel_lock);
	return c ? 0 : -1;
}

static void channel_destroy(struct channel *c)
{
	while (c->head) {
		struct channel_line *l = c->head;
		c->head = l->next;
		free(l);
	}
	free(c);
}

void channel_release(int id)
{
	pthread_mutex_lock(&channel_lock);
	for (struct channel **p = &channel_list; *p; p = &(*p)->next) {
		if ((*p)->id == id) {
			struct channel *c = *p;
			if (--c->ref == 0) {
				*p = c->next;
				channel_destroy(c);
			}
			break;
		}
	}
	pthread_mutex_unlock(&channel_lock);
}

int channel_write(int id, const char *s, size_t len)
{
	struct channel_line *l = malloc(sizeof *l + len + 1);
	if (!l)
		abort();
	l->next = NULL;
	l->len = len;
	memcpy(l->data, s, len);
	l->data[len] = '\0';
	pthread_mutex_lock(&channel_lock);
	struct channel *c = channel_find(id);
	if (c) {
		if (c->tail)
			c->tail->next = l;
		else
			c->head = l;
		c->tail = l;
	}
	pthread_mutex_unlock(&channel_lock);
	if (!c)
		free(l);
	return c ? 0 : -1;
}

char *channel_read(int id, size_t *len)
{
	struct channel_line *l = NULL;
	pthread_mutex_lock(&channel_lock);
	struct channel *c = channel_find(id);
	if (c && c->head) {
		l = c->head;
		c->head = l->next;
		if (!c->head)
			c->tail = NULL;
	}
	pthread_mutex_unlock(&channel_lock);
	if (!l)
		return NULL;
	*len = l->len;
	char *out = malloc(l->len + 1);
	if (!out)
		abort();
	memcpy(out, l->data, l->len + 1);
	free(l);
	return out;
}

void channel_free_all(void)
{
	pthread_mutex_lock(&channel_lock);
	while (channel_list) {
		struct channel *c = channel_list;
		channel_list = c->next;
		channel_destroy(c);
	}
	pthread_mutex_unlock(&channel_lock);
}
