/* channel: a queue of lines between two services, read without blocking
 * (debug mode: the debug_agent writes, the debugged service polls). */
#ifndef SANDBOX_CHANNEL_H
#define SANDBOX_CHANNEL_H

#include <stddef.h>

/* a new channel with one reference; return its id (> 0) */
int channel_new(void);

/* take a reference; return -1 if id is gone */
int channel_retain(int id);
void channel_release(int id);

/* append a copy of s; return -1 if id is gone */
int channel_write(int id, const char *s, size_t len);

/* the oldest line (malloc'd, *len set), or NULL when empty or gone */
char *channel_read(int id, size_t *len);

void channel_free_all(void);

#endif
