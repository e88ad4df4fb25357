/*
 * sched: services with mail wait here in FIFO order.  A worker takes one,
 * dispatches one message and puts it back at the tail if more wait, so a
 * busy service never starves the others, and a service stuck in an endless
 * loop holds only its own worker.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "sched.h"
#include "service.h"

struct sched_node {
	struct sched_node *next;
	struct service *s;
};

static pthread_mutex_t sched_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sched_cond = PTHREAD_COND_INITIALIZER;
static struct sched_node *sched_head, *sched_tail;
static int sched_quit;
static pthread_t *sched_threads;
static int sched_nthreads;

void sched_push(struct service *s)
{
	struct sched_node *n = malloc(sizeof *n);
	if (!n)
		abort();
	n->next = NULL;
	n->s = s;
	pthread_mutex_lock(&sched_lock);
	if (sched_tail)
		sched_tail->next = n;
	else
		sched_head = n;
	sched_tail = n;
	pthread_cond_signal(&sched_cond);
	pthread_mutex_unlock(&sched_lock);
}

/* the next service to run, or NULL when stopping */
static struct service *sched_pop(void)
{
	pthread_mutex_lock(&sched_lock);
	while (!sched_head && !sched_quit)
		pthread_cond_wait(&sched_cond, &sched_lock);
	struct service *s = NULL;
	if (!sched_quit) {
		struct sched_node *n = sched_head;
		sched_head = n->next;
		if (!sched_head)
			sched_tail = NULL;
		s = n->s;
		free(n);
	}
	pthread_mutex_unlock(&sched_lock);
	return s;
}

static void *sched_worker(void *arg)
{
	(void)arg;
	struct service *s;
	while ((s = sched_pop()) != NULL) {
		if (service_run(s))
			sched_push(s);
		else
			service_release(s);
	}
	return NULL;
}

void sched_start(int n)
{
	sched_threads = calloc((size_t)n, sizeof *sched_threads);
	if (!sched_threads)
		abort();
	for (int i = 0; i < n; i++)
		if (pthread_create(&sched_threads[i], NULL, sched_worker, NULL) == 0)
			sched_nthreads++;
}

int sched_stop(int timeout_ms)
{
	pthread_mutex_lock(&sched_lock);
	sched_quit = 1;
	pthread_cond_broadcast(&sched_cond);
	pthread_mutex_unlock(&sched_lock);
	int stuck = 0;
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	for (int i = 0; i < sched_nthreads; i++)
		if (pthread_timedjoin_np(sched_threads[i], NULL, &deadline) != 0)
			stuck++;
	if (stuck == 0) {
		/* release what is still queued: each entry holds a reference */
		while (sched_head) {
			struct sched_node *n = sched_head;
			sched_head = n->next;
			service_release(n->s);
			free(n);
		}
		sched_tail = NULL;
		free(sched_threads);
		sched_threads = NULL;
	}
	return stuck;
}
