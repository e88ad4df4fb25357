/* skyctl signal TARGET [SIG]: interrupt a service stuck in a loop (the
 * traceback goes to the node's log).  Always on a connection of its own:
 * a stuck service blocks the connection that asked it anything. */
#include "cmd.h"

const struct cmd_entry cmd_signal_entry = {
	.name = "signal", .args = "TARGET [SIG]",
	.summary = "interrupt a service stuck in a loop (traceback in the node's log)",
	.min = 0, .max = 1, .options = CMD_OPTIONS(&args_opt_yes),
	.flags = CMD_CONNECT | CMD_TARGETS | CMD_FRESH | CMD_LOCAL | CMD_AUDIT | CMD_CONFIRM,
	.cols = cmd_target_cols, .ncols = 4,
};
