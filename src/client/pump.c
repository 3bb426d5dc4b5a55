/* The glue between the core and the loop: app requests and transport
 * events go through the core (under the client's mutex); the actions it
 * returns are performed in order by the loop thread: calls to the
 * transport, and callbacks up to the app. One pump per client drains them.
 *
 * Data flows one way: the app calls in (any thread), the core decides, the
 * loop performs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_impl.h"

/* Run ev through the core and append its actions for the loop. mu held. */
static int feed_locked(lifeline_client *c, const ll_event *ev)
{
    int rc = ll_core_handle(&c->core, ev, ll_now_ms());
    size_t n = c->core.n_actions;
    if (n == 0)
        return rc;
    if (c->n_actions + n > c->cap_actions) {
        size_t cap = c->cap_actions ? c->cap_actions * 2 : LL_ACTIONS_FIRST;
        while (cap < c->n_actions + n)
            cap *= 2;
        ll_action *a = realloc(c->actions, cap * sizeof(*a));
        if (!a)
            abort(); /* a few hundred bytes; nothing sane is left to do */
        c->actions = a;
        c->cap_actions = cap;
    }
    memcpy(c->actions + c->n_actions, c->core.actions, n * sizeof(ll_action));
    c->n_actions += n;
    return rc;
}

void ll_client_post(lifeline_client *c, unsigned cmds)
{
    pthread_mutex_lock(&c->mu);
    /* commands already pending have a wake-up on its way: the loop takes
     * them all when it runs (ll_client_on_wake() clears them under mu) */
    int pending = (c->cmds & cmds) == cmds;
    c->cmds |= cmds;
    pthread_mutex_unlock(&c->mu);
    if (!pending)
        ll_conn_post(c->conn);
}

/* An app request: decide now (so the caller gets the answer), perform on
 * the loop. */
int ll_client_app_event(lifeline_client *c, ll_event_type type)
{
    pthread_mutex_lock(&c->mu);
    int was_closed = c->core.state == LIFELINE_STATE_CLOSED;
    int rc = feed_locked(c, &(ll_event){.type = type});
    int work = c->n_actions > 0;
    if (type == LL_EV_STOP) {
        c->closed_done = 0;
        c->stop_closed = was_closed; /* else when closed is performed */
        if (!was_closed)
            c->close_answered = 0; /* no close sent yet */
    }
    pthread_mutex_unlock(&c->mu);
    if (work || type == LL_EV_STOP)
        ll_client_post(c, LL_CMD_ACTIONS);
    return rc;
}

void ll_client_dispatch(lifeline_client *c, const ll_event *ev)
{
    pthread_mutex_lock(&c->mu);
    feed_locked(c, ev);
    pthread_mutex_unlock(&c->mu);
    ll_client_pump(c);
}

/* The loop thread is done with the current batch: the core's next
 * deadline is the transport's timer. */
static void arm_timer(lifeline_client *c)
{
    pthread_mutex_lock(&c->mu);
    int64_t deadline = ll_core_deadline(&c->core);
    int64_t rel = ll_rel_deadline_locked(c);
    pthread_mutex_unlock(&c->mu);
    ll_conn_timer(c->conn, rel < deadline ? rel : deadline);
}

static const char *reason_text(const ll_action *a)
{
    if (a->new_state == LIFELINE_STATE_CONNECTED)
        return "connected";
    if (a->new_state == LIFELINE_STATE_CONNECTING)
        return a->attempt ? "reconnecting" : "connecting";
    if (a->new_state == LIFELINE_STATE_CLOSED)
        return "stopped by the application";
    if (a->new_state == LIFELINE_STATE_SERVER_DOWN)
        return "retry budget spent: server judged down";
    return lifeline_strerror(a->error);
}

