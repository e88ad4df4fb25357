/* A driver for src/sample.c, built and run by test_top_model.py.  It reads
 * commands on stdin, one a line:
 *   S <stat reply line>    M <mem reply line>
 *   T <seconds>            finish the sample taken at that time; it becomes
 *                          the newer one, the previous newer one the older
 *   O <n>                  the poller's own messages per interval (default 0)
 *   D <key> [needle]       print the deltas, sorted and filtered, one a line:
 *                          addr name cpu% msg/s mqlen task mem change states */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sample.h"

static struct sample older, newer, building;
static int have_older, have_newer;
static unsigned own;

static void turn(double when)
{
	struct sample t = older;
	sample_finish(&building);
	building.when = when;
	older = newer;
	newer = building;
	building = t;
	sample_clear(&building);
	have_older = have_newer;
	have_newer = 1;
}

static void dump(const char *key, const char *needle)
{
	struct sample_delta *d = calloc(newer.n + 1, sizeof *d);
	size_t n = sample_diff(have_older ? &older : NULL, &newer, 0, own, d);
	sample_sort(d, n, (enum sample_key)sample_key_parse(key));
	n = sample_filter(d, n, needle);
	for (size_t i = 0; i < n; i++)
		printf(":%08x\t%s\t%.2f\t%.2f\t%ld\t%ld\t%.0f\t%.0f\t%d%d\n", d[i].row->addr,
		       d[i].name, d[i].cpu_pct, d[i].msg_rate, d[i].row->mqlen, d[i].row->task,
		       d[i].row->mem_bytes, d[i].mem_change, d[i].row->stat, d[i].row->mem);
	printf("end\n");
	free(d);
}

int main(void)
{
	char line[4096];
	sample_init(&older);
	sample_init(&newer);
	sample_init(&building);
	while (fgets(line, sizeof line, stdin)) {
		size_t len = strcspn(line, "\n");
		line[len] = '\0';
		char *arg = len > 2 ? line + 2 : line + len;
		char *sp = strchr(arg, ' ');
		switch (line[0]) {
		case 'S':
			printf("%d\n", sample_add_stat(&building, arg, strlen(arg)));
			break;
		case 'M':
			printf("%d\n", sample_add_mem(&building, arg, strlen(arg)));
			break;
		case 'T':
			turn(atof(arg));
			break;
		case 'D':
			if (sp)
				*sp++ = '\0';
			dump(arg, sp);
			break;
		case 'O':
			own = (unsigned)atoi(arg);
			break;
		}
		fflush(stdout);
	}
	sample_free(&older);
	sample_free(&newer);
	sample_free(&building);
	return 0;
}
