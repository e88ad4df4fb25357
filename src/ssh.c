/* ssh.h: the ssh transport.  One ssh process per connection, started with
 * posix_spawnp (safe from the threads that open nodes in parallel), in a
 * session of its own so that the terminal's Ctrl-C reaches skyctl only;
 * its stdin and stdout are one end of a socketpair (writes use
 * MSG_NOSIGNAL: no SIGPIPE), its stderr a memfd read after it exits.
 * The children alive are listed, and killed when skyctl exits: a
 * connection still in use then (a repl line abandoned with Ctrl-C) would
 * otherwise keep its ssh running until the node answers. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ssh.h"

#define SSH_MAX_ARGS 64

extern char **environ;

static struct {
	pthread_mutex_t mu;
	pthread_once_t once;
	pid_t *v;
	size_t n, cap;
} ssh_live = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_ONCE_INIT, NULL, 0, 0 };

/* at exit: SIGTERM to every ssh child not stopped yet */
static void ssh_kill_live(void)
{
	pthread_mutex_lock(&ssh_live.mu);
	for (size_t i = 0; i < ssh_live.n; i++)
		kill(ssh_live.v[i], SIGTERM);
	pthread_mutex_unlock(&ssh_live.mu);
}

static void ssh_live_init(void)
{
	atexit(ssh_kill_live);
}

/* add pid to the live children (or, when add is 0, remove it); -1 when
 * out of memory */
static int ssh_live_mark(pid_t pid, int add)
{
	int rc = 0;
	pthread_once(&ssh_live.once, ssh_live_init);
	pthread_mutex_lock(&ssh_live.mu);
	if (add && ssh_live.n == ssh_live.cap) {
		size_t cap = ssh_live.cap ? 2 * ssh_live.cap : 16;
		pid_t *v = realloc(ssh_live.v, cap * sizeof *v);
		if (v) {
			ssh_live.v = v;
			ssh_live.cap = cap;
		}
	}
	if (add && ssh_live.n < ssh_live.cap)
		ssh_live.v[ssh_live.n++] = pid;
	else if (add)
		rc = -1;
	for (size_t i = 0; !add && i < ssh_live.n; i++)
		if (ssh_live.v[i] == pid) {
			ssh_live.v[i] = ssh_live.v[--ssh_live.n];
			break;
		}
	pthread_mutex_unlock(&ssh_live.mu);
	return rc;
}

/* "[user@]host[:sshport]" of an ssh:// spec (len bytes at s) into a */
static int ssh_parse_authority(const char *s, size_t len, struct ssh_addr *a)
{
	const char *at = memrchr(s, '@', len), *h = s, *end = s + len, *colon;
	if (at) {
		if (at == s || (size_t)(at - s) >= sizeof a->user)
			return -1;
		memcpy(a->user, s, (size_t)(at - s));
		a->user[at - s] = '\0';
		h = at + 1;
	}
	if (h < end && *h == '[') {
		const char *close = memchr(h, ']', (size_t)(end - h));
		if (!close)
			return -1;
		colon = close + 1 < end ? close + 1 : NULL;
		if (colon && *colon != ':')
			return -1;
		h++;
		end = close;
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		if (colon)
			end = colon;
	}
	if (end <= h || (size_t)(end - h) >= sizeof a->host || *h == '-')
		return -1;
	memcpy(a->host, h, (size_t)(end - h));
	a->host[end - h] = '\0';
	if (colon) {
		char *e;
		long p = strtol(colon + 1, &e, 10);
		if (e != s + len || p < 1 || p > 65535)
			return -1;
		a->sshport = (int)p;
	}
	return 0;
}