static void on_state(lifeline_client *c, const ll_action *a)
{
    if (c->rel && a->old_state == LIFELINE_STATE_CONNECTED)
        ll_rel_closed(c);
    if (a->new_state == LIFELINE_STATE_CLOSED) {
        if (c->rel)
            ll_rel_stopped(c); /* an outbox in memory: its messages too */
        /* what is still queued is reported before closed, the last event */
        pthread_mutex_lock(&c->mu);
        ll_client_drop_all_locked(c);
        c->stop_closed = 1;
        pthread_mutex_unlock(&c->mu);
        ll_client_report_dropped(c);
    }
    if (a->new_state == LIFELINE_STATE_CONNECTED && c->rel) {
        ll_rel_opened(c); /* the hello, then what the welcome says */
    } else if (a->new_state == LIFELINE_STATE_CONNECTED) {
        pthread_mutex_lock(&c->mu);
        int start = c->queue.count > 0;
        c->write_armed = start;
        pthread_mutex_unlock(&c->mu);
        if (start)
            ll_conn_want_write(c->conn);
    }
    /* the transport's own words on this failure, if it gave some with the
     * event that brought it (redacted: they may quote the server) */
    char detail[LL_CLIENT_DETAIL_MAX] = "";
    if (c->why && a->error && a->error == c->why->error &&
        (a->new_state == LIFELINE_STATE_DISCONNECTED || a->new_state == LIFELINE_STATE_ERROR)) {
        ll_redact(c->why->text, detail, sizeof(detail), c->secrets.list, c->secrets.count);
        c->why = NULL;
    }
    const char *url = c->url_shown[a->url_index];
    ll_client_log(c, LIFELINE_LOG_INFO, "state %s -> %s (attempt %d, url %d %s%s%s%s%s)",
                  lifeline_state_name(a->old_state), lifeline_state_name(a->new_state),
                  a->attempt, a->url_index, url, a->error ? ", " : "",
                  a->error ? lifeline_strerror(a->error) : "", *detail ? ": " : "", detail);
    if (c->cfg.on_state && !ll_client_quiet(c)) {
        char reason[LL_REASON_MAX], http[24] = "";
        if (a->http_status)
            snprintf(http, sizeof(http), " (HTTP %d)", a->http_status);
        snprintf(reason, sizeof(reason), "%s%s%s%s", reason_text(a), http, *detail ? ": " : "",
                 detail);
        lifeline_state_info info = {
            .old_state = a->old_state, .new_state = a->new_state, .attempt = a->attempt,
            .error = a->error, .http_status = a->http_status, .reason = reason,
            .url_index = a->url_index, .url = url,
        };
        c->cfg.on_state(c, &info, c->cfg.user_data);
    }
}

static void perform(lifeline_client *c, const ll_action *a)
{
    void *ud = c->cfg.user_data;
    switch (a->type) {
    case LL_ACT_CONNECT:
        ll_conn_connect(c->conn, a->conn_id, a->url_index);
        break;
    case LL_ACT_PROBE_HTTP:
        ll_conn_probe(c->conn, a->conn_id);
        break;
    case LL_ACT_CLOSE: {
        pthread_mutex_lock(&c->mu);
        int wait = c->stop_wait_ms;
        pthread_mutex_unlock(&c->mu);
        ll_conn_close(c->conn, a->conn_id, a->close_code, wait);
        /* a graceful close (stop) of an open connection: the transport
         * writes the queue, then the close frame, and awaits the answer
         * (bounded by wait); closed and what the queue still holds wait
         * for it (ll_client_pump()) */
        if (a->close_code == 1000 && ll_conn_busy(c->conn))
            c->closing = 1;
        break;
    }
    case LL_ACT_SEND_PING:
        ll_conn_ping(c->conn, a->seq);
        break;
    case LL_ACT_STATE:
        on_state(c, a);
        break;
    case LL_ACT_RETRY:
        ll_client_log(c, LIFELINE_LOG_INFO, "%s %d in %lld ms (url %d %s)",
                      a->probe ? "probe" : "retry", a->attempt, (long long)a->delay_ms,
                      a->url_index, c->url_shown[a->url_index]);
        if (c->cfg.on_retry && !ll_client_quiet(c)) {
            c->cfg.on_retry(c, a->attempt, a->delay_ms, a->probe, ud);
        }
        break;
    case LL_ACT_PONG:
        if (c->cfg.on_pong && !ll_client_quiet(c)) {
            c->cfg.on_pong(c, a->rtt_ms, a->quality, ud);
        }
        break;
    case LL_ACT_QUALITY:
        if (c->cfg.on_quality && !ll_client_quiet(c)) {
            c->cfg.on_quality(c, a->quality, ud);
        }
        break;
    case LL_ACT_SERVER_DOWN:
        ll_client_log(c, LIFELINE_LOG_WARN, "server judged down after %d attempts: %s",
                      a->attempt, lifeline_strerror(a->error));
        ll_alerts_server_down(c, a);
        break;
    case LL_ACT_RECOVERED:
        ll_client_log(c, LIFELINE_LOG_INFO, "server back after %lld ms down (url %d %s)",
                      (long long)a->downtime_ms, a->url_index, c->url_shown[a->url_index]);
        ll_alerts_recovered(c, a);
        break;
    default:
        break;
    }
}

