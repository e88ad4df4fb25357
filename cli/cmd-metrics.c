/* skyctl metrics [TARGET]: the chosen nodes' services in the Prometheus
 * text format (or OpenMetrics): per node, per kind of service, and the top
 * services by cpu, memory and queue.  Printed once, written atomically to
 * a file for node_exporter's textfile collector, or served over HTTP with
 * a fresh gathering on each scrape.
 *
 * Per node, in parallel, on one connection kept between scrapes: `stat CS`
 * and `mem CS` (src/poller.c, which src/sample.c parses), then `cmem` and
 * `jmem`.  The whole gathering ends within --timeout (less when the
 * scraper's own timeout is shorter): CS, the node's wait for a service, is
 * a fifth of it, so a stuck service is a TIMEOUT and not a failed scrape.
 * A node that does not answer is `skynet_up 0`, with the reason in a log
 * line on stderr. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "httpd.h"
#include "metrics.h"
#include "poller.h"

#define METRICS_TOP 10
#define METRICS_MARGIN 0.5	/* seconds kept from the scraper's own timeout */

static const struct args_opt metrics_opt_openmetrics = {
	.lng = "openmetrics",
	.help = "OpenMetrics 1.0 instead of Prometheus's text format",
};
static const struct args_opt metrics_opt_top = {
	.lng = "top", .arg = "K",
	.help = "per node, series for the K services with the most cpu, memory, queue (default 10)",
	.want = "a count (0 to 1000)", .min = 0, .max = 1000, .integer = 1,
};
static const struct args_opt metrics_opt_listen = {
	.lng = "listen", .arg = "HOST:PORT",
	.help = "serve /metrics over HTTP, gathering on each scrape (PORT 0: any free one)",
};
static const struct args_opt metrics_opt_textfile = {
	.lng = "textfile", .arg = "FILE",
	.help = "write the metrics to FILE atomically (node_exporter's textfile collector)",
};

struct metrics_src {
	struct poller_node p;
	struct metrics_node m;
	uint32_t *keep;		/* with a TARGET: the addresses it selects */
	int was_up;		/* --listen: the state last logged (-1: none yet) */
};

struct metrics_run {
	struct cmd_ctx *c;
	struct metrics_src *v;
	size_t n;
	double timeout;		/* this gathering's deadline, seconds */
	struct metrics_opts o;
};

static void metrics_gather_one(void *ud, size_t i)
{
	struct metrics_run *run = ud;
	struct metrics_src *src = &run->v[i];
	double t0 = net_now(), wait = run->timeout;
	int cs = (int)lround(wait * 20);
	char *lines[2] = { "cmem", "jmem" };
	struct proto_reply r[2];
	free(src->keep);
	src->keep = NULL;
	src->m = (struct metrics_node){ .name = src->p.name };
	cs = cs < 1 ? 1 : cs > 300 ? 300 : cs;
	/* stat and mem within 0.9 of the wait, cmem and jmem in the rest */
	if (poller_poll(&src->p, cs, 1, wait / 2) == 0) {
		src->m.up = 1;
		src->m.s = poller_newest(&src->p);
		src->m.prev = poller_older(&src->p);
		if (poller_ask(&src->p, lines, 2, r, t0 + wait) == 0) {
			metrics_take_mem(&src->m, r[0].lines, r[0].ok ? r[0].nlines : 0, r[1].lines,
					 r[1].ok ? r[1].nlines : 0);
			proto_reply_free(&r[0]);
			proto_reply_free(&r[1]);
		}
		if (run->c->targets.n &&
		    cmd_select_sample(run->c, i, src->m.s, &src->keep, &src->m.nkeep) == 0)
			src->m.keep = src->keep;
	}
	src->m.seconds = net_now() - t0;
}

/* gather every node and write the text into out; the worst node status */
static int metrics_gather(struct metrics_run *run, struct fmt_buf *out)
{
	int status = 0;
	session_run(run->n, metrics_gather_one, run);
	struct metrics_node *v = calloc(run->n + 1, sizeof *v);
	for (size_t i = 0; v && i < run->n; i++) {
		v[i] = run->v[i].m;
		if (!v[i].up)
			status = err_worst(status, run->v[i].p.why.code);
	}
	if (!v || metrics_write(v, run->n, &run->o, out) != 0)
		status = err_worst(status, ERR_LOCAL), out->oom = 1;
	free(v);
	return status;
}

/* --listen: log each node that stops or starts answering */
static void metrics_log_changes(struct metrics_run *run)
{
	for (size_t i = 0; i < run->n; i++) {
		struct metrics_src *src = &run->v[i];
		if (src->was_up == src->m.up)
			continue;
		if (src->m.up) {
			fprintf(stderr, "skyctl: metrics: %s: up\n", src->p.name);
		} else {
			fprintf(stderr, "skyctl: metrics: %s: down (skynet_up 0): ", src->p.name);
			fmt_fsafe(stderr, src->p.why.msg, strlen(src->p.why.msg), "");
			fputc('\n', stderr);
		}
		src->was_up = src->m.up;
	}
}

