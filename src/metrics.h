/* `skyctl metrics`: what was gathered from each node, summed per kind of
 * service (the launch name: `snlua agent 1` is an `agent`), and written in
 * the Prometheus text exposition format or OpenMetrics.  Pure: no I/O, so
 * the writer is tested on its own and costs only what it formats. */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "fmt.h"
#include "sample.h"

/* jemalloc figures `jmem` reports (stats.KEY), in this order */
#define METRICS_NJMEM 5
extern const char *const metrics_jmem_keys[METRICS_NJMEM];

/* one node, as gathered */
struct metrics_node {
	const char *name;		/* the node label */
	int up;				/* its console answered */
	double seconds;			/* how long gathering it took */
	const struct sample *s;		/* stat + mem, finished (NULL when down) */
	const struct sample *prev;	/* the sample before, for the cpu ranking, or NULL */
	const uint32_t *keep;		/* TARGET: the addresses counted, sorted; NULL: all */
	size_t nkeep;
	int jemalloc;			/* cmem and jmem carry figures (a jemalloc build) */
	double cmem_total, cmem_block;
	double jmem[METRICS_NJMEM];
};

struct metrics_opts {
	int openmetrics;	/* OpenMetrics 1.0 instead of the text format 0.0.4 */
	int per_service;	/* every service's series, not only the top ones */
	size_t top;		/* per node, the top services by cpu, memory and queue */
};

/* the content types of the two formats */
#define METRICS_TYPE_TEXT "text/plain; version=0.0.4; charset=utf-8"
#define METRICS_TYPE_OPEN "application/openmetrics-text; version=1.0.0; charset=utf-8"

/* Take the replies to `cmem` and `jmem` (their output lines) into nd:
 * nd->jemalloc is set when jmem reports memory allocated (a node built
 * without jemalloc reports zeros, and its cmem total is 0). */
void metrics_take_mem(struct metrics_node *nd, char *const *cmem, size_t ncmem,
		      char *const *jmem, size_t njmem);

/* Write every family for nodes v[0..n) into out; -1 when out of memory. */
int metrics_write(const struct metrics_node *v, size_t n, const struct metrics_opts *o,
		  struct fmt_buf *out);

#endif
