/* Telling a WebSocket handshake from an HTTP API request by its first
 * bytes, without consuming them (blackhole mode parks new handshakes but
 * must keep serving the API on the same port). Pure. */
#ifndef SRV_SNIFF_H
#define SRV_SNIFF_H

#include <stddef.h>

typedef enum srv_sniff {
    SRV_SNIFF_MORE = 0, /* not enough bytes to tell */
    SRV_SNIFF_WS,       /* a request for /ws */
    SRV_SNIFF_OTHER     /* anything else */
} srv_sniff;

/* Looks at the first n bytes a client sent: "GET /ws" followed by '?',
 * ' ' or '/' (before any other byte) is SRV_SNIFF_WS. */
srv_sniff srv_sniff_request(const char *buf, size_t n);

#endif
