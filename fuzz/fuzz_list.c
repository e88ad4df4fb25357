/* libFuzzer: the parser of a `list` reply, the names @globs see, and
 * the services sorted as `list --sort` does (stable, numbers first). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "target.h"

static const struct fmt_col fuzz_cols[] = { { "i", FMT_STR }, { "cmd", FMT_STR },
					    { "n", FMT_NUM } };

/* rows i..: their order after sorting by key, checked */
static void fuzz_sort(const struct target_service *svc, size_t n, const char *key)
{
	struct fmt_table t;
	struct err e;
	char idx[24];
	fmt_table_init(&t, fuzz_cols, 3);
	for (size_t i = 0; i < n; i++) {
		snprintf(idx, sizeof idx, "%zu", i);
		const char *v[3] = { idx, svc[i].cmd, svc[i].cmd };
		fmt_add_row(&t, v);
	}
	if (t.oom || fmt_sort(&t, key, &e) != 0)
		abort();
	int num = strcmp(key, "n") == 0;
	char *seen = calloc(n + 1, 1);
	for (size_t r = 0; seen && r < t.nrows; r++) {	/* each row once */
		size_t i = (size_t)atol(t.cells[r * 3]);
		if (i >= n || seen[i]++)
			abort();
	}
	free(seen);
	for (size_t r = 1; r < t.nrows; r++) {
		const char *a = t.cells[(r - 1) * 3 + 1], *b = t.cells[r * 3 + 1];
		double x, y;
		int na = num && fmt_is_number(a, &x), nb = num && fmt_is_number(b, &y);
		int c = na != nb ? nb - na : na ? (x < y) - (x > y) : strcmp(a, b);
		if (c > 0 || (c == 0 && atol(t.cells[(r - 1) * 3]) > atol(t.cells[r * 3])))
			abort();	/* out of order, or a tie not kept in order */
	}
	fmt_table_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *lines[4096];
	size_t n = 0;
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (char *p = text, *nl; n < 4096 && p <= text + size; p = nl + 1) {
		lines[n++] = p;
		if (!(nl = strchr(p, '\n')))
			break;
		*nl = '\0';
	}
	struct target_service *svc = NULL;
	size_t nsvc = 0;
	struct err e;
	if (target_parse_list(lines, n, size && data[0] & 1 ? TARGET_LIST_SHOW : 0, &svc, &nsvc,
			      &e) == 0) {
		char buf[256];
		for (size_t i = 0; i < nsvc; i++)
			target_service_name(svc[i].cmd, buf, sizeof buf);
		fuzz_sort(svc, nsvc, "cmd");
		fuzz_sort(svc, nsvc, "n");
		target_services_free(svc, nsvc);
	}
	free(text);
	return 0;
}
