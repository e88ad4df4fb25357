/* skyctl exit TARGET: ask the service to exit (skynet.exit in the service); on every target
 * (pipelined), one row per target with the reply as it is. */
#include "cmd.h"

const struct cmd_entry cmd_exit_entry = {
	.name = "exit", .args = "TARGET",
	.summary = "ask the service to exit (skynet.exit in the service)",
	.min = 0, .max = 0, .options = CMD_OPTIONS(&args_opt_yes),
	.flags = CMD_CONNECT | CMD_TARGETS | CMD_CHECK_ALIVE | CMD_AUDIT | CMD_CONFIRM,
	.cols = cmd_target_cols, .ncols = 4,
};
