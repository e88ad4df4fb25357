/* sched: the run queue of services with mail, and the worker threads. */
#ifndef SANDBOX_SCHED_H
#define SANDBOX_SCHED_H

struct service;

/* put s (holding one reference for the queue) on the run queue */
void sched_push(struct service *s);

/* start n workers */
void sched_start(int n);

/* stop the workers; wait at most timeout_ms for each to finish its current
 * dispatch; return the number that did not stop (stuck in a service) */
int sched_stop(int timeout_ms);

#endif
