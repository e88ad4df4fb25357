/*
 * mq: a service's mailbox.  A ring buffer under a mutex, plus the flag that
 * says whether the service sits on the run queue (or is being dispatched),
 * so exactly one worker runs a service at a time.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mq.h"

struct mq {
	pthread_mutex_t lock;
	struct message *ring;
	int cap, head, len;
	int scheduled;
};

struct mq *mq_create(void)
{
	struct mq *q = calloc(1, sizeof *q);
	if (!q)
		abort();
	pthread_mutex_init(&q->lock, NULL);
	q->cap = 16;
	q->ring = malloc(sizeof *q->ring * (size_t)q->cap);
	if (!q->ring)
		abort();
	return q;
}

void mq_release(struct mq *q)
{
	struct message m;
	while (mq_pop(q, &m))
		free(m.data);
	pthread_mutex_destroy(&q->lock);
	free(q->ring);
	free(q);
}

static void mq_grow(struct mq *q)
{
	struct message *ring = malloc(sizeof *ring * (size_t)q->cap * 2);
	if (!ring)
		abort();
	for (int i = 0; i < q->len; i++)
		ring[i] = q->ring[(q->head + i) % q->cap];
	free(q->ring);
	q->ring = ring;
	q->head = 0;
	q->cap *= 2;
}

int mq_push(struct mq *q, const struct message *m)
{
	pthread_mutex_lock(&q->lock);
	if (q->len == q->cap)
		mq_grow(q);
	q->ring[(q->head + q->len) % q->cap] = *m;
	q->len++;
	int wake = !q->scheduled;
	q->scheduled = 1;
	pthread_mutex_unlock(&q->lock);
	return wake;
}

int mq_pop(struct mq *q, struct message *m)
{
	pthread_mutex_lock(&q->lock);
	int got = q->len > 0;
	if (got) {
		*m = q->ring[q->head];
		q->head = (q->head + 1) % q->cap;
		q->len--;
	}
	pthread_mutex_unlock(&q->lock);
	return got;
}

int mq_reschedule(struct mq *q)
{
	pthread_mutex_lock(&q->lock);
	int more = q->len > 0;
	if (!more)
		q->scheduled = 0;
	pthread_mutex_unlock(&q->lock);
	return more;
}

int mq_length(struct mq *q)
{
	pthread_mutex_lock(&q->lock);
	int n = q->len;
	pthread_mutex_unlock(&q->lock);
	return n;
}
