/* SHA-256 (FIPS 180-4), for the digest skyctl records of every script it
 * injects.  Small and dependency-free on purpose: one digest per script. */
#ifndef SHA256_H
#define SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t len;		/* bytes hashed so far */
	unsigned char buf[64];
	size_t nbuf;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, unsigned char out[32]);

/* digest of data as 64 lowercase hex digits and a NUL in hex */
void sha256_hex(const void *data, size_t len, char hex[65]);

#endif
