/* A lifeline_loop on the application's event loop (GLib, libuv): no thread
 * of ours. libwebsockets runs its context on that loop (its evlib plugins,
 * given the loop as a foreign loop), and everything the own-thread loop
 * does around lws_service() is done from the loop instead:
 *  - posted work: the wake-up is the same (lws_cancel_service(), whose
 *    pipe the application's loop watches), and EVENT_WAIT_CANCELLED drains;
 *  - log lines: a zero-delay timer delivers them;
 *  - timers: lws_sul timers, armed only from inside libwebsockets' own
 *    callbacks (a wake-up, a socket event, a timer), where the event
 *    library's timer is set again before control returns to the loop
 *    (libwebsockets 4.1 re-arms it after each socket event and each timer),
 *    so the core's deadlines hold; no call from the application arms one
 *    directly (every app call posts);
 *  - the end: libwebsockets' context cannot be destroyed from inside its
 *    own callbacks, and on libuv its handles close over later iterations
 *    (uv_close()): the adapter's defer() brings control back from the loop,
 *    once now and then until settled() says the handles have closed, when
 *    a second lws_context_destroy() completes it (as libwebsockets'
 *    minimal-http-server-eventlib-foreign does).
 * The loop's thread is the one that made the loop; ll_loop_on_thread() is
 * 1 there, callbacks or not. */
#include <stdlib.h>
#include <string.h>

#include "transport/conn.h"

/* Deferred calls the end waits for libuv's handles to close before it
 * gives up (a loop that never settles: the loop is leaked, not freed with
 * handles still closing). Each is one iteration of the loop. */
#define LL_FOREIGN_END_TRIES 10000

static void lines_due(lws_sorted_usec_list_t *sul)
{
    ll_loop *l = lws_container_of(sul, ll_loop, lines_sul);
    l->lines_armed = 0;
    ll_lines_deliver(l);
}

void ll_foreign_lines_soon(ll_loop *l)
{
    if (l->lines_armed || l->ending || !l->ctx)
        return;
    l->lines_armed = 1;
    lws_sul_schedule(l->ctx, 0, &l->lines_sul, lines_due, 1);
}

static void end(void *arg);

static void end_later(ll_loop *l)
{
    if (l->fx.defer(l->fx.adapter, end, l) != 0) {
        /* the adapter could not: nothing brings control back, the loop
         * stays (its memory too) rather than be freed under the loop */
        ll_lines_add(l, NULL, LIFELINE_LOG_ERROR,
                     "the event loop adapter refused a deferred call: loop not freed");
    }
}

/* From the loop, outside libwebsockets' callbacks (defer()). */
static void end(void *arg)
{
    ll_loop *l = arg;
    if (!l->ending) {
        l->ending = 1;
        ll_loop_set_current(NULL); /* libwebsockets' last lines go nowhere */
        if (l->lines_armed)
            lws_sul_cancel(&l->lines_sul);
        l->lines_armed = 0;
        lws_context_destroy(l->ctx); /* GLib: done; libuv: handles closing */
    } else if (l->ctx && (!l->fx.settled || l->fx.settled(l->fx.adapter))) {
        lws_context_destroy(l->ctx); /* libuv: the handles have closed */
    }
    if (l->ctx) { /* lws nulls it (pcontext) once the context is gone */
        if (++l->end_tries < LL_FOREIGN_END_TRIES)
            end_later(l);
        return;
    }
    void (*release)(void *) = l->fx.release;
    void *adapter = l->fx.adapter;
    ll_loop_destroy(l);
    if (release)
        release(adapter);
}

void ll_foreign_check_end(ll_loop *l)
{
    pthread_mutex_lock(&l->mu);
    int now = l->freeing_itself && l->n_members == 0 && !l->end_asked;
    if (now)
        l->end_asked = 1;
    pthread_mutex_unlock(&l->mu);
    if (now)
        end_later(l);
}

int ll_foreign_free(ll_loop *l)
{
    if (!ll_loop_on_thread(l))
        return LIFELINE_ERR_STATE; /* the context is the loop thread's */
    pthread_mutex_lock(&l->mu);
    int used = l->n_members > l->n_leaving;
    if (!used)
        l->freeing_itself = 1;
    pthread_mutex_unlock(&l->mu);
    if (used)
        return LIFELINE_ERR_STATE;
    /* members still leaving wake the loop as they go (detach()) */
    ll_foreign_check_end(l);
    return LIFELINE_OK;
}

int ll_loop_new_foreign(const lifeline_loop_foreign *fx, ll_loop **out)
{
    *out = NULL;
    uint64_t option;
    if (fx->kind == LIFELINE_LOOP_GLIB)
        option = LWS_SERVER_OPTION_GLIB;
    else if (fx->kind == LIFELINE_LOOP_LIBUV)
        option = LWS_SERVER_OPTION_LIBUV;
    else
        return LIFELINE_ERR_INVALID_ARGUMENT;
    if (!fx->loop || !fx->defer)
        return LIFELINE_ERR_INVALID_ARGUMENT;
    if (ll_loop_current())
        return LIFELINE_ERR_STATE; /* one loop per thread: log lines find it */
    ll_lines_route_lws_logs();
    ll_loop *l = calloc(1, sizeof(*l));
    if (!l)
        return LIFELINE_ERR_NO_MEMORY;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    l->foreign = 1;
    l->fx = *fx;
    if (ll_loop_context(l, option, fx->loop) != LIFELINE_OK) {
        /* a context made on the loop is gone at once: nothing was
         * serviced yet, libuv aside, whose handles then close later: the
         * loop is left to the usual end */
        if (l->ctx && fx->kind == LIFELINE_LOOP_LIBUV) {
            l->fx.release = NULL; /* the caller's on an error */
            ll_loop_set_current(l);
            l->freeing_itself = 1;
            ll_foreign_check_end(l);
            return LIFELINE_ERR_TRANSPORT;
        }
        ll_loop_destroy(l);
        return LIFELINE_ERR_TRANSPORT;
    }
    ll_loop_set_current(l);
    *out = l;
    return LIFELINE_OK;
}
