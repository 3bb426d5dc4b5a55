/* A client's connection: its timers, the reports held for the loop, the
 * calls down that do not open anything (close, want_write, ping, abandon),
 * the write path, and the words it reports up with. See transport.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "transport/conn.h"

int64_t ll_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- what goes up ------------------------------------------------------------ */

/* A log line this long is made without allocating. */
#define LL_LINE_SMALL 512

void ll_conn_log(ll_conn *c, int level, const char *fmt, ...)
{
    if (level > c->opts.log_level || c->abandoned)
        return;
    /* the whole line, however long: the owner redacts it before it cuts
     * it (a secret cut in half would escape the redaction). It waits for
     * the loop: this may run inside a call down (transport.h). */
    char small[LL_LINE_SMALL], *line = small;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(small)) {
        if (!(line = malloc((size_t)n + 1)))
            return;
        va_start(ap, fmt);
        vsnprintf(line, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    ll_lines_add(c->loop, c, level, line);
    if (line != small)
        free(line);
}

void ll_conn_detail(ll_conn *c, int error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
    va_end(ap);
    c->detail_error = error;
}

void ll_conn_settle(ll_conn *c, struct lws *wsi)
{
    int held = c->write_held;
    if (!held)
        return;
    c->write_held = LL_HELD_NONE;
    int ok = held == LL_HELD_PARTIAL && !(wsi && lws_partial_buffered(wsi));
    ll_conn *prev = ll_loop_enter(c);
    c->up->written(c->owner, ok);
    ll_loop_exit(prev);
}

static void call_event(ll_conn *c, const ll_event *ev, int detail_error, const char *detail)
{
    ll_detail why = {.error = detail_error, .text = detail};
    ll_lines_deliver(c->loop); /* the lines made before it come first */
    ll_conn_settle(c, NULL); /* a socket dropped from a call down */
    ll_conn *prev = ll_loop_enter(c);
    c->up->event(c->owner, ev, detail_error ? &why : NULL);
    ll_loop_exit(prev);
}

void ll_conn_report(ll_conn *c, const ll_event *ev, int with_detail)
{
    if (c->abandoned)
        return;
    int error = with_detail ? c->detail_error : 0;
    if (with_detail)
        c->detail_error = 0; /* used: it explains this failure only */
    call_event(c, ev, error, c->detail);
}

static void deliver_reports(lws_sorted_usec_list_t *sul)
{
    ll_conn *c = lws_container_of(sul, ll_conn, report_sul);
    ll_report *order[] = {&c->report_ws, &c->report_probe};
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]) && !c->abandoned; i++) {
        ll_report r = *order[i];
        if (!r.pending)
            continue;
        order[i]->pending = 0;
        call_event(c, &r.ev, r.detail_error, c->detail);
    }
}

void ll_conn_report_later(ll_conn *c, const ll_event *ev, int with_detail)
{
    int probe = ev->type == LL_EV_PROBE_OK || ev->type == LL_EV_PROBE_FAILED;
    ll_report *r = probe ? &c->report_probe : &c->report_ws;
    if (r->pending && r->ev.conn_id == ev->conn_id)
        return; /* the first word on an attempt is the one that counts */
    r->pending = 1;
    r->ev = *ev;
    r->detail_error = with_detail ? c->detail_error : 0;
    if (with_detail)
        c->detail_error = 0; /* used: it explains this failure only */
    lws_sul_schedule(c->loop->ctx, 0, &c->report_sul, deliver_reports, 1);
}

void ll_conn_drop_reports(ll_conn *c, uint32_t conn_id)
{
    if (c->report_ws.ev.conn_id == conn_id)
        c->report_ws.pending = 0;
    if (c->report_probe.ev.conn_id == conn_id)
        c->report_probe.pending = 0;
}

/* ---- timers -------------------------------------------------------------------- */

static void timer_fired(lws_sorted_usec_list_t *sul)
{
    ll_conn *c = lws_container_of(sul, ll_conn, timer_sul);
    if (c->abandoned)
        return;
    ll_lines_deliver(c->loop);
    ll_conn_settle(c, NULL);
    ll_conn *prev = ll_loop_enter(c);
    c->up->timer(c->owner);
    ll_loop_exit(prev);
}

void ll_conn_timer(ll_conn *c, int64_t at_ms)
{
    if (at_ms == LL_NO_DEADLINE) {
        lws_sul_cancel(&c->timer_sul);
        return;
    }
    int64_t in = at_ms - ll_now_ms();
    if (in < 0)
        in = 0;
    lws_sul_schedule(c->loop->ctx, 0, &c->timer_sul, timer_fired,
                     (lws_usec_t)in * LWS_US_PER_MS);
}

/* ---- letting go -------------------------------------------------------------- */

