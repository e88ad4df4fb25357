/* What one frame of `skyctl top` shows: a header with the state of every
 * node, the column titles, one line per service (as many as fit), and a
 * line of keys (or the filter being typed).  Layout only: the frame goes
 * through screen.h, the numbers come from sample.h. */
#ifndef TOPVIEW_H
#define TOPVIEW_H

#include <stddef.h>

#include "sample.h"
#include "screen.h"

struct topview_node {
	const char *name;
	int up;			/* answered its last poll */
	int tried;		/* polled at least once */
	const char *why;	/* when down: the last failure */
	size_t services;	/* rows of its newest sample */
};

struct topview {
	const struct topview_node *nodes;
	size_t nnodes;
	int show_node;		/* several nodes: a NODE column */
	const struct sample_delta *rows;	/* sorted and filtered */
	size_t nrows;
	size_t total;		/* rows before the name filter */
	double delay;		/* seconds between refreshes */
	enum sample_key key;
	const char *filter;	/* NULL or "" for none */
	int editing;		/* the filter is being typed */
	int paused;
};

/* draw v into f (between screen_begin and screen_end) */
void topview_draw(const struct topview *v, struct screen_frame *f);

/* "45.9K", "1.2M", "512B"; with sign, "+1.2K" / "-512B" / "0" */
const char *topview_size(double bytes, int sign, char *buf, size_t len);

#endif
