/* libFuzzer: the decoder of the engine's replies (lua/wire.lua's format),
 * and the JSON written from what it decodes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "json.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);	/* decoded in place */
	if (!text)
		return 0;
	memcpy(text, data, size);
	struct wire_val *v = wire_decode(text, size, size / 3 + 64, text);
	if (v) {
		struct fmt_buf b = { 0 };
		json_value(&b, v);
		wire_gets(v, "status", NULL);
		wire_count(v);
		fmt_buf_free(&b);
		wire_val_free(v);
	} else {
		free(text);
	}
	return 0;
}
