/* Freeing a client: lifeline_client_free() from any thread, its own
 * callbacks included (as hiredis's redisAsyncFree(): a free asked for from
 * a callback marks the client, and the loop frees it once the callback has
 * returned). See lifeline.h for the contract.
 *
 * Two ways, told apart by c->free_by (under mu):
 *  - LL_FREE_BY_CALLER: an app thread stops the client, waits for the loop
 *    thread to let go of it (the FREE command: the transport abandoned, no
 *    call up any more), then frees it itself;
 *  - LL_FREE_BY_LOOP: from a callback on the client's loop thread. The
 *    client goes quiet at once (c->quiet: no callback starts any more) and
 *    stops as lifeline_client_stop() would, without a word: what is still
 *    queued is discarded without on_dropped, an open connection is closed
 *    with 1000 and the server's answer awaited (at most the stop's wait).
 *    Once closed, the pump posts the FREE command, and the loop frees the
 *    client there. A client with a loop of its own lets the loop free
 *    itself afterwards (its thread ends). */
#include <stdlib.h>

#include "client/client_impl.h"

/* The notifier's worker is joined when the loop frees a client: alerts
 * still queued are abandoned at once (a delivery in flight is aborted by
 * libcurl's progress callback). */
#define LL_ALERTS_ABANDON_MS 0

/* The loop frees c (loop thread, from the FREE command). */
static void free_on_loop(lifeline_client *c)
{
    ll_alerts_free(c, LL_ALERTS_ABANDON_MS);
    ll_conn_free(c->conn); /* leaves the loop */
    c->conn = NULL;
    lifeline_loop *loop = c->loop;
    int owns_loop = c->owns_loop;
    ll_client_destroy(c);
    if (owns_loop)
        ll_loop_free_later(loop); /* no member left: it ends after this */
}

void ll_client_let_go(lifeline_client *c)
{
    pthread_mutex_lock(&c->mu);
    int by_loop = c->free_by == LL_FREE_BY_LOOP;
    pthread_mutex_unlock(&c->mu);
    ll_conn_abandon(c->conn); /* nothing is called up any more */
    if (by_loop) {
        free_on_loop(c);
        return;
    }
    pthread_mutex_lock(&c->mu);
    c->let_go = 1;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    /* c is the caller's now: it may be freed at any moment */
}

/* From a callback on the client's loop thread: freed after it returns. */
static int free_later(lifeline_client *c)
{
    if (atomic_exchange(&c->quiet, 1))
        return LIFELINE_OK; /* freed already: nothing more to do */
    ll_conn_leave(c->conn);
    pthread_mutex_lock(&c->mu);
    c->free_by = LL_FREE_BY_LOOP;
    pthread_mutex_unlock(&c->mu);
    ll_client_app_event(c, LL_EV_STOP); /* closed, the pump posts FREE */
    return LIFELINE_OK;
}

/* From any other thread: stop, wait for the loop to let go, free. */
static int free_now(lifeline_client *c)
{
    ll_conn_leave(c->conn);
    lifeline_client_stop(c, -1);
    ll_alerts_free(c, LL_ALERTS_FREE_WAIT_MS);
    pthread_mutex_lock(&c->mu);
    c->free_by = LL_FREE_BY_CALLER;
    pthread_mutex_unlock(&c->mu);
    ll_client_post(c, LL_CMD_FREE);
    pthread_mutex_lock(&c->mu);
    while (!c->let_go)
        pthread_cond_wait(&c->cv, &c->mu);
    pthread_mutex_unlock(&c->mu);
    ll_conn_free(c->conn); /* leaves the loop */
    c->conn = NULL;
    if (c->owns_loop)
        ll_loop_free(c->loop);
    ll_client_destroy(c);
    return LIFELINE_OK;
}

int lifeline_client_free(lifeline_client *c)
{
    if (!c)
        return LIFELINE_OK;
    if (ll_loop_on_thread(c->loop))
        return free_later(c);
    return free_now(c);
}
