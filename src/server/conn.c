/* One WebSocket connection's output: the queue, ping frames, closing. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "server/clock.h"
#include "server/server.h"

static size_t max_queue_bytes(const srv_server *s)
{
    return (size_t)s->opt.max_message_bytes * 2 + SRV_OUTQ_SLACK_BYTES;
}

static int write_msg(srv_server *s, srv_conn *c, srv_msg *m);

/* Whether m can be written to c now, outside a WRITEABLE callback: nothing
 * of c waits to be written (queued messages, pongs, a ping, what
 * libwebsockets holds of a partial write), c is not closing, and c is not
 * the connection being served (whose callback may be writing). What the
 * socket does not take of it, libwebsockets keeps and writes first (its
 * lws_issue_raw), asking for POLLOUT itself; the messages after it then
 * queue, so the slow-reader rule still holds. Saves each delivery a round
 * of the loop: arming POLLOUT, its event, disarming it (two epoll_ctl). */
static bool write_now(const srv_server *s, const srv_conn *c)
{
    return !c->outq.count && !c->pongs.count && !c->ping_due && !c->lws_closing &&
           !c->fail_soon && !c->killed && c->wsi != s->serving && !lws_partial_buffered(c->wsi);
}

int srv_conn_send(srv_server *s, srv_conn *c, srv_msg *m)
{
    if (!m || s->destroying)
        return -1;
    if (c->dlv)
        return srv_v1_send(s, c, m); /* its session keeps it, whatever the connection does */
    if (c->close_code || c->blackholed)
        return -1;
    if (write_now(s, c)) {
        if (write_msg(s, c, srv_msg_ref(m)) == 0)
            return 0;
        srv_conn_kill(c); /* the socket failed: no callback to return -1 from */
        return -1;
    }
    if (srv_outq_push(&c->outq, m, SRV_OUTQ_MAX_COUNT, max_queue_bytes(s))) {
        srv_log_msg(&s->log, SRV_LOG_WARN, "slow_reader", "closing %s/%s: %zu messages queued",
                    c->store ? c->store->name : "-", c->user ? c->user->name : "-",
                    c->outq.count);
        srv_conn_close(s, c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "slow reader",
                       SRV_CLOSE_SLOW_READER);
        return -1;
    }
    lws_callback_on_writable(c->wsi);
    return 0;
}

size_t srv_store_send(srv_server *s, const char *name, const srv_conn *except, srv_msg *m)
{
    return srv_store_send_from(s, name, except, NULL, m);
}

static size_t deliver(srv_server *s, const char *name, const srv_conn *except,
                      const srv_dlv_session *except_session, srv_msg *m)
{
    size_t n = 0;
    if (!name || !m || s->destroying)
        return 0;
    n += srv_v1_send_idle(s, name, except_session, m);
    srv_store *store = srv_registry_store(&s->reg, name);
    srv_conn *c = store ? store->members : NULL;
    while (c) {
        /* a send can close c (slow reader) but never unlinks it here */
        srv_conn *next = c->snext;
        if (c != except && !srv_conn_send(s, c, m))
            n++;
        c = next;
    }
    return n;
}

size_t srv_store_send_from(srv_server *s, const char *name, const srv_conn *except,
                           const srv_dlv_session *except_session, srv_msg *m)
{
    size_t n = deliver(s, name, except, except_session, m);
    if (s->cluster && name && m && !s->destroying)
        srv_cluster_publish(s->cluster, name, m);
    return n;
}

void srv_store_deliver(srv_server *s, const char *name, srv_msg *m)
{
    deliver(s, name, NULL, NULL, m);
}

/* Notes why c ends, unless a cause was given before. */
static void set_cause(srv_conn *c, srv_close_cause cause)
{
    if (c->cause == SRV_CLOSE_HANGUP)
        c->cause = (uint8_t)cause;
}

void srv_conn_close(srv_server *s, srv_conn *c, uint16_t code, const char *reason,
                    srv_close_cause cause)
{
    if (c->close_code || s->destroying)
        return;
    set_cause(c, cause);
    c->close_code = code;
    c->close_reason = reason;
    c->closing_ms = srv_clock_mono_ms();
    srv_outq_clear(&c->outq);
    srv_outq_clear(&c->pongs);
    /* let the peer's close frame in, whatever the fault mode */
    c->blackholed = 0;
    srv_conn_set_rx(c, true);
    lws_callback_on_writable(c->wsi);
}

