/* libFuzzer: the target grammar (":a,.name,%GLOBAL,@agent*,node/..."),
 * resolved against a small fixed node. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "target.h"

static int fuzz_applies(const struct target_sel *sel, void *ud)
{
	(void)sel;
	(void)ud;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct target_service svc[] = {
		{ 0x0100000a, "snlua agent 1" }, { 0x0100000b, "snlua snaxd pingserver" },
		{ 0x0100000c, "snlua debug_console 8000" },
	};
	char *spec = malloc(size + 1);
	if (!spec)
		return 0;
	memcpy(spec, data, size);
	spec[size] = '\0';
	struct target_list l = { 0 };
	struct err e;
	if (target_parse(spec, &l, &e) == 0) {
		struct target *t = NULL;
		size_t n = 0;
		if (target_resolve(&l, fuzz_applies, NULL, svc, 3, &t, &n, NULL, &e) == 0) {
			char buf[64];
			target_apply_harbor(t, n, 1);
			target_one_per_handle(t, &n);
			for (size_t i = 0; i < n; i++)
				target_format(&t[i], TARGET_FORM_HEX, buf, sizeof buf);
			free(t);
		}
	}
	target_list_free(&l);
	free(spec);
	return 0;
}
