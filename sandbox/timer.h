/* timer: skynet's clock (1/100 s ticks) and timeouts delivered as messages. */
#ifndef SANDBOX_TIMER_H
#define SANDBOX_TIMER_H

#include <stdint.h>

void timer_init(void);
void timer_start(void);
void timer_stop(void);

/* ticks (1/100 s) since the node started */
uint64_t timer_now(void);

/* unix time (seconds) when the node started */
uint64_t timer_starttime(void);

/* monotonic nanoseconds */
uint64_t timer_hpc(void);

/* after ticks, post a PTYPE_RESPONSE with session to handle (at once when
 * ticks <= 0) */
void timer_add(uint32_t handle, int session, int ticks);

#endif
