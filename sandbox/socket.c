/*
 * socket: a fixed table of sockets and a poll(2) thread.  Only the poll
 * thread reads and closes descriptors; any thread may write, trying a
 * direct send first and leaving what did not fit in the socket's buffer
 * for the poll thread.  A peer's close is reported to the owner, and the
 * slot stays taken until the owner closes it, so an id is never reused
 * under a service that still holds it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mq.h"
#include "service.h"
#include "socket.h"
#include "timer.h"

#define SOCKET_MAX 1024
#define SOCKET_READ 65536

enum { SS_FREE, SS_RESERVED, SS_LISTEN, SS_TCP };

struct sock {
	pthread_mutex_t lock;
	int id, state, fd;
	uint32_t owner;
	int reading, closing, eof, werror;
	char *wbuf;
	size_t wlen, woff, wcap;
	struct socket_info info;
};

static struct sock socket_table[SOCKET_MAX];
static pthread_mutex_t socket_idlock = PTHREAD_MUTEX_INITIALIZER;
static int socket_nextid;
static int socket_wake[2] = { -1, -1 };
static atomic_int socket_quit;
static pthread_t socket_thread;
static int socket_running;

static void socket_poke(void)
{
	char c = 0;
	if (socket_wake[1] >= 0 && write(socket_wake[1], &c, 1) < 0 && errno != EAGAIN)
		perror("socket wake");
}

/* reserve a free slot; return it locked, or NULL when the table is full */
static struct sock *socket_alloc(void)
{
	pthread_mutex_lock(&socket_idlock);
	for (int tries = 0; tries < SOCKET_MAX; tries++) {
		int id = ++socket_nextid;
		if (id <= 0)
			id = socket_nextid = 1;
		struct sock *s = &socket_table[id % SOCKET_MAX];
		pthread_mutex_lock(&s->lock);
		if (s->state == SS_FREE) {
			s->state = SS_RESERVED;
			s->id = id;
			s->fd = -1;
			s->reading = s->closing = s->eof = s->werror = 0;
			s->wlen = s->woff = 0;
			memset(&s->info, 0, sizeof s->info);
			s->info.id = id;
			pthread_mutex_unlock(&socket_idlock);
			return s;
		}
		pthread_mutex_unlock(&s->lock);
	}
	pthread_mutex_unlock(&socket_idlock);
	return NULL;
}

/* the slot of id, locked, or NULL if id is not open */
static struct sock *socket_lock(int id)
{
	struct sock *s = &socket_table[(unsigned)id % SOCKET_MAX];
	pthread_mutex_lock(&s->lock);
	if (s->id == id && (s->state == SS_LISTEN || s->state == SS_TCP))
		return s;
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static void socket_post(uint32_t owner, int kind, int id, int ud, const char *data, size_t len)
{
	size_t size = sizeof(struct socket_msg) + len;
	char *buf = malloc(size);
	if (!buf)
		abort();
	struct socket_msg m = { .kind = kind, .id = id, .ud = ud };
	memcpy(buf, &m, sizeof m);
	if (len)
		memcpy(buf + sizeof m, data, len);
	service_post(owner, 0, 0, PTYPE_SOCKET, buf, size);
}

static void socket_addrstr(const struct sockaddr_in *sa, char *out, size_t size)
{
	char ip[INET_ADDRSTRLEN] = "?";
	inet_ntop(AF_INET, &sa->sin_addr, ip, sizeof ip);
	snprintf(out, size, "%s:%d", ip, ntohs(sa->sin_port));
}

/* a slot for the open fd (state SS_LISTEN or SS_TCP, at address sa);
 * its id, or -1 with err filled and fd closed */
static int socket_adopt(int fd, uint32_t owner, int state, const struct sockaddr_in *sa,
			char *err, size_t errsz)
{
	struct sock *s = socket_alloc();
	if (!s) {
		snprintf(err, errsz, "too many sockets");
		close(fd);
		return -1;
	}
	s->fd = fd;
	s->owner = owner;
	s->state = state;
	s->info.listen = state == SS_LISTEN;
	socket_addrstr(sa, s->info.addr, sizeof s->info.addr);
	int id = s->id;
	pthread_mutex_unlock(&s->lock);
	return id;
}

int socket_listen(uint32_t owner, const char *host, int port, char *err, size_t errsz)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		snprintf(err, errsz, "invalid address %s", host);
		return -1;
	}
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errsz, "%s", strerror(errno));
		return -1;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 128) < 0) {
		snprintf(err, errsz, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	socklen_t len = sizeof sa;
	getsockname(fd, (struct sockaddr *)&sa, &len);
	return socket_adopt(fd, owner, SS_LISTEN, &sa, err, errsz);
}

int socket_open(uint32_t owner, const char *host, int port, char *err, size_t errsz)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		snprintf(err, errsz, "invalid address %s", host);
		return -1;
	}
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
		snprintf(err, errsz, "%s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return socket_adopt(fd, owner, SS_TCP, &sa, err, errsz);
}

