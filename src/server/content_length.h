/* A request's Content-Length, read as lifeline-server takes it and as
 * libwebsockets 4.1 reads it for itself. Pure. The two must agree on every
 * request whose body the server reads: libwebsockets decides how many bytes
 * it hands over as the body, the server what it expects. */
#ifndef SRV_CONTENT_LENGTH_H
#define SRV_CONTENT_LENGTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest Content-Length libwebsockets 4.1 reads: lws_http_action()
 * copies it into 32 bytes with lws_hdr_copy(..., 31, ...), which takes
 * fewer than 31 bytes. A longer one it ignores, and reads the method's
 * default body instead (100 MB for POST, PUT and PATCH, else none). */
#define SRV_LWS_CLEN_MAX 30

/* The Content-Length as the server takes it: 1*DIGIT (RFC 9110 8.6), with
 * optional SP or HTAB around the digits, at most SRV_LWS_CLEN_MAX bytes in
 * all. value: len bytes, not NUL-terminated. Returns true and *out (the
 * number, INT64_MAX when it does not fit), or false for anything else:
 * nothing, a sign, a list ("5, 5"), any other byte, or longer. */
bool srv_content_length(const char *value, size_t len, int64_t *out);

/* Whether libwebsockets 4.1 reads a body after LWS_CALLBACK_HTTP
 * (lws_http_action). value: the Content-Length as libwebsockets copies it
 * (NUL-terminated, at most SRV_LWS_CLEN_MAX bytes), NULL when there is
 * none or it is longer; body_method: the request is a POST, PUT or PATCH.
 * libwebsockets keeps atoll(value) in an unsigned field and reads a body
 * when that is not 0: "-1" is a body of 2^64 - 1 bytes, "abc" none. */
bool srv_lws_reads_body(const char *value, bool body_method);

#endif
