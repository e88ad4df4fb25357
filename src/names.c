/* names: a registered name's handle, from the harbor slave */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "proto.h"

int names_resolve(const char *spec, const char *name, double timeout, uint32_t *addr,
		  struct err *e)
{
	char line[300];
	struct proto_reply r;
	const char *query = name[0] == '%' ? name + 1 : name;
	snprintf(line, sizeof line, "call .cslave \"QUERYNAME\", \"%s\"", query);
	struct net_conn *c = proto_open_send(spec, timeout, line, e);
	if (!c)
		return -1;
	struct err re = { 0 };
	int rc = proto_read_reply(c, &r, net_now() + timeout, &re);
	net_close(c);
	if (rc != 0) {
		if (re.code == ERR_TIMEOUT && query != name)
			return err_set(e, ERR_NODE, "no service is registered as global name %s "
				       "(the node did not answer within %g s)", name, timeout);
		*e = re;
		return -1;
	}
	/* "1\t<handle in decimal>" then "n\t1"; "n\t0" for a local name
	 * nobody has (a global one's QUERYNAME waits for it: see above) */
	char *end = NULL;
	unsigned long v = 0;
	if (r.ok && r.nlines >= 1 && strncmp(r.lines[0], "1\t", 2) == 0)
		v = strtoul(r.lines[0] + 2, &end, 10);
	if (r.ok && r.nlines == 1 && strcmp(r.lines[0], "n\t0") == 0)
		rc = err_set(e, ERR_NODE, "no service is registered as %s (a global name, "
			     "registered without a dot, is %%%s)", name, name + 1);
	else if (!r.ok || !end || *end || v == 0 || v > 0xffffffffUL)
		rc = err_set(e, r.ok ? ERR_PROTO : ERR_NODE, "%s: %s", name,
			     r.ok ? "unexpected reply to QUERYNAME" : proto_failure(line, &r));
	else
		*addr = (uint32_t)v;
	proto_reply_free(&r);
	return rc;
}
