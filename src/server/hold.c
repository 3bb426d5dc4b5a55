/* Holding connections back for the blackhole and delay_pongs fault modes,
 * and the end of --rate-limit's pauses of lifeline.v1 connections (ws.c).
 *
 * libwebsockets reads, parses and answers pings on its own, so "stop
 * reading" and "delay pongs" both mean switching a connection's input off
 * (rx flow control) and watching its socket with poll() from the tick:
 *  - blackhole: WebSocket connections stay off until the mode ends (a peer
 *    that hangs up is dropped). New connections are parked before their
 *    first byte is read; a request for /ws stays parked and unanswered,
 *    anything else (the HTTP API) is let go at once.
 *  - delay_pongs: input stays off until bytes have waited delay_ms in the
 *    socket, then is on for one read (see gate.h).
 * Parking needs to see the request's first bytes, so with TLS new
 * WebSocket handshakes are dropped unanswered instead (ws.c). */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "server/clock.h"
#include "server/sniff.h"
#include "server/server.h"

void srv_hold_accepted(srv_server *s, struct lws *wsi)
{
    if (s->fault.mode != SRV_FAULT_BLACKHOLE || s->tls || s->stopping)
        return;
    srv_parked *p = calloc(1, sizeof(*p));
    if (!p)
        return;
    p->wsi = wsi;
    p->fd = lws_get_socket_fd(wsi);
    p->state = SRV_PARK_NEW;
    p->next = s->parked;
    s->parked = p;
    /* the tick switches its input off before the next poll of the loop:
     * the ah attach that follows this callback switches it back on */
    srv_server_kick(s);
}

void srv_hold_forget(srv_server *s, struct lws *wsi)
{
    for (srv_parked **pp = &s->parked; *pp; pp = &(*pp)->next)
        if ((*pp)->wsi == wsi) {
            srv_parked *p = *pp;
            *pp = p->next;
            free(p);
            return;
        }
}

/* Lets a parked connection go on to be served. */
static void unpark(srv_server *s, srv_parked *p)
{
    lws_rx_flow_control(p->wsi, 1);
    srv_server_rx_resumed(s->ctx);
    lws_set_timeout(p->wsi, PENDING_TIMEOUT_ESTABLISH_WITH_SERVER, 10);
    srv_hold_forget(s, p->wsi);
}

void srv_hold_new_conn(srv_server *s, srv_conn *c)
{
    if (s->fault.mode == SRV_FAULT_BLACKHOLE) {
        c->blackholed = 1;
        srv_conn_set_rx(c, false);
    } else if (s->fault.mode == SRV_FAULT_DELAY_PONGS) {
        c->gate.state = SRV_GATE_HELD;
        srv_conn_set_rx(c, false);
    }
}

