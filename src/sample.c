/* The model behind `skyctl top` (see sample.h): reply lines become partial
 * rows, appended as they come; sample_finish sorts them by address and
 * joins the stat half and the mem half of each service.  The console prints
 * table keys sorted as strings and `:%08x` keys sort as numbers, so both
 * replies arrive in address order and the sort is usually skipped. */
#include "sample.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void sample_init(struct sample *s)
{
	memset(s, 0, sizeof *s);
}

void sample_free(struct sample *s)
{
	free(s->rows);
	free(s->pool);
	sample_init(s);
}

void sample_clear(struct sample *s)
{
	s->n = 0;
	s->pool_len = 0;
	s->when = 0;
}

const char *sample_name(const struct sample *s, const struct sample_row *r)
{
	return r->name ? s->pool + r->name : "";
}

/* a new zeroed row at the end of s, or NULL when out of memory */
static struct sample_row *sample_push(struct sample *s, uint32_t addr)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct sample_row *rows = realloc(s->rows, cap * sizeof *rows);
		if (!rows)
			return NULL;
		s->rows = rows;
		s->cap = cap;
	}
	struct sample_row *r = &s->rows[s->n++];
	memset(r, 0, sizeof *r);
	r->addr = addr;
	return r;
}

/* copy name[0..len) into the pool; its offset, or 0 (the empty name) for an
 * empty name or when out of memory */
static size_t sample_intern(struct sample *s, const char *name, size_t len)
{
	if (!len)
		return 0;
	if (!s->pool_len)
		s->pool_len = 1;	/* offset 0 stays the empty name */
	if (s->pool_len + len + 1 > s->pool_cap) {
		size_t cap = s->pool_cap ? s->pool_cap : 4096;
		while (cap < s->pool_len + len + 1)
			cap *= 2;
		char *pool = realloc(s->pool, cap);
		if (!pool)
			return 0;
		pool[0] = '\0';
		s->pool = pool;
		s->pool_cap = cap;
	}
	size_t at = s->pool_len;
	memcpy(s->pool + at, name, len);
	s->pool[at + len] = '\0';
	s->pool_len += len + 1;
	return at;
}

/* Parse the `:hex\t` head of a reply line; returns the value's offset in
 * line, or 0 when the line does not start that way. */
static size_t sample_head(const char *line, size_t len, uint32_t *addr)
{
	size_t i = 1;
	uint32_t a = 0;
	if (len < 3 || line[0] != ':')
		return 0;
	while (i < len && i <= 8 && isxdigit((unsigned char)line[i])) {
		int c = tolower((unsigned char)line[i]);
		a = a << 4 | (uint32_t)(c <= '9' ? c - '0' : c - 'a' + 10);
		i++;
	}
	if (i == 1 || i >= len || line[i] != '\t')
		return 0;
	*addr = a;
	return i + 1;
}

/* does v[0..len) start with word, followed by the end or a space? */
static int sample_word(const char *v, size_t len, const char *word)
{
	size_t n = strlen(word);
	return len >= n && !memcmp(v, word, n) && (len == n || v[n] == ' ');
}

/* a number from v[0..len) (not NUL-terminated); -1 when there is none */
static int sample_number(const char *v, size_t len, double *out)
{
	char tmp[64];
	char *end;
	if (!len || len >= sizeof tmp)
		return -1;
	memcpy(tmp, v, len);
	tmp[len] = '\0';
	*out = strtod(tmp, &end);
	return end == tmp || !isfinite(*out) ? -1 : (int)(end - tmp);
}

int sample_add_stat(struct sample *s, const char *line, size_t len)
{
	uint32_t addr;
	size_t i = sample_head(line, len, &addr);
	if (!i)
		return -1;
	const char *v = line + i, *end = line + len;
	struct sample_row *r = sample_push(s, addr);
	if (!r)
		return -1;
	if (sample_word(v, (size_t)(end - v), "TIMEOUT")) {
		r->stat = SAMPLE_TIMEOUT;
		return 0;
	}
	r->stat = SAMPLE_OK;
	int seen = 0;
	while (v < end) {
		const char *tab = memchr(v, '\t', (size_t)(end - v));
		const char *fe = tab ? tab : end;
		const char *colon = memchr(v, ':', (size_t)(fe - v));
		double x;
		if (colon && sample_number(colon + 1, (size_t)(fe - colon - 1), &x) >= 0) {
			size_t k = (size_t)(colon - v);
			if (k == 3 && !memcmp(v, "cpu", 3))
				r->cpu = x, seen |= 1;
			else if (k == 7 && !memcmp(v, "message", 7))
				r->message = x > 0 ? (uint64_t)x : 0, seen |= 2;
			else if (k == 5 && !memcmp(v, "mqlen", 5))
				r->mqlen = (long)x, seen |= 4;
			else if (k == 4 && !memcmp(v, "task", 4))
				r->task = (long)x, seen |= 8;
		}
		v = fe + 1;
	}
	if (seen != 15)
		r->stat = SAMPLE_ERROR;	/* ERROR, or a shape we do not know */
	return 0;
}

