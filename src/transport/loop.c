/* lifeline_loop: one service thread, one libwebsockets context, any number
 * of connections (its members). Other threads post work to a connection
 * (under the loop's mutex) and wake the thread with lws_cancel_service(),
 * the one libwebsockets call that is safe from another thread; the loop
 * then calls each posted connection's events->wake. */
#include <stdlib.h>
#include <string.h>

#include "transport/conn.h"

/* The loop whose service thread this is: libwebsockets 4.1 has one
 * process-wide log hook, and this is how its lines find their loop (and,
 * while a connection's work runs, their connection). */
static __thread ll_loop *tls_loop;
static __thread ll_conn *tls_current;

/* The most posted connections one wake-up runs without allocating. */
#define LL_DRAIN_BATCH 64

ll_loop *ll_loop_current(void)
{
    return tls_loop;
}

ll_conn *ll_loop_current_conn(void)
{
    return tls_current;
}

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

int ll_loop_on_thread(const ll_loop *loop)
{
    return loop && tls_loop == loop;
}

void ll_loop_set_current(ll_loop *l)
{
    tls_loop = l;
}

/* ---- posted work -------------------------------------------------------------- */

/* Run events->wake of every posted connection. The list is taken apart
 * under the lock (another thread may post the same connection again at
 * once); a connection is not freed meanwhile: another thread frees it only
 * after this thread has abandoned it, and this thread frees it only from
 * its own wake. */
void ll_loop_drain(ll_loop *l)
{
    ll_conn *small[LL_DRAIN_BATCH], **list = small;
    size_t n = 0;
    pthread_mutex_lock(&l->mu);
    for (ll_conn *c = l->dirty; c; c = c->next_dirty)
        n++;
    if (n > LL_DRAIN_BATCH && !(list = malloc(n * sizeof(*list)))) {
        list = small; /* out of memory: these now, the rest next time */
        n = LL_DRAIN_BATCH;
    }
    for (size_t i = 0; i < n; i++) {
        ll_conn *c = l->dirty;
        l->dirty = c->next_dirty;
        c->next_dirty = NULL;
        c->is_dirty = 0;
        list[i] = c;
    }
    pthread_mutex_unlock(&l->mu);
    for (size_t i = 0; i < n; i++) {
        ll_conn *c = list[i];
        if (c->abandoned)
            continue;
        ll_lines_deliver(l);
        ll_conn_settle(c, NULL);
        ll_conn *prev = ll_loop_enter(c);
        c->up->wake(c->owner);
        ll_loop_exit(prev);
    }
    if (list != small)
        free(list);
}

/* protocols[0] of every vhost gets EVENT_WAIT_CANCELLED: drain once. */
int ll_loop_on_wake(struct lws *wsi)
{
    ll_loop *l = lws_context_user(lws_get_context(wsi));
    if (l)
        ll_loop_drain(l);
    if (l && l->foreign)
        ll_foreign_check_end(l); /* no thread of ours checks it */
    return 0;
}

void ll_conn_post(ll_conn *c)
{
    ll_loop *l = c->loop;
    pthread_mutex_lock(&l->mu);
    if (!c->is_dirty) {
        c->is_dirty = 1;
        c->next_dirty = l->dirty;
        l->dirty = c;
    }
    pthread_mutex_unlock(&l->mu);
    lws_cancel_service(l->ctx);
}

/* ---- members -------------------------------------------------------------------- */

static int attach(ll_loop *l, ll_conn *c)
{
    pthread_mutex_lock(&l->mu);
    int refused = l->stopping || l->freeing_itself;
    if (!refused) {
        c->next_member = l->members;
        l->members = c;
        l->n_members++;
    }
    pthread_mutex_unlock(&l->mu);
    return refused ? LIFELINE_ERR_CONFIG_LOOP : LIFELINE_OK;
}

static void unlink_conn(ll_conn **head, ll_conn *c, size_t offset)
{
    for (ll_conn **p = head; *p; p = (ll_conn **)((char *)*p + offset)) {
        if (*p == c) {
            *p = *(ll_conn **)((char *)c + offset);
            return;
        }
    }
}

/* After this, the loop never sees c again. When the loop is freeing
 * itself, the wake-up under the lock lets it see its last member go (it
 * cannot have freed itself before the lock is released). */
static void detach(ll_loop *l, ll_conn *c)
{
    pthread_mutex_lock(&l->mu);
    unlink_conn(&l->members, c, offsetof(ll_conn, next_member));
    l->n_members--;
    if (c->leaving)
        l->n_leaving--;
    if (c->is_dirty) /* never left pending on the loop */
        unlink_conn(&l->dirty, c, offsetof(ll_conn, next_dirty));
    c->is_dirty = 0;
    if (l->freeing_itself)
        lws_cancel_service(l->ctx);
    pthread_mutex_unlock(&l->mu);
}

