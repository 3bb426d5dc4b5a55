/* One WebSocket connection's output: the queue, ping frames, closing. */
#include <stdio.h>
#include <string.h>

#include "server/clock.h"
#include "server/server.h"

static size_t max_queue_bytes(const ll_server *s)
{
    return (size_t)s->opt.max_message_bytes * 2 + LL_OUTQ_SLACK_BYTES;
}

int ll_conn_send(ll_server *s, ll_conn *c, ll_msg *m)
{
    if (!m || c->close_code || c->blackholed || s->destroying)
        return -1;
    if (ll_outq_push(&c->outq, m, LL_OUTQ_MAX_COUNT, max_queue_bytes(s))) {
        ll_log_msg(&s->log, LL_LOG_WARN, "slow_reader", "closing %s/%s: %zu messages queued",
                   c->store ? c->store->name : "-", c->user ? c->user->name : "-",
                   c->outq.count);
        ll_conn_close(s, c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "slow reader");
        return -1;
    }
    lws_callback_on_writable(c->wsi);
    return 0;
}

size_t ll_store_send(ll_server *s, ll_store *store, const ll_conn *except, ll_msg *m)
{
    size_t n = 0;
    if (!store || !m)
        return 0;
    ll_conn *c = store->members;
    while (c) {
        /* a send can close c (slow reader) but never unlinks it here */
        ll_conn *next = c->snext;
        if (c != except && !ll_conn_send(s, c, m))
            n++;
        c = next;
    }
    return n;
}

void ll_conn_close(ll_server *s, ll_conn *c, uint16_t code, const char *reason)
{
    if (c->close_code || s->destroying)
        return;
    c->close_code = code;
    c->close_reason = reason;
    c->closing_ms = ll_clock_mono_ms();
    ll_outq_clear(&c->outq);
    /* let the peer's close frame in, whatever the fault mode */
    c->blackholed = 0;
    ll_conn_set_rx(c, true);
    lws_callback_on_writable(c->wsi);
}

void ll_conn_kill(ll_conn *c)
{
    if (c->killed)
        return;
    c->killed = 1;
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

void ll_conn_set_rx(ll_conn *c, bool on)
{
    if (c->rx_off == !on)
        return;
    c->rx_off = !on;
    lws_rx_flow_control(c->wsi, on ? 1 : 0);
}

int ll_conn_writeable(ll_server *s, ll_conn *c)
{
    if (c->close_code) {
        const char *r = c->close_reason ? c->close_reason : "";
        lws_close_reason(c->wsi, (enum lws_close_status)c->close_code, (unsigned char *)r,
                         strlen(r));
        return -1;
    }
    if (c->blackholed)
        return 0;
    if (c->ping_due) {
        /* lws 4.1 hides pongs with an empty payload from the callback, so
         * the ping carries one: its send time in decimal milliseconds */
        unsigned char frame[LWS_PRE + 24];
        int n = snprintf((char *)frame + LWS_PRE, 24, "%lld", (long long)c->ping.sent_ms);
        c->ping_due = 0;
        if (n <= 0 || lws_write(c->wsi, frame + LWS_PRE, (size_t)n, LWS_WRITE_PING) < 0)
            return -1;
        if (c->outq.count)
            lws_callback_on_writable(c->wsi);
        return 0;
    }
    ll_msg *m = ll_outq_pop(&c->outq);
    if (!m)
        return 0;
    int n = lws_write(c->wsi, ll_msg_payload(m), m->len,
                      m->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
    ll_msg_unref(m);
    if (n < 0)
        return -1;
    s->reg.stats.messages_out++;
    if (c->outq.count)
        lws_callback_on_writable(c->wsi);
    return 0;
}