void srv_conn_kill(srv_conn *c)
{
    if (c->killed)
        return;
    c->killed = 1;
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    srv_server_lws_timer_set(lws_get_context(c->wsi));
}

int srv_conn_fail(srv_server *s, srv_conn *c, uint16_t code, const char *reason,
                  srv_close_cause cause)
{
    (void)s;
    if (!c->close_code) {
        set_cause(c, cause);
        c->close_code = code;
        c->close_reason = reason;
        c->closing_ms = srv_clock_mono_ms();
    }
    c->failing = 1;
    free(c->rx);
    c->rx = NULL;
    c->rx_len = c->rx_cap = 0;
    lws_close_reason(c->wsi, (enum lws_close_status)code, (unsigned char *)reason,
                     strlen(reason));
    return -1;
}

/* The reaper. After failing a connection, RFC 6455 7.1.7 has an endpoint
 * send its close frame and process nothing more, its peer's close
 * included. libwebsockets 4.1 instead waits up to 5 s for the peer's close
 * (PENDING_TIMEOUT_CLOSE_ACK in rops_handle_POLLOUT_ws, ops-ws.c); and after
 * a protocol error of its own its parser may be mid-frame (the "rsv bits"
 * check returns after moving on to LWS_RXPS_04_FRAME_HDR_LEN, and the rest
 * of the read is dropped), so it never recognises that close. So once the
 * close frame is out, the reaper ends the sending half of TCP (a FIN): the
 * peer sees the connection end at once. libwebsockets goes on reading and
 * dropping what the peer still sends, and ends the connection at the
 * peer's close or FIN; the tick's close grace is the backstop. Closing the
 * socket outright instead would answer data still in flight with a reset,
 * which can destroy the close frame before the peer reads it.
 *
 * libwebsockets has no callback for "close frame written": it writes it at
 * the first POLLOUT after the close began, that is in the next service
 * pass, and each pass runs the timers that are due before its socket
 * events (timer.h). So the reaper, scheduled at once, arms at its first
 * run (before the POLLOUT that writes the frame) and acts at its second,
 * unless the socket still cannot take data: then it looks again every
 * 10 ms. */
#define SRV_REAP_RETRY_US (10 * 1000)
enum { SRV_REAP_NONE, SRV_REAP_ARMED, SRV_REAP_DUE, SRV_REAP_DONE };

void srv_conn_reap(srv_server *s)
{
    int64_t next = 0;
    for (srv_conn *c = s->reg.conns; c; c = c->next) {
        if (c->fail_soon && !c->close_code) {
            /* the close begins at WRITEABLE, through srv_conn_writeable */
            set_cause(c, SRV_CLOSE_PROTOCOL);
            c->close_code = LWS_CLOSE_STATUS_PROTOCOL_ERR;
            c->close_reason = c->fail_soon;
            c->closing_ms = srv_clock_mono_ms();
            c->failing = 1;
            srv_outq_clear(&c->pongs);
            srv_conn_set_rx(c, false);
            lws_callback_on_writable(c->wsi);
        } else if (c->reap_runs == SRV_REAP_ARMED) {
            c->reap_runs = SRV_REAP_DUE;
            next = 1;
        } else if (c->reap_runs == SRV_REAP_DUE) {
            if (lws_send_pipe_choked(c->wsi)) {
                if (!next)
                    next = SRV_REAP_RETRY_US;
                continue;
            }
            c->reap_runs = SRV_REAP_DONE;
            shutdown(lws_get_socket_fd(c->wsi), SHUT_WR);
        }
    }
    if (next)
        srv_timer_start(&s->reap, next);
}

