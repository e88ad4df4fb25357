/* target.h: parsing and resolving target lists. */
#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target.h"

void target_list_free(struct target_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].node);
		free(l->v[i].text);
		free(l->v[i].orig);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int target_hex(const char *s, uint32_t *out)
{
	size_t n = strlen(s);
	if (n < 1 || n > 8 || strspn(s, "0123456789abcdefABCDEF") != n)
		return -1;
	*out = (uint32_t)strtoul(s, NULL, 16);
	return 0;
}

static int target_word_ok(const char *s, const char *extra)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr(extra, *s))
			return 0;
	return 1;
}

/* one item "[node/]sel" into t */
static int target_item(const char *item, struct target_sel *t, struct err *e)
{
	const char *slash = strchr(item, '/');
	const char *sel = slash ? slash + 1 : item;
	t->orig = strdup(item);
	if (slash) {
		t->node = strndup(item, (size_t)(slash - item));
		if (t->node && strcmp(t->node, "*") != 0 && !target_word_ok(t->node, "_-."))
			return err_set(e, ERR_USAGE, "bad target '%s': bad node name '%s'", item,
				       t->node);
	}
	if (!t->orig || (slash && !t->node))
		return err_set(e, ERR_LOCAL, "out of memory");
	if (sel[0] == ':') {
		t->kind = TARGET_ADDR;
		if (target_hex(sel + 1, &t->addr) != 0)
			return err_set(e, ERR_USAGE,
				       "bad target '%s': want ':' and 1-8 hex digits", item);
	} else if (sel[0] == '.') {
		t->kind = TARGET_NAME;
		if (!target_word_ok(sel + 1, "_-"))
			return err_set(e, ERR_USAGE, "bad target '%s': bad service name", item);
		t->text = strdup(sel);
	} else if (sel[0] == '%') {
		t->kind = TARGET_GLOBAL;
		if (!target_word_ok(sel + 1, "_-."))
			return err_set(e, ERR_USAGE, "bad target '%s': bad global name", item);
		t->text = strdup(sel);
	} else if (sel[0] == '@') {
		t->kind = TARGET_GLOB;
		if (!target_word_ok(sel + 1, "_-.*?[]!"))
			return err_set(e, ERR_USAGE, "bad target '%s': want @NAME or a glob", item);
		t->text = strdup(sel + 1);
	} else {
		t->kind = TARGET_ADDR;
		if (target_hex(sel, &t->addr) != 0)
			return err_set(e, ERR_USAGE,
				       "bad target '%s': want :ADDR, ADDR (hex), .NAME, %%NAME or @NAME",
				       item);
	}
	if (t->kind != TARGET_ADDR && !t->text)
		return err_set(e, ERR_LOCAL, "out of memory");
	return 0;
}

int target_parse(const char *spec, struct target_list *l, struct err *e)
{
	size_t n = 1;
	l->v = NULL;
	l->n = 0;
	for (const char *p = spec; *p; p++)
		n += *p == ',';
	l->v = calloc(n, sizeof *l->v);
	if (!l->v)
		return err_set(e, ERR_LOCAL, "out of memory");
	const char *p = spec;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char item[256];
		if (len == 0)
			return err_set(e, ERR_USAGE, "bad target list '%s': empty item", spec);
		if (len >= sizeof item)
			return err_set(e, ERR_USAGE, "bad target: item too long");
		memcpy(item, p, len);
		item[len] = '\0';
		if (target_item(item, &l->v[l->n++], e) != 0)
			return -1;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

int target_needs_list(const struct target_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].kind == TARGET_GLOB)
			return 1;
	return 0;
}

void target_services_free(struct target_service *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(s[i].cmd);
	free(s);
}

/* the handle of a `list` line ":hex\t...": 0 and *addr, or -1 */
static int target_list_handle(const char *line, uint32_t *addr)
{
	char hex[16];
	size_t hl = strcspn(line, "\t");
	if (line[0] != ':' || !line[hl] || hl < 2 || hl > 9)
		return -1;
	memcpy(hex, line + 1, hl - 1);
	hex[hl - 1] = '\0';
	return target_hex(hex, addr);
}

/* A service's launch arguments may hold newlines, and the console prints
 * them as they are: a line that is not ":hex\t..." goes on the service
 * above, and as the console sorts services by address, a handle that is
 * not above the one before is a forged line, never a service (though the
 * line before it may have been one: so it is an error, but for showing). */
