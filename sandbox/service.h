/* service: one service of the node (a Lua state of its own, or a silent
 * placeholder for skynet's C services), its mailbox, stats and lifecycle. */
#ifndef SANDBOX_SERVICE_H
#define SANDBOX_SERVICE_H

#include <lua.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct mq;
struct message;

struct service {
	uint32_t handle;
	atomic_int ref;
	atomic_int retired;
	struct mq *queue;
	lua_State *L;			/* NULL for a placeholder service */
	_Atomic(lua_State *) active;	/* thread running now, for signal */
	atomic_int trap;		/* a signal is pending */
	char *launch;			/* launch line, e.g. "snlua agent 1" */
	int session;			/* last session id handed out */
	int callback;			/* registry ref of the dispatch function */
	uint64_t cpu_us;		/* cpu time spent dispatching */
	uint64_t messages;		/* messages dispatched */
	atomic_int logon;
};

/* the service owning a Lua state (any of its threads) */
static inline struct service *service_of(lua_State *L)
{
	return *(struct service **)lua_getextraspace(L);
}

/* start a service from a launch line ("snlua name args..." or a C service
 * name); return its handle, or 0 */
uint32_t service_launch(const char *line, int log);

void service_ref(struct service *s);
/* drop a reference; the last one frees the service */
void service_release(struct service *s);

/* queue a message for dest (taking data, freeing it on failure);
 * return 0, or -1 when dest is not a live service */
int service_post(uint32_t dest, uint32_t source, int session, int type,
		 char *data, size_t size);

/* retire handle (skynet's EXIT/KILL); return -1 if it was not live */
int service_retire(uint32_t handle);

/* worker side: dispatch one message of s (or bounce them if retired);
 * return 1 when s has more messages and must stay scheduled */
int service_run(struct service *s);

/* interrupt a service stuck in Lua code (sig 0), from any thread */
void service_signal(uint32_t handle, int sig);

/* at exit, after the workers stopped: retire and free every service */
void service_shutdown(void);

/* next session id of s */
int service_genid(struct service *s);

#endif
