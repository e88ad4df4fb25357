/* httpd.h: libmicrohttpd through dlopen.  Only the handful of functions
 * used are looked up; the library's own thread polls the socket and calls
 * httpd_answer for each request. */
#include "httpd.h"

#include <dlfcn.h>
#include <netdb.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#define HTTPD_LIB "libmicrohttpd.so.12"	/* Debian's libmicrohttpd12 */
#define HTTPD_IDLE 30			/* seconds an idle client keeps its connection */

static struct {
	void *lib;
	struct MHD_Daemon *(*start)(unsigned int, uint16_t, MHD_AcceptPolicyCallback, void *,
				    MHD_AccessHandlerCallback, void *, ...);
	void (*stop)(struct MHD_Daemon *);
	const union MHD_DaemonInfo *(*info)(struct MHD_Daemon *, enum MHD_DaemonInfoType, ...);
	struct MHD_Response *(*response)(size_t, void *, enum MHD_ResponseMemoryMode);
	enum MHD_Result (*header)(struct MHD_Response *, const char *, const char *);
	enum MHD_Result (*queue)(struct MHD_Connection *, unsigned int, struct MHD_Response *);
	void (*destroy)(struct MHD_Response *);
	const char *(*lookup)(struct MHD_Connection *, enum MHD_ValueKind, const char *);
} httpd_mhd;

struct httpd {
	struct MHD_Daemon *d;
	const char *path;
	httpd_handler fn;
	void *ud;
};

/* load the library once; -1 with e set */
static int httpd_load(struct err *e)
{
	static const char *const names[] = {
		"MHD_start_daemon", "MHD_stop_daemon", "MHD_get_daemon_info",
		"MHD_create_response_from_buffer", "MHD_add_response_header",
		"MHD_queue_response", "MHD_destroy_response", "MHD_lookup_connection_value",
	};
	void **fns[] = {
		(void **)&httpd_mhd.start, (void **)&httpd_mhd.stop, (void **)&httpd_mhd.info,
		(void **)&httpd_mhd.response, (void **)&httpd_mhd.header, (void **)&httpd_mhd.queue,
		(void **)&httpd_mhd.destroy, (void **)&httpd_mhd.lookup,
	};
	if (httpd_mhd.lib)
		return 0;
	void *lib = dlopen(HTTPD_LIB, RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		return err_set(e, ERR_LOCAL, "cannot load %s (Debian: apt install libmicrohttpd12): %s",
			       HTTPD_LIB, dlerror());
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (!(*fns[i] = dlsym(lib, names[i]))) {
			err_set(e, ERR_LOCAL, "%s lacks %s", HTTPD_LIB, names[i]);
			dlclose(lib);
			return -1;
		}
	httpd_mhd.lib = lib;
	return 0;
}

/* queue a response of len bytes at body (malloc'd: taken over) */
static enum MHD_Result httpd_reply(struct MHD_Connection *conn, unsigned status, char *body,
				   size_t len, const char *type)
{
	struct MHD_Response *r = httpd_mhd.response(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	httpd_mhd.header(r, "Content-Type", type);
	enum MHD_Result rc = httpd_mhd.queue(conn, status, r);
	httpd_mhd.destroy(r);
	return rc;
}

static enum MHD_Result httpd_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
	char *body = strdup(text);
	return body ? httpd_reply(conn, status, body, strlen(body), "text/plain; charset=utf-8")
		    : MHD_NO;
}

static enum MHD_Result httpd_answer(void *cls, struct MHD_Connection *conn, const char *url,
				    const char *method, const char *version,
				    const char *upload, size_t *upload_len, void **req)
{
	struct httpd *h = cls;
	(void)version, (void)upload, (void)req;
	if (*upload_len)
		return MHD_NO;	/* a body to a GET: not a scraper */
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return httpd_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only\n");
	if (!strcmp(url, "/"))
		return httpd_text(conn, MHD_HTTP_OK, "skyctl metrics: see /metrics\n");
	if (strcmp(url, h->path))
		return httpd_text(conn, MHD_HTTP_NOT_FOUND, "not found; see /metrics\n");
	const char *accept = httpd_mhd.lookup(conn, MHD_HEADER_KIND, "Accept");
	const char *t = httpd_mhd.lookup(conn, MHD_HEADER_KIND,
					 "X-Prometheus-Scrape-Timeout-Seconds");
	struct fmt_buf body = { 0 };
	const char *type = h->fn(h->ud, accept ? accept : "", t ? strtod(t, NULL) : 0, &body);
	if (body.oom) {
		fmt_buf_free(&body);
		return httpd_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	}
	return httpd_reply(conn, MHD_HTTP_OK, body.p, body.len, type);
}

struct httpd *httpd_start(const char *hostport, const char *path, httpd_handler fn, void *ud,
			  struct err *e)
{
	char host[256];
	const char *colon = strrchr(hostport, ':'), *h = hostport;
	size_t hl = colon ? (size_t)(colon - hostport) : 0;
	if (hl > 1 && h[0] == '[' && h[hl - 1] == ']')
		h++, hl -= 2;
	if (!colon || !hl || hl >= sizeof host || !colon[1]) {
		err_set(e, ERR_USAGE, "bad listen address '%s' (want HOST:PORT)", hostport);
		return NULL;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
				  .ai_socktype = SOCK_STREAM }, *ai;
	int gai = getaddrinfo(host, colon + 1, &hints, &ai);
	if (gai) {
		err_set(e, ERR_USAGE, "bad listen address '%s': %s", hostport, gai_strerror(gai));
		return NULL;
	}
	struct httpd *d = calloc(1, sizeof *d);
	if (d && httpd_load(e) == 0) {
		*d = (struct httpd){ NULL, path, fn, ud };
		unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
				 (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0);
		d->d = httpd_mhd.start(flags, 0, NULL, NULL, httpd_answer, d,
				       MHD_OPTION_SOCK_ADDR, ai->ai_addr,
				       MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTPD_IDLE,
				       MHD_OPTION_END);
		if (!d->d)
			err_set(e, ERR_LOCAL, "cannot listen on %s", hostport);
	} else if (!d) {
		err_set(e, ERR_LOCAL, "out of memory");
	}
	freeaddrinfo(ai);
	if (d && !d->d) {
		free(d);
		return NULL;
	}
	return d;
}

int httpd_port(const struct httpd *h)
{
	const union MHD_DaemonInfo *i = httpd_mhd.info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	return i ? i->port : 0;
}

void httpd_stop(struct httpd *h)
{
	if (!h)
		return;
	httpd_mhd.stop(h->d);
	free(h);
}
