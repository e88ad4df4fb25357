/* libFuzzer: the node file loader on any file content (its instruction
 * and memory limits keep each run short). */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	int fd = memfd_create("nodefile", 0);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		struct config c;
		struct err e;
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		if (config_load(path, &c, &e) == 0)
			config_find(&c, "game1");
		config_free(&c);
	}
	close(fd);
	return 0;
}