int target_walk_list(char *text, size_t n, int flags, target_list_fn fn, void *ud,
		     struct err *e)
{
	char *line = text;
	uint32_t prev = 0;
	for (size_t i = 0; i < n;) {
		uint32_t addr, next;
		char *after = line + strlen(line) + 1;
		if (target_list_handle(line, &addr) != 0)
			return err_set(e, ERR_PROTO, "unexpected line in the reply to list: '%.60s'",
				       line);
		if (line != text && addr <= prev)
			return err_set(e, ERR_PROTO, "the reply to list is ambiguous: :%08x after "
				       ":%08x (a line in the launch arguments of :%08x looks like "
				       "a service)", (unsigned)addr, (unsigned)prev, (unsigned)prev);
		for (i++; i < n && (target_list_handle(after, &next) != 0 ||
				    ((flags & TARGET_LIST_SHOW) && next <= addr)); i++) {
			if ((flags & TARGET_LIST_SHOW) && target_list_handle(after, &next) == 0)
				err_set(e, ERR_PROTO, "the reply to list is ambiguous: :%08x after "
					":%08x (shown as part of the launch arguments of :%08x)",
					(unsigned)next, (unsigned)addr, (unsigned)addr);
			after[-1] = '\n';	/* joined in place */
			after += strlen(after) + 1;
		}
		if (fn(addr, line, line + strcspn(line, "\t") + 1, ud) != 0)
			return err_set(e, ERR_LOCAL, "out of memory");
		prev = addr;
		line = after;
	}
	return 0;
}

struct target_parsed {
	struct target_service *s;
	size_t n;
};

static int target_parsed_add(uint32_t addr, char *line, char *cmd, void *ud)
{
	struct target_parsed *p = ud;
	(void)line;
	p->s[p->n].addr = addr;
	return !(p->s[p->n++].cmd = strdup(cmd));
}

static int target_service_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct target_service *)a)->addr;
	uint32_t y = ((const struct target_service *)b)->addr;
	return x < y ? -1 : x > y;
}

const struct target_service *target_service_find(const struct target_service *svc, size_t n,
						 uint32_t addr)
{
	struct target_service key = { .addr = addr };
	return n ? bsearch(&key, svc, n, sizeof *svc, target_service_cmp) : NULL;
}

int target_parse_list(char *const *lines, size_t n, int flags, struct target_service **out,
		      size_t *nout, struct err *e)
{
	struct target_parsed p = { calloc(n ? n : 1, sizeof *p.s), 0 };
	*out = NULL;
	*nout = 0;
	if (!p.s)
		return err_set(e, ERR_LOCAL, "out of memory");
	if (n && target_walk_list(lines[0], n, flags, target_parsed_add, &p, e) != 0) {
		target_services_free(p.s, p.n);
		return -1;
	}
	*out = p.s;
	*nout = p.n;
	return 0;
}

const char *target_service_name(const char *cmd, char *buf, size_t len)
{
	const char *w = cmd;
	size_t wl = strcspn(w, " \t");
	if (wl == 5 && strncmp(w, "snlua", 5) == 0 && w[wl]) {
		w += wl + strspn(w + wl, " \t");
		wl = strcspn(w, " \t");
	}
	if (wl == 5 && strncmp(w, "snaxd", 5) == 0 && w[wl]) {
		w += wl + strspn(w + wl, " \t");
		wl = strcspn(w, " \t");
	}
	snprintf(buf, len, "%.*s", (int)wl, w);
	return buf;
}

/* whether glob selects the service launched as cmd: by its name, or, for
 * a snax service, by "snaxd" too (what `list` shows as its script) */
static int target_glob_matches(const char *glob, const char *cmd)
{
	char name[128];
	if (fnmatch(glob, target_service_name(cmd, name, sizeof name), 0) == 0)
		return 1;
	return strncmp(cmd, "snlua snaxd ", 12) == 0 && fnmatch(glob, "snaxd", 0) == 0;
}

/* Targets kept once each, found by address: resolving 10,000 targets
 * costs a hash each, not a comparison with all the others. */
struct target_set {
	struct target *v;	/* the targets, in the order first added */
	size_t n;
	size_t *slot, mask;	/* open addressing by address: index + 1, 0 empty */
	int by_handle;		/* equal: the same handle (0 is none), whatever the names */
};

