/* Errors as the library reports them: an exit-code class and a one-line
 * message.  Library functions fill a struct err and return -1 (or NULL);
 * only main turns the class into the process exit status. */
#ifndef ERR_H
#define ERR_H

/* the exit codes of skyctl, documented in `skyctl --help` */
enum err_code {
	ERR_OK = 0,
	ERR_NODE = 1,		/* the node or a service reported a failure */
	ERR_USAGE = 2,		/* bad command line */
	ERR_CONNECT = 3,	/* cannot connect: refused, unknown host, closed before replying */
	ERR_TIMEOUT = 4,	/* no answer within --timeout */
	ERR_PROTO = 5,		/* the peer does not speak the console protocol */
	ERR_LOCAL = 6,		/* a local file or script is unusable */
};

struct err {
	int code;		/* enum err_code */
	char msg[512];
};

/* set e (may be NULL) to code and the formatted message; returns -1 */
int err_set(struct err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* the more serious of two exit codes (the higher, 0 < 1 < ... < 6) */
int err_worst(int a, int b);

#endif
