/*
 * service: lifecycle and dispatch.  A Lua service owns a lua_State created
 * at launch; its first message (PTYPE_INIT) runs the embedded loader, which
 * finds and runs the service's script.  Each later message is handed to
 * the dispatch function the script registered (skynet.start does that),
 * timed with the thread's cpu clock.  A retired service bounces the
 * requests left in its mailbox back as errors and is freed with its last
 * reference.
 */
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codecache.h"
#include "embed.h"
#include "log.h"
#include "luaapi.h"
#include "mq.h"
#include "node.h"
#include "sched.h"
#include "service.h"

static atomic_int service_closing;

static int service_traceback(lua_State *L)
{
	const char *msg = lua_tostring(L, 1);
	if (msg)
		luaL_traceback(L, L, msg, 1);
	else
		lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
	return 1;
}

uint32_t service_launch(const char *line, int log)
{
	const char *space = strchr(line, ' ');
	size_t kind = space ? (size_t)(space - line) : strlen(line);
	int lua = kind == 5 && memcmp(line, "snlua", 5) == 0;
	struct service *s = calloc(1, sizeof *s);
	if (!s)
		abort();
	atomic_init(&s->ref, 1);
	s->queue = mq_create();
	s->callback = LUA_NOREF;
	s->launch = strdup(line);
	if (lua) {
		s->L = luaL_newstate();
		if (!s->L)
			abort();
		*(struct service **)lua_getextraspace(s->L) = s;
		luaL_openlibs(s->L);
		luaapi_install(s->L);
		lua_gc(s->L, LUA_GCGEN, 0, 0);	/* as skynet's snlua does */
		atomic_store(&s->active, s->L);
	}
	node_register(s);
	unsigned id, slave;
	if (sscanf(line, "harbor %u %u", &id, &slave) == 2 && id != 0)
		node_set_relay(slave);	/* skynet's harbor service works for the slave */
	if (log)
		log_printf(s->handle, "LAUNCH %s", line);
	/* s may be gone once INIT is posted: a worker can run it, fail and
	 * free s before this returns */
	uint32_t handle = s->handle;
	if (lua) {
		char *args = strdup(space ? space + 1 : "");
		service_post(handle, 0, 0, PTYPE_INIT, args, strlen(args));
	}
	return handle;
}

void service_ref(struct service *s)
{
	atomic_fetch_add(&s->ref, 1);
}

/* answer a request that will never be served */
static void service_bounce(struct service *s, struct message *m)
{
	if (!atomic_load(&service_closing) && m->session != 0 && m->source != 0 && m->type != PTYPE_RESPONSE &&
	    m->type != PTYPE_ERROR && m->type != PTYPE_INIT)
		service_post(m->source, s->handle, m->session, PTYPE_ERROR, NULL, 0);
	free(m->data);
	m->data = NULL;
}

static void service_free(struct service *s)
{
	struct message m;
	while (mq_pop(s->queue, &m))
		service_bounce(s, &m);
	if (s->L)
		lua_close(s->L);
	mq_release(s->queue);
	free(s->launch);
	free(s);
}

void service_release(struct service *s)
{
	if (atomic_fetch_sub(&s->ref, 1) == 1)
		service_free(s);
}

/* hand a message for another harbor to the relay, as a PTYPE_HARBOR
 * message whose data is the header (dest, source, session: 32 bits
 * big-endian; type: 8 bits) and the payload */
static int service_relay(uint32_t relay, uint32_t dest, uint32_t source, int session, int type,
			 char *data, size_t size)
{
	char *m = malloc(13 + size);
	if (!m)
		abort();
	uint32_t head[3] = { dest, source, (uint32_t)session };
	for (int i = 0; i < 12; i++)
		m[i] = (char)(head[i / 4] >> (24 - 8 * (i % 4)));
	m[12] = (char)type;
	if (size)
		memcpy(m + 13, data, size);
	free(data);
	return service_post(relay, source, 0, PTYPE_HARBOR, m, 13 + size);
}

