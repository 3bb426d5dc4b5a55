/* Freeing a client: lifeline_client_free() from any thread, its own
 * callbacks included (as hiredis's redisAsyncFree(): a free asked for from
 * a callback marks the client, and the loop frees it once the callback has
 * returned). See lifeline.h for the contract.
 *
 * Two ways, told apart by c->free_by (under mu):
 *  - LL_FREE_BY_CALLER: an app thread stops the client, waits for the loop
 *    thread to let go of it (the FREE command: the transport abandoned, no
 *    call up any more), then frees it itself. The wait is bounded: past
 *    it, the client is handed over to the loop (LL_FREE_BY_LOOP, quiet);
 *  - LL_FREE_BY_LOOP: from a callback on the client's loop thread. The
 *    client goes quiet at once (c->quiet: no callback starts any more) and
 *    stops as lifeline_client_stop() would, without a word: an open
 *    connection writes what is queued, is closed with 1000 and the
 *    server's answer awaited (all within the stop's wait); what is left is
 *    discarded without on_dropped.
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
    if (!by_loop) {
        pthread_mutex_lock(&c->mu);
        by_loop = c->free_by == LL_FREE_BY_LOOP; /* handed over meanwhile */
        if (!by_loop) {
            c->let_go = 1;
            pthread_cond_broadcast(&c->cv);
        }
        pthread_mutex_unlock(&c->mu);
    }
    if (by_loop)
        free_on_loop(c);
    /* else c is the caller's now: it may be freed at any moment */
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

/* The caller gave up waiting for the loop: the loop frees c when it gets
 * to the FREE command. From now on no callback starts. */
static void hand_over(lifeline_client *c)
{
    atomic_store(&c->quiet, 1);
    c->free_by = LL_FREE_BY_LOOP;
}

/* From any other thread: stop, wait for the loop to let go, free. Bounded
 * (lifeline.h): the close handshake (LL_STOP_WAIT_DEFAULT_MS) and the
 * alerts (LL_ALERTS_FREE_WAIT_MS) have their own bounds; the loop thread
 * gets LL_LOOP_GRACE_MS in all to come to the stop and to the FREE
 * command. When it does not (a callback that does not return holds it
 * up), the client is handed over to the loop, which frees it when it
 * gets there. */
static int free_now(lifeline_client *c)
{
    ll_conn_leave(c->conn);
    int64_t start = ll_client_clock_ms();
    lifeline_client_stop(c, LL_STOP_WAIT_DEFAULT_MS);
    int64_t alerts_from = ll_client_clock_ms();
    ll_alerts_free(c, LL_ALERTS_FREE_WAIT_MS);
    int64_t until = start + LL_STOP_WAIT_DEFAULT_MS + LL_LOOP_GRACE_MS +
                    (ll_client_clock_ms() - alerts_from);
    pthread_mutex_lock(&c->mu);
    c->free_by = LL_FREE_BY_CALLER;
    pthread_mutex_unlock(&c->mu);
    ll_client_post(c, LL_CMD_FREE);
    pthread_mutex_lock(&c->mu);
    int let_go = ll_client_wait(c, &c->let_go, until);
    if (!let_go)
        hand_over(c);
    pthread_mutex_unlock(&c->mu);
    if (!let_go)
        return LIFELINE_OK; /* c is the loop's now */
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
