/* skyctl logon TARGET: log the service's messages to the node's log directory; on every target
 * (pipelined), one row per target with the reply as it is. */
#include "cmd.h"

const struct cmd_entry cmd_logon_entry = {
	.name = "logon", .args = "TARGET",
	.summary = "log the service's messages to the node's log directory",
	.min = 0, .max = 0, .flags = CMD_CONNECT | CMD_TARGETS | CMD_LOCAL | CMD_AUDIT,
	.cols = cmd_target_cols, .ncols = 4,
};
