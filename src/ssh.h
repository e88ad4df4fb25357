/* The ssh transport: a node given as ssh://[user@]host[:sshport]/[ip:]port
 * is reached by running the system's OpenSSH client as `ssh -W ip:port`
 * (ip defaults to 127.0.0.1, where debug consoles listen) and talking to
 * its stdin/stdout through a socketpair.  Extra ssh options come from
 * $SKYCTL_SSH, split at whitespace (e.g. "-F file -i key").  ssh's stderr
 * is kept out of the terminal; its last line explains a failure. */
#ifndef SSH_H
#define SSH_H

#include <stddef.h>

#include "err.h"
#include "net.h"

#define SSH_PREFIX "ssh://"

struct ssh_addr {
	char user[128];		/* "" when not given */
	char host[256];
	int sshport;		/* 0: ssh's default */
	char ip[256];		/* the console's address as seen from host */
	int port;
};

/* Parse an ssh:// spec; -1 (ERR_USAGE) when it is not of that form. */
int ssh_parse(const char *spec, struct ssh_addr *a, struct err *e);

/* Start ssh for spec; the connection (net_stream, which owns the ssh
 * child: net_close stops and reaps it) is ready for writing at once (ssh
 * buffers) and says whether ssh got through when the banner arrives: when
 * the stream ends, a failed ssh's last line is the error.  NULL with e set
 * when ssh cannot be started or spec is malformed. */
struct net_conn *ssh_open(const char *spec, double timeout, struct err *e);

#endif
