/* metrics.h: per node, one pass over the sample sums each kind of service
 * (kinds found through a small hash) and ranks the services by cpu, memory
 * and queue; then every family is written across the nodes, since the
 * format wants a family's samples together.  Counters of services that did
 * not answer are left out rather than written as 0, which a scraper would
 * take for a reset. */
#include "metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target.h"

const char *const metrics_jmem_keys[METRICS_NJMEM] = {
	"active", "allocated", "mapped", "resident", "retained",
};

/* what a family's samples are read from */
enum metrics_field {
	MF_UP, MF_SERVICES, MF_UNANSWERED, MF_LUA_MEM, MF_MESSAGES, MF_CMEM, MF_CMEM_BLOCKS,
	MF_JMEM, MF_SECONDS,
	MK_SERVICES, MK_CPU, MK_MESSAGES, MK_QUEUE, MK_QUEUE_MAX, MK_MEM, MK_MEM_MAX, MK_TASKS,
	MS_CPU, MS_MESSAGES, MS_QUEUE, MS_MEM, MS_TASKS,
};

struct metrics_family {
	const char *name;	/* without _total */
	int counter;
	const char *unit;	/* OpenMetrics UNIT, or NULL */
	enum metrics_field field;
	const char *help;
};

static const struct metrics_family metrics_families[] = {
	{ "skynet_up", 0, NULL, MF_UP, "1 if the node's console answered this scrape, else 0" },
	{ "skynet_node_services", 0, NULL, MF_SERVICES, "Services of the node" },
	{ "skynet_node_services_unanswered", 0, NULL, MF_UNANSWERED,
	  "Services that did not answer stat or mem in time (stuck or busy)" },
	{ "skynet_node_lua_memory_bytes", 0, "bytes", MF_LUA_MEM, "Lua memory of all services" },
	{ "skynet_node_messages", 1, NULL, MF_MESSAGES,
	  "Messages handled by the node's current services" },
	{ "skynet_node_c_memory_bytes", 0, "bytes", MF_CMEM,
	  "C memory allocated through skynet (cmem total; jemalloc builds)" },
	{ "skynet_node_c_memory_blocks", 0, NULL, MF_CMEM_BLOCKS,
	  "C memory blocks allocated through skynet (cmem block; jemalloc builds)" },
	{ "skynet_node_jemalloc_%s_bytes", 0, "bytes", MF_JMEM, "jemalloc stats.%s (jmem)" },
	{ "skynet_node_scrape_duration_seconds", 0, "seconds", MF_SECONDS,
	  "Time gathering the node took" },
	{ "skynet_kind_services", 0, NULL, MK_SERVICES, "Services of this kind (launch name)" },
	{ "skynet_kind_cpu_seconds", 1, "seconds", MK_CPU, "CPU time used by services of this kind" },
	{ "skynet_kind_messages", 1, NULL, MK_MESSAGES, "Messages handled by services of this kind" },
	{ "skynet_kind_queue_length", 0, NULL, MK_QUEUE,
	  "Messages waiting in the queues of services of this kind" },
	{ "skynet_kind_queue_length_max", 0, NULL, MK_QUEUE_MAX,
	  "The longest queue of a service of this kind" },
	{ "skynet_kind_lua_memory_bytes", 0, "bytes", MK_MEM, "Lua memory of services of this kind" },
	{ "skynet_kind_lua_memory_max_bytes", 0, "bytes", MK_MEM_MAX,
	  "The most Lua memory one service of this kind holds" },
	{ "skynet_kind_suspended_tasks", 0, NULL, MK_TASKS,
	  "Suspended coroutines of services of this kind" },
	{ "skynet_service_cpu_seconds", 1, "seconds", MS_CPU, "CPU time used by the service" },
	{ "skynet_service_messages", 1, NULL, MS_MESSAGES, "Messages handled by the service" },
	{ "skynet_service_queue_length", 0, NULL, MS_QUEUE, "Messages waiting in the service's queue" },
	{ "skynet_service_lua_memory_bytes", 0, "bytes", MS_MEM, "Lua memory of the service" },
	{ "skynet_service_suspended_tasks", 0, NULL, MS_TASKS, "Suspended coroutines of the service" },
};
#define METRICS_NFAM (sizeof metrics_families / sizeof *metrics_families)

