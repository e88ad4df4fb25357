/*
 * log: every line the node prints goes through here, so lines from several
 * worker threads never interleave and each is flushed at once (tests wait
 * for "main ready" on a pipe).
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void log_write(uint32_t source, const char *msg, size_t len)
{
	pthread_mutex_lock(&log_lock);
	fprintf(stdout, "[:%08x] ", source);
	fwrite(msg, 1, len, stdout);
	fputc('\n', stdout);
	fflush(stdout);
	pthread_mutex_unlock(&log_lock);
}

void log_printf(uint32_t source, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof buf) {
		log_write(source, buf, (size_t)n);
		return;
	}
	char *big = malloc((size_t)n + 1);
	if (!big)
		return;
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	log_write(source, big, (size_t)n);
	free(big);
}

void log_raw(const char *msg, size_t len)
{
	pthread_mutex_lock(&log_lock);
	fwrite(msg, 1, len, stdout);
	fflush(stdout);
	pthread_mutex_unlock(&log_lock);
}
