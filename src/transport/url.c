/* URL parsing; see url.h. */
#include "transport/url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

void ll_url_free(ll_url *u)
{
    free(u->host);
    free(u->path);
    free(u->userinfo);
    memset(u, 0, sizeof(*u));
}

int ll_url_parse(const char *url, ll_url *out)
{
    static const struct { const char *scheme; int secure, ws, port; } schemes[] = {
        {"ws://", 0, 1, 80}, {"wss://", 1, 1, 443},
        {"http://", 0, 0, 80}, {"https://", 1, 0, 443},
    };
    memset(out, 0, sizeof(*out));
    if (!url)
        return -1;
    const char *p = NULL;
    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        size_t n = strlen(schemes[i].scheme);
        if (strncasecmp(url, schemes[i].scheme, n) == 0) {
            p = url + n;
            out->secure = schemes[i].secure;
            out->websocket = schemes[i].ws;
            out->port = schemes[i].port;
            break;
        }
    }
    if (!p || strpbrk(url, " \t\r\n"))
        return -1;
    const char *end = p + strcspn(p, "/?#");
    /* the userinfo ends at the authority's last '@' (a password may hold
     * one), as client/redact.c and browsers read it */
    const char *at = memrchr(p, '@', (size_t)(end - p));
    if (at) {
        out->userinfo = dup_n(p, (size_t)(at - p));
        p = at + 1;
    }
    const char *host_end;
    const char *port_at = NULL;
    if (*p == '[') {
        const char *rb = memchr(p, ']', (size_t)(end - p));
        if (!rb)
            goto bad;
        out->host = dup_n(p + 1, (size_t)(rb - p - 1));
        host_end = rb + 1;
        if (host_end < end && *host_end == ':')
            port_at = host_end + 1;
        else if (host_end != end)
            goto bad;
    } else {
        const char *colon = memchr(p, ':', (size_t)(end - p));
        host_end = colon ? colon : end;
        out->host = dup_n(p, (size_t)(host_end - p));
        if (colon)
            port_at = colon + 1;
    }
    /* a bracket inside the host ("ws://[[]", "ws://a]b") is no host name
     * nor IPv6 literal, and would not read back from ll_url_display */
    if (!out->host || !out->host[0] || strpbrk(out->host, "[]"))
        goto bad;
    if (port_at) {
        long port = 0;
        if (port_at == end)
            goto bad;
        for (const char *d = port_at; d < end; d++) {
            if (*d < '0' || *d > '9')
                goto bad;
            port = port * 10 + (*d - '0');
            if (port > 65535)
                goto bad;
        }
        if (port == 0)
            goto bad;
        out->port = (int)port;
    }
    /* path and query; the fragment is never sent */
    size_t plen = strcspn(end, "#");
    if (plen == 0 || *end != '/') {
        out->path = malloc(plen + 2);
        if (!out->path)
            goto bad;
        out->path[0] = '/';
        memcpy(out->path + 1, end, plen);
        out->path[plen + 1] = 0;
    } else {
        out->path = dup_n(end, plen);
    }
    if (!out->path)
        goto bad;
    return 0;
bad:
    ll_url_free(out);
    return -1;
}

void ll_url_display(const ll_url *u, char *out, size_t n)
{
    const char *scheme = u->websocket ? (u->secure ? "wss" : "ws") : (u->secure ? "https" : "http");
    int v6 = u->host && strchr(u->host, ':') != NULL;
    size_t plen = u->path ? strcspn(u->path, "?#") : 0;
    snprintf(out, n, "%s://%s%s%s:%d%.*s", scheme, v6 ? "[" : "", u->host ? u->host : "",
             v6 ? "]" : "", u->port, (int)plen, u->path ? u->path : "");
}
