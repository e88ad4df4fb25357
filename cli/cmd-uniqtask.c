/* skyctl uniqtask TARGET: the service's suspended coroutines, grouped by traceback; on every target
 * (pipelined), one row per target with the reply as it is. */
#include "cmd.h"

const struct cmd_entry cmd_uniqtask_entry = {
	.name = "uniqtask", .args = "TARGET",
	.summary = "the service's suspended coroutines, grouped by traceback",
	.min = 0, .max = 0, .flags = CMD_CONNECT | CMD_TARGETS,
	.cols = cmd_target_cols, .ncols = 4,
};
