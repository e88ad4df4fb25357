/* mq: one service's message queue (FIFO, locked, growable ring). */
#ifndef SANDBOX_MQ_H
#define SANDBOX_MQ_H

#include <stddef.h>
#include <stdint.h>

/* message types, as in skynet.h */
enum {
	PTYPE_TEXT = 0, PTYPE_RESPONSE = 1, PTYPE_CLIENT = 3, PTYPE_SYSTEM = 4,
	PTYPE_HARBOR = 5, PTYPE_SOCKET = 6, PTYPE_ERROR = 7, PTYPE_DEBUG = 9,
	PTYPE_LUA = 10, PTYPE_TRACE = 12,
	PTYPE_INIT = 255	/* sandbox-internal: first message, loads the service */
};

struct message {
	uint32_t source;
	int session;
	int type;
	char *data;	/* malloc'd, owned by the message; may be NULL */
	size_t size;
};

struct mq;

struct mq *mq_create(void);

/* free the queue and every message left in it */
void mq_release(struct mq *q);

/* append m (taking its data); return 1 when the queue was idle and is now
 * marked scheduled: the caller must put its service on the run queue */
int mq_push(struct mq *q, const struct message *m);

/* take the oldest message into *m; return 0 when empty */
int mq_pop(struct mq *q, struct message *m);

/* after a dispatch: return 1 if messages remain (stay scheduled), else
 * mark the queue idle and return 0 */
int mq_reschedule(struct mq *q);

int mq_length(struct mq *q);

#endif