int ll_conn_new(ll_loop *loop, const ll_conn_opts *opts, const ll_transport_events *events,
                void *owner, ll_conn **out)
{
    ll_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return LIFELINE_ERR_NO_MEMORY;
    c->loop = loop;
    c->opts = *opts;
    c->up = events;
    c->owner = owner;
    int rc = attach(loop, c);
    if (rc) {
        free(c);
        return rc;
    }
    *out = c;
    return LIFELINE_OK;
}

void ll_conn_leave(ll_conn *c)
{
    pthread_mutex_lock(&c->loop->mu);
    if (!c->leaving) {
        c->leaving = 1;
        c->loop->n_leaving++;
    }
    pthread_mutex_unlock(&c->loop->mu);
}

void ll_conn_free(ll_conn *c)
{
    if (!c)
        return;
    if (tls_current == c) /* freed from its own work: lines go nowhere */
        tls_current = NULL;
    detach(c->loop, c);
    free(c->rx);
    free(c->tx);
    free(c);
}

/* ---- the thread ----------------------------------------------------------------- */

void ll_loop_destroy(ll_loop *l)
{
    if (l->ctx)
        lws_context_destroy(l->ctx);
    ll_vhosts_free(l);
    ll_lines_free(l);
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

static int should_end(ll_loop *l)
{
    pthread_mutex_lock(&l->mu);
    int end = l->stopping || (l->freeing_itself && l->n_members == 0);
    pthread_mutex_unlock(&l->mu);
    return end;
}

static void *loop_main(void *arg)
{
    ll_loop *l = arg;
    tls_loop = l;
    pthread_mutex_lock(&l->mu);
    l->ready = 1;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    while (!should_end(l)) {
        if (lws_service(l->ctx, 0) < 0)
            break;
        ll_loop_drain(l); /* work posted between the wake and the callback */
        ll_lines_deliver(l);
    }
    if (l->freeing_itself) { /* nobody joins this thread: it frees the loop */
        pthread_detach(pthread_self());
        ll_loop_destroy(l);
    }
    tls_loop = NULL;
    return NULL;
}

int ll_loop_context(ll_loop *l, uint64_t options, void *foreign_loop)
{
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = ll_protocols;
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | options;
    info.user = l;
    info.gid = (gid_t)-1;
    info.uid = (uid_t)-1;
    void *foreign_loops[1] = {foreign_loop};
    if (foreign_loop) {
        info.foreign_loops = foreign_loops;
        /* libwebsockets writes NULL there once the context is gone: on a
         * foreign libuv loop that is some iterations after the destroy */
        info.pcontext = &l->ctx;
    }
    l->ctx = lws_create_context(&info);
    /* the default vhost exists before the loop runs, so wake-ups always
     * land */
    return l->ctx && ll_vhost_default(l) == 0 ? LIFELINE_OK : LIFELINE_ERR_TRANSPORT;
}

int ll_loop_new(ll_loop **out)
{
    *out = NULL;
    ll_lines_route_lws_logs();
    ll_loop *l = calloc(1, sizeof(*l));
    if (!l)
        return LIFELINE_ERR_NO_MEMORY;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    if (ll_loop_context(l, 0, NULL) != LIFELINE_OK) {
        ll_loop_destroy(l);
        return LIFELINE_ERR_TRANSPORT;
    }
    if (pthread_create(&l->thread, NULL, loop_main, l) != 0) {
        ll_loop_destroy(l);
        return LIFELINE_ERR_SYSTEM;
    }
    l->thread_started = 1;
    pthread_mutex_lock(&l->mu);
    while (!l->ready)
        pthread_cond_wait(&l->cv, &l->mu);
    pthread_mutex_unlock(&l->mu);
    *out = l;
    return LIFELINE_OK;
}

int ll_loop_free(ll_loop *l)
{
    if (l->foreign)
        return ll_foreign_free(l);
    pthread_mutex_lock(&l->mu);
    int used = l->n_members > 0;
    if (!used)
        l->stopping = 1;
    pthread_mutex_unlock(&l->mu);
    if (used)
        return LIFELINE_ERR_STATE;
    lws_cancel_service(l->ctx);
    pthread_join(l->thread, NULL);
    ll_loop_destroy(l);
    return LIFELINE_OK;
}

int ll_loop_free_later(ll_loop *l)
{
    if (l->foreign)
        return ll_foreign_free(l);
    pthread_mutex_lock(&l->mu);
    int used = l->n_members > l->n_leaving;
    if (!used)
        l->freeing_itself = 1;
    pthread_mutex_unlock(&l->mu);
    return used ? LIFELINE_ERR_STATE : LIFELINE_OK;
}