void ll_conn_kill_wsi(struct lws *wsi)
{
    lws_set_opaque_user_data(wsi, NULL);
    lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

void ll_conn_forget(ll_conn *c)
{
    if (c->wsi)
        lws_set_opaque_user_data(c->wsi, NULL);
    if (c->write_held)
        c->write_held = LL_HELD_LOST; /* settled from the loop, next */
    c->wsi = NULL;
    c->wsi_open = 0;
    c->close_code = 0;
    c->close_handed = 0;
    c->ping_seq = 0;
    c->out_pending = 0;
    c->rx_len = 0;
    c->fail_error = 0;
    c->fail_text[0] = 0;
    lws_sul_cancel(&c->close_sul);
}

/* The server did not answer a graceful close within the wait: the socket
 * is dropped, and that is the end of the connection. */
static void close_timed_out(lws_sorted_usec_list_t *sul)
{
    ll_conn *c = lws_container_of(sul, ll_conn, close_sul);
    if (!c->wsi)
        return;
    ll_conn_log(c, LIFELINE_LOG_INFO, "server did not answer the close in time");
    uint32_t id = c->wsi_conn_id;
    ll_conn_settle(c, c->wsi); /* what libwebsockets still holds is lost */
    ll_conn_kill_wsi(c->wsi);
    ll_conn_forget(c);
    ll_conn_report(c, &(ll_event){.type = LL_EV_CLOSED, .conn_id = id,
                                  .error = LIFELINE_ERR_CONNECTION_RESET}, 0);
}

void ll_conn_close(ll_conn *c, uint32_t conn_id, int code, int wait_ms)
{
    if (c->probe_wsi && c->probe_conn_id == conn_id) {
        ll_conn_kill_wsi(c->probe_wsi);
        c->probe_wsi = NULL;
    }
    ll_conn_drop_reports(c, conn_id);
    if (!c->wsi || c->wsi_conn_id != conn_id)
        return;
    c->close_answered = 0;
    if (code == 1000 && c->wsi_open) {
        /* a graceful close: the queue, then the close frame, written when
         * writable (ws.c, on_writeable()); the whole bounded by the wait */
        c->close_code = code;
        lws_callback_on_writable(c->wsi);
        lws_sul_schedule(c->loop->ctx, 0, &c->close_sul, close_timed_out,
                         (lws_usec_t)wait_ms * LWS_US_PER_MS);
        return;
    }
    ll_conn_kill_wsi(c->wsi); /* dead (ping timeout) or not open yet: dropped */
    ll_conn_forget(c);
}

void ll_conn_abandon(ll_conn *c)
{
    ll_conn_watch_network(c, 0);
    if (c->wsi)
        ll_conn_kill_wsi(c->wsi);
    ll_conn_forget(c);
    if (c->probe_wsi)
        ll_conn_kill_wsi(c->probe_wsi);
    c->probe_wsi = NULL;
    c->report_ws.pending = 0;
    c->report_probe.pending = 0;
    lws_sul_cancel(&c->timer_sul);
    lws_sul_cancel(&c->report_sul);
    ll_lines_forget(c->loop, c);
    c->abandoned = 1;
}

int ll_conn_close_answered(const ll_conn *c)
{
    return c->close_answered;
}

int ll_conn_busy(const ll_conn *c)
{
    return c->wsi != NULL || c->probe_wsi != NULL;
}

/* ---- writing -------------------------------------------------------------------- */

void ll_conn_want_write(ll_conn *c)
{
    if (c->wsi && c->wsi_open) {
        c->out_pending = 1;
        lws_callback_on_writable(c->wsi);
    }
}

void ll_conn_ping(ll_conn *c, uint32_t seq)
{
    c->ping_seq = seq;
    if (c->wsi && c->wsi_open)
        lws_callback_on_writable(c->wsi);
}

/* A copy of the payload with LWS_PRE bytes before it: libwebsockets masks
 * a client's payload in place, and a message whose write fails goes again,
 * first, unharmed. */
static unsigned char *tx_room(ll_conn *c, size_t len)
{
    if (c->tx_cap < LWS_PRE + len) {
        unsigned char *p = realloc(c->tx, LWS_PRE + len);
        if (!p)
            return NULL;
        c->tx = p;
        c->tx_cap = LWS_PRE + len;
    }
    return c->tx + LWS_PRE;
}

int ll_conn_write_next(ll_conn *c, struct lws *wsi)
{
    /* one message per WRITEABLE: libwebsockets services reads between two
     * writes, so a long queue never starves what the server sends back */
    if (c->write_held)
        return 0; /* libwebsockets still has part of the last one */
    ll_out m;
    ll_conn *prev = ll_loop_enter(c);
    int got = c->up->next_out(c->owner, &m);
    ll_loop_exit(prev);
    if (!got) {
        c->out_pending = 0;
        return 0;
    }
    c->out_pending = m.more;
    unsigned char *p = tx_room(c, m.len);
    if (!p) {
        c->up->written(c->owner, 0);
        return -1;
    }
    if (m.len)
        memcpy(p, m.data, m.len);
    int n = lws_write(wsi, p, m.len, m.is_binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
    if (c->tx_cap > LL_BUFFER_KEEP_MAX) {
        free(c->tx);
        c->tx = NULL;
        c->tx_cap = 0;
    }
    int ok = n >= (int)m.len;
    if (ok && lws_partial_buffered(wsi)) {
        /* libwebsockets 4.1 took what the socket would, and keeps the rest
         * to send before the next WRITEABLE: written only then (on_writeable
         * settles it), or not written if the socket is dropped first */
        c->write_held = LL_HELD_PARTIAL;
        lws_callback_on_writable(wsi);
        return 1;
    }
    c->up->written(c->owner, ok); /* not written: it goes again, first */
    if (!ok)
        return -1;
    if (m.more)
        lws_callback_on_writable(wsi);
    return 1;
}