struct metrics_kind {
	char name[64];
	double services, cpu, messages, queue, queue_max, mem, mem_max, tasks;
};

/* one node summed up */
struct metrics_view {
	struct metrics_kind *kinds;	/* sorted by name after metrics_view_build */
	size_t nkinds, cap;
	uint32_t *slot;			/* hash of kind names: index + 1, 0 empty */
	size_t nslot;
	const struct sample_row **shown;	/* the services with series, by address */
	size_t nshown;
	double services, unanswered, mem, messages;
};

/* ---- one node ---- */

static uint32_t metrics_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* the kind named name in v, added if new; NULL when out of memory */
static struct metrics_kind *metrics_kind_of(struct metrics_view *v, const char *name)
{
	if (2 * (v->nkinds + 1) > v->nslot) {	/* grow and rehash */
		size_t n = v->nslot ? v->nslot * 2 : 64;
		uint32_t *slot = calloc(n, sizeof *slot);
		if (!slot)
			return NULL;
		for (size_t i = 0; i < v->nkinds; i++) {
			size_t h = metrics_hash(v->kinds[i].name) & (n - 1);
			while (slot[h])
				h = (h + 1) & (n - 1);
			slot[h] = (uint32_t)i + 1;
		}
		free(v->slot);
		v->slot = slot;
		v->nslot = n;
	}
	size_t h = metrics_hash(name) & (v->nslot - 1);
	for (; v->slot[h]; h = (h + 1) & (v->nslot - 1))
		if (!strcmp(v->kinds[v->slot[h] - 1].name, name))
			return &v->kinds[v->slot[h] - 1];
	if (v->nkinds == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 32;
		struct metrics_kind *k = realloc(v->kinds, cap * sizeof *k);
		if (!k)
			return NULL;
		v->kinds = k;
		v->cap = cap;
	}
	struct metrics_kind *k = &v->kinds[v->nkinds];
	memset(k, 0, sizeof *k);
	snprintf(k->name, sizeof k->name, "%s", name);
	v->slot[h] = (uint32_t)++v->nkinds;
	return k;
}

static int metrics_cmp_kind(const void *a, const void *b)
{
	return strcmp(((const struct metrics_kind *)a)->name, ((const struct metrics_kind *)b)->name);
}

static int metrics_cmp_row(const void *a, const void *b)
{
	uint32_t x = (*(const struct sample_row *const *)a)->addr;
	uint32_t y = (*(const struct sample_row *const *)b)->addr;
	return (x > y) - (x < y);
}

/* the kind label of a service */
static const char *metrics_kind_name(const struct sample *s, const struct sample_row *r,
				     char *buf, size_t len)
{
	const char *cmd = sample_name(s, r);
	return *cmd ? target_service_name(cmd, buf, len) : "unknown";
}

/* Keep in best[0..*n) (at most k, largest first, ties by address) the
 * rows whose value val is above 0. */
static void metrics_rank(const struct sample_row **best, double *bv, size_t *n, size_t k,
			 const struct sample_row *r, double val)
{
	if (!(val > 0) || !k || (*n == k && val <= bv[k - 1]))
		return;
	size_t i = *n < k ? (*n)++ : k - 1;
	for (; i > 0 && bv[i - 1] < val; i--) {
		best[i] = best[i - 1];
		bv[i] = bv[i - 1];
	}
	best[i] = r;
	bv[i] = val;
}

