/* lifeline_loop: one service thread, one libwebsockets context, any number
 * of clients. App threads post work to a client (under the loop's mutex)
 * and wake the thread with lws_cancel_service(), the one libwebsockets call
 * that is safe from another thread. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_impl.h"
#include "transport/conn.h"

typedef struct ll_vhost {
    struct ll_vhost *next;
    struct lws_vhost *vh;
    char *ca_file;
    char *proxy;
    int deflate;
    int tls;
    char *name;
} ll_vhost;

struct lifeline_loop {
    struct lws_context *ctx;
    pthread_t thread;
    int thread_started;
    pthread_mutex_t mu;          /* guards the fields below */
    pthread_cond_t cv;
    int stopping;
    int ready;                   /* the thread has entered its service loop */
    size_t n_clients;
    lifeline_client *dirty;      /* clients with pending commands */
    lifeline_client *clients;    /* every client on the loop */
    ll_vhost *vhosts;            /* loop thread only */
    int vhost_seq;               /* loop thread only */
};

/* The loop whose service thread this is. libwebsockets 4.1 has one
 * process-wide log hook; this is how its lines find the loop (and, while a
 * connection's work runs, the connection) they belong to. */
static __thread lifeline_loop *tls_loop;
static __thread ll_conn *tls_current;

ll_conn *ll_loop_enter(ll_conn *c)
{
    ll_conn *prev = tls_current;
    tls_current = c;
    return prev;
}

void ll_loop_exit(ll_conn *prev)
{
    tls_current = prev;
}

struct lws_context *ll_loop_context(ll_loop *l)
{
    return l->ctx;
}

static pthread_once_t lws_log_once = PTHREAD_ONCE_INIT;

static int lws_level_to_ours(int level)
{
    if (level & LLL_ERR)
        return LIFELINE_LOG_ERROR;
    if (level & LLL_WARN)
        return LIFELINE_LOG_WARN;
    return LIFELINE_LOG_DEBUG;
}

static void lws_log_emit(int level, const char *line)
{
    lifeline_loop *l = tls_loop;
    if (!l)
        return; /* not a lifeline loop thread: dropped, never printed */
    char buf[512];
    size_t n = strcspn(line, "\n");
    snprintf(buf, sizeof(buf), "lws: %.*s", (int)(n < 480 ? n : 480), line);
    int ours = lws_level_to_ours(level);
    if (tls_current) {
        tls_current->up->log(tls_current->owner, ours, buf);
        return;
    }
    /* no client is known: every client of this loop gets the line, later,
     * from its own pump (no callback runs under the loop's lock) */
    pthread_mutex_lock(&l->mu);
    for (lifeline_client *c = l->clients; c; c = c->next_on_loop)
        ll_client_log_later(c, ours, buf);
    pthread_mutex_unlock(&l->mu);
}

static void install_lws_log_hook(void)
{
    /* libwebsockets prints to stderr by default: this replaces that, once
     * for the process, with the routing above. */
    lws_set_log_level(LLL_ERR | LLL_WARN | LLL_NOTICE, lws_log_emit);
}

static void route_lws_logs(void)
{
    pthread_once(&lws_log_once, install_lws_log_hook);
}

int ll_loop_is_current(const lifeline_loop *loop)
{
    return tls_loop == loop;
}

/* Run the commands of every client that has some. The list is taken apart
 * under the lock (an app thread may post the same client again at once);
 * a client cannot be freed meanwhile: free waits for its DETACH to run
 * here. */
static void drain(lifeline_loop *l)
{
    lifeline_client *small[64], **list = small;
    size_t n = 0;
    pthread_mutex_lock(&l->mu);
    for (lifeline_client *c = l->dirty; c; c = c->next_dirty)
        n++;
    if (n > 64 && !(list = malloc(n * sizeof(*list)))) {
        list = small; /* out of memory: these now, the rest next time */
        n = 64;
    }
    for (size_t i = 0; i < n; i++) {
        lifeline_client *c = l->dirty;
        l->dirty = c->next_dirty;
        c->next_dirty = NULL;
        c->is_dirty = 0;
        list[i] = c;
    }
    pthread_mutex_unlock(&l->mu);
    for (size_t i = 0; i < n; i++) {
        ll_conn *prev = ll_loop_enter(list[i]->conn);
        ll_client_on_wake(list[i]);
        ll_loop_exit(prev);
    }
    if (list != small)
        free(list);
}

/* protocols[0] of every vhost gets EVENT_WAIT_CANCELLED: drain once. */
int ll_loop_on_wake(struct lws *wsi)
{
    lifeline_loop *l = lws_context_user(lws_get_context(wsi));
    if (l)
        drain(l);
    return 0;
}

static void *loop_main(void *arg)
{
    lifeline_loop *l = arg;
    tls_loop = l;
    pthread_mutex_lock(&l->mu);
    l->ready = 1;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    for (;;) {
        pthread_mutex_lock(&l->mu);
        int stop = l->stopping;
        pthread_mutex_unlock(&l->mu);
        if (stop)
            break;
        if (lws_service(l->ctx, 0) < 0)
            break;
        drain(l); /* work posted between the wake and the callback */
    }
    tls_loop = NULL;
    return NULL;
}

/* A client-only vhost. Only a TLS one gets an SSL_CTX: building one loads
 * the system's CA store, which costs tens of milliseconds and most of a
 * megabyte, so plain ws:// clients never pay for it. */
static struct lws_vhost *make_vhost(lifeline_loop *l, int tls, const char *ca_file,
                                    const char *proxy, int deflate, const char *name)
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
    char host[256];
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