int ssh_parse(const char *spec, struct ssh_addr *a, struct err *e)
{
	static const char want[] = "want ssh://[USER@]HOST[:SSHPORT]/[IP:]PORT";
	memset(a, 0, sizeof *a);
	if (strncmp(spec, SSH_PREFIX, strlen(SSH_PREFIX)) != 0)
		return err_set(e, ERR_USAGE, "bad node address '%s' (%s)", spec, want);
	const char *auth = spec + strlen(SSH_PREFIX), *slash = strchr(auth, '/');
	if (!slash || ssh_parse_authority(auth, (size_t)(slash - auth), a) != 0)
		return err_set(e, ERR_USAGE, "bad node address '%s' (%s)", spec, want);
	const char *rest = slash + 1;
	if (strchr(rest, ':')) {
		if (net_parse_addr(rest, a->ip, sizeof a->ip, &a->port, NULL) != 0)
			return err_set(e, ERR_USAGE, "bad node address '%s' (%s)", spec, want);
		return 0;
	}
	char *end;
	long p = strtol(rest, &end, 10);
	if (!*rest || *end || p < 1 || p > 65535)
		return err_set(e, ERR_USAGE, "bad node address '%s' (%s)", spec, want);
	strcpy(a->ip, "127.0.0.1");
	a->port = (int)p;
	return 0;
}

/* an ssh command line: argv points into the other fields and into the
 * $SKYCTL_SSH words */
struct ssh_cmd {
	char *argv[SSH_MAX_ARGS];
	char fwd[300];		/* -W's IP:PORT */
	char cto[32];		/* ConnectTimeout=N */
	char port[8];
};

/* The ssh command line for a into cmd; words ($SKYCTL_SSH, split in
 * place) come first so that they win over ours (ssh keeps the first value
 * of an option).  -1 when there are too many words. */
static int ssh_argv(const struct ssh_addr *a, double timeout, char *words, struct ssh_cmd *cmd)
{
	char **argv = cmd->argv, *save = NULL;
	int n = 0;
	argv[n++] = "ssh";
	for (char *w = strtok_r(words, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
		if (n >= SSH_MAX_ARGS - 12)
			return -1;
		argv[n++] = w;
	}
	snprintf(cmd->fwd, sizeof cmd->fwd, strchr(a->ip, ':') ? "[%s]:%d" : "%s:%d", a->ip,
		 a->port);
	snprintf(cmd->cto, sizeof cmd->cto, "ConnectTimeout=%d",
		 timeout < 1 ? 1 : (int)ceil(timeout));
	argv[n++] = "-o";
	argv[n++] = "BatchMode=yes";
	argv[n++] = "-o";
	argv[n++] = cmd->cto;
	if (a->sshport) {
		snprintf(cmd->port, sizeof cmd->port, "%d", a->sshport);
		argv[n++] = "-p";
		argv[n++] = cmd->port;
	}
	if (a->user[0]) {
		argv[n++] = "-l";
		argv[n++] = (char *)a->user;
	}
	argv[n++] = "-W";
	argv[n++] = cmd->fwd;
	argv[n++] = "--";
	argv[n++] = (char *)a->host;
	argv[n] = NULL;
	return 0;
}

/* spawn ssh with stdin/stdout on io and stderr on errfd; 0 or an errno */
static int ssh_spawn(char **argv, int io, int errfd, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGHUP);
	sigaddset(&dfl, SIGCHLD);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, io, 0);
	posix_spawn_file_actions_adddup2(&fa, io, 1);
	posix_spawn_file_actions_adddup2(&fa, errfd, 2);
	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
				 POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dfl);
	int rc = posix_spawnp(pid, "ssh", &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	return rc;
}

/* The line of ssh's stderr (in errfd) that says what went wrong: the last
 * one, except for the generic "stdio forwarding failed" that follows the
 * reason when the remote port is closed. */
static void ssh_reason(int errfd, char *out, size_t outlen)
{
	char buf[2048];
	struct stat st;
	off_t from = 0;
	out[0] = '\0';
	if (fstat(errfd, &st) != 0)
		return;
	if (st.st_size > (off_t)sizeof buf - 1)
		from = st.st_size - (off_t)sizeof buf + 1;
	ssize_t n = pread(errfd, buf, sizeof buf - 1, from);
	if (n <= 0)
		return;
	buf[n] = '\0';
	char *end = buf + n;
	while (end > buf) {
		while (end > buf && (end[-1] == '\n' || end[-1] == '\r'))
			*--end = '\0';
		char *line = end;
		while (line > buf && line[-1] != '\n')
			line--;
		if (*line && strcmp(line, "stdio forwarding failed") != 0) {
			if (strncmp(line, "ssh: ", 5) == 0)
				line += 5;
			snprintf(out, outlen, "%.*s", (int)(outlen - 1), line);
			return;
		}
		end = line;
	}
}

