/* names: a registered name's handle, read off debug mode's prompt; a
 * global name's, from the harbor slave */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "proto.h"

/* the handle in the first ":xxxxxxxx>" prompt of s[0..n), or 0 */
static uint32_t names_prompt(const char *s, size_t n)
{
	for (size_t i = 0; i + 10 <= n; i++) {
		if (s[i] != ':' || s[i + 9] != '>')
			continue;
		char hex[9];
		memcpy(hex, s + i + 1, 8);
		hex[8] = '\0';
		char *end;
		unsigned long v = strtoul(hex, &end, 16);
		if (*end == '\0' && v != 0)
			return (uint32_t)v;
	}
	return 0;
}

/* the last line of the output before a <CMD Error>, for the message */
static void names_why(const char *s, size_t n, char *why, size_t len)
{
	const char *end = memmem(s, n, "<CMD Error>", 11);
	while (end > s && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	const char *start = end;
	while (start > s && start[-1] != '\n')
		start--;
	snprintf(why, len, "%.*s", (int)(end - start), start);
}

int names_resolve(const char *spec, const char *name, double timeout, uint32_t *addr,
		  struct err *e)
{
	double deadline = net_now() + timeout;
	struct net_conn *dbg = proto_open(spec, timeout, e), *poke = NULL;
	char line[300], ping[300];
	int rc = -1;
	if (!dbg)
		return -1;
	net_set_nudge(dbg, NULL);	/* it goes into debug mode (proto_open) */
	if (!(poke = proto_open(spec, timeout, e)))
		goto done;
	/* `cont` goes with `debug`: the service reads both in one go, woken by
	 * the pings on the other connection instead of its 0.1 s idle tick */
	snprintf(line, sizeof line, "debug %s\ncont\n", name);
	snprintf(ping, sizeof ping, "ping %s", name);
	if (net_write(dbg, line, strlen(line), deadline, e) != 0)
		goto done;
	for (;;) {
		size_t n;
		const char *s = net_data(dbg, &n);
		if (memmem(s, n, "<CMD Error>\n", 12)) {
			char why[200];
			names_why(s, n, why, sizeof why);
			if (strstr(why, "attach failed"))
				err_set(e, ERR_NODE, "%s is being debugged by another session", name);
			else
				err_set(e, ERR_NODE, "no service is registered as %s (%s)", name, why);
			goto done;
		}
		if (memmem(s, n, "<CMD OK>\n", 9)) {
			*addr = names_prompt(s, n);
			rc = *addr ? 0 : err_set(e, ERR_PROTO, "%s: no debug prompt in the reply", name);
			goto done;
		}
		struct proto_reply r;
		if (proto_request(poke, ping, &r, e) != 0)
			goto done;
		proto_reply_free(&r);
		double soon = net_now() + 0.002;
		struct err fe = { 0 };
		int got = net_fill(dbg, soon < deadline ? soon : deadline, &fe);
		if (got == 0 || (got < 0 && fe.code != ERR_TIMEOUT)) {
			err_set(e, fe.code, "%s: %s", name, fe.msg);
			goto done;
		}
		if (got < 0 && net_now() >= deadline) {
			err_set(e, ERR_NODE, "%s did not enter debug mode within %.1f s: it is busy "
				"or being debugged by another session", name, timeout);
			goto done;
		}
	}
done:
	net_close(dbg);
	net_close(poke);
	return rc;
}

int names_global(const char *spec, const char *name, double timeout, uint32_t *addr,
		 struct err *e)
{
	char line[300];
	struct proto_reply r;
	snprintf(line, sizeof line, "call .cslave \"QUERYNAME\", \"%s\"", name);
	struct net_conn *c = proto_open_send(spec, timeout, line, e);
	if (!c)
		return -1;
	struct err re = { 0 };
	int rc = proto_read_reply(c, &r, net_now() + timeout, &re);
	net_close(c);
	if (rc != 0) {
		if (re.code == ERR_TIMEOUT)
			return err_set(e, ERR_NODE, "no service is registered as global name %s "
				       "(no answer within %.1f s)", name, timeout);
		*e = re;
		return -1;
	}
	/* "1\t<handle in decimal>" then "n\t1" */
	char *end = NULL;
	unsigned long v = 0;
	if (r.ok && r.nlines >= 1 && strncmp(r.lines[0], "1\t", 2) == 0)
		v = strtoul(r.lines[0] + 2, &end, 10);
	if (!r.ok || !end || *end || v == 0 || v > 0xffffffffUL)
		rc = err_set(e, r.ok ? ERR_PROTO : ERR_NODE, "global name %s: %s", name,
			     r.ok ? "unexpected reply to QUERYNAME" : proto_failure(line, &r));
	else
		*addr = (uint32_t)v;
	proto_reply_free(&r);
	return rc;
}