int sample_add_mem(struct sample *s, const char *line, size_t len)
{
	uint32_t addr;
	size_t i = sample_head(line, len, &addr);
	if (!i)
		return -1;
	const char *v = line + i;
	size_t vlen = len - i;
	struct sample_row *r = sample_push(s, addr);
	if (!r)
		return -1;
	/* value, then " (launch command)": the name runs to the last ')' */
	const char *open = memchr(v, '(', vlen);
	const char *close = v + vlen;
	while (close > v && close[-1] != ')')
		close--;
	if (open && close > open + 1)
		r->name = sample_intern(s, open + 1, (size_t)(close - 1 - (open + 1)));
	double kb;
	int n = sample_number(v, vlen, &kb);
	if (sample_word(v, vlen, "TIMEOUT"))
		r->mem = SAMPLE_TIMEOUT;
	else if (n > 0 && sample_word(v + n, vlen - (size_t)n, " Kb"))
		r->mem = SAMPLE_OK, r->mem_bytes = kb * 1024;
	else
		r->mem = SAMPLE_ERROR;
	return 0;
}

static int sample_cmp_addr(const void *a, const void *b)
{
	uint32_t x = ((const struct sample_row *)a)->addr;
	uint32_t y = ((const struct sample_row *)b)->addr;
	return (x > y) - (x < y);
}

/* fold the fields b has into a (same address) */
static void sample_join(struct sample_row *a, const struct sample_row *b)
{
	if (b->stat) {
		a->stat = b->stat;
		a->cpu = b->cpu;
		a->message = b->message;
		a->mqlen = b->mqlen;
		a->task = b->task;
	}
	if (b->mem) {
		a->mem = b->mem;
		a->mem_bytes = b->mem_bytes;
	}
	if (b->name)
		a->name = b->name;
}

void sample_finish(struct sample *s)
{
	size_t i, j;
	for (i = 1; i < s->n && s->rows[i - 1].addr <= s->rows[i].addr; i++)
		;
	if (i < s->n) {
		/* stat rows then mem rows: two sorted runs; qsort is plenty */
		qsort(s->rows, s->n, sizeof *s->rows, sample_cmp_addr);
	}
	for (i = 0, j = 0; i < s->n; i++) {
		if (j && s->rows[j - 1].addr == s->rows[i].addr)
			sample_join(&s->rows[j - 1], &s->rows[i]);
		else
			s->rows[j++] = s->rows[i];
	}
	s->n = j;
}

const struct sample_row *sample_find(const struct sample *s, uint32_t addr)
{
	struct sample_row key = { .addr = addr };
	if (!s->n)
		return NULL;
	return bsearch(&key, s->rows, s->n, sizeof key, sample_cmp_addr);
}

static int sample_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* What the poller's own `stat` and `mem` leave in a service's heap between
 * two samples (their garbage, not yet collected): the median change of the
 * services that handled no other message; 0 when none did. */
static double sample_own_bytes(const struct sample_delta *out, const unsigned char *quiet,
			       size_t n)
{
	double *v = malloc((n + 1) * sizeof *v), own = 0;
	size_t k = 0;
	for (size_t i = 0; v && i < n; i++)
		if (quiet[i] && !isnan(out[i].mem_change))
			v[k++] = out[i].mem_change;
	if (k) {
		qsort(v, k, sizeof *v, sample_cmp_double);
		own = v[k / 2];
	}
	free(v);
	return own;
}

