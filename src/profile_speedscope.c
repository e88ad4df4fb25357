/* A profile in speedscope's file format
 * (https://www.speedscope.app/file-format-schema.json): the frames shared
 * by every profile, then one "sampled" profile per service or merge, each
 * stack a list of frame indices with its sample count as weight. */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "profile.h"

struct speedscope_frame {
	const char *f;
	size_t len;
};

static int speedscope_cmp(const void *a, const void *b)
{
	const struct speedscope_frame *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->f, y->f, n);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* call fn on each frame of each stack of the n profiles */
static void speedscope_each(struct profile *const *p, size_t n,
			    void (*fn)(void *, const char *, size_t), void *ud)
{
	for (size_t k = 0; k < n; k++)
		for (size_t i = 0; i < p[k]->n; i++)
			for (const char *s = p[k]->v[i].frames;;) {
				const char *e = strchr(s, ';');
				fn(ud, s, e ? (size_t)(e - s) : strlen(s));
				if (!e)
					break;
				s = e + 1;
			}
}

struct speedscope_set {
	struct speedscope_frame *v;
	size_t n;
};

static void speedscope_count(void *ud, const char *f, size_t len)
{
	(void)f;
	(void)len;
	((struct speedscope_set *)ud)->n++;
}

static void speedscope_put(void *ud, const char *f, size_t len)
{
	struct speedscope_set *s = ud;
	s->v[s->n++] = (struct speedscope_frame){ f, len };
}

static size_t speedscope_index(const struct speedscope_set *s, const char *f, size_t len)
{
	struct speedscope_frame key = { f, len };
	const struct speedscope_frame *hit = bsearch(&key, s->v, s->n, sizeof *s->v, speedscope_cmp);
	return hit ? (size_t)(hit - s->v) : 0;
}

/* {"name":..,"file":..,"line":..} of one frame */
static void speedscope_frame(struct fmt_buf *b, const struct speedscope_frame *f)
{
	char name[256], where[256];
	profile_frame_split(f->f, f->len, name, sizeof name, where, sizeof where);
	fmt_puts(b, "{\"name\":");
	json_string(b, name, strlen(name));
	char *colon = strrchr(where, ':');
	if (colon && colon[1] >= '0' && colon[1] <= '9') {
		fmt_puts(b, ",\"file\":");
		json_string(b, where, (size_t)(colon - where));
		fmt_printf(b, ",\"line\":%ld", strtol(colon + 1, NULL, 10));
	}
	fmt_puts(b, "}");
}

void profile_speedscope(struct profile *const *p, const char *const *names, size_t n,
			const char *title, struct fmt_buf *b)
{
	struct speedscope_set set = { 0 };
	for (size_t k = 0; k < n; k++)
		profile_sort(p[k]);
	speedscope_each(p, n, speedscope_count, &set);
	set.v = malloc((set.n ? set.n : 1) * sizeof *set.v);
	if (!set.v) {
		b->oom = 1;
		return;
	}
	set.n = 0;
	speedscope_each(p, n, speedscope_put, &set);
	qsort(set.v, set.n, sizeof *set.v, speedscope_cmp);
	size_t u = 0;
	for (size_t i = 0; i < set.n; i++)
		if (!u || speedscope_cmp(&set.v[u - 1], &set.v[i]))
			set.v[u++] = set.v[i];
	set.n = u;
	fmt_puts(b, "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\","
		 "\"exporter\":\"skyctl\",\"name\":");
	json_string(b, title, strlen(title));
	fmt_puts(b, ",\"activeProfileIndex\":0,\"shared\":{\"frames\":[");
	for (size_t i = 0; i < set.n; i++) {
		fmt_puts(b, i ? ",\n" : "\n");
		speedscope_frame(b, &set.v[i]);
	}
	fmt_puts(b, "]},\"profiles\":[");
	for (size_t k = 0; k < n; k++) {
		fmt_puts(b, k ? ",\n{\"type\":\"sampled\",\"name\":" : "\n{\"type\":\"sampled\",\"name\":");
		json_string(b, names[k], strlen(names[k]));
		fmt_printf(b, ",\"unit\":\"none\",\"startValue\":0,\"endValue\":%lld,\"samples\":[",
			   p[k]->samples);
		for (size_t i = 0; i < p[k]->n; i++) {
			fmt_puts(b, i ? ",\n[" : "\n[");
			int first = 1;
			for (const char *s = p[k]->v[i].frames;; first = 0) {
				const char *e = strchr(s, ';');
				size_t len = e ? (size_t)(e - s) : strlen(s);
				fmt_printf(b, "%s%zu", first ? "" : ",", speedscope_index(&set, s, len));
				if (!e)
					break;
				s = e + 1;
			}
			fmt_puts(b, "]");
		}
		fmt_puts(b, "],\"weights\":[");
		for (size_t i = 0; i < p[k]->n; i++)
			fmt_printf(b, "%s%lld", i ? "," : "", p[k]->v[i].count);
		fmt_puts(b, "]}");
	}
	fmt_puts(b, "]}\n");
	free(set.v);
}
