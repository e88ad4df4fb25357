/* `skyctl top`'s P key: profile the service on top of the list for a few
 * seconds, as `skyctl profile --no-agent` would (nothing stays in the
 * service), and show its top functions until a key is typed. */
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "profile.h"
#include "screen.h"

/* run the profile; 0 with p filled, or -1 with e set */
static int profile_top_run(const char *node, unsigned addr, double timeout, struct profile *p,
			   struct err *e)
{
	struct fmt_buf req = { 0 };
	struct wire_val *rep = NULL;
	struct agent_sess *s = NULL;
	int rc = -1;
	if (agent_init() != 0 || profile_request(&req, PROFILE_TOP_SECONDS, 100) != 0)
		err_set(e, ERR_LOCAL, "the embedded agent is missing");
	else if ((s = agent_open(node, NULL, AGENT_NO_AGENT, timeout + PROFILE_TOP_SECONDS, e)))
		rc = agent_request(s, addr, &req, &rep, e);
	if (rc == 0 && !wire_getb(rep, "ok"))
		rc = err_set(e, ERR_NODE, "%s", wire_gets(rep, "err", "the profile failed"));
	if (rc == 0)
		profile_add_reply(p, NULL, rep);
	wire_val_free(rep);
	agent_close(s);
	fmt_buf_free(&req);
	return rc;
}

int profile_top(struct screen_frame *f, const char *node, unsigned addr, const char *name,
		double timeout)
{
	char who[128];
	struct profile p = { 0 };
	struct err e = { 0 };
	struct fmt_table t = { 0 };
	struct fmt_buf b = { 0 };
	snprintf(who, sizeof who, ":%08x %s", addr, name ? name : "");
	screen_begin(f);
	screen_line(f, 1, "profile %s: sampling its Lua stacks for %d s...", who, PROFILE_TOP_SECONDS);
	screen_end(f);
	int rc = profile_top_run(node, addr, timeout, &p, &e);
	screen_begin(f);
	if (rc != 0) {
		screen_line(f, 1, "profile %s: failed", who);
		screen_line(f, 0, "%s", e.msg);
		if (e.code == ERR_TIMEOUT)
			screen_line(f, 0, "a service stuck in a loop cannot be profiled: try `skyctl stuck`");
	} else {
		screen_line(f, 1, "profile %s: %lld samples in %d s (skyctl profile for more)", who,
			    p.samples, PROFILE_TOP_SECONDS);
		profile_table(&p, 15, &t);
		fmt_render(&t, FMT_TABLE, 0, &b);
		for (const char *s = b.p; s && *s;) {
			const char *nl = strchr(s, '\n');
			int len = nl ? (int)(nl - s) : (int)strlen(s);
			screen_line(f, 0, "%.*s", len, s);
			s += len + (nl != NULL);
		}
		if (!p.samples)
			screen_line(f, 0, "no samples: no Lua code ran in the service");
	}
	screen_line(f, 0, "%s", "");
	screen_line(f, 1, "any key: back to top");
	screen_end(f);
	int key;
	while ((key = screen_key(1000)) == SCREEN_KEY_NONE || key == SCREEN_KEY_RESIZE)
		;
	fmt_table_free(&t);
	fmt_buf_free(&b);
	profile_free(&p);
	return key;
}