/* sum nd's sample into v and choose the services shown; -1 out of memory */
static int metrics_view_build(const struct metrics_node *nd, const struct metrics_opts *o,
			      struct metrics_view *v)
{
	const struct sample *s = nd->s, *p = nd->prev;
	size_t k = o->per_service ? 0 : o->top, nbest[3] = { 0 }, j = 0, kp = 0;
	const struct sample_row **best = calloc(3 * k + 1, sizeof *best);
	double *bv = calloc(3 * k + 1, sizeof *bv);
	char buf[64];
	if (!best || !bv || !(v->shown = malloc((o->per_service ? s->n : 3 * k) * sizeof *v->shown + 1)))
		goto fail;
	for (size_t i = 0; i < s->n; i++) {
		const struct sample_row *r = &s->rows[i];
		while (kp < nd->nkeep && nd->keep[kp] < r->addr)
			kp++;
		v->services++;
		v->unanswered += r->stat != SAMPLE_OK || r->mem != SAMPLE_OK;
		if (r->mem == SAMPLE_OK)
			v->mem += r->mem_bytes;
		if (r->stat == SAMPLE_OK)
			v->messages += (double)r->message;
		if (nd->keep && (kp == nd->nkeep || nd->keep[kp] != r->addr))
			continue;	/* counted in the node, not selected by TARGET */
		struct metrics_kind *kd = metrics_kind_of(v, metrics_kind_name(s, r, buf, sizeof buf));
		if (!kd)
			goto fail;
		kd->services++;
		if (r->stat == SAMPLE_OK) {
			kd->cpu += r->cpu;
			kd->messages += (double)r->message;
			kd->queue += (double)r->mqlen;
			kd->queue_max = fmax(kd->queue_max, (double)r->mqlen);
			kd->tasks += (double)r->task;
		}
		if (r->mem == SAMPLE_OK) {
			kd->mem += r->mem_bytes;
			kd->mem_max = fmax(kd->mem_max, r->mem_bytes);
		}
		if (o->per_service) {
			v->shown[v->nshown++] = r;
			continue;
		}
		/* cpu: used since the sample before when there is one, else in all */
		double cpu = r->stat == SAMPLE_OK ? r->cpu : 0;
		while (p && j < p->n && p->rows[j].addr < r->addr)
			j++;
		if (p && j < p->n && p->rows[j].addr == r->addr)
			cpu = p->rows[j].stat == SAMPLE_OK ? cpu - p->rows[j].cpu : 0;
		metrics_rank(best, bv, &nbest[0], k, r, cpu);
		metrics_rank(best + k, bv + k, &nbest[1], k, r,
			     r->mem == SAMPLE_OK ? r->mem_bytes : 0);
		metrics_rank(best + 2 * k, bv + 2 * k, &nbest[2], k, r,
			     r->stat == SAMPLE_OK ? (double)r->mqlen : 0);
	}
	for (size_t b = 0; b < 3; b++)
		for (size_t i = 0; i < nbest[b]; i++)
			v->shown[v->nshown++] = best[b * k + i];
	qsort(v->shown, v->nshown, sizeof *v->shown, metrics_cmp_row);
	size_t u = 0;	/* a service in two top lists is shown once */
	for (size_t i = 0; i < v->nshown; i++)
		if (!u || v->shown[u - 1] != v->shown[i])
			v->shown[u++] = v->shown[i];
	v->nshown = u;
	qsort(v->kinds, v->nkinds, sizeof *v->kinds, metrics_cmp_kind);
	free(best);
	free(bv);
	return 0;
fail:
	free(best);
	free(bv);
	return -1;
}

static void metrics_view_free(struct metrics_view *v)
{
	free(v->kinds);
	free(v->slot);
	free(v->shown);
}

/* ---- writing ---- */

struct metrics_out {
	struct fmt_buf *b;
	const struct metrics_opts *o;
	const struct metrics_family *f;
	const char *fname;	/* the family's name, formatted with key */
	const char *key;	/* a jemalloc figure's key, else "" */
	int started;		/* its header is written */
};

/* a label value as skyctl shows node text (fmt_safe: no control byte
 * reaches a terminal, valid UTF-8), with \ and " escaped */
