/* base64url (RFC 4648 section 5) without padding, as auth tokens use it. */
#ifndef SRV_BASE64URL_H
#define SRV_BASE64URL_H

#include <stddef.h>

/* Characters needed to encode n bytes, not counting the terminator. */
size_t srv_b64url_encoded_len(size_t n);

/* Encodes n bytes into out (outlen >= encoded_len + 1) and terminates it.
 * Returns the length written, or 0 with out untouched when it does not fit
 * (and n > 0). */
size_t srv_b64url_encode(const void *in, size_t n, char *out, size_t outlen);

/* Decodes len characters (no padding, no whitespace) into out. Returns the
 * number of bytes, or -1 for a character outside the alphabet, an impossible
 * length (len % 4 == 1), non-zero trailing bits, or too small an out. */
long srv_b64url_decode(const char *in, size_t len, unsigned char *out, size_t outlen);

#endif
