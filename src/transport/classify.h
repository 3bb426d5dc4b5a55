/* What the transport saw when an attempt failed, read into the facts the
 * core judges (core/failure.h): the upgrade answer's status line and
 * Retry-After, and libwebsockets' CLIENT_CONNECTION_ERROR text where it
 * gives nothing else. The judgement (which error, permanent or not, how
 * long to wait) is the core's, ll_failure_judge(). Pure. */
#ifndef LL_TRANSPORT_CLASSIFY_H
#define LL_TRANSPORT_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

#include "core/failure.h"

/* An upgrade answered with status (not 101), Retry-After header value or
 * NULL: LL_FAIL_HTTP_STATUS with the status and the parsed hint. */
ll_failure ll_failure_http(int status, const char *retry_after);

/* The status code of an HTTP response, from its status line as
 * libwebsockets keeps it: the len bytes that follow "HTTP/1.1 " (no NUL
 * needed). A status is three digits, 100 to 599, then the end or a space
 * and the reason phrase. Returns it, or 0 for anything else ("999999999999",
 * "-401", "20", "2000", "101abc", " 101"). */
int ll_parse_http_status(const char *s, size_t len);

/* libwebsockets 4.1's CLIENT_CONNECTION_ERROR text (the only account it
 * gives of most failures), as facts: the kind from ONE table of the texts
 * lws 4.1.6 produces (classify.c; tests/unit/test_classify.c has a row for
 * each, so an upgrade that changes one fails there), the errno of "connect
 * SYSCALL n". A text the table does not know (NULL included) is
 * LL_FAIL_RESET. */
ll_failure ll_failure_from_lws_text(const char *text);

/* A refused upgrade's body (the len bytes read, no NUL needed) as a short
 * excerpt for a reason line, in out (n bytes, n >= 4): markup tags taken
 * out, each run of white space made one space, the ends trimmed, each
 * control byte and each byte that is not ASCII shown as '?', and what does
 * not fit in n - 1 bytes cut with "...". Returns the excerpt's length (0:
 * nothing to show). */
size_t ll_body_excerpt(const char *body, size_t len, char *out, size_t n);

/* Retry-After as milliseconds: delta-seconds only (an HTTP-date, or
 * anything else, gives 0: no hint). Capped at one day. */
int64_t ll_parse_retry_after(const char *value);

#endif
