/* A loop's vhosts: one per combination of TLS, CA file, proxy and
 * permessage-deflate its connections ask for, made on first use and kept
 * until the loop is freed. Loop thread only (ll_vhost_default() runs
 * before the thread starts). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport/conn.h"

/* The longest "host" of a proxy's "host:port". */
#define LL_PROXY_HOST_MAX 256

struct ll_vhost {
    struct ll_vhost *next;
    struct lws_vhost *vh;
    char *ca_file;
    char *proxy;
    int deflate;
    int tls;
    char *name;
};

/* A client-only vhost. Only a TLS one gets an SSL_CTX: building one loads
 * the system's CA store, which costs tens of milliseconds and most of a
 * megabyte, so plain ws:// clients never pay for it. */
static struct lws_vhost *make_vhost(ll_loop *l, int tls, const char *ca_file, const char *proxy,
                                    int deflate, const char *name)
{
    static const struct lws_extension exts[] = {
        {"permessage-deflate", lws_extension_callback_pm_deflate,
         "permessage-deflate; client_no_context_takeover; client_max_window_bits"},
        {NULL, NULL, NULL},
    };
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = ll_protocols;
    info.vhost_name = name;
    info.options = tls ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0;
    info.client_ssl_ca_filepath = ca_file;
    info.extensions = deflate ? exts : NULL;
    char host[LL_PROXY_HOST_MAX];
    if (proxy) {
        const char *colon = strrchr(proxy, ':');
        snprintf(host, sizeof(host), "%.*s", (int)(colon - proxy), proxy);
        info.http_proxy_address = host;
        info.http_proxy_port = (unsigned)atoi(colon + 1);
    }
    return lws_create_vhost(l->ctx, &info);
}

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void free_vhost(ll_vhost *v)
{
    free(v->ca_file);
    free(v->proxy);
    free(v->name);
    free(v);
}

static ll_vhost *add_vhost(ll_loop *l, int tls, const char *ca_file, const char *proxy,
                           int deflate)
{
    ll_vhost *v = calloc(1, sizeof(*v));
    if (!v)
        return NULL;
    char name[32];
    snprintf(name, sizeof(name), "lifeline-%d", l->vhost_seq++);
    v->ca_file = ca_file ? strdup(ca_file) : NULL;
    v->proxy = proxy ? strdup(proxy) : NULL;
    v->deflate = deflate;
    v->tls = tls;
    v->name = strdup(name);
    v->vh = v->name ? make_vhost(l, tls, ca_file, proxy, deflate, v->name) : NULL;
    if (!v->vh || (ca_file && !v->ca_file) || (proxy && !v->proxy)) {
        free_vhost(v);
        return NULL;
    }
    v->next = l->vhosts;
    l->vhosts = v;
    return v;
}

int ll_vhost_default(ll_loop *l)
{
    return add_vhost(l, 0, NULL, NULL, 0) ? 0 : -1;
}

struct lws_vhost *ll_loop_vhost(ll_loop *l, const ll_conn_opts *o)
{
    int deflate = o->permessage_deflate != 0;
    /* one vhost for every server and the health check: TLS if any needs it
     * (a TLS vhost opens ws:// too) */
    int tls = o->health && o->health->secure;
    for (size_t i = 0; i < o->url_count; i++)
        tls |= o->urls[i].secure;
    for (ll_vhost *v = l->vhosts; v; v = v->next)
        if (v->tls == tls && same(v->ca_file, o->ca_file) && same(v->proxy, o->proxy) &&
            v->deflate == deflate)
            return v->vh;
    ll_vhost *v = add_vhost(l, tls, o->ca_file, o->proxy, deflate);
    return v ? v->vh : NULL;
}

void ll_vhosts_free(ll_loop *l)
{
    while (l->vhosts) {
        ll_vhost *v = l->vhosts;
        l->vhosts = v->next;
        free_vhost(v);
    }
}

/* permessage-deflate works from libwebsockets 4.2 on: 4.1's client spins
 * at 100 % CPU after its first compressed message and never reads again. */
int ll_transport_deflate_supported(void)
{
    int major = 0, minor = 0;
    if (sscanf(lws_get_library_version(), "%d.%d", &major, &minor) != 2)
        return 0;
    return major > 4 || (major == 4 && minor >= 2);
}
