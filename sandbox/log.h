/* log: the node's log, one line per message on stdout, skynet's format. */
#ifndef SANDBOX_LOG_H
#define SANDBOX_LOG_H

#include <stddef.h>
#include <stdint.h>

/* print "[:%08x] message\n" and flush; safe from any thread */
void log_printf(uint32_t source, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* the same for a message of known length (may hold any bytes but NUL) */
void log_write(uint32_t source, const char *msg, size_t len);

/* write bytes as they are (a service's print) and flush */
void log_raw(const char *msg, size_t len);

#endif
