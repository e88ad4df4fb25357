/* skyctl kill TARGET: kill the service at once (through the launcher); on
 * every target (pipelined), one row per target with the reply as it is.
 * Bare hex addresses: given ":a" the launcher kills the service but cannot
 * name it (it looks the string up) and replies ":a\tnil", as for a dead one. */
#include "cmd.h"

const struct cmd_entry cmd_kill_entry = {
	.name = "kill", .args = "TARGET",
	.summary = "kill the service at once (through the launcher)",
	.min = 0, .max = 0, .options = CMD_OPTIONS(&args_opt_yes),
	.flags = CMD_CONNECT | CMD_TARGETS | CMD_CHECK_ALIVE | CMD_LOCAL | CMD_AUDIT | CMD_CONFIRM,
	.cols = cmd_target_cols, .ncols = 4, .form = TARGET_FORM_HEX,
};