static void metrics_label(struct fmt_buf *b, const char *key, const char *val, int first)
{
	struct fmt_buf safe = { 0 };
	size_t len = strlen(val);
	if (fmt_safe_len(val, len, "") < len) {	/* most names need nothing */
		fmt_safe(&safe, val, len, "");
		val = safe.p ? safe.p : "";
	}
	fmt_printf(b, "%s%s=\"", first ? "" : ",", key);
	for (const char *p = val; *p; p++) {
		size_t n = strcspn(p, "\\\"");
		fmt_putn(b, p, n);
		p += n;
		if (!*p)
			break;
		fmt_puts(b, *p == '\\' ? "\\\\" : "\\\"");
	}
	fmt_puts(b, "\"");
	b->oom |= safe.oom;
	fmt_buf_free(&safe);
}

/* one sample: its family's header first if this is the family's first */
static void metrics_sample(struct metrics_out *m, const char *node, const char *kind,
			   const struct sample_row *svc, double val)
{
	const struct metrics_family *f = m->f;
	const char *total = f->counter ? "_total" : "";
	if (!m->started) {
		const char *tn = m->o->openmetrics ? "" : total;
		m->started = 1;
		fmt_printf(m->b, "# HELP %s%s ", m->fname, tn);
		fmt_printf(m->b, f->help, m->key);
		fmt_printf(m->b, "\n# TYPE %s%s %s\n", m->fname, tn, f->counter ? "counter" : "gauge");
		if (m->o->openmetrics && f->unit)
			fmt_printf(m->b, "# UNIT %s %s\n", m->fname, f->unit);
	}
	fmt_printf(m->b, "%s%s{", m->fname, total);
	metrics_label(m->b, "node", node, 1);
	if (kind)
		metrics_label(m->b, "kind", kind, 0);
	if (svc)
		fmt_printf(m->b, ",address=\":%08x\"", (unsigned)svc->addr);
	if (f->unit && !strcmp(f->unit, "bytes"))
		val = round(val);	/* mem reports Kb with two decimals */
	fmt_printf(m->b, "} %.15g\n", val);
}

/* the node-level value of field, or NAN when the node has none */
static double metrics_node_value(const struct metrics_node *nd, const struct metrics_view *v,
				 enum metrics_field field, size_t jk)
{
	if (field == MF_UP)
		return nd->up;
	if (field == MF_SECONDS)
		return nd->seconds;
	if (!nd->up)
		return NAN;
	switch (field) {
	case MF_SERVICES: return v->services;
	case MF_UNANSWERED: return v->unanswered;
	case MF_LUA_MEM: return v->mem;
	case MF_MESSAGES: return v->messages;
	case MF_CMEM: return nd->jemalloc ? nd->cmem_total : NAN;
	case MF_CMEM_BLOCKS: return nd->jemalloc ? nd->cmem_block : NAN;
	case MF_JMEM: return nd->jemalloc ? nd->jmem[jk] : NAN;
	default: return NAN;
	}
}

static double metrics_kind_value(const struct metrics_kind *k, enum metrics_field field)
{
	switch (field) {
	case MK_SERVICES: return k->services;
	case MK_CPU: return k->cpu;
	case MK_MESSAGES: return k->messages;
	case MK_QUEUE: return k->queue;
	case MK_QUEUE_MAX: return k->queue_max;
	case MK_MEM: return k->mem;
	case MK_MEM_MAX: return k->mem_max;
	default: return k->tasks;
	}
}

static double metrics_service_value(const struct sample_row *r, enum metrics_field field)
{
	if (field == MS_MEM)
		return r->mem == SAMPLE_OK ? r->mem_bytes : NAN;
	if (r->stat != SAMPLE_OK)
		return NAN;
	switch (field) {
	case MS_CPU: return r->cpu;
	case MS_MESSAGES: return (double)r->message;
	case MS_QUEUE: return (double)r->mqlen;
	default: return (double)r->task;
	}
}

