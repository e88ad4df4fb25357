/* The sources of the scripts skyctl applied, kept next to the audit log,
 * content-addressed: $XDG_STATE_HOME/skyctl/scripts/<sha256> (else under
 * ~/.local/state), files 0600 in a 0700 directory, opened without
 * following links.  The audit log and each service's journal name a
 * script by its sha256; this keeps what that sha256 ran. */
#ifndef SCRIPTSTORE_H
#define SCRIPTSTORE_H

#include <stddef.h>

#include "err.h"
#include "fmt.h"

/* keep src (len bytes, whose sha256 is sha, 64 hex digits) unless kept
 * already; 0, or -1 with e set (ERR_LOCAL) */
int scriptstore_put(const char *sha, const char *src, size_t len, struct err *e);

/* append the source kept for sha to out; 0, or -1 with e set (ERR_LOCAL:
 * not kept here, or unreadable) */
int scriptstore_get(const char *sha, struct fmt_buf *out, struct err *e);

#endif
