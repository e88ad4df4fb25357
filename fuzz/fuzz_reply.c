/* libFuzzer: the console reply reader (proto_read_reply) on whatever bytes
 * a node sends, read to the end, each reply's failure check and fields. */
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2];
	if (size > 65536 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return 0;
	if (write(sv[0], data, size) != (ssize_t)size) {
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	close(sv[0]);	/* the node hangs up after its bytes */
	struct net_conn *c = net_stream(sv[1], NULL, 1.0);
	struct proto_reply r;
	struct err e;
	while (c && proto_read_reply(c, &r, 0, &e) == 0) {
		char *f[8];
		proto_failure("inject :a x", &r);
		for (size_t i = 0; i < r.nlines; i++)
			proto_get(f, proto_split(r.lines[i], f, 8), "cpu");
		proto_reply_free(&r);
	}
	net_close(c);
	return 0;
}