int service_post(uint32_t dest, uint32_t source, int session, int type,
		 char *data, size_t size)
{
	uint32_t relay = node_remote(dest) ? node_relay() : 0;
	if (relay)
		return service_relay(relay, dest, source, session, type, data, size);
	struct service *s = node_grab(dest);
	if (!s) {
		free(data);
		return -1;
	}
	struct message m = { source, session, type, data, size };
	if (mq_push(s->queue, &m)) {
		service_ref(s);
		sched_push(s);
	}
	service_release(s);
	return 0;
}

int service_retire(uint32_t handle)
{
	struct service *s = node_unregister(handle);
	if (!s)
		return -1;
	atomic_store(&s->retired, 1);
	service_release(s);
	return 0;
}

int service_genid(struct service *s)
{
	if (++s->session <= 0)
		s->session = 1;
	return s->session;
}

/* run the embedded loader with the launch arguments */
static void service_init(struct service *s, struct message *m)
{
	lua_State *L = s->L;
	lua_pushcfunction(L, service_traceback);
	const struct embed_file *f = embed_find(sandbox_lua, "loader.lua");
	int err = codecache_load(L, f);
	if (err == LUA_OK) {
		lua_pushlstring(L, m->data ? m->data : "", m->size);
		err = lua_pcall(L, 1, 0, -3);
	}
	if (err != LUA_OK) {
		log_printf(s->handle, "init service failed: %s", lua_tostring(L, -1));
		service_retire(s->handle);
	}
	lua_settop(L, 0);
}

static void service_dispatch(struct service *s, struct message *m)
{
	lua_State *L = s->L;
	if (!L) {
		service_bounce(s, m);
		return;
	}
	atomic_store(&s->active, L);
	if (m->type == PTYPE_INIT) {
		service_init(s, m);
		return;
	}
	if (s->callback == LUA_NOREF)
		return;
	lua_pushcfunction(L, service_traceback);
	lua_rawgeti(L, LUA_REGISTRYINDEX, s->callback);
	lua_pushinteger(L, m->type);
	lua_pushlstring(L, m->data ? m->data : "", m->size);
	lua_pushinteger(L, (lua_Integer)m->size);
	lua_pushinteger(L, m->session);
	lua_pushinteger(L, m->source);
	if (lua_pcall(L, 5, 0, 1) != LUA_OK)
		log_printf(s->handle, "lua call [%x to :%x : %d msgsz = %zu] error : %s",
			   m->source, s->handle, m->session, m->size, lua_tostring(L, -1));
	lua_settop(L, 0);
}

static uint64_t service_cpu_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int service_run(struct service *s)
{
	struct message m;
	if (!atomic_load(&s->retired) && mq_pop(s->queue, &m)) {
		uint64_t t0 = service_cpu_us();
		service_dispatch(s, &m);
		s->cpu_us += service_cpu_us() - t0;
		s->messages++;
		free(m.data);
	}
	if (atomic_load(&s->retired))
		while (mq_pop(s->queue, &m))
			service_bounce(s, &m);
	return mq_reschedule(s->queue);
}

static void service_signal_hook(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	struct service *s = service_of(L);
	lua_sethook(L, NULL, 0, 0);
	if (atomic_exchange(&s->trap, 0))
		luaL_error(L, "signal 0");
}

void service_signal(uint32_t handle, int sig)
{
	struct service *s = node_grab(handle);
	if (!s)
		return;
	if (sig == 0 && s->L) {
		int idle = 0;
		if (atomic_compare_exchange_strong(&s->trap, &idle, 1)) {
			lua_State *L = atomic_load(&s->active);
			lua_sethook(L ? L : s->L, service_signal_hook, LUA_MASKCOUNT, 1);
		}
	} else {
		log_printf(handle, "recv signal %d", sig);
	}
	service_release(s);
}

void service_shutdown(void)
{
	atomic_store(&service_closing, 1);
	uint32_t handles[64];
	int n;
	while ((n = node_handles(handles, 64)) > 0)
		for (int i = 0; i < n; i++)
			service_retire(handles[i]);
}
