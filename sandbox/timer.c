/*
 * timer: one thread and a binary heap ordered by expiry (then by insertion,
 * so equal timeouts fire in order).  An expired timeout becomes a response
 * message to its service, which is how skynet.sleep and skynet.timeout wake.
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "mq.h"
#include "service.h"
#include "timer.h"

struct timer_event {
	uint64_t when;		/* monotonic ns */
	uint64_t seq;
	uint32_t handle;
	int session;
};

static pthread_mutex_t timer_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t timer_cond;
static struct timer_event *timer_heap;
static size_t timer_len, timer_cap;
static uint64_t timer_seq;
static uint64_t timer_origin;
static uint64_t timer_unix_start;
static int timer_quit;
static pthread_t timer_thread;
static int timer_running;

uint64_t timer_hpc(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void timer_init(void)
{
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&timer_cond, &attr);
	pthread_condattr_destroy(&attr);
	timer_origin = timer_hpc();
	timer_unix_start = (uint64_t)time(NULL);
}

uint64_t timer_now(void)
{
	return (timer_hpc() - timer_origin) / 10000000u;
}

uint64_t timer_starttime(void)
{
	return timer_unix_start;
}

static int timer_less(const struct timer_event *a, const struct timer_event *b)
{
	return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static void timer_swap(size_t i, size_t j)
{
	struct timer_event t = timer_heap[i];
	timer_heap[i] = timer_heap[j];
	timer_heap[j] = t;
}

static void timer_heap_push(struct timer_event ev)
{
	if (timer_len == timer_cap) {
		timer_cap = timer_cap ? timer_cap * 2 : 64;
		timer_heap = realloc(timer_heap, sizeof *timer_heap * timer_cap);
		if (!timer_heap)
			abort();
	}
	size_t i = timer_len++;
	timer_heap[i] = ev;
	while (i > 0 && timer_less(&timer_heap[i], &timer_heap[(i - 1) / 2])) {
		timer_swap(i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static struct timer_event timer_heap_pop(void)
{
	struct timer_event top = timer_heap[0];
	timer_heap[0] = timer_heap[--timer_len];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < timer_len && timer_less(&timer_heap[l], &timer_heap[m]))
			m = l;
		if (r < timer_len && timer_less(&timer_heap[r], &timer_heap[m]))
			m = r;
		if (m == i)
			break;
		timer_swap(i, m);
		i = m;
	}
	return top;
}

void timer_add(uint32_t handle, int session, int ticks)
{
	if (ticks <= 0) {
		service_post(handle, 0, session, PTYPE_RESPONSE, NULL, 0);
		return;
	}
	pthread_mutex_lock(&timer_lock);
	struct timer_event ev = {
		.when = timer_hpc() + (uint64_t)ticks * 10000000u,
		.seq = timer_seq++, .handle = handle, .session = session,
	};
	timer_heap_push(ev);
	if (timer_heap[0].seq == ev.seq)
		pthread_cond_signal(&timer_cond);
	pthread_mutex_unlock(&timer_lock);
}

static void *timer_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&timer_lock);
	while (!timer_quit) {
		if (timer_len == 0) {
			pthread_cond_wait(&timer_cond, &timer_lock);
			continue;
		}
		uint64_t now = timer_hpc();
		if (timer_heap[0].when <= now) {
			struct timer_event ev = timer_heap_pop();
			pthread_mutex_unlock(&timer_lock);
			service_post(ev.handle, 0, ev.session, PTYPE_RESPONSE, NULL, 0);
			pthread_mutex_lock(&timer_lock);
			continue;
		}
		struct timespec ts = {
			.tv_sec = (time_t)(timer_heap[0].when / 1000000000u),
			.tv_nsec = (long)(timer_heap[0].when % 1000000000u),
		};
		pthread_cond_timedwait(&timer_cond, &timer_lock, &ts);
	}
	pthread_mutex_unlock(&timer_lock);
	return NULL;
}

void timer_start(void)
{
	if (pthread_create(&timer_thread, NULL, timer_main, NULL) == 0)
		timer_running = 1;
}

void timer_stop(void)
{
	pthread_mutex_lock(&timer_lock);
	timer_quit = 1;
	pthread_cond_signal(&timer_cond);
	pthread_mutex_unlock(&timer_lock);
	if (timer_running)
		pthread_join(timer_thread, NULL);
	timer_running = 0;
	free(timer_heap);
	timer_heap = NULL;
	timer_len = timer_cap = 0;
	pthread_cond_destroy(&timer_cond);
}