/* The ssh child ended its output: reap it (waiting until deadline at
 * most; *child becomes 0 once reaped).  0 when ssh exited cleanly (the
 * node closed the connection); -1 with e set to ssh's own last line
 * otherwise (ERR_TIMEOUT when it timed out, else ERR_CONNECT). */
static int ssh_ended(pid_t *child, int errfd, double deadline, struct err *e)
{
	int ws = 0;
	pid_t r;
	for (;;) {
		r = waitpid(*child, &ws, WNOHANG);
		if (r != 0 || net_now() >= deadline)
			break;
		nanosleep(&(struct timespec){ .tv_nsec = 2000000 }, NULL);
	}
	if (r == 0 || (r < 0 && errno == EINTR))
		return 0;	/* still running: it only closed the stream */
	ssh_live_mark(*child, 0);
	*child = 0;
	if (r > 0 && WIFEXITED(ws) && WEXITSTATUS(ws) == 0)
		return 0;
	char why[400];
	ssh_reason(errfd, why, sizeof why);
	if (!why[0])
		snprintf(why, sizeof why, "exited with status %d",
			 WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws));
	return err_set(e, strstr(why, "timed out") ? ERR_TIMEOUT : ERR_CONNECT, "ssh: %s", why);
}

/* SIGTERM the ssh child and reap it (no zombie left) */
static void ssh_stop(pid_t child)
{
	kill(child, SIGTERM);
	while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
		;
	ssh_live_mark(child, 0);
}

/* the ssh process behind a connection (its net_peer) */
struct ssh_child {
	pid_t pid;		/* 0 once reaped */
	int errfd;		/* its stderr */
};

static int ssh_child_ended(void *ud, double deadline, struct err *e)
{
	struct ssh_child *ch = ud;
	return ch->pid > 0 ? ssh_ended(&ch->pid, ch->errfd, deadline, e) : 0;
}

static void ssh_child_close(void *ud)
{
	struct ssh_child *ch = ud;
	if (ch->pid > 0)
		ssh_stop(ch->pid);
	close(ch->errfd);
	free(ch);
}

struct net_conn *ssh_open(const char *spec, double timeout, struct err *e)
{
	struct ssh_addr a;
	struct ssh_cmd cmd;
	const char *env = getenv("SKYCTL_SSH");
	if (ssh_parse(spec, &a, e) != 0)
		return NULL;
	char *words = strdup(env ? env : "");
	if (!words) {
		err_set(e, ERR_LOCAL, "out of memory");
		return NULL;
	}
	if (ssh_argv(&a, timeout, words, &cmd) != 0) {
		free(words);
		err_set(e, ERR_USAGE, "too many words in $SKYCTL_SSH");
		return NULL;
	}
	int sv[2] = { -1, -1 }, errfd = memfd_create("ssh-stderr", MFD_CLOEXEC);
	pid_t pid = 0;
	int rc = errfd < 0 ? errno : 0;
	if (!rc && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		rc = errno;
	if (!rc && (rc = ssh_spawn(cmd.argv, sv[1], errfd, &pid)) == 0 && ssh_live_mark(pid, 1) != 0)
		rc = ENOMEM;
	free(words);
	if (sv[1] >= 0)
		close(sv[1]);
	struct ssh_child *ch = rc ? NULL : malloc(sizeof *ch);
	struct net_conn *c = NULL;
	if (ch) {
		*ch = (struct ssh_child){ pid, errfd };
		c = net_stream(sv[0], &(struct net_peer){ ssh_child_ended, ssh_child_close, ch },
			       timeout);
		if (!c)
			free(ch);
	}
	if (!c) {
		if (rc == ENOENT)
			err_set(e, ERR_CONNECT, "cannot run ssh: not found in PATH (install "
				"openssh-client)");
		else
			err_set(e, ERR_CONNECT, "cannot run ssh: %s", strerror(rc ? rc : ENOMEM));
		if (pid > 0)
			ssh_stop(pid);
		if (sv[0] >= 0)
			close(sv[0]);
		if (errfd >= 0)
			close(errfd);
	}
	return c;
}