/* A graceful close under way holds the actions back until the transport
 * has let go of the socket (written what it could, the server answered, or
 * the wait ran out): then closed is reported, after what is still queued
 * went to on_dropped. Returns 1 while it holds. */
static int closing(lifeline_client *c)
{
    if (!c->closing)
        return 0;
    if (ll_conn_busy(c->conn))
        return 1;
    c->closing = 0;
    int answered = ll_conn_close_answered(c->conn);
    pthread_mutex_lock(&c->mu);
    c->close_answered = answered;
    pthread_mutex_unlock(&c->mu);
    ll_client_log(c, LIFELINE_LOG_INFO, "close %s", answered ? "answered by the server"
                                                           : "not answered in time");
    return 0;
}

void ll_client_pump(lifeline_client *c)
{
    for (;;) {
        if (closing(c))
            break;
        pthread_mutex_lock(&c->mu);
        if (c->n_actions == 0) {
            pthread_mutex_unlock(&c->mu);
            break;
        }
        ll_action a = c->actions[0];
        memmove(c->actions, c->actions + 1, (c->n_actions - 1) * sizeof(ll_action));
        c->n_actions--;
        pthread_mutex_unlock(&c->mu);
        perform(c, &a);
    }
    ll_client_report_dropped(c);
    ll_client_flush_logs(c);
    ll_alerts_report(c);
    arm_timer(c);
    /* a stop is done when closed has been reported (the drop reports
     * before it), and then every action is performed and no socket is left,
     * or a callback has started the client again */
    pthread_mutex_lock(&c->mu);
    int restarted = c->core.state != LIFELINE_STATE_CLOSED;
    if (c->stop_closed && !c->closed_done &&
        (restarted || (c->n_actions == 0 && !ll_conn_busy(c->conn)))) {
        c->closed_done = 1;
        pthread_cond_broadcast(&c->cv);
    }
    /* freed from a callback: once closed, the loop frees it (free.c) */
    int free_it = c->closed_done && c->free_by == LL_FREE_BY_LOOP;
    pthread_mutex_unlock(&c->mu);
    if (free_it)
        ll_client_post(c, LL_CMD_FREE);
}

void ll_client_on_wake(void *owner)
{
    lifeline_client *c = owner;
    pthread_mutex_lock(&c->mu);
    unsigned cmds = c->cmds;
    c->cmds = 0;
    pthread_mutex_unlock(&c->mu);
    if (cmds & LL_CMD_FREE) {
        ll_client_let_go(c); /* c may be gone after this */
        return;
    }
    if (cmds & LL_CMD_WATCH)
        ll_conn_watch_network(c->conn, 1);
    if (cmds & LL_CMD_WRITE)
        ll_conn_want_write(c->conn);
    if (cmds & LL_CMD_APPENDED)
        ll_rel_on_appended(c);
    ll_client_pump(c); /* actions, dropped reports, timer */
}

void ll_client_on_event(void *owner, const ll_event *ev, const ll_detail *why)
{
    lifeline_client *c = owner;
    c->why = why; /* for the state change this event causes, during it */
    ll_client_dispatch(c, ev);
    c->why = NULL;
}

void ll_client_on_timer(void *owner)
{
    lifeline_client *c = owner;
    if (c->rel) {
        /* the earlier of two deadlines came: each gets its own tick */
        int64_t now = ll_now_ms();
        pthread_mutex_lock(&c->mu);
        int rel_due = ll_rel_deadline_locked(c) <= now;
        int core_due = ll_core_deadline(&c->core) <= now;
        pthread_mutex_unlock(&c->mu);
        if (rel_due)
            ll_rel_tick(c);
        if (!core_due) {
            ll_client_pump(c); /* the timer again */
            return;
        }
    }
    ll_client_dispatch(c, &(ll_event){.type = LL_EV_TICK});
}