void srv_hold_transition(srv_server *s, srv_fault_mode from, srv_fault_mode to)
{
    int64_t now = srv_clock_mono_ms();
    if (from == SRV_FAULT_BLACKHOLE && to != SRV_FAULT_BLACKHOLE) {
        /* held handshakes were never answered: their clients gave up */
        srv_parked *p = s->parked;
        while (p) {
            srv_parked *next = p->next;
            if (p->state == SRV_PARK_HELD) {
                lws_set_timeout(p->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
                srv_server_lws_timer_set(s->ctx);
            } else
                unpark(s, p);
            p = next;
        }
    }
    for (srv_conn *c = s->reg.conns; c; c = c->next) {
        if (c->close_code)
            continue;
        c->blackholed = 0;
        c->gate.state = SRV_GATE_HELD;
        srv_conn_set_rx(c, true);
        if (from == SRV_FAULT_BLACKHOLE) {
            /* a fresh heartbeat: pongs could not be read in the hole */
            srv_ping_init(&c->ping, now, s->opt.ping_interval_ms);
            if (c->outq.count || c->dlv)
                lws_callback_on_writable(c->wsi);
        }
        srv_hold_new_conn(s, c);
    }
}

static struct pollfd *pfds(srv_server *s, size_t n)
{
    if (n > s->pfds_cap) {
        struct pollfd *p = realloc(s->pfds, n * sizeof(*p));
        if (!p)
            return NULL;
        s->pfds = p;
        s->pfds_cap = n;
    }
    return s->pfds;
}

static void tick_parked(srv_server *s, struct pollfd *fds, size_t n)
{
    size_t i = 0;
    srv_parked *p = s->parked;
    while (p && i < n) {
        srv_parked *next = p->next;
        short re = fds[i++].revents;
        if (p->state == SRV_PARK_NEW) {
            lws_rx_flow_control(p->wsi, 0);
            lws_set_timeout(p->wsi, NO_PENDING_TIMEOUT, 0);
            p->state = SRV_PARK_SNIFFING;
        }
        if (p->state == SRV_PARK_SNIFFING && (re & POLLIN)) {
            char head[16];
            ssize_t got = recv(p->fd, head, sizeof(head), MSG_PEEK | MSG_DONTWAIT);
            srv_sniff k = got > 0 ? srv_sniff_request(head, (size_t)got) : SRV_SNIFF_OTHER;
            if (k == SRV_SNIFF_WS)
                p->state = SRV_PARK_HELD;
            else if (k == SRV_SNIFF_OTHER)
                unpark(s, p); /* the API, garbage, or a hang-up: lws deals with it */
        } else if (p->state == SRV_PARK_HELD && (re & (POLLRDHUP | POLLHUP | POLLERR))) {
            lws_set_timeout(p->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
            srv_server_lws_timer_set(s->ctx);
        }
        p = next;
    }
}

/* Steps every connection's delay gate (or drops a hung-up blackholed one). */
static void tick_conns(srv_server *s, struct pollfd *fds, size_t n, int64_t now)
{
    size_t i = 0;
    for (srv_conn *c = s->reg.conns; c && i < n; c = c->next) {
        if (c->close_code)
            continue;
        short re = fds[i++].revents;
        bool gone = re & (POLLRDHUP | POLLHUP | POLLERR);
        if (c->blackholed) {
            if (gone)
                srv_conn_kill(c);
        } else if (s->fault.mode == SRV_FAULT_DELAY_PONGS) {
            bool on = gone || srv_gate_step(&c->gate, now, re & POLLIN, c->rx_partial,
                                            s->fault.delay_ms);
            srv_conn_set_rx(c, on);
        }
    }
}

/* --rate-limit's pauses: a paused connection whose buckets hold a message
 * again reads on (unless it is closing, or a fault mode holds its input
 * and lets it go itself); one still paused gets a fresh heartbeat, its
 * pongs being unread behind its units (see ws.c). */
static void tick_paused(srv_server *s, int64_t now)
{
    for (srv_conn *c = s->reg.conns; c; c = c->next) {
        if (!c->rl_paused)
            continue;
        srv_ping_init(&c->ping, now, s->opt.ping_interval_ms);
        if (!c->close_code && srv_rl_wait(&c->rl, &s->opt.rate_limit, now))
            continue;
        c->rl_paused = 0;
        s->reg.rl_paused--;
        if (!c->close_code && !c->blackholed && s->fault.mode != SRV_FAULT_DELAY_PONGS)
            srv_conn_set_rx(c, true);
    }
}

int64_t srv_hold_tick(srv_server *s, int64_t now)
{
    if (s->reg.rl_paused)
        tick_paused(s, now);
    bool conns = s->fault.mode == SRV_FAULT_BLACKHOLE || s->fault.mode == SRV_FAULT_DELAY_PONGS;
    if (!conns && !s->parked)
        return s->reg.rl_paused ? SRV_HOLD_TICK_US : 0;
    size_t n = 0;
    for (srv_parked *p = s->parked; p; p = p->next)
        n++;
    size_t nparked = n;
    if (conns)
        for (srv_conn *c = s->reg.conns; c; c = c->next)
            if (!c->close_code)
                n++;
    struct pollfd *fds = pfds(s, n ? n : 1);
    if (!fds)
        return SRV_HOLD_TICK_US;
    size_t i = 0;
    for (srv_parked *p = s->parked; p; p = p->next, i++) {
        fds[i].fd = p->fd;
        fds[i].events = POLLIN | POLLRDHUP;
        fds[i].revents = 0;
    }
    if (conns)
        for (srv_conn *c = s->reg.conns; c; c = c->next)
            if (!c->close_code) {
                fds[i].fd = lws_get_socket_fd(c->wsi);
                fds[i].events = POLLIN | POLLRDHUP;
                fds[i].revents = 0;
                i++;
            }
    if (n && poll(fds, (nfds_t)n, 0) < 0)
        return SRV_HOLD_TICK_US;
    tick_parked(s, fds, nparked);
    /* a gate that opened is shut at the next tick, which its first read
     * brings forward (tap.c) */
    if (conns)
        tick_conns(s, fds + nparked, n - nparked, now);
    return SRV_HOLD_TICK_US;
}

size_t srv_server_set_fault(srv_server *s, const srv_fault_request *req)
{
    srv_fault_mode from = s->fault.mode;
    srv_fault_apply(&s->fault, req, srv_clock_mono_ms());
    size_t closed = 0;
    srv_hold_transition(s, from, s->fault.mode);
    if (req->mode == SRV_FAULT_CLOSE_ALL)
        for (srv_conn *c = s->reg.conns; c; c = c->next)
            if (!c->close_code) {
                srv_conn_close(s, c, LWS_CLOSE_STATUS_GOINGAWAY, "close_all", SRV_CLOSE_FAULT);
                closed++;
            }
    cJSON *f = cJSON_CreateObject();
    if (f) {
        cJSON_AddStringToObject(f, "mode", srv_fault_mode_name(req->mode));
        cJSON_AddStringToObject(f, "previous", srv_fault_mode_name(from));
        if (req->duration_ms)
            cJSON_AddNumberToObject(f, "duration_ms", (double)req->duration_ms);
        if (req->delay_ms)
            cJSON_AddNumberToObject(f, "delay_ms", (double)req->delay_ms);
    }
    srv_log_emit(&s->log, SRV_LOG_INFO, "fault", f);
    srv_server_kick(s);
    return closed;
}
