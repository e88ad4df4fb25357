/* skyctl call TARGET LUA-ARGS...: skynet.call the service's lua protocol; args are a Lua expression list; on every target
 * (pipelined), one row per target with the reply as it is. */
#include "cmd.h"

const struct cmd_entry cmd_call_entry = {
	.name = "call", .args = "TARGET LUA-ARGS...",
	.summary = "skynet.call the service's lua protocol; args are a Lua expression list",
	.min = 1, .max = -1, .flags = CMD_CONNECT | CMD_TARGETS,
	.cols = cmd_target_cols, .ncols = 4,
};
