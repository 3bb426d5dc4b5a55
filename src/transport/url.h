/* URL parsing for the transport (ws, wss, http, https). Which parts of a
 * URL are secrets, and hiding them, is client/redact.h. */
#ifndef LL_TRANSPORT_URL_H
#define LL_TRANSPORT_URL_H

#include <stddef.h>

typedef struct ll_url {
    int secure;     /* wss or https */
    int websocket;  /* ws or wss */
    char *host;     /* without brackets for IPv6 */
    int port;
    char *path;     /* path and query, at least "/" */
    char *userinfo; /* "user:pass" or NULL */
} ll_url;

/* Parse url into *out (heap strings; free with ll_url_free()).
 * Returns 0, or -1 for a URL that is not ws, wss, http or https with a host
 * and a valid port. */
int ll_url_parse(const char *url, ll_url *out);
void ll_url_free(ll_url *u);

/* u as people may see it: scheme://host:port/path, without the userinfo,
 * the query or the fragment (where tokens live). */
void ll_url_display(const ll_url *u, char *out, size_t n);

#endif
