/* URL parsing for the transport (ws, wss, http, https) and the parts of a
 * URL that are secrets (userinfo, query values), so logs can hide them. */
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

/* Append to list (up to max) the secret substrings of url: the userinfo and
 * each query value; each is a new heap string. Returns how many it added. */
size_t ll_url_secrets(const char *url, char **list, size_t max);

/* Copy src into dst (size n, NUL-terminated) with every occurrence of each
 * secret (strings of 3+ bytes) replaced by "***". */
void ll_redact(const char *src, char *dst, size_t n, char *const *secrets,
               size_t n_secrets);

#endif
