/* skyctl apply DIR [TARGET]: bring every target service to a patch set,
 * DIR's NNN-name.lua scripts in the order of their numbers (version: the
 * first line of DIR/VERSION, else a digest of the scripts' names and
 * sha256).  Each service runs lua/set.lua's set op: the set's patches
 * already in place, in order, are kept (matched by sha256), the missing
 * ones applied in order, each alone and atomic, stopping at the first
 * failure, so a service always holds a prefix of the set; patches it
 * carries that are not the set's prefix are reported, and rolled back
 * with --prune (conflicts left alone unless --force, as rollback does).
 * A second run changes nothing.  --follow SECONDS goes on converging the
 * services that appear (cli/applyfollow.c).  Exit 0: every target holds
 * the set; 1: some does not (it failed, or a conflict). */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentcmd.h"
#include "apply.h"
#include "cmd.h"
#include "json.h"
#include "sha256.h"

enum { APPLY_CONFLICT = 4 };	/* a target state beyond enum batch_state */

static const char *const apply_state[5] = { "skipped", "ok", "failed", "unknown", "conflict" };

static const struct args_opt apply_opt_prune = {
	.lng = "prune",
	.help = "roll back the patches a service carries that are not the set's",
};

struct apply_run {
	char **paths;		/* the set's scripts, in order */
	const struct agentcmd_script *sc;	/* the same, read (the driver's) */
	int n;
	char version[80];
	const char *arrow;
	size_t holding, prefix;	/* targets that hold the set; stopped at a prefix */
};

/* the number of a set script's name "NNN-name.lua", or -1 */
static long long apply_number(const char *name)
{
	size_t len = strlen(name), d = 0;
	while (isdigit((unsigned char)name[d]))
		d++;
	if (!d || d > 15 || name[d] != '-' || len < d + 6 || strcmp(name + len - 4, ".lua"))
		return -1;
	return strtoll(name, NULL, 10);
}

static int apply_cmp(const void *a, const void *b)
{
	const char *x = strrchr(*(char *const *)a, '/') + 1, *y = strrchr(*(char *const *)b, '/') + 1;
	long long nx = apply_number(x), ny = apply_number(y);
	return nx != ny ? (nx < ny ? -1 : 1) : strcmp(x, y);
}

/* DIR's NNN-name.lua paths, in order, into r; 0 or an exit status after
 * saying why */
static int apply_list(struct apply_run *r, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int rc = 0;
	if (!d) {
		fprintf(stderr, "skyctl: apply: cannot read the patch set %s: %m\n", dir);
		return ERR_LOCAL;
	}
	while (!rc && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len < 4 || strcmp(de->d_name + len - 4, ".lua"))
			continue;	/* VERSION, a README: not patches */
		if (apply_number(de->d_name) < 0) {
			fprintf(stderr, "skyctl: apply: %s/%s: a patch is named NNN-name.lua (its "
				"number orders the set)\n", dir, de->d_name);
			rc = ERR_LOCAL;
			break;
		}
		char **p = realloc(r->paths, (size_t)(r->n + 1) * sizeof *p);
		if (!p || !(p[r->n] = malloc(strlen(dir) + len + 2))) {
			fprintf(stderr, "skyctl: out of memory\n");
			rc = ERR_LOCAL;
			if (p)
				r->paths = p;
			break;
		}
		r->paths = p;
		sprintf(r->paths[r->n++], "%s/%s", dir, de->d_name);
	}
	closedir(d);
	if (!rc && !r->n) {
		fprintf(stderr, "skyctl: apply: %s holds no NNN-name.lua patch\n", dir);
		rc = ERR_LOCAL;
	}
	if (!rc)
		qsort(r->paths, (size_t)r->n, sizeof *r->paths, apply_cmp);
	for (int i = 1; !rc && i < r->n; i++)
		if (apply_number(strrchr(r->paths[i - 1], '/') + 1) ==
		    apply_number(strrchr(r->paths[i], '/') + 1)) {
			fprintf(stderr, "skyctl: apply: %s and %s have the same number\n",
				r->paths[i - 1], r->paths[i]);
			rc = ERR_LOCAL;
		}
	return rc;
}

/* the set's version: DIR/VERSION's first line, else the first 12 hex
 * digits of the sha256 of its "name sha256" lines; 0 or an exit status */