struct lws_vhost *ll_loop_vhost(lifeline_loop *l, const ll_conn_opts *o)
{
    int deflate = o->permessage_deflate != 0;
    int tls = o->url->secure || (o->health && o->health->secure);
    const char *ca_file = o->ca_file, *proxy = o->proxy;
    for (ll_vhost *v = l->vhosts; v; v = v->next)
        if (v->tls == tls && same(v->ca_file, ca_file) && same(v->proxy, proxy) &&
            v->deflate == deflate)
            return v->vh;
    ll_vhost *v = calloc(1, sizeof(*v));
    if (!v)
        return NULL;
    char name[32];
    snprintf(name, sizeof(name), "lifeline-%d", ++l->vhost_seq);
    v->ca_file = ca_file ? strdup(ca_file) : NULL;
    v->proxy = proxy ? strdup(proxy) : NULL;
    v->deflate = deflate;
    v->tls = tls;
    v->name = strdup(name);
    v->vh = make_vhost(l, tls, ca_file, proxy, deflate, v->name);
    if (!v->vh || !v->name || (ca_file && !v->ca_file) || (proxy && !v->proxy)) {
        free(v->ca_file);
        free(v->proxy);
        free(v->name);
        free(v);
        return NULL;
    }
    v->next = l->vhosts;
    l->vhosts = v;
    return v->vh;
}

int lifeline_loop_new(lifeline_loop **out)
{
    if (!out)
        return LIFELINE_ERR_INVALID_ARGUMENT;
    *out = NULL;
    route_lws_logs();
    lifeline_loop *l = calloc(1, sizeof(*l));
    if (!l)
        return LIFELINE_ERR_NO_MEMORY;
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&l->mu, &ma);
    pthread_mutexattr_destroy(&ma);
    pthread_cond_init(&l->cv, NULL);

    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = ll_protocols;
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    info.user = l;
    info.gid = (gid_t)-1;
    info.uid = (uid_t)-1;
    l->ctx = lws_create_context(&info);
    int err = LIFELINE_ERR_TRANSPORT;
    /* the default vhost exists before the thread, so wake-ups always land */
    ll_vhost *v = calloc(1, sizeof(*v));
    if (!l->ctx || !v)
        goto fail;
    v->name = strdup("lifeline-0");
    v->vh = v->name ? make_vhost(l, 0, NULL, NULL, 0, v->name) : NULL;
    if (!v->vh)
        goto fail;
    l->vhosts = v;
    v = NULL;
    if (pthread_create(&l->thread, NULL, loop_main, l) != 0) {
        err = LIFELINE_ERR_SYSTEM;
        goto fail;
    }
    l->thread_started = 1;
    pthread_mutex_lock(&l->mu);
    while (!l->ready)
        pthread_cond_wait(&l->cv, &l->mu);
    pthread_mutex_unlock(&l->mu);
    *out = l;
    return LIFELINE_OK;
fail:
    if (v) {
        free(v->name);
        free(v);
    }
    lifeline_loop_free(l);
    return err;
}

int lifeline_loop_free(lifeline_loop *l)
{
    if (!l)
        return LIFELINE_OK;
    if (ll_loop_is_current(l))
        return LIFELINE_ERR_IN_CALLBACK;
    pthread_mutex_lock(&l->mu);
    if (l->n_clients) {
        pthread_mutex_unlock(&l->mu);
        return LIFELINE_ERR_STATE;
    }
    l->stopping = 1;
    pthread_mutex_unlock(&l->mu);
    if (l->thread_started) {
        lws_cancel_service(l->ctx);
        pthread_join(l->thread, NULL);
    }
    if (l->ctx)
        lws_context_destroy(l->ctx);
    while (l->vhosts) {
        ll_vhost *v = l->vhosts;
        l->vhosts = v->next;
        free(v->ca_file);
        free(v->proxy);
        free(v->name);
        free(v);
    }
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
    free(l);
    return LIFELINE_OK;
}

int ll_loop_attach(lifeline_loop *l, lifeline_client *c)
{
    pthread_mutex_lock(&l->mu);
    if (l->stopping) {
        pthread_mutex_unlock(&l->mu);
        return LIFELINE_ERR_CONFIG_LOOP;
    }
    c->next_on_loop = l->clients;
    l->clients = c;
    l->n_clients++;
    pthread_mutex_unlock(&l->mu);
    return LIFELINE_OK;
}

void ll_loop_detach(lifeline_loop *l, lifeline_client *c)
{
    pthread_mutex_lock(&l->mu);
    for (lifeline_client **p = &l->clients; *p; p = &(*p)->next_on_loop) {
        if (*p == c) {
            *p = c->next_on_loop;
            l->n_clients--;
            break;
        }
    }
    if (c->is_dirty) { /* never left pending on the loop */
        for (lifeline_client **p = &l->dirty; *p; p = &(*p)->next_dirty) {
            if (*p == c) {
                *p = c->next_dirty;
                break;
            }
        }
        c->is_dirty = 0;
    }
    pthread_mutex_unlock(&l->mu);
}

void ll_loop_post(lifeline_client *c, unsigned cmds)
{
    lifeline_loop *l = c->loop;
    pthread_mutex_lock(&c->mu);
    c->cmds |= cmds;
    pthread_mutex_unlock(&c->mu);
    pthread_mutex_lock(&l->mu);
    if (!c->is_dirty) {
        c->is_dirty = 1;
        c->next_dirty = l->dirty;
        l->dirty = c;
    }
    pthread_mutex_unlock(&l->mu);
    lws_cancel_service(l->ctx);
}
