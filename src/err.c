/* err.h: filling a struct err. */
#include <stdarg.h>
#include <stdio.h>

#include "err.h"

int err_set(struct err *e, int code, const char *fmt, ...)
{
	if (e) {
		va_list ap;
		va_start(ap, fmt);
		e->code = code;
		vsnprintf(e->msg, sizeof e->msg, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int err_worst(int a, int b)
{
	return a > b ? a : b;
}
