/* skyctl logoff TARGET: stop logging the service's messages; on every target
 * (pipelined), one row per target with the reply as it is. */
#include "cmd.h"

const struct cmd_entry cmd_logoff_entry = {
	.name = "logoff", .args = "TARGET",
	.summary = "stop logging the service's messages",
	.min = 0, .max = 0, .flags = CMD_CONNECT | CMD_TARGETS | CMD_LOCAL | CMD_AUDIT,
	.cols = cmd_target_cols, .ncols = 4,
};
