/* What `skyctl top` and `skyctl stuck` know about a node's services: one
 * sample per poll, built from the console's `stat` and `mem` replies (the
 * mem reply carries each service's launch command, so `list` is not needed),
 * and the rates between two samples of the same node.
 * Pure data and functions: no I/O, so the model is tested on its own. */
#ifndef SAMPLE_H
#define SAMPLE_H

#include <stddef.h>
#include <stdint.h>

/* how a service answered one field of a poll */
enum sample_state {
	SAMPLE_MISSING = 0,	/* not in this reply at all */
	SAMPLE_OK,
	SAMPLE_TIMEOUT,		/* did not answer within the poll's timeout */
	SAMPLE_ERROR,		/* the debug call failed, or the value was unreadable */
};

struct sample_row {
	uint32_t addr;
	unsigned char stat;	/* enum sample_state of cpu, message, mqlen, task */
	unsigned char mem;	/* enum sample_state of mem */
	double cpu;		/* cpu seconds the service used since it started */
	uint64_t message;	/* messages it handled since it started */
	long mqlen;		/* messages waiting in its queue */
	long task;		/* suspended coroutines */
	double mem_bytes;	/* Lua memory */
	size_t name;		/* offset in the sample's name pool; 0 is "" */
};

/* One poll of one node.  Rows are sorted by address after sample_finish. */
struct sample {
	double when;		/* monotonic seconds at which the poll was answered */
	struct sample_row *rows;
	size_t n, cap;
	char *pool;		/* NUL-terminated names, back to back */
	size_t pool_len, pool_cap;
};

void sample_init(struct sample *s);
void sample_free(struct sample *s);
/* empty s for the next poll, keeping its memory */
void sample_clear(struct sample *s);
/* the name of row r of s (the launch command, "" when unknown) */
const char *sample_name(const struct sample *s, const struct sample_row *r);

/* Add one line of a reply: `:0000000a\tcpu:0.1\tmessage:3\tmqlen:0\ttask:0`
 * (stat) or `:0000000a\t45.85 Kb (snlua agent 1)` (mem); TIMEOUT and ERROR
 * values (`:0000000a\tTIMEOUT`, `:0000000a\tERROR (snlua agent 1)`) are kept
 * as such.  Returns 0, or -1 if the line is not of that shape (nothing added)
 * or memory ran out. */
int sample_add_stat(struct sample *s, const char *line, size_t len);
int sample_add_mem(struct sample *s, const char *line, size_t len);

/* Sort the rows by address and join the lines of one address into one row
 * (linear when the replies came sorted, as the console sends them). */
void sample_finish(struct sample *s);
/* the row of addr in a finished sample, or NULL */
const struct sample_row *sample_find(const struct sample *s, uint32_t addr);

/* One service between two samples of its node. */
struct sample_delta {
	const struct sample_row *row;	/* in the newer sample */
	const char *name;
	int node;		/* the caller's index of the node */
	double cpu_pct;		/* cpu % over the interval; NAN when unknown */
	double msg_rate;	/* messages per second; NAN when unknown */
	double mem_change;	/* bytes since the older sample; NAN when unknown */
};

/* Append to out (room for cur->n entries) one delta per row of cur, against
 * prev (NULL for none: every rate unknown).  A rate is known when both
 * samples have the field and the counter did not go backwards (a new
 * service at a reused address).  own: the messages the poller itself sent
 * each service between the two samples (the `mem` after the older `stat`
 * and the newer `stat`: 2), left out of the message rate; what they leave
 * in the heaps (the typical change of the services that saw no other
 * message) is left out of mem_change, and a console's cpu and messages
 * (answering the poller) are unknown.  Both samples must be finished.
 * O(n log n).  Returns the number appended. */
size_t sample_diff(const struct sample *prev, const struct sample *cur, int node, unsigned own,
		   struct sample_delta *out);

enum sample_key {
	SAMPLE_BY_CPU,
	SAMPLE_BY_MEM,
	SAMPLE_BY_QUEUE,
	SAMPLE_BY_MSG,
};

/* the sort key named "cpu", "mem", "queue" or "msg"; -1 for any other */
int sample_key_parse(const char *name);
/* Sort by key, largest first; unknown values last; ties by node, address. */
void sample_sort(struct sample_delta *d, size_t n, enum sample_key key);
/* Keep, in order, the deltas whose name contains needle (case-insensitive;
 * NULL or "" keeps all).  Returns how many were kept. */
size_t sample_filter(struct sample_delta *d, size_t n, const char *needle);

#endif
