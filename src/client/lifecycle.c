/* A client's life: lifeline_client_new(), start, reconnect_now, stop and
 * free, and its state; and the public face of the loops it runs on. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "client/client_impl.h"
#include "client/sized.h"

const ll_transport_events ll_client_events = {
    .event = ll_client_on_event,
    .message = ll_client_on_message,
    .next_out = ll_client_next_out,
    .written = ll_client_written,
    .log = ll_client_on_log,
    .wake = ll_client_on_wake,
    .timer = ll_client_on_timer,
};

void ll_client_destroy(lifeline_client *c)
{
    ll_conn_free(c->conn);
    ll_client_free_config(c);
    free(c->writing); /* a write the transport never settled (abandoned) */
    ll_rel_free(c);
    ll_msg *m;
    while ((m = ll_queue_pop(&c->queue)))
        free(m);
    while ((m = ll_queue_pop(&c->dropped)))
        free(m);
    free(c->actions);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* The core, the queues and the alerts, from the client's copy of its
 * config. */
static int init_parts(lifeline_client *c)
{
    c->seed = c->cfg.random_seed;
    if (!c->seed && getrandom(&c->seed, sizeof(c->seed), 0) != (ssize_t)sizeof(c->seed))
        c->seed = (uint64_t)ll_now_ms() ^ (uint64_t)(uintptr_t)c;
    ll_core_init(&c->core, &c->cfg, c->seed);
    ll_queue_init(&c->queue, c->cfg.queue_max_messages, c->cfg.queue_max_bytes);
    ll_queue_init(&c->dropped, SIZE_MAX, SIZE_MAX);
    c->stop_wait_ms = LL_STOP_WAIT_DEFAULT_MS;
    if (c->cfg.delivery == LIFELINE_DELIVERY_RELIABLE) {
        char why[256];
        int rc = ll_rel_new(c, why, sizeof(why));
        if (rc)
            return rc; /* lifeline_outbox_check() says why */
    }
    return ll_alerts_init(c);
}

/* The loop: the one the config names, or a loop of the client's own. */
static int join_loop(lifeline_client *c, lifeline_loop *loop)
{
    if (loop) {
        c->loop = loop;
    } else {
        int rc = lifeline_loop_new(&c->loop);
        if (rc)
            return rc;
        c->owns_loop = 1;
    }
    ll_conn_opts opts;
    ll_client_conn_opts(c, &opts);
    int rc = ll_conn_new(c->loop, &opts, &ll_client_events, c, &c->conn);
    if (rc && c->owns_loop)
        lifeline_loop_free(c->loop);
    return rc;
}

int lifeline_client_new(const lifeline_config *cfg, lifeline_client **out)
{
    if (!out)
        return LIFELINE_ERR_INVALID_ARGUMENT;
    *out = NULL;
    /* the application's struct may be older (smaller) than ours: from here
     * on, cfg is a full copy with defaults for what it lacks */
    lifeline_config full;
    int rc = ll_config_widen(cfg, &full);
    if (rc)
        return rc;
    /* every rule on the config, the transport's included (permessage-deflate
     * on libwebsockets 4.1, a CA file that cannot be read) */
    rc = lifeline_config_validate(&full);
    if (rc)
        return rc;
    lifeline_client *c = calloc(1, sizeof(*c));
    if (!c)
        return LIFELINE_ERR_NO_MEMORY;
    pthread_mutex_init(&c->mu, NULL);
    /* the waits measure time on the monotonic clock: a change of the
     * wall clock neither cuts them short nor draws them out */
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cv, &ca);
    pthread_condattr_destroy(&ca);
    rc = ll_client_copy_config(c, &full);
    if (!rc)
        rc = init_parts(c);
    if (!rc)
        rc = join_loop(c, full.loop);
    if (rc) {
        ll_alerts_free(c, 0);
        ll_client_destroy(c);
        return rc;
    }
    if (c->cfg.watch_network)
        ll_client_post(c, LL_CMD_WATCH); /* the watcher lives on the loop */
    *out = c;
    return LIFELINE_OK;
}

int lifeline_client_start(lifeline_client *c)
{
    if (!c)
        return LIFELINE_ERR_INVALID_ARGUMENT;
    return ll_client_app_event(c, LL_EV_START);
}

int lifeline_client_reconnect_now(lifeline_client *c)
{
    if (!c)
        return LIFELINE_ERR_INVALID_ARGUMENT;
    return ll_client_app_event(c, LL_EV_RECONNECT_NOW);
}

int lifeline_client_network_changed(lifeline_client *c)
{
    if (!c)
        return LIFELINE_ERR_INVALID_ARGUMENT;
    return ll_client_app_event(c, LL_EV_NETWORK_CHANGED);
}

int lifeline_client_state(lifeline_client *c)
{
    if (!c)
        return LIFELINE_STATE_IDLE;
    pthread_mutex_lock(&c->mu);
    int s = c->core.state;
    pthread_mutex_unlock(&c->mu);
    return s;
}

int64_t ll_client_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ll_client_wait(lifeline_client *c, const int *flag, int64_t until_ms)
{
    struct timespec until = {.tv_sec = (time_t)(until_ms / 1000),
                             .tv_nsec = (long)(until_ms % 1000) * 1000000};
    while (!*flag)
        if (pthread_cond_timedwait(&c->cv, &c->mu, &until) == ETIMEDOUT)
            break;
    return *flag;
}

int lifeline_client_stop(lifeline_client *c, int timeout_ms)
{
    if (!c)
        return LIFELINE_ERR_INVALID_ARGUMENT;
    if (timeout_ms < 0)
        timeout_ms = LL_STOP_WAIT_DEFAULT_MS;
    pthread_mutex_lock(&c->mu);
    c->stop_wait_ms = timeout_ms;
    pthread_mutex_unlock(&c->mu);
    ll_client_app_event(c, LL_EV_STOP);
    if (ll_loop_on_thread(c->loop))
        return LIFELINE_OK; /* from a callback: completes after it returns */
    /* the close handshake is bounded by timeout_ms on the loop's side; the
     * grace covers the loop getting to it */
    int64_t until = ll_client_clock_ms() + timeout_ms + LL_LOOP_GRACE_MS;
    pthread_mutex_lock(&c->mu);
    int closed = ll_client_wait(c, &c->closed_done, until);
    pthread_mutex_unlock(&c->mu);
    return closed ? LIFELINE_OK : LIFELINE_ERR_TIMEOUT;
}

int lifeline_loop_new(lifeline_loop **out)
{
    if (!out)
        return LIFELINE_ERR_INVALID_ARGUMENT;
    return ll_loop_new(out);
}

int lifeline_loop_new_foreign_sized(const lifeline_loop_foreign *desc, size_t size,
                                    lifeline_loop **out)
{
    if (!out)
        return LIFELINE_ERR_INVALID_ARGUMENT;
    *out = NULL;
    /* the application's description may be older (smaller) than ours: what
     * it lacks is zero; every field of the first version is required */
    if (!desc || size < LL_END_OF(lifeline_loop_foreign, release) ||
        size > sizeof(lifeline_loop_foreign))
        return LIFELINE_ERR_INVALID_ARGUMENT;
    lifeline_loop_foreign full;
    memset(&full, 0, sizeof(full));
    memcpy(&full, desc, size);
    return ll_loop_new_foreign(&full, out);
}

int lifeline_loop_free(lifeline_loop *loop)
{
    if (!loop)
        return LIFELINE_OK;
    if (ll_loop_on_thread(loop))
        return ll_loop_free_later(loop); /* from a callback: after it */
    return ll_loop_free(loop);
}