static int apply_version(struct apply_run *r, const char *dir, const struct agentcmd_script *sc)
{
	char path[4096], hex[65];
	snprintf(path, sizeof path, "%s/VERSION", dir);
	FILE *f = fopen(path, "r");
	if (f) {
		int ok = fgets(r->version, sizeof r->version, f) != NULL;
		fclose(f);
		r->version[strcspn(r->version, "\r\n")] = '\0';
		if (ok && *r->version)
			return 0;
		fprintf(stderr, "skyctl: apply: %s: its first line names the set's version\n", path);
		return ERR_LOCAL;
	}
	struct fmt_buf b = { 0 };
	for (int i = 0; i < r->n; i++)
		fmt_printf(&b, "%s %s\n", sc[i].name, sc[i].sha);
	sha256_hex(b.p ? b.p : "", b.len, hex);
	fmt_buf_free(&b);
	snprintf(r->version, sizeof r->version, "%.12s", hex);
	return 0;
}

/* read and compile the set (agentcmd_load) into ar's scripts; 0 or an
 * exit status */
static int apply_load(struct agentrun *ar, struct apply_run *r)
{
	const char *dir = ar->c->argv[0];
	int rc = apply_list(r, dir);
	if (rc)
		return rc;
	struct agentcmd_script *sc = calloc((size_t)r->n, sizeof *sc);
	if (!sc || agentcmd_load(ar->c, ar->nodes, ar->nnodes, sc, r->n, r->paths) != 0) {
		agentcmd_scripts_free(sc, r->n);
		return ERR_LOCAL;
	}
	agentcmd_scripts_free(ar->sc, ar->nscripts);
	ar->sc = sc;	/* the driver frees them, and audits each */
	ar->nscripts = r->n;
	r->sc = sc;
	for (int i = 1; i < r->n; i++)
		for (int j = 0; j < i; j++)
			if (strcmp(sc[i].sha, sc[j].sha) == 0) {
				fprintf(stderr, "skyctl: apply: %s and %s are the same script\n",
					sc[j].path, sc[i].path);
				return ERR_LOCAL;
			}
	return apply_version(r, dir, sc);
}

/* {op="set", version=, scripts=, prune=, force=, dry=, who=, time=, batch=} */
static int apply_request(struct agentrun *ar, struct fmt_buf *b)
{
	struct apply_run *r = ar->ud = calloc(1, sizeof *r);
	int rc;
	if (!r) {
		fprintf(stderr, "skyctl: out of memory\n");
		return ERR_LOCAL;
	}
	if ((rc = apply_load(ar, r)) != 0)
		return rc;
	r->arrow = ar->c->mode == FMT_TABLE ? "→" : "->";
	wire_put_open(b);
	wire_put_cstr(b, "op");
	wire_put_cstr(b, "set");
	wire_put_cstr(b, "version");
	wire_put_cstr(b, r->version);
	agentcmd_w_scripts(b, ar->sc, ar->nscripts, ar->c->o.timeout);
	const struct args_opt *flags[] = { &apply_opt_prune, &agentcmd_opt_force, &agentcmd_opt_dry };
	const char *keys[] = { "prune", "force", "dry" };
	for (size_t k = 0; k < 3; k++)
		if (cmd_opt(ar->c, flags[k])) {
			wire_put_cstr(b, keys[k]);
			wire_put_bool(b, 1);
		}
	agentcmd_w_who(b);
	wire_put_cstr(b, "batch");
	wire_put_cstr(b, ar->batch);
	wire_put_close(b);
	if (!cmd_opt(ar->c, &agentcmd_opt_dry))
		agentcmd_keep_sources(ar->sc, ar->nscripts);
	return 0;
}

/* "#4 extra.lua, #7 repl 1" into b */
static void apply_names(struct fmt_buf *b, const struct wire_val *list)
{
	for (size_t k = 1; k <= wire_count(list); k++) {
		const struct wire_val *e = wire_at(list, (long long)k);
		fmt_printf(b, "%s#%lld %s", k > 1 ? ", " : "", wire_geti(e, "id", 0),
			   wire_gets(e, "name", "?"));
	}
}

/* the lines after a target's verdict: what --prune rolled back, what it
 * carries beyond the set, each patch applied and its output; a dry run's
 * changes */
