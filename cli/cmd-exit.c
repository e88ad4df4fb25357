/* skyctl exit TARGET: ask the service to exit (skynet.exit in the service); on every target
 * (pipelined), one row per target with the reply as it is. */
#include "cmd.h"

const struct cmd_entry cmd_exit_entry = {
	.name = "exit", .args = "TARGET",
	.summary = "ask the service to exit (skynet.exit in the service)",
	.min = 0, .max = 0, .flags = CMD_CONNECT | CMD_TARGETS | CMD_CHECK_ALIVE | CMD_AUDIT,
	.cols = cmd_target_cols, .ncols = 4,
};
