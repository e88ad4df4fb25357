/* skyctl info TARGET [ARGS...]: what the service's skynet.info_func returns; on every target
 * (pipelined), one row per target with the reply as it is. */
#include "cmd.h"

const struct cmd_entry cmd_info_entry = {
	.name = "info", .args = "TARGET [ARGS...]",
	.summary = "what the service's skynet.info_func returns",
	.min = 0, .max = -1, .flags = CMD_CONNECT | CMD_TARGETS,
	.cols = cmd_target_cols, .ncols = 4,
};
