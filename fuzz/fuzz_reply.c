/* libFuzzer: the console reply reader (proto_read_reply) on whatever bytes
 * a node sends, read to the end under a bound the first byte picks (so
 * that the bound is hit too), each reply's failure check and fields, the
 * reply as a terminal is shown it (fmt_safe: no control byte left), then
 * as the reply to PROTO_LIST (rewritten as `list` prints it, and parsed). */
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fmt.h"
#include "proto.h"
#include "target.h"

/* fmt_safe's promise: nothing a terminal acts on, but the kept newlines */
static void fuzz_safe(const struct proto_reply *r)
{
	struct fmt_buf b = { 0 };
	fmt_safe(&b, r->text, r->len, "\n");
	for (size_t i = 0; i < b.len; i++) {
		unsigned char ch = (unsigned char)b.p[i];
		if ((ch < 0x20 && ch != '\n') || ch == 0x7f ||
		    (ch == 0xc2 && i + 1 < b.len && (unsigned char)b.p[i + 1] < 0xa0 &&
		     (unsigned char)b.p[i + 1] >= 0x80))
			abort();
	}
	fmt_buf_free(&b);
}

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
	net_set_max(size ? 1024 + (size_t)data[0] * 256 : NET_MAX_DEFAULT);
	struct net_conn *c = net_stream(sv[1], NULL, 1.0);
	struct proto_reply r;
	struct err e;
	while (c && proto_read_reply(c, &r, 0, &e) == 0) {
		char *f[8];
		proto_failure("inject :a x", &r);
		fuzz_safe(&r);
		for (size_t i = 0; i < r.nlines; i++)
			proto_get(f, proto_split(r.lines[i], f, 8), "cpu");
		struct target_service *svc;
		size_t n;
		if (r.ok && proto_reply_as_list(&r, &e) == 0 &&
		    target_parse_list(r.lines, r.nlines, TARGET_LIST_SHOW, &svc, &n, &e) == 0)
			target_services_free(svc, n);
		proto_reply_free(&r);
	}
	net_close(c);
	return 0;
}