static void apply_details(struct apply_run *r, const struct wire_val *v, struct fmt_buf *b)
{
	const struct wire_val *rolled = wire_get(v, "rolled"), *applied = wire_get(v, "applied");
	for (size_t k = 1; k <= wire_count(rolled); k++) {
		const struct wire_val *p = wire_at(rolled, (long long)k);
		size_t nc = wire_count(wire_get(p, "conflicts"));
		fmt_printf(b, "    - rolled back #%lld %s (%zu restored", wire_geti(p, "id", 0),
			   wire_gets(p, "name", "?"), wire_count(wire_get(p, "restored")));
		if (nc)
			fmt_printf(b, "; %zu conflict%s left alone: --force restores %s", nc,
				   nc == 1 ? "" : "s", nc == 1 ? "it" : "them");
		fmt_puts(b, ")\n");
	}
	if (wire_count(wire_get(v, "extra"))) {
		fmt_puts(b, "    ! carries patches not in the set: ");
		apply_names(b, wire_get(v, "extra"));
		fmt_puts(b, wire_count(rolled) ? "\n" : " (--prune rolls them back)\n");
	}
	for (size_t k = 1; k <= wire_count(applied); k++) {
		const struct wire_val *p = wire_at(applied, (long long)k), *out = wire_get(p, "out");
		size_t nch = wire_count(wire_get(p, "changes"));
		fmt_printf(b, "    + #%lld %s, %zu change%s\n", wire_geti(p, "id", 0),
			   wire_gets(p, "name", "?"), nch, nch == 1 ? "" : "s");
		for (size_t l = 1; l <= wire_count(out); l++)
			fmt_printf(b, "      | %s\n", wire_str(wire_at(out, (long long)l)));
	}
	const struct wire_val *would = wire_get(wire_get(v, "would"), "scripts");
	for (size_t k = 1; k <= wire_count(would); k++) {
		const struct wire_val *sv = wire_at(would, (long long)k), *ch = wire_get(sv, "changes");
		fmt_printf(b, "    %s:\n", wire_gets(sv, "name", "?"));
		for (size_t l = 1; l <= wire_count(ch); l++) {
			fmt_puts(b, "    ");
			agentcmd_change_line(b, wire_at(ch, (long long)l), 0, r->arrow);
		}
	}
}

/* the verdict of a target that answered: what it holds now, what it got */
static int apply_verdict(struct apply_run *r, const struct batch_result *res, char *buf, size_t len)
{
	const struct wire_val *v = res->val, *failed = wire_get(v, "failed");
	long long held = wire_geti(v, "held", 0), total = wire_geti(v, "total", 0);
	long long got = (long long)wire_count(wire_get(v, "applied"));
	char undone[512] = "";
	if (res->state == BATCH_OK && wire_getb(v, "dry")) {
		if (held == total)
			snprintf(buf, len, "holds set %s (%lld of %lld): would change nothing",
				 r->version, held, total);
		else
			snprintf(buf, len, "would get %lld of %lld patches, from %s on (tried, all "
				 "undone)", total - held, total,
				 held >= 0 && held < r->n ? r->sc[held].name : "?");
		return BATCH_OK;
	}
	if (res->state == BATCH_OK) {
		r->holding++;
		snprintf(buf, len, "holds set %s (%lld of %lld)%s", r->version, held, total,
			 got ? "" : ": nothing changed");
		if (got)
			snprintf(buf + strlen(buf), len - strlen(buf), ": applied %lld", got);
		return wire_getb(v, "conflict") ? APPLY_CONFLICT : BATCH_OK;
	}
	if (failed) {
		r->prefix++;
		agentcmd_undone(failed, undone, sizeof undone);
		snprintf(buf, len, "%s%s; holds %lld of %lld of set %s, a clean prefix",
			 res->err ? res->err : "failed", undone, held, total, r->version);
	} else if (res->err && wire_get(v, "would")) {
		snprintf(buf, len, "would fail: %s", res->err);
	} else {
		snprintf(buf, len, "%s", res->err ? res->err : "failed");
	}
	return BATCH_FAILED;
}

