/* Telling a WebSocket handshake from an HTTP API request by its first
 * bytes, without consuming them (blackhole mode parks new handshakes but
 * must keep serving the API on the same port). Pure. */
#ifndef LL_SERVER_SNIFF_H
#define LL_SERVER_SNIFF_H

#include <stddef.h>

typedef enum ll_sniff {
    LL_SNIFF_MORE = 0, /* not enough bytes to tell */
    LL_SNIFF_WS,       /* a request for /ws */
    LL_SNIFF_OTHER     /* anything else */
} ll_sniff;

/* Looks at the first n bytes a client sent: "GET /ws" followed by '?',
 * ' ' or '/' (before any other byte) is LL_SNIFF_WS. */
ll_sniff ll_sniff_request(const char *buf, size_t n);

#endif