void socket_start(uint32_t owner, int id)
{
	struct sock *s = socket_lock(id);
	if (!s)
		return;
	s->owner = owner;
	s->reading = 1;
	pthread_mutex_unlock(&s->lock);
	socket_poke();
}

/* write what the buffer holds; lock held */
static void socket_flush(struct sock *s)
{
	while (s->wlen > s->woff) {
		ssize_t n = send(s->fd, s->wbuf + s->woff, s->wlen - s->woff,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				s->werror = 1;
			break;
		}
		s->woff += (size_t)n;
	}
	if (s->werror || s->woff == s->wlen)
		s->wlen = s->woff = 0;
}

int socket_write(int id, const char *data, size_t len)
{
	struct sock *s = socket_lock(id);
	if (!s)
		return -1;
	if (s->state != SS_TCP || s->closing || s->werror) {
		pthread_mutex_unlock(&s->lock);
		return -1;
	}
	int poke = 0;
	if (s->wlen == 0) {
		while (len > 0) {
			ssize_t n = send(s->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno != EAGAIN && errno != EWOULDBLOCK)
					s->werror = 1;
				break;
			}
			data += n;
			len -= (size_t)n;
			s->info.wbytes += (uint64_t)n;
		}
	} else {
		s->info.wbytes += len;
	}
	if (len > 0 && !s->werror) {
		if (s->wlen + len > s->wcap) {
			size_t cap = s->wcap ? s->wcap : 4096;
			while (cap < s->wlen + len)
				cap *= 2;
			char *buf = realloc(s->wbuf, cap);
			if (!buf)
				abort();
			s->wbuf = buf;
			s->wcap = cap;
		}
		if (s->wlen == 0)
			poke = 1;
		memcpy(s->wbuf + s->wlen, data, len);
		s->wlen += len;
	}
	s->info.wtime = timer_now();
	pthread_mutex_unlock(&s->lock);
	if (poke)
		socket_poke();
	return 0;
}

void socket_close(int id)
{
	struct sock *s = socket_lock(id);
	if (!s)
		return;
	s->closing = 1;
	s->reading = 0;
	pthread_mutex_unlock(&s->lock);
	socket_poke();
}

/* free a slot; lock held */
static void socket_free(struct sock *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->state = SS_FREE;
	s->id = 0;
	s->wlen = s->woff = 0;
}

/* accept one connection on listener ls; called with ls locked, returns
 * with it locked (the lock is dropped meanwhile: allocating a slot takes
 * the id lock, which must never wait behind a slot lock) */
static void socket_accept(struct sock *ls)
{
	int lfd = ls->fd, lid = ls->id;
	uint32_t owner = ls->owner;
	pthread_mutex_unlock(&ls->lock);
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	int fd = accept4(lfd, (struct sockaddr *)&sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct sock *s = fd >= 0 ? socket_alloc() : NULL;
	if (fd >= 0 && !s)
		close(fd);
	char addr[64];
	int id = 0;
	if (s) {
		s->fd = fd;
		s->owner = owner;
		s->state = SS_TCP;
		s->info.rtime = timer_now();
		socket_addrstr(&sa, s->info.addr, sizeof s->info.addr);
		id = s->id;
		memcpy(addr, s->info.addr, sizeof addr);
		pthread_mutex_unlock(&s->lock);
	}
	pthread_mutex_lock(&ls->lock);
	if (s && ls->id == lid) {
		ls->info.accepts++;
		ls->info.rtime = timer_now();
	}
	if (s)
		socket_post(owner, SOCKET_ACCEPT, lid, id, addr, strlen(addr));
}

/* read what is there; lock held */
static void socket_read(struct sock *s, char *buf)
{
	ssize_t n = read(s->fd, buf, SOCKET_READ);
	if (n > 0) {
		s->info.rbytes += (uint64_t)n;
		s->info.rtime = timer_now();
		socket_post(s->owner, SOCKET_DATA, s->id, 0, buf, (size_t)n);
	} else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
		s->eof = 1;
		s->reading = 0;
		socket_post(s->owner, SOCKET_CLOSE, s->id, 0, NULL, 0);
	}
}

