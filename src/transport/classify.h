/* Failure classification: what the transport saw, turned into the event the
 * core needs (error, permanent or transient, server hint). Pure. */
#ifndef LL_TRANSPORT_CLASSIFY_H
#define LL_TRANSPORT_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

#include "core/machine.h"

/* An upgrade refused with status (Retry-After header value or NULL):
 * every 3xx (a WebSocket client does not follow redirects, RFC 6455
 * §4.1), 401/403/404/410 and other 4xx but 408, 425 and 429 are permanent;
 * 429, 503 and the rest transient, with Retry-After (delta-seconds) as a
 * hint. */
void ll_classify_http(int status, const char *retry_after, ll_event *ev);

/* The status code of an HTTP response, from its status line as
 * libwebsockets keeps it: the len bytes that follow "HTTP/1.1 " (no NUL
 * needed). A status is three digits, 100 to 599, then the end or a space
 * and the reason phrase. Returns it, or 0 for anything else ("999999999999",
 * "-401", "20", "2000", "101abc", " 101"). */
int ll_parse_http_status(const char *s, size_t len);

/* A connection attempt that failed with libwebsockets' reason text. */
void ll_classify_connect_error(const char *reason, ll_event *ev);

/* Retry-After as milliseconds: delta-seconds only (an HTTP-date, or
 * anything else, gives 0: no hint). Capped at one day. */
int64_t ll_parse_retry_after(const char *value);

#endif
