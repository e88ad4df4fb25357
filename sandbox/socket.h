/* socket: TCP listen/accept/read/write for services, on one poll thread.
 * Events reach the owning service as PTYPE_SOCKET messages whose payload
 * is a struct socket_msg followed by the data bytes. */
#ifndef SANDBOX_SOCKET_H
#define SANDBOX_SOCKET_H

#include <stddef.h>
#include <stdint.h>

enum { SOCKET_DATA = 1, SOCKET_CLOSE = 3, SOCKET_ACCEPT = 4, SOCKET_ERROR = 5 };

struct socket_msg {
	int kind;
	int id;
	int ud;		/* ACCEPT: the new connection's id */
};

struct socket_info {
	int id;
	int listen;
	uint32_t owner;
	int reading, writing;
	uint64_t rbytes, wbytes, rtime, wtime, accepts;	/* times in ticks */
	char addr[64];	/* listen: local address; tcp: peer */
};

void socket_start_thread(void);
void socket_stop_thread(void);

/* listen on host:port for owner; return the id, or -1 with err filled */
int socket_listen(uint32_t owner, const char *host, int port, char *err, size_t errsz);

/* connect to host:port (blocking: the sandbox's peers are on this host)
 * for owner; return the id, or -1 with err filled */
int socket_open(uint32_t owner, const char *host, int port, char *err, size_t errsz);

/* begin delivering events of id (accepts or data) to owner */
void socket_start(uint32_t owner, int id);

/* send (copying data); return -1 when id is not writable */
int socket_write(int id, const char *data, size_t len);

/* close id once its pending output is written */
void socket_close(int id);

/* fill out with up to max open sockets, by id; return how many */
int socket_netstat(struct socket_info *out, int max);

#endif
