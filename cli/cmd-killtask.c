/* skyctl killtask TARGET THREAD: kill one suspended coroutine of the service (as task names it); on every target
 * (pipelined), one row per target with the reply as it is. */
#include "cmd.h"

const struct cmd_entry cmd_killtask_entry = {
	.name = "killtask", .args = "TARGET THREAD",
	.summary = "kill one suspended coroutine of the service (as task names it)",
	.min = 1, .max = 1, .flags = CMD_CONNECT | CMD_TARGETS | CMD_AUDIT,
	.cols = cmd_target_cols, .ncols = 4,
};
