/* The HTTP side of `skyctl metrics --listen`: Debian's libmicrohttpd,
 * loaded when a server is started (linking it would load GnuTLS and its
 * eight libraries into every skyctl run: +1 ms of start-up), serving one
 * path.  Requests are answered one at a time, on the library's thread. */
#ifndef HTTPD_H
#define HTTPD_H

#include "err.h"
#include "fmt.h"

/* Fill body with the answer to GET path (malloc'd text, taken over) and
 * return its content type.  accept: the request's Accept header (or "");
 * timeout: the scraper's own deadline in seconds (Prometheus sends it),
 * 0 when not given. */
typedef const char *(*httpd_handler)(void *ud, const char *accept, double timeout,
				     struct fmt_buf *body);

struct httpd;

/* Listen on "HOST:PORT" (PORT 0: any free port; "[v6]:PORT") and answer
 * GET/HEAD of path with fn; NULL with e set (ERR_USAGE for a bad address,
 * ERR_LOCAL when the library is missing or cannot listen). */
struct httpd *httpd_start(const char *hostport, const char *path, httpd_handler fn, void *ud,
			  struct err *e);
/* the port it listens on */
int httpd_port(const struct httpd *h);
/* stop serving (waits for a request being answered) and free h */
void httpd_stop(struct httpd *h);

#endif