size_t sample_diff(const struct sample *prev, const struct sample *cur, int node, unsigned own,
		   struct sample_delta *out)
{
	double wall = prev ? cur->when - prev->when : 0;
	unsigned char *quiet = calloc(cur->n + 1, 1);	/* only our messages came */
	size_t j = 0;
	for (size_t i = 0; i < cur->n; i++) {
		const struct sample_row *r = &cur->rows[i], *p = NULL;
		struct sample_delta *d = &out[i];
		if (prev) {
			while (j < prev->n && prev->rows[j].addr < r->addr)
				j++;
			if (j < prev->n && prev->rows[j].addr == r->addr)
				p = &prev->rows[j];
		}
		d->row = r;
		d->name = sample_name(cur, r);
		d->node = node;
		d->cpu_pct = d->msg_rate = d->mem_change = NAN;
		if (p && wall > 0 && r->stat == SAMPLE_OK && p->stat == SAMPLE_OK &&
		    r->cpu >= p->cpu && r->message >= p->message) {
			uint64_t m = r->message - p->message;
			d->cpu_pct = (r->cpu - p->cpu) / wall * 100;
			d->msg_rate = (double)(m > own ? m - own : 0) / wall;
			if (quiet)
				quiet[i] = m <= own;
		}
		if (p && r->mem == SAMPLE_OK && p->mem == SAMPLE_OK)
			d->mem_change = r->mem_bytes - p->mem_bytes;
		/* a console's work between samples is answering the poller, and
		 * so is its garbage (11 KB a refresh on a small node) */
		if (d->name && strstr(d->name, "debug_console"))
			d->cpu_pct = d->msg_rate = d->mem_change = NAN;
	}
	/* whole bytes: the console says Kb to two places, and two services'
	 * 0.01 Kb differ in the last bit (-1.8e-12 was shown as "-0 B") */
	double bytes = quiet ? sample_own_bytes(out, quiet, cur->n) : 0;
	for (size_t i = 0; i < cur->n; i++)
		out[i].mem_change = round(out[i].mem_change - bytes) + 0.0;	/* + 0.0: no -0 */
	free(quiet);
	return cur->n;
}

int sample_key_parse(const char *name)
{
	static const char *const names[] = { "cpu", "mem", "queue", "msg" };
	for (int i = 0; i < 4; i++)
		if (!strcmp(name, names[i]))
			return i;
	return -1;
}

/* the value sorted on; NAN when unknown */
static double sample_value(const struct sample_delta *d, enum sample_key key)
{
	switch (key) {
	case SAMPLE_BY_CPU:
		return d->cpu_pct;
	case SAMPLE_BY_MEM:
		return d->row->mem == SAMPLE_OK ? d->row->mem_bytes : NAN;
	case SAMPLE_BY_QUEUE:
		return d->row->stat == SAMPLE_OK ? (double)d->row->mqlen : NAN;
	case SAMPLE_BY_MSG:
		return d->msg_rate;
	}
	return NAN;
}

static enum sample_key sample_sort_key;	/* qsort has no context argument */

static int sample_cmp_delta(const void *a, const void *b)
{
	const struct sample_delta *x = a, *y = b;
	double u = sample_value(x, sample_sort_key), v = sample_value(y, sample_sort_key);
	/* a service that did not answer stat in time is most likely spinning:
	 * under the cpu sort it is the one the operator is looking for */
	if (sample_sort_key == SAMPLE_BY_CPU) {
		int stuck = (y->row->stat == SAMPLE_TIMEOUT) - (x->row->stat == SAMPLE_TIMEOUT);
		if (stuck)
			return stuck;
	}
	int known = !isnan(u) - !isnan(v);
	if (known)
		return -known;
	if (!isnan(u) && u != v)
		return u > v ? -1 : 1;
	if (x->node != y->node)
		return x->node < y->node ? -1 : 1;
	return (x->row->addr > y->row->addr) - (x->row->addr < y->row->addr);
}

void sample_sort(struct sample_delta *d, size_t n, enum sample_key key)
{
	sample_sort_key = key;
	if (n > 1)
		qsort(d, n, sizeof *d, sample_cmp_delta);
}

/* does hay contain needle, ignoring ASCII case? */
static int sample_contains(const char *hay, const char *needle, size_t nlen)
{
	for (; *hay; hay++)
		if (!strncasecmp(hay, needle, nlen))
			return 1;
	return 0;
}

size_t sample_filter(struct sample_delta *d, size_t n, const char *needle)
{
	if (!needle || !*needle)
		return n;
	size_t nlen = strlen(needle), k = 0;
	for (size_t i = 0; i < n; i++)
		if (sample_contains(d[i].name, needle, nlen))
			d[k++] = d[i];
	return k;
}