/* every sample of family m->f (jemalloc key jk) across the nodes */
static void metrics_family(struct metrics_out *m, const struct metrics_node *v, size_t n,
			   const struct metrics_view *views, size_t jk)
{
	enum metrics_field field = m->f->field;
	char buf[64];
	for (size_t i = 0; i < n; i++) {
		const struct metrics_view *w = &views[i];
		if (field < MK_SERVICES) {
			double x = metrics_node_value(&v[i], w, field, jk);
			if (!isnan(x))
				metrics_sample(m, v[i].name, NULL, NULL, x);
		} else if (field < MS_CPU) {
			for (size_t k = 0; k < w->nkinds; k++)
				metrics_sample(m, v[i].name, w->kinds[k].name, NULL,
					       metrics_kind_value(&w->kinds[k], field));
		} else {
			for (size_t k = 0; k < w->nshown; k++) {
				double x = metrics_service_value(w->shown[k], field);
				if (!isnan(x))
					metrics_sample(m, v[i].name,
						       metrics_kind_name(v[i].s, w->shown[k], buf,
									 sizeof buf), w->shown[k], x);
			}
		}
	}
}

int metrics_write(const struct metrics_node *v, size_t n, const struct metrics_opts *o,
		  struct fmt_buf *out)
{
	struct metrics_view *views = calloc(n + 1, sizeof *views);
	int rc = views ? 0 : -1;
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (v[i].up && v[i].s)
			rc = metrics_view_build(&v[i], o, &views[i]);
	for (size_t f = 0; rc == 0 && f < METRICS_NFAM; f++) {
		const struct metrics_family *fam = &metrics_families[f];
		size_t nk = fam->field == MF_JMEM ? METRICS_NJMEM : 1;
		for (size_t jk = 0; jk < nk; jk++) {
			char name[96];
			snprintf(name, sizeof name, fam->name, metrics_jmem_keys[jk]);
			const char *key = fam->field == MF_JMEM ? metrics_jmem_keys[jk] : "";
			struct metrics_out m = { out, o, fam, name, key, 0 };
			metrics_family(&m, v, n, views, jk);
		}
	}
	if (rc == 0 && o->openmetrics)
		fmt_puts(out, "# EOF\n");
	for (size_t i = 0; views && i < n; i++)
		metrics_view_free(&views[i]);
	free(views);
	return rc == 0 && !out->oom ? 0 : -1;
}

/* the first number of a `key\tvalue` line's value; NAN when there is none */
static double metrics_value(const char *line, const char *key)
{
	size_t n = strlen(key);
	char *end;
	if (strncmp(line, key, n) || line[n] != '\t')
		return NAN;
	double x = strtod(line + n + 1, &end);
	return end == line + n + 1 ? NAN : x;
}

void metrics_take_mem(struct metrics_node *nd, char *const *cmem, size_t ncmem,
		      char *const *jmem, size_t njmem)
{
	char key[32];
	nd->jemalloc = 0;
	for (size_t k = 0; k < METRICS_NJMEM; k++) {
		nd->jmem[k] = NAN;
		snprintf(key, sizeof key, "stats.%s", metrics_jmem_keys[k]);
		for (size_t i = 0; i < njmem && isnan(nd->jmem[k]); i++)
			nd->jmem[k] = metrics_value(jmem[i], key);
		if (isnan(nd->jmem[k]))
			nd->jmem[k] = 0;
	}
	nd->jemalloc = nd->jmem[1] > 0;	/* allocated */
	nd->cmem_total = nd->cmem_block = 0;
	/* total and block come last: after the per-service lines */
	for (size_t i = ncmem; i-- > 0;) {
		double x;
		if (!isnan(x = metrics_value(cmem[i], "total")))
			nd->cmem_total = x;
		else if (!isnan(x = metrics_value(cmem[i], "block")))
			nd->cmem_block = x;
		else
			break;
	}
}