static int write_msg(srv_server *s, srv_conn *c, srv_msg *m)
{
    size_t len = m->len;
    int n = lws_write(c->wsi, srv_msg_payload(m), len, m->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
    srv_msg_unref(m);
    if (n < 0)
        return -1;
    s->reg.stats.messages_out++;
    s->reg.stats.bytes_out += len;
    return 0;
}

void srv_conn_closing(srv_server *s, srv_conn *c)
{
    c->lws_closing = 1;
    if (!c->failing) {
        /* srv_conn_close waits for the peer's answer; without a close
         * reason libwebsockets drops the connection at once */
        if (c->close_code || lws_get_close_length(c->wsi) < 2)
            return;
        /* libwebsockets failed c: a protocol error in its frame parser */
        const unsigned char *p = lws_get_close_payload(c->wsi);
        set_cause(c, SRV_CLOSE_PROTOCOL);
        c->close_code = (uint16_t)(p[0] << 8 | p[1]);
        c->close_reason = "protocol error";
        c->closing_ms = srv_clock_mono_ms();
        c->failing = 1;
    }
    /* The replies owed for the messages read before the failure go out
     * before the close frame: libwebsockets sends its close frame first at
     * the next POLLOUT and then no more data. Written from here, outside
     * WRITEABLE: whatever the socket does not take, libwebsockets keeps and
     * sends first (lws_issue_raw); nothing more is written once it must. */
    srv_msg *m;
    while (!s->destroying && !lws_send_pipe_choked(c->wsi) && (m = srv_outq_pop(&c->outq)))
        if (write_msg(s, c, m))
            break;
    srv_outq_clear(&c->outq);
    srv_outq_clear(&c->pongs);
    if (c->reap_runs || s->destroying)
        return;
    /* read and drop what comes until the peer's close, whatever the mode */
    c->blackholed = 0;
    srv_conn_set_rx(c, true);
    c->reap_runs = SRV_REAP_ARMED;
    srv_timer_start(&s->reap, 1);
}

/* Pongs waiting, at most (the most recent are kept). */
#define SRV_PONGS_MAX 16

void srv_conn_pong(srv_conn *c, const void *payload, size_t len)
{
    if (c->close_code || c->lws_closing || c->fail_soon || c->blackholed)
        return;
    srv_msg *m = srv_msg_new(payload, len, false);
    if (!m)
        return;
    if (srv_outq_push(&c->pongs, m, SRV_PONGS_MAX, SIZE_MAX)) {
        srv_msg_unref(srv_outq_pop(&c->pongs));
        srv_outq_push(&c->pongs, m, SRV_PONGS_MAX, SIZE_MAX);
    }
    srv_msg_unref(m);
    lws_callback_on_writable(c->wsi);
}

void srv_conn_fail_soon(srv_server *s, srv_conn *c, const char *reason)
{
    if (c->close_code || c->fail_soon)
        return;
    c->fail_soon = reason;
    srv_timer_start(&s->reap, 1);
}

void srv_conn_set_rx(srv_conn *c, bool on)
{
    if (c->rx_off == !on)
        return;
    c->rx_off = !on;
    lws_rx_flow_control(c->wsi, on ? 1 : 0);
    if (on)
        srv_server_rx_resumed(lws_get_context(c->wsi));
}

int srv_conn_writeable(srv_server *s, srv_conn *c)
{
    if (c->lws_closing)
        return 0; /* its close frame is libwebsockets' to write; nothing after it */
    if (c->close_code) {
        const char *r = c->close_reason ? c->close_reason : "";
        lws_close_reason(c->wsi, (enum lws_close_status)c->close_code, (unsigned char *)r,
                         strlen(r));
        return -1;
    }
    if (c->blackholed)
        return 0;
    srv_msg *pong = srv_outq_pop(&c->pongs);
    if (pong) {
        int n = lws_write(c->wsi, srv_msg_payload(pong), pong->len, LWS_WRITE_PONG);
        srv_msg_unref(pong);
        if (n < 0)
            return -1;
        if (c->pongs.count || c->ping_due || c->outq.count || (c->dlv && srv_v1_has_write(s, c)))
            lws_callback_on_writable(c->wsi);
        return 0;
    }
    if (c->ping_due) {
        /* lws 4.1 hides pongs with an empty payload from the callback, so
         * the ping carries one: its send time in decimal milliseconds */
        unsigned char frame[LWS_PRE + 24];
        int n = snprintf((char *)frame + LWS_PRE, 24, "%lld", (long long)c->ping.sent_ms);
        c->ping_due = 0;
        if (n <= 0 || lws_write(c->wsi, frame + LWS_PRE, (size_t)n, LWS_WRITE_PING) < 0)
            return -1;
        if (c->outq.count || (c->dlv && srv_v1_has_write(s, c)))
            lws_callback_on_writable(c->wsi);
        return 0;
    }
    if (c->dlv)
        return srv_v1_writeable(s, c);
    srv_msg *m = srv_outq_pop(&c->outq);
    if (!m)
        return 0;
    if (write_msg(s, c, m))
        return -1;
    if (c->outq.count)
        lws_callback_on_writable(c->wsi);
    return 0;
}
