/* A profile of Lua stacks as `skyctl profile` collects it (lua/profile.lua):
 * stacks of frames ("name (file.lua:12)", root first, joined with ';')
 * with their sample counts, merged from any number of services, and the
 * views of it: the per-function table, folded lines (profile.c), speedscope
 * JSON (profile_speedscope.c) and an interactive SVG flame graph
 * (profile_svg.c).  Writers fill buffers; they do not print. */
#ifndef PROFILE_H
#define PROFILE_H

#include <stddef.h>

#include "fmt.h"

struct profile_stack {
	char *frames;		/* "root;...;leaf" */
	long long count;
};

struct profile {
	struct profile_stack *v;
	size_t n, cap;
	long long samples;
	int sorted;		/* v sorted by frames, equal stacks merged */
	int oom;
};

/* add count samples of stack (len bytes), under the root frame root when
 * not NULL (--per-service: the service) */
void profile_add(struct profile *p, const char *root, const char *stack, size_t len,
		 long long count);
/* sort the stacks and merge equal ones (the writers call it) */
void profile_sort(struct profile *p);
void profile_free(struct profile *p);

/* one function: its frame text, samples with it on top (self) and
 * anywhere on the stack (total, once per stack) */
struct profile_func {
	const char *frame;	/* points into the profile */
	size_t len;
	long long self, total;
};
/* every function of p, by self then total, biggest first (malloc'd,
 * *n of them; NULL and p->oom set on failure) */
struct profile_func *profile_funcs(struct profile *p, size_t *n);

/* the table: the top functions by self and by total, with their
 * self and total shares and where each is defined */
extern const struct fmt_col profile_cols[4];
void profile_table(struct profile *p, size_t top, struct fmt_table *t);

/* "frame;frame;frame COUNT" lines */
void profile_folded(struct profile *p, struct fmt_buf *b);

/* speedscope's file format: one sampled profile per p[i], named names[i] */
void profile_speedscope(struct profile *const *p, const char *const *names, size_t n,
			const char *title, struct fmt_buf *b);

/* a flame graph as one self-contained SVG file: titles on hover, click to
 * zoom, search */
void profile_svg(struct profile *p, const char *title, struct fmt_buf *b);

/* the request that runs lua/profile.lua (embedded) in a service for
 * seconds at hz: {op="profile", chunk=, seconds=, hz=, together=true};
 * -1 if the chunk is missing */
int profile_request(struct fmt_buf *b, double seconds, double hz);
struct wire_val;
/* add the stacks of a service's reply to p, under root when not NULL */
void profile_add_reply(struct profile *p, const char *root, const struct wire_val *rep);

struct screen_frame;
/* `top`'s key: profile service addr of the node at node (its console,
 * "host:port" or ssh://) for PROFILE_TOP_SECONDS, leaving nothing in it,
 * drawing progress and then its top functions on f until a key is typed;
 * returns that key (screen_key: < 0 to quit) */
#define PROFILE_TOP_SECONDS 3
int profile_top(struct screen_frame *f, const char *node, unsigned addr, const char *name,
		double timeout);

/* a frame's parts: its function name and where it is defined ("hot.lua:8",
 * "[C]"), into the buffers */
void profile_frame_split(const char *frame, size_t len, char *name, size_t nlen, char *where,
			 size_t wlen);

#endif
