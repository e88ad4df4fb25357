/* The target grammar, shared by every command that takes services:
 *
 *   TARGETS  := ITEM (',' ITEM)*
 *   ITEM     := [NODE '/'] SEL          NODE: a node-file name, or '*' (every node)
 *   SEL      := ':' HEX | HEX           a handle, 1-8 hex digits (':a', ':0000000a', 'a',
 *                                       ':0200000a' on another harbor)
 *             | '.' NAME                a registered local name ('.launcher')
 *             | '%' NAME                a global name, registered without a dot and seen
 *                                       by every harbor ('%DATACENTER')
 *             | '@' GLOB                services launched as `snlua GLOB ...`, and snax
 *                                       services (`snlua snaxd GLOB`) ('@agent*')
 *
 * A handle's top 8 bits are its harbor.  A handle written without them
 * (':c', 'c') means the node's own harbor, as the stock console reads a
 * bare 'c' (its ':c' is taken literally and fails on harbor 1):
 * target_apply_harbor adds them once the node's harbor is known.
 *
 * '%' marks global names because a global name may be all hex ('CAFE')
 * and must not read as a handle; POSIX sh, bash, zsh and fish leave a
 * leading '%' alone ('=' is expanded by zsh, '~' '!' '#' '^' are taken by
 * some shell), and it is not a glob character.
 *
 * target_parse checks the syntax before anything is sent; target_resolve
 * turns the items that apply to one node into services, with `list`. */
#ifndef TARGET_H
#define TARGET_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum target_kind { TARGET_ADDR, TARGET_NAME, TARGET_GLOBAL, TARGET_GLOB };

struct target_sel {
	char *node;		/* NULL: the command's default nodes; "*": every configured node */
	enum target_kind kind;
	uint32_t addr;		/* TARGET_ADDR */
	char *text;		/* TARGET_NAME: ".name"; TARGET_GLOBAL: "%NAME";
				 * TARGET_GLOB: the glob without '@' */
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

/* parse the lines of a `list` reply (":hex\tcommand", sorted by address; a
 * line that is not one goes on the command above, a newline between; the
 * lines are one block, as a proto_reply's: each after the one before);
 * -1 (ERR_PROTO) if it starts with another line or a handle is out of
 * order (a forged line), saying what was seen.  With TARGET_LIST_SHOW
 * (what `list` shows) such a line goes on the command above too, and e
 * says so, with 0. */
enum { TARGET_LIST_SHOW = 1 };
int target_parse_list(char *const *lines, size_t n, int flags, struct target_service **out,
		      size_t *nout, struct err *e);
void target_services_free(struct target_service *s, size_t n);

/* the service at addr among n parsed ones (in address order, as
 * target_parse_list makes them), or NULL */
const struct target_service *target_service_find(const struct target_service *svc, size_t n,
						 uint32_t addr);

/* target_parse_list without copies, for a list too big for them: fn(addr,
 * line, cmd, ud) for each service, where line is its first line in text
 * (n lines, each after the NUL of the one before) and cmd in it after the
 * tab, the lines that go on it joined in place; fn returns non-zero when
 * out of memory (then -1, ERR_LOCAL) */
typedef int (*target_list_fn)(uint32_t addr, char *line, char *cmd, void *ud);
int target_walk_list(char *text, size_t n, int flags, target_list_fn fn, void *ud,
		     struct err *e);

/* the service's name for @globs: the script of `snlua NAME ...` (the snax
 * name of `snlua snaxd NAME`), else the first word of the launch command;
 * copied into buf */
const char *target_service_name(const char *cmd, char *buf, size_t len);

/* a resolved target */
struct target {
	uint32_t addr;		/* 0 for a registered name not resolved to a handle */
	const char *name;	/* ".name" or a global "%NAME" (points into the
				 * target_sel), or NULL */
	const char *cmd;	/* launch command when known (points into services), or NULL */
};

/* Resolve the items of l that apply to a node (applies(sel, ud) says which)
 * against its services (may be NULL if !target_needs_list).  Duplicates
 * are dropped, order kept.  matched (NULL, or l->n counters) counts the
 * services each item matched.  *out is malloc'd (free it). */
int target_resolve(struct target_list *l, int (*applies)(const struct target_sel *, void *),
		   void *ud, const struct target_service *svc, size_t nsvc, struct target **out,
		   size_t *nout, size_t *matched, struct err *e);

/* Wiring for harbors, in the order a command applies them to one node's
 * targets (after target_resolve):
 *  1. every target_global(t): its handle, from names_global (the console
 *     cannot take a global name: "Need an address"), into target_set_global;
 *  2. target_apply_harbor with the node's harbor (`getenv harbor`, or the
 *     top byte of any handle `list` shows), then target_one_per_handle;
 *  3. target_remote: a target on another harbor is not in this node's
 *     `list`; check that it exists through the node (`ping :ADDR`: "call
 *     failed" when it is dead; no reply at all when its harbor never
 *     joined, so the check needs a deadline), not against the list. */

/* the global name t stands for ("NAME", without '%'), or NULL */
const char *target_global(const struct target *t);

/* t (a global name) now stands for the service addr */
void target_set_global(struct target *t, uint32_t addr);

/* give the handles without harbor bits the node's harbor (':c' becomes
 * ':0100000c'; target_one_per_handle then drops the duplicates that makes) */
void target_apply_harbor(struct target *t, size_t n, int harbor);

/* keep the first target of each handle (".name,:f" is one target when
 * .name is :f, ':c,:0100000c' when the harbor is 1; names not resolved to
 * a handle all stay); *n is updated; -1 (and nothing changed) when out of
 * memory */
int target_one_per_handle(struct target *t, size_t *n);

/* whether t is a handle on a harbor other than the node's */
int target_remote(const struct target *t, int harbor);

/* address forms for console lines */
enum target_form {
	TARGET_FORM_COLON,	/* ":0000000a" (or ".name") */
	TARGET_FORM_HEX,	/* "a": what `debug` wants (or ".name") */
};

/* t written in the given form into buf */
const char *target_format(const struct target *t, enum target_form form, char *buf, size_t len);

#endif
