/* skyctl trace TARGET [PROTO] [on|off]: switch message tracing of the service (to the node's log); on every target
 * (pipelined), one row per target with the reply as it is. */
#include "cmd.h"

const struct cmd_entry cmd_trace_entry = {
	.name = "trace", .args = "TARGET [PROTO] [on|off]",
	.summary = "switch message tracing of the service (to the node's log)",
	.min = 0, .max = 2, .flags = CMD_CONNECT | CMD_TARGETS | CMD_AUDIT,
	.cols = cmd_target_cols, .ncols = 4,
};
