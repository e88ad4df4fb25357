/* skyctl apply --follow (cli/applyfollow.c): after the first run, keep
 * converging the services that appear, until SECONDS pass or a signal
 * (SIGINT, SIGTERM) stops it. */
#ifndef APPLY_H
#define APPLY_H

#include "cmd.h"

extern const struct args_opt apply_opt_follow;

/* usage errors of --follow (with --json: one document cannot grow) */
int apply_follow_check(const struct cmd_ctx *c, struct err *e);

/* the command's run: the agent driver, then with --follow its rounds
 * over the new services; the worst exit status */
int apply_follow_exec(struct cmd_ctx *c);

#endif
