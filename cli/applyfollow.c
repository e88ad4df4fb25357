/* skyctl apply --follow SECONDS (apply.h): the first run converges the
 * targets there are; then, once a second, every node's services are
 * listed again and the targets not seen before get the set, until
 * SECONDS pass or SIGINT/SIGTERM stops it (after the round under way). */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "agentcmd.h"
#include "apply.h"

#define APPLY_FOLLOW_POLL 1.0	/* seconds between two looks for new services */

const struct args_opt apply_opt_follow = {
	.lng = "follow", .arg = "SECONDS",
	.help = "then go on giving the set to services that appear, for SECONDS (Ctrl-C stops)",
	.want = "seconds (> 0)", .min = 0.001, .max = 1e7,
};

static volatile sig_atomic_t apply_follow_stop;

static void apply_follow_signal(int sig)
{
	(void)sig;
	apply_follow_stop = 1;
}

int apply_follow_check(const struct cmd_ctx *c, struct err *e)
{
	if (cmd_opt(c, &apply_opt_follow) && c->o.json)
		return err_set(e, ERR_USAGE, "apply: --follow prints each round as it goes; it "
			       "cannot be combined with --json");
	return 0;
}

/* the targets seen so far, per node */
struct apply_seen {
	uint32_t *v;
	size_t n;
};

/* keep only nd's targets not in seen, and add them to it; -1 when out of
 * memory */
static int apply_follow_fresh(struct cmd_node *nd, struct apply_seen *seen)
{
	size_t k = 0;
	for (size_t i = 0; i < nd->ntargets; i++) {
		size_t j = 0;
		while (j < seen->n && seen->v[j] != nd->targets[i].addr)
			j++;
		if (j < seen->n)
			continue;
		uint32_t *v = realloc(seen->v, (seen->n + 1) * sizeof *v);
		if (!v)
			return -1;
		seen->v = v;
		seen->v[seen->n++] = nd->targets[i].addr;
		nd->targets[k++] = nd->targets[i];
	}
	nd->ntargets = k;
	return 0;
}

/* sleep until the next look, the deadline or a signal */
static void apply_follow_wait(double end)
{
	double left = end - net_now();
	if (left > APPLY_FOLLOW_POLL)
		left = APPLY_FOLLOW_POLL;
	if (left <= 0)
		return;
	struct timespec ts = { (time_t)left, (long)((left - (double)(time_t)left) * 1e9) };
	while (!apply_follow_stop && nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* close what a round left open: the connections of nodes without targets */
static void apply_follow_close(struct cmd_ctx *c)
{
	for (size_t i = 0; i < c->sess.n; i++) {
		net_close(c->sess.v[i].conn);
		c->sess.v[i].conn = NULL;
	}
}

int apply_follow_exec(struct cmd_ctx *c)
{
	int status = agentrun_exec(c);
	if (!cmd_opt(c, &apply_opt_follow) || status == BATCH_INTERRUPTED)
		return status;
	struct apply_seen *seen = calloc(c->sess.n, sizeof *seen);
	struct sigaction sa = { .sa_handler = apply_follow_signal }, oldint, oldterm;
	double end = net_now() + cmd_num(c, &apply_opt_follow);
	sigemptyset(&sa.sa_mask);	/* no SA_RESTART: a signal ends the wait */
	sigaction(SIGINT, &sa, &oldint);
	sigaction(SIGTERM, &sa, &oldterm);
	for (size_t i = 0; seen && i < c->sess.n; i++)
		if (apply_follow_fresh(&c->nodes[i], &seen[i]) != 0)
			status = ERR_LOCAL;
	fflush(stdout);
	fprintf(stderr, "skyctl: apply: following new services for %g s (Ctrl-C stops)\n",
		cmd_num(c, &apply_opt_follow));
	while (seen && status != ERR_LOCAL && !apply_follow_stop && net_now() < end) {
		apply_follow_wait(end);
		if (apply_follow_stop || net_now() >= end)
			break;
		apply_follow_close(c);
		run_reconnect(c);
		size_t fresh = 0;
		for (size_t i = 0; i < c->sess.n; i++) {
			if (apply_follow_fresh(&c->nodes[i], &seen[i]) != 0)
				status = ERR_LOCAL;
			fresh += c->nodes[i].ntargets;
		}
		int rc = fresh ? agentrun_exec(c) : 0;
		status = err_worst(status, rc);
		if (rc == BATCH_INTERRUPTED)	/* the batch caught the signal: stop here too */
			break;
		fflush(stdout);	/* each round as it ends, also in a pipe */
	}
	apply_follow_close(c);
	sigaction(SIGINT, &oldint, NULL);
	sigaction(SIGTERM, &oldterm, NULL);
	for (size_t i = 0; seen && i < c->sess.n; i++)
		free(seen[i].v);
	if (!seen) {
		fprintf(stderr, "skyctl: out of memory\n");
		status = ERR_LOCAL;
	}
	free(seen);
	fprintf(stderr, "skyctl: apply: stopped following%s\n",
		apply_follow_stop ? " (signal)" : "");
	return status;
}