static int apply_describe(struct agentrun *ar, size_t node, size_t i,
			  const struct batch_result *res, char *what, size_t len,
			  struct fmt_buf *more)
{
	struct apply_run *r = ar->ud;
	int state = res->state;
	(void)node, (void)i;
	if (res->val && wire_get(res->val, "total") && (state == BATCH_OK || state == BATCH_FAILED))
		state = apply_verdict(r, res, what, len);
	else if (state == BATCH_UNKNOWN)
		snprintf(what, len, "%s: it holds some prefix of the set", res->err ? res->err : "lost");
	else if (state == BATCH_SKIPPED)
		snprintf(what, len, "not sent (the batch stopped)");
	else
		snprintf(what, len, "%s", res->err ? res->err : "failed");
	if (more && res->val)
		apply_details(r, res->val, more);
	return state;
}

static void apply_summary(struct agentrun *ar, struct fmt_buf *text, struct fmt_buf *json)
{
	struct apply_run *r = ar->ud;
	const char *dry = cmd_opt(ar->c, &agentcmd_opt_dry) ? "would hold" : "hold";
	fmt_printf(text, "set %s (%d patch%s): %zu %s it, ", r->version, r->n,
		   r->n == 1 ? "" : "es", cmd_opt(ar->c, &agentcmd_opt_dry) ? ar->count[BATCH_OK] :
		   r->holding, dry);
	for (int k = 0; ar->c->cmd->agent->order[k] >= 0; k++) {
		int s = ar->c->cmd->agent->order[k];
		if (s != BATCH_OK)
			fmt_printf(text, "%zu %s%s", ar->count[s], apply_state[s],
				   s == BATCH_SKIPPED ? "" : ", ");
	}
	if (r->prefix)
		fmt_printf(text, "; %zu stopped at a clean prefix", r->prefix);
	fmt_puts(json, ",\"version\":");
	json_string(json, r->version, strlen(r->version));
	fmt_printf(json, ",\"patches\":%d,\"holding\":%zu,\"prefix\":%zu,\"dry_run\":%s", r->n,
		   r->holding, r->prefix, cmd_opt(ar->c, &agentcmd_opt_dry) ? "true" : "false");
	for (int k = 0; ar->c->cmd->agent->order[k] >= 0; k++) {
		int s = ar->c->cmd->agent->order[k];
		fmt_printf(json, ",\"%s\":%zu", apply_state[s], ar->count[s]);
	}
}

static void apply_free(struct agentrun *ar)
{
	struct apply_run *r = ar->ud;
	if (!r)
		return;
	for (int i = 0; i < r->n; i++)
		free(r->paths[i]);
	free(r->paths);
	free(r);
}

static int apply_check(const struct cmd_ctx *c, struct err *e)
{
	if (cmd_opt(c, &agentcmd_opt_dry) && cmd_opt(c, &apply_opt_prune))
		return err_set(e, ERR_USAGE, "apply: --dry-run shows what --prune would roll back "
			       "without it");
	return apply_follow_check(c, e);
}

static const struct cmd_agent apply_agent = {
	.states = apply_state,
	.order = (const int[]){ BATCH_OK, APPLY_CONFLICT, BATCH_FAILED, BATCH_UNKNOWN,
				BATCH_SKIPPED, -1 },
	.width = 8, .request = apply_request, .describe = apply_describe,
	.summary = apply_summary, .free = apply_free,
};

const struct cmd_entry cmd_apply_entry = {
	.name = "apply", .args = "DIR [TARGET]",
	.summary = "bring services to a patch set (DIR/NNN-name.lua, in order); idempotent",
	.options = CMD_OPTIONS(&agentcmd_opt_keep_going, &agentcmd_opt_canary,
			       &agentcmd_opt_canary_wait, &agentcmd_opt_failures,
			       &agentcmd_opt_no_agent, &agentcmd_opt_dry, &apply_opt_prune,
			       &agentcmd_opt_force, &apply_opt_follow),
	.check = apply_check, .min = 1, .max = 1,
	/* changes services: audited */
	.flags = CMD_CONNECT | CMD_TARGETS | CMD_TARGET_SECOND | CMD_EVERY | CMD_CHECK_ALIVE |
		 CMD_HANDLES | CMD_AGENT | CMD_AUDIT,
	.agent = &apply_agent, .exec = apply_follow_exec,
};
