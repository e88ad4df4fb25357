/* The target grammar, shared by every command that takes services:
 *
 *   TARGETS  := ITEM (',' ITEM)*
 *   ITEM     := [NODE '/'] SEL          NODE: a node-file name, or '*' (every node)
 *   SEL      := ':' HEX | HEX           a handle, 1-8 hex digits (':a', ':0000000a', 'a')
 *             | '.' NAME                a registered local name ('.launcher')
 *             | '@' GLOB                services launched as `snlua GLOB ...` ('@agent*')
 *
 * target_parse checks the syntax before anything is sent; target_resolve
 * turns the items that apply to one node into services, with `list`. */
#ifndef TARGET_H
#define TARGET_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum target_kind { TARGET_ADDR, TARGET_NAME, TARGET_GLOB };

struct target_sel {
	char *node;		/* NULL: the command's default nodes; "*": every configured node */
	enum target_kind kind;
	uint32_t addr;		/* TARGET_ADDR */
	char *text;		/* TARGET_NAME: ".name"; TARGET_GLOB: the glob without '@' */
	char *orig;		/* the item as written, for messages */
};

struct target_list {
	struct target_sel *v;
	size_t n;
};

/* parse spec into l (freed with target_list_free even on failure); -1
 * (ERR_USAGE) with the offending item named */
int target_parse(const char *spec, struct target_list *l, struct err *e);
void target_list_free(struct target_list *l);

/* whether any item needs `list` to be resolved (a glob) */
int target_needs_list(const struct target_list *l);

/* one service of a node, as `list` shows it */
struct target_service {
	uint32_t addr;
	char *cmd;		/* launch command, e.g. "snlua agent 1" */
};

/* parse the lines of a `list` reply; -1 (ERR_PROTO) on a line that is not
 * ":hex\tcommand" */
int target_parse_list(char *const *lines, size_t n, struct target_service **out, size_t *nout,
		      struct err *e);
void target_services_free(struct target_service *s, size_t n);

/* the service's name for @globs: the script of `snlua NAME ...`, else the
 * first word of the launch command; copied into buf */
const char *target_service_name(const char *cmd, char *buf, size_t len);

/* a resolved target */
struct target {
	uint32_t addr;		/* 0 for a registered name not resolved to a handle */
	const char *name;	/* ".name" (points into the target_sel), or NULL */
	const char *cmd;	/* launch command when known (points into services), or NULL */
};

/* Resolve the items of l that apply to a node (applies(sel, ud) says which)
 * against its services (may be NULL if !target_needs_list).  Duplicates
 * are dropped, order kept.  matched (NULL, or l->n counters) counts the
 * services each item matched.  *out is malloc'd (free it). */
int target_resolve(struct target_list *l, int (*applies)(const struct target_sel *, void *),
		   void *ud, const struct target_service *svc, size_t nsvc, struct target **out,
		   size_t *nout, size_t *matched, struct err *e);

/* address forms for console lines */
enum target_form {
	TARGET_FORM_COLON,	/* ":0000000a" (or ".name") */
	TARGET_FORM_HEX,	/* "a": what `debug` wants (or ".name") */
};

/* t written in the given form into buf */
const char *target_format(const struct target *t, enum target_form form, char *buf, size_t len);

#endif
