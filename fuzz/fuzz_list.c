/* libFuzzer: the parser of a `list` reply, and the names @globs see. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *lines[4096];
	size_t n = 0;
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (char *p = text, *nl; n < 4096 && p <= text + size; p = nl + 1) {
		lines[n++] = p;
		if (!(nl = strchr(p, '\n')))
			break;
		*nl = '\0';
	}
	struct target_service *svc = NULL;
	size_t nsvc = 0;
	struct err e;
	if (target_parse_list(lines, n, size && data[0] & 1 ? TARGET_LIST_SHOW : 0, &svc, &nsvc,
			      &e) == 0) {
		char buf[256];
		for (size_t i = 0; i < nsvc; i++)
			target_service_name(svc[i].cmd, buf, sizeof buf);
		target_services_free(svc, nsvc);
	}
	free(text);
	return 0;
}