static const char *metrics_serve(void *ud, const char *accept, double timeout,
				 struct fmt_buf *body)
{
	struct metrics_run *run = ud;
	int open = cmd_opt(run->c, &metrics_opt_openmetrics) ||
		   strstr(accept, "application/openmetrics-text") != NULL;
	run->o.openmetrics = open;
	run->timeout = run->c->o.timeout;
	if (timeout > 0)
		run->timeout = fmin(run->timeout, fmax(timeout - METRICS_MARGIN, timeout / 2));
	metrics_gather(run, body);
	metrics_log_changes(run);
	return open ? METRICS_TYPE_OPEN : METRICS_TYPE_TEXT;
}

static int metrics_listen(struct metrics_run *run, const char *addr)
{
	struct err e;
	sigset_t set;
	int sig;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);	/* before the server's thread starts */
	struct httpd *h = httpd_start(addr, "/metrics", metrics_serve, run, &e);
	if (!h) {
		fprintf(stderr, "skyctl: metrics: %s\n", e.msg);
		return e.code;
	}
	fprintf(stderr, "skyctl: metrics: serving http://%.*s:%d/metrics\n",
		(int)(strrchr(addr, ':') - addr), addr, httpd_port(h));
	sigwait(&set, &sig);
	httpd_stop(h);
	return 0;
}

/* write b to path through a temporary file beside it and a rename, so a
 * reader sees the old text or the new, never half of one */
static int metrics_textfile(const char *path, const struct fmt_buf *b)
{
	char tmp[4096];
	int n = snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
	int fd = n > 0 && (size_t)n < sizeof tmp ?
		open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
	size_t done = 0;
	while (fd >= 0 && done < b->len) {
		ssize_t w = write(fd, b->p + done, b->len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	int ok = fd >= 0 && done == b->len && fsync(fd) == 0;
	if (fd >= 0 && close(fd) != 0)
		ok = 0;
	if (ok && rename(tmp, path) == 0)
		return 0;
	fprintf(stderr, "skyctl: metrics: cannot write %s: %s\n", path, strerror(errno));
	if (fd >= 0)
		unlink(tmp);
	return ERR_LOCAL;
}

/* once: gather, report the nodes that did not answer, print or write */
static int metrics_once(struct metrics_run *run)
{
	struct fmt_buf b = { 0 };
	const char *file = cmd_opt(run->c, &metrics_opt_textfile);
	run->timeout = run->c->o.timeout;
	int status = metrics_gather(run, &b);
	for (size_t i = 0; i < run->n; i++)
		if (!run->v[i].m.up) {
			fprintf(stderr, "skyctl: %s: metrics: ", run->v[i].p.name);
			fmt_fsafe(stderr, run->v[i].p.why.msg, strlen(run->v[i].p.why.msg), "");
			fputs(" (skynet_up 0)\n", stderr);
		}
	if (!b.oom && file)
		status = err_worst(status, metrics_textfile(file, &b));
	else if (!b.oom)
		fwrite(b.p ? b.p : "", 1, b.len, stdout);
	fmt_buf_free(&b);
	return status;
}

static int metrics_exec(struct cmd_ctx *c)
{
	struct metrics_run run = { .c = c, .n = c->sess.n };
	const char *listen = cmd_opt(c, &metrics_opt_listen);
	if (listen && cmd_opt(c, &metrics_opt_textfile)) {
		fprintf(stderr, "skyctl: metrics: --listen or --textfile, not both\n");
		return ERR_USAGE;
	}
	run.o.openmetrics = cmd_opt(c, &metrics_opt_openmetrics) != NULL;
	run.o.per_service = cmd_opt(c, &args_opt_per_service) != NULL;
	run.o.top = cmd_opt(c, &metrics_opt_top) ? (size_t)cmd_num(c, &metrics_opt_top) : METRICS_TOP;
	run.v = calloc(run.n + 1, sizeof *run.v);
	if (!run.v)
		return ERR_LOCAL;
	for (size_t i = 0; i < run.n; i++) {
		poller_init(&run.v[i].p, c->sess.v[i].name, c->sess.v[i].addr);
		run.v[i].was_up = -1;
	}
	int status = listen ? metrics_listen(&run, listen) : metrics_once(&run);
	for (size_t i = 0; i < run.n; i++) {
		poller_free(&run.v[i].p);
		free(run.v[i].keep);
	}
	free(run.v);
	return status;
}

const struct cmd_entry cmd_metrics_entry = {
	.name = "metrics", .args = "[TARGET]",
	.summary = "services, kinds and nodes in Prometheus's format; --listen serves them",
	.options = CMD_OPTIONS(&metrics_opt_openmetrics, &args_opt_per_service, &metrics_opt_top,
			       &metrics_opt_listen, &metrics_opt_textfile),
	.min = 0, .max = 0,
	.flags = CMD_TARGETS | CMD_TARGET_OPT | CMD_REFRESH,
	.exec = metrics_exec,
};
