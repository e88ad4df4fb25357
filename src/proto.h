/* The debug_console protocol over a net_conn (docs/protocol.md): the banner,
 * one command per line, a reply = output lines then `<CMD OK>` or
 * `<CMD Error>`; pipelining (send many, then read the replies in order);
 * the failures the console frames as OK; tab-separated fields. */
#ifndef PROTO_H
#define PROTO_H

#include <stddef.h>

#include "err.h"
#include "net.h"

#define PROTO_BANNER "Welcome to skynet console"

struct proto_reply {
	int ok;			/* 1: <CMD OK>, 0: <CMD Error> */
	char *text;		/* the output lines, '\n'-separated, no terminator line */
	size_t len;		/* strlen(text) */
	char **lines;		/* nlines pointers into a copy of text, NUL-terminated */
	size_t nlines;
	char *copy;		/* what lines point into (text itself for one line) */
};

/* Connect to a node given as an address spec ("host:port", or
 * "ssh://..." for the ssh transport; timeout bounds the connect and
 * becomes the connection's default wait), then wait for the banner; NULL
 * with e set (ERR_PROTO if the peer greets with something else).  The connection nudges with empty
 * lines (net_set_nudge): turn that off before entering debug mode. */
struct net_conn *proto_open(const char *spec, double timeout, struct err *e);

/* proto_open, sending the command line first (if not NULL) without waiting
 * for the banner: its reply is then the next one to read */
struct net_conn *proto_open_send(const char *spec, double timeout, const char *line,
				 struct err *e);

/* wait for and check the banner on a fresh transport */
int proto_banner(struct net_conn *c, struct err *e);

/* send one command line (no '\n' inside; one is appended) */
int proto_send(struct net_conn *c, const char *line, struct err *e);

/* send n command lines in one write (for pipelining) */
int proto_sendv(struct net_conn *c, char *const *lines, size_t n, struct err *e);

/* Read the next reply (deadline 0: the connection's timeout from now).
 * A NUL byte in it becomes U+FFFD, so that no field is cut short; a reply
 * of N bytes costs about 2N (net_max() bounds N).
 * 0 with r filled (r->ok tells OK from Error); -1 with e set: a timeout,
 * the node closing the connection (ERR_CONNECT before any byte of the
 * reply, ERR_PROTO in the middle of one). */
int proto_read_reply(struct net_conn *c, struct proto_reply *r, double deadline, struct err *e);

/* proto_read_reply for a connection in debug mode (`debug` ... `cont`):
 * its terminator follows a prompt rather than a newline.  On a timeout
 * nothing is consumed, so it can be called again. */
int proto_read_prompted(struct net_conn *c, struct proto_reply *r, double deadline,
			struct err *e);

/* proto_send + proto_read_reply */
int proto_request(struct net_conn *c, const char *line, struct proto_reply *r, struct err *e);

/* The line that asks for the node's services.  The stock console writes
 * `list` a socket write a line, paced by the reader's acks (10,000
 * services on skynet HEAD: 0.056 s for skyctl to read); `call` of the
 * same launcher command writes the table on one line (0.031 s):
 *   1\t:00000004:snlua cdummy\t:00000008:snlua main ...\nn\t1 */
#define PROTO_LIST "call .launcher \"LIST\""

/* The reply to PROTO_LIST rewritten in place as `list` prints it, a line
 * ":00000008\tsnlua main" a service in the console's order; r->text is
 * then NULL.  A tab then ":hhhhhhhh:" with a handle above the one before
 * starts a service (the console sorts them): in launch arguments it reads
 * as one, as a newline then ":hhhhhhhh\t" does in `list`.  An error reply
 * is left as it is; -1 with e set for a reply of another shape. */
int proto_reply_as_list(struct proto_reply *r, struct err *e);

/* send PROTO_LIST and read its reply, as proto_reply_as_list leaves it
 * (the lines split in place: the reply is not held twice) */
int proto_request_list(struct net_conn *c, struct proto_reply *r, struct err *e);

void proto_reply_free(struct proto_reply *r);
/* r as if the console had answered text (ok: <CMD OK>); -1 with e set */
int proto_reply_make(struct proto_reply *r, int ok, const char *text, struct err *e);

/* r's text, now the caller's (free it); r has no text or lines left */
char *proto_reply_take(struct proto_reply *r);

/* r's lines, now the caller's (free it): one block of *n lines, each after
 * the NUL of the one before, *size bytes; r has nothing left */
char *proto_reply_take_lines(struct proto_reply *r, size_t *n, size_t *size);

/* NULL if the reply to line succeeded; else a one-line reason: the error
 * text of <CMD Error>, or an OK-framed failure (`Can't open ...`, `kill` of
 * a dead address, `Failed` from start/log/snax). */
const char *proto_failure(const char *line, const struct proto_reply *r);
/* r is a console's answer to getenv or setenv from before skynet 1.8,
 * which had neither */
int proto_lacks_env(const char *line, const struct proto_reply *r);

/* split s at tabs in place into at most max fields (the last keeps any
 * further tabs); returns the count */
size_t proto_split(char *s, char **f, size_t max);

/* the value of the "key:value" field among f[0..n), or NULL */
const char *proto_get(char *const *f, size_t n, const char *key);

/* s with '%', NUL and whitespace as %XX, so that it is one console argument
 * (dbgcmd splits its line at whitespace); caller frees */
char *proto_escape(const char *s, size_t len);
/* undo %XX in place; returns the new length */
size_t proto_unescape(char *s, size_t len);

#endif
