/*
 * main: `skyctl-sandbox CONFIG` starts a node the way `skynet CONFIG` does:
 * read the config into the environment, start the clock, the socket
 * thread and the workers, launch bootstrap (which launches the rest), and
 * run until SIGTERM or SIGINT, then stop everything and exit 0.
 * `skyctl-sandbox --demo [--port N]` starts the sample services of
 * sandbox/services with a console on N (default 8000).
 */
#include <lauxlib.h>
#include <lualib.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "channel.h"
#include "env.h"
#include "luaapi.h"
#include "node.h"
#include "sched.h"
#include "service.h"
#include "socket.h"
#include "timer.h"

static void main_usage(void)
{
	fprintf(stderr, "usage: skyctl-sandbox CONFIG\n"
			"       skyctl-sandbox --demo [--port N]\n");
}

/* evaluate the config (a file, or text when path is NULL) into env;
 * return 0, or -1 after printing why */
static int main_config(const char *path, const char *text)
{
	lua_State *L = luaL_newstate();
	if (!L)
		return -1;
	luaL_openlibs(L);
	const struct embed_file *f = embed_find(sandbox_lua, "config.lua");
	int err = luaL_loadbuffer(L, f->data, f->size, "@sandbox/config.lua");
	if (err == LUA_OK) {
		if (path)
			lua_pushstring(L, path);
		else
			lua_pushnil(L);
		lua_pushstring(L, text ? text : "");
		err = lua_pcall(L, 2, 1, 0);
	}
	if (err != LUA_OK) {
		fprintf(stderr, "skyctl-sandbox: %s\n", lua_tostring(L, -1));
		lua_close(L);
		return -1;
	}
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		env_set(lua_tostring(L, -2), lua_tostring(L, -1));
		lua_pop(L, 1);
	}
	lua_close(L);
	return 0;
}

/* the sample services' directory: next to the build directory, or where
 * `make install` puts them (PREFIX/share/skyctl/services beside PREFIX/bin) */
static int main_services_dir(char *out, size_t size)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		static const char *const up[] = { "/../sandbox/services", "/../../sandbox/services",
						  "/../share/skyctl/services" };
		for (size_t i = 0; i < sizeof up / sizeof up[0]; i++) {
			snprintf(out, size, "%s%s", exe, up[i]);
			char probe[PATH_MAX + 16];
			snprintf(probe, sizeof probe, "%s/main.lua", out);
			char *real = realpath(out, NULL);
			if (access(probe, R_OK) == 0 && real) {
				snprintf(out, size, "%s", real);
				free(real);
				return 0;
			}
			free(real);
		}
	}
	snprintf(out, size, "sandbox/services");
	return access("sandbox/services/main.lua", R_OK) == 0 ? 0 : -1;
}

static int main_demo(int argc, char **argv)
{
	int port = 8000;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
			port = atoi(argv[++i]);
		else {
			main_usage();
			return -1;
		}
	}
	char dir[PATH_MAX];
	if (main_services_dir(dir, sizeof dir) < 0) {
		fprintf(stderr, "skyctl-sandbox: can't find sandbox/services\n");
		return -1;
	}
	char text[PATH_MAX * 2 + 256];
	snprintf(text, sizeof text,
		 "luaservice = [[%s/?.lua]]\nlua_path = [[%s/?.lua]]\n"
		 "start = \"main\"\nharbor = 0\nthread = 4\nconsole_port = %d\n"
		 "agents = 3\nservices = \"loopy,sleeper,named\"\n", dir, dir, port);
	return main_config(NULL, text);
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		main_usage();
		return argc < 2 ? 2 : 0;
	}
	int err = strcmp(argv[1], "--demo") == 0 ? main_demo(argc, argv)
		: argc == 2 ? main_config(argv[1], NULL) : (main_usage(), -1);
	if (err < 0) {
		env_free();
		return 1;
	}
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	char buf[32];
	node_init(env_get("harbor", buf, sizeof buf) > 0 ? atoi(buf) : 0);
	int threads = env_get("thread", buf, sizeof buf) > 0 ? atoi(buf) : 4;
	if (threads < 1)
		threads = 1;
	timer_init();
	timer_start();
	socket_start_thread();
	sched_start(threads);
	service_launch("logger", 0);	/* :1, skynet's logger */
	service_launch("snlua bootstrap", 1);

	int sig;
	sigwait(&set, &sig);

	socket_stop_thread();
	timer_stop();
	if (sched_stop(1000) > 0) {
		/* a worker is stuck in a service's endless loop: just leave */
		fflush(stdout);
		_exit(0);
	}
	service_shutdown();
	channel_free_all();
	node_free();
	env_free();
	return fflush(stdout) == 0 ? 0 : 1;
}