/* an empty set writing into v (room for max targets); -1 out of memory */
static int target_set_init(struct target_set *s, struct target *v, size_t max)
{
	size_t cap = 16;
	while (cap < 2 * max)
		cap *= 2;
	*s = (struct target_set){ .v = v, .slot = calloc(cap, sizeof *s->slot), .mask = cap - 1 };
	return s->slot ? 0 : -1;
}

static int target_same(const struct target *a, const struct target *b)
{
	return a->addr == b->addr &&
	       (a->name == b->name || (a->name && b->name && strcmp(a->name, b->name) == 0));
}

/* add t unless an equal target is there */
static void target_set_add(struct target_set *s, const struct target *t)
{
	if (s->by_handle && !t->addr) {	/* a name not resolved: kept as it is */
		s->v[s->n++] = *t;
		return;
	}
	size_t i = (t->addr * 2654435761u) & s->mask;
	for (; s->slot[i]; i = (i + 1) & s->mask) {
		const struct target *u = &s->v[s->slot[i] - 1];
		if (s->by_handle ? u->addr == t->addr : target_same(u, t))
			return;
	}
	s->v[s->n] = *t;
	s->slot[i] = ++s->n;
}

int target_resolve(struct target_list *l, int (*applies)(const struct target_sel *, void *),
		   void *ud, const struct target_service *svc, size_t nsvc, struct target **out,
		   size_t *nout, size_t *matched, struct err *e)
{
	size_t cap = 0;
	for (size_t i = 0; i < l->n; i++)
		cap += l->v[i].kind == TARGET_GLOB ? nsvc : 1;
	struct target *v = calloc(cap ? cap : 1, sizeof *v);
	struct target_set set;
	if (!v || target_set_init(&set, v, cap) != 0) {
		free(v);
		return err_set(e, ERR_LOCAL, "out of memory");
	}
	for (size_t i = 0; i < l->n; i++) {
		struct target_sel *s = &l->v[i];
		if (!applies(s, ud))
			continue;
		if (s->kind != TARGET_GLOB) {
			struct target t = { .addr = s->addr, .name = s->text };
			const struct target_service *listed = t.name ? NULL :
				target_service_find(svc, nsvc, t.addr);
			t.cmd = listed ? listed->cmd : NULL;
			target_set_add(&set, &t);
			if (matched)
				matched[i]++;
			continue;
		}
		for (size_t k = 0; k < nsvc; k++) {
			if (!target_glob_matches(s->text, svc[k].cmd))
				continue;
			struct target t = { .addr = svc[k].addr, .cmd = svc[k].cmd };
			target_set_add(&set, &t);
			if (matched)
				matched[i]++;
		}
	}
	free(set.slot);
	*out = v;
	*nout = set.n;
	return 0;
}

const char *target_format(const struct target *t, enum target_form form, char *buf, size_t len)
{
	if (t->name)
		snprintf(buf, len, "%s", t->name);
	else if (form == TARGET_FORM_HEX)
		snprintf(buf, len, "%x", (unsigned)t->addr);
	else
		snprintf(buf, len, ":%08x", (unsigned)t->addr);
	return buf;
}

const char *target_global(const struct target *t)
{
	return t->name && t->name[0] == '%' ? t->name + 1 : NULL;
}

void target_set_global(struct target *t, uint32_t addr)
{
	t->addr = addr;
	t->name = NULL;
}

void target_apply_harbor(struct target *t, size_t n, int harbor)
{
	for (size_t i = 0; i < n; i++)
		if (!t[i].name && t[i].addr && !(t[i].addr >> 24))
			t[i].addr |= (uint32_t)(harbor & 0xff) << 24;
}

int target_one_per_handle(struct target *t, size_t *n)
{
	struct target_set set;
	if (target_set_init(&set, t, *n) != 0)
		return -1;
	set.by_handle = 1;
	for (size_t i = 0; i < *n; i++)	/* set.n <= i: it writes behind the reading */
		target_set_add(&set, &t[i]);
	free(set.slot);
	*n = set.n;
	return 0;
}

int target_remote(const struct target *t, int harbor)
{
	return !t->name && t->addr && (int)(t->addr >> 24) != harbor;
}