static void *socket_main(void *arg)
{
	(void)arg;
	static struct pollfd fds[SOCKET_MAX + 1];
	static int slots[SOCKET_MAX + 1];
	char *buf = malloc(SOCKET_READ);
	if (!buf)
		abort();
	while (!atomic_load(&socket_quit)) {
		int n = 0;
		fds[n].fd = socket_wake[0];
		fds[n].events = POLLIN;
		slots[n++] = -1;
		for (int i = 0; i < SOCKET_MAX; i++) {
			struct sock *s = &socket_table[i];
			pthread_mutex_lock(&s->lock);
			if (s->state == SS_LISTEN || s->state == SS_TCP) {
				if (s->closing && (s->wlen == 0 || s->werror || s->eof)) {
					socket_free(s);
				} else {
					short ev = 0;
					if (s->reading && !s->eof)
						ev |= POLLIN;
					if (s->wlen > 0 && !s->werror)
						ev |= POLLOUT;
					if (ev) {
						fds[n].fd = s->fd;
						fds[n].events = ev;
						slots[n++] = i;
					}
				}
			}
			pthread_mutex_unlock(&s->lock);
		}
		if (poll(fds, (nfds_t)n, -1) < 0)
			continue;
		if (fds[0].revents) {
			char drain[256];
			while (read(socket_wake[0], drain, sizeof drain) > 0)
				;
		}
		for (int k = 1; k < n; k++) {
			if (!fds[k].revents)
				continue;
			struct sock *s = &socket_table[slots[k]];
			pthread_mutex_lock(&s->lock);
			if (s->fd == fds[k].fd) {
				if (s->state == SS_LISTEN && s->reading)
					socket_accept(s);
				else if (s->state == SS_TCP) {
					if ((fds[k].revents & POLLOUT) && s->wlen > 0)
						socket_flush(s);
					if ((fds[k].revents & (POLLIN | POLLHUP | POLLERR)) && s->reading && !s->eof)
						socket_read(s, buf);
				}
			}
			pthread_mutex_unlock(&s->lock);
		}
	}
	free(buf);
	return NULL;
}

void socket_start_thread(void)
{
	for (int i = 0; i < SOCKET_MAX; i++) {
		pthread_mutex_init(&socket_table[i].lock, NULL);
		socket_table[i].fd = -1;
	}
	if (pipe2(socket_wake, O_NONBLOCK | O_CLOEXEC) < 0) {
		perror("pipe");
		exit(1);
	}
	if (pthread_create(&socket_thread, NULL, socket_main, NULL) == 0)
		socket_running = 1;
}

void socket_stop_thread(void)
{
	atomic_store(&socket_quit, 1);
	socket_poke();
	if (socket_running)
		pthread_join(socket_thread, NULL);
	socket_running = 0;
	for (int i = 0; i < SOCKET_MAX; i++) {
		struct sock *s = &socket_table[i];
		pthread_mutex_lock(&s->lock);
		if (s->state != SS_FREE)
			socket_free(s);
		free(s->wbuf);
		s->wbuf = NULL;
		s->wcap = 0;
		pthread_mutex_unlock(&s->lock);
	}
	close(socket_wake[0]);
	close(socket_wake[1]);
	socket_wake[0] = socket_wake[1] = -1;
}

int socket_netstat(struct socket_info *out, int max)
{
	int n = 0;
	for (int i = 0; i < SOCKET_MAX && n < max; i++) {
		struct sock *s = &socket_table[i];
		pthread_mutex_lock(&s->lock);
		if ((s->state == SS_LISTEN || s->state == SS_TCP) && !s->closing) {
			out[n] = s->info;
			out[n].owner = s->owner;
			out[n].reading = s->reading;
			out[n].writing = s->wlen > 0;
			n++;
		}
		pthread_mutex_unlock(&s->lock);
	}
	/* by id */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && out[j - 1].id > out[j].id; j--) {
			struct socket_info t = out[j];
			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return n;
}
