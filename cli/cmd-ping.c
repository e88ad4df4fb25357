/* skyctl ping TARGET: round trip to each target through the node, in
 * seconds (the node measures in 1/100 s). */
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"

static const struct fmt_col cmd_ping_cols[] = {
	{ "address", FMT_STR }, { "time", FMT_NUM }, { "ok", FMT_BOOL }, { "error", FMT_STR },
};

/* "3" (centiseconds) -> "0.03" */
static const char *cmd_ping_value(const struct proto_reply *r, char *buf, size_t len)
{
	char *end;
	long cs = r->nlines == 1 ? strtol(r->lines[0], &end, 10) : -1;
	if (r->nlines != 1 || *end || cs < 0)
		return r->text;
	snprintf(buf, len, "%.2f", cs / 100.0);
	return buf;
}

const struct cmd_entry cmd_ping_entry = {
	.name = "ping", .args = "TARGET",
	.summary = "round trip to each service through the node, in seconds",
	.options = CMD_OPTIONS(&args_opt_sort), .min = 0, .max = 0, .flags = CMD_CONNECT | CMD_TARGETS,
	.cols = cmd_ping_cols, .ncols = 4, .value = cmd_ping_value,
};
