/* The WebSocket: opens it as the core asks, writes what the owner queued,
 * pings and closes, reassembles what arrives, and turns what libwebsockets
 * reports into core events. Loop thread only.
 *
 * Each wsi carries its ll_conn as opaque user data; a wsi the connection
 * has let go of (an abandoned attempt, a connection declared dead) has it
 * cleared, so its late callbacks reach nobody. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "proto/ws_close.h"
#include "proto/ws_utf8.h"
#include "transport/classify.h"
#include "transport/conn.h"
#include "transport/pong.h"


/* Host carries the port unless it is the scheme's default (RFC 7230). */
static void make_host_header(ll_conn *c)
{
    const ll_url *u = &c->opts.urls[c->url_index];
    int v6 = strchr(u->host, ':') != NULL;
    if (u->port == (u->secure ? 443 : 80))
        snprintf(c->host_header, sizeof(c->host_header), "%s%s%s", v6 ? "[" : "", u->host,
                 v6 ? "]" : "");
    else
        snprintf(c->host_header, sizeof(c->host_header), "%s%s%s:%d", v6 ? "[" : "", u->host,
                 v6 ? "]" : "", u->port);
}

static void fill_connect_info(ll_conn *c, struct lws_vhost *vh, struct lws_client_connect_info *i)
{
    memset(i, 0, sizeof(*i));
    i->context = c->loop->ctx;
    i->vhost = vh;
    const ll_url *u = &c->opts.urls[c->url_index];
    i->address = u->host;
    i->port = u->port;
    i->path = u->path;
    make_host_header(c);
    i->host = c->host_header;
    /* libwebsockets 4.1 would write "Origin: http://<origin>": the Origin
     * header is added as given, with the others (add_headers) */
    i->origin = NULL;
    i->protocol = c->opts.subprotocol;
    i->local_protocol_name = ll_protocols[0].name;
    i->opaque_user_data = c;
    /* the wsi is known from the start: libwebsockets stores it here before
     * it makes the callbacks that come from inside the connect call */
    i->pwsi = &c->wsi;
    if (u->secure) {
        i->ssl_connection = LCCSCF_USE_SSL;
        if (c->opts.allow_insecure_tls)
            i->ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
                                 LCCSCF_ALLOW_EXPIRED | LCCSCF_ALLOW_INSECURE;
    }
    /* A WebSocket client fails the handshake on a 3xx, as browsers do:
     * libwebsockets 4.1 would follow it (lws_client_interpret_server_
     * handshake(), client-http.c, calls lws_client_reset() on 301, 302,
     * 303, 307 and 308) to whatever origin the Location names, and send
     * it the same headers, Authorization and the query's token included.
     * This flag skips that; the 3xx is then refused as "not 101". */
    i->ssl_connection |= LCCSCF_HTTP_NO_FOLLOW_REDIRECT;
}

/* A new attempt starts from nothing: what explained an earlier failure is
 * stale. */
static void begin_attempt(ll_conn *c, uint32_t conn_id, int url_index)
{
    if (c->wsi) /* never two at once: the old one is abandoned */
        ll_conn_kill_wsi(c->wsi);
    ll_conn_forget(c);
    c->report_ws.pending = 0; /* the old attempt's word comes too late */
    c->wsi_conn_id = conn_id;
    c->url_index = url_index >= 0 && (size_t)url_index < c->opts.url_count ? url_index : 0;
    c->cert_refused = 0;
    c->hs_status = 0;
    c->hs_malformed = 0;
    c->hs_no_subprotocol = 0;
    c->hs_body_open = 0;
    c->hs_body_len = 0;
    c->detail_error = 0;
    c->last_peer_close = 0;
}

/* lws_client_connect_via_info() gave up: say why, later (THE RULE). */
static void connect_refused(ll_conn *c, uint32_t conn_id)
{
    if (c->report_ws.pending && c->report_ws.ev.conn_id == conn_id)
        return; /* a callback made inside the call has reported it already */
    /* libwebsockets 4.1 gives up on a name it cannot resolve without
     * saying why: ask the resolver, so DNS failures are named as such */
    ll_event fail = {.type = LL_EV_CONNECT_FAILED, .conn_id = conn_id,
                     .failure = {.kind = LL_FAIL_GAVE_UP}};
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    if (getaddrinfo(c->opts.urls[c->url_index].host, NULL, &hints, &res) != 0)
        fail.failure.kind = LL_FAIL_DNS;
    else
        freeaddrinfo(res);
    ll_conn_log(c, LIFELINE_LOG_INFO, "connection attempt failed: %s",
                lifeline_strerror(ll_failure_judge(&fail.failure).error));
    ll_conn_report_later(c, &fail, 0);
}

void ll_conn_connect(ll_conn *c, uint32_t conn_id, int url_index)
{
    ll_conn *prev = ll_loop_enter(c);
    begin_attempt(c, conn_id, url_index);
    struct lws_vhost *vh = ll_loop_vhost(c->loop, &c->opts);
    if (!vh) {
        ll_conn_log(c, LIFELINE_LOG_ERROR, "cannot set up TLS or proxy for %s",
                    c->opts.url_texts[c->url_index]);
        ll_event fail = {.type = LL_EV_CONNECT_FAILED, .conn_id = conn_id,
                         .failure = {.kind = c->opts.ca_file ? LL_FAIL_TLS_SETUP : LL_FAIL_SETUP}};
        ll_conn_report_later(c, &fail, 0);
        ll_loop_exit(prev);
        return;
    }
    struct lws_client_connect_info i;
    fill_connect_info(c, vh, &i);
    ll_conn_log(c, LIFELINE_LOG_DEBUG, "connecting to %s", c->opts.url_texts[c->url_index]);
    if (!lws_client_connect_via_info(&i)) {
        /* libwebsockets 4.1 does not clear *pwsi when the wsi it stored
         * there was freed before the call returned */
        c->wsi = NULL;
        ll_conn_forget(c);
        connect_refused(c, conn_id);
    }
    ll_loop_exit(prev);
}

/* libwebsockets' read buffers: a frame larger than this comes to
 * CLIENT_RECEIVE in pieces (reassembled here); the health check reads only
 * the status line. */
#define LL_WS_RX_BUFFER 4096
#define LL_HTTP_RX_BUFFER 1024
/* A reassembly buffer's first size; it doubles as a message needs. */
#define LL_RX_FIRST 4096
/* What of a refused upgrade's answer goes into the failure's detail: the
 * Location read (longer: "(too long)"), and how much of it, or of a
 * malformed status line, is shown. */
#define LL_LOCATION_MAX 400
#define LL_LOCATION_REDACTED 160
#define LL_LOCATION_SHOWN 120
#define LL_STATUS_SHOWN 48
/* How much of a refused upgrade's body the reason shows, tags and runs of
 * white space taken out. */
#define LL_BODY_SHOWN 80
/* The longest header name of config.headers, ':' included. */
#define LL_HEADER_NAME_MAX 128

/* ---- writing ---------------------------------------------------------------- */

/* The longest app_ping text: {"type":"ping","ts":N} with N up to 20 digits. */
#define LL_APP_PING_MAX 64

static int write_ping(ll_conn *c, struct lws *wsi)
{
    uint32_t seq = c->ping_seq;
    c->ping_seq = 0;
    if (c->opts.app_ping) {
        /* {"type":"ping","ts":N}: ts is the send time, remembered to match */
        unsigned char buf[LWS_PRE + LL_APP_PING_MAX];
        int64_t ts = ll_now_ms();
        int n = snprintf((char *)buf + LWS_PRE, LL_APP_PING_MAX, "{\"type\":\"ping\",\"ts\":%lld}",
                         (long long)ts);
        size_t slot = seq % LL_APP_PING_SLOTS;
        c->app_ping_ts[slot] = ts;
        c->app_ping_seq[slot] = seq;
        return lws_write(wsi, buf + LWS_PRE, (size_t)n, LWS_WRITE_TEXT) < n ? -1 : 0;
    }
    unsigned char buf[LWS_PRE + 4];
    unsigned char *p = buf + LWS_PRE;
    p[0] = (unsigned char)(seq >> 24);
    p[1] = (unsigned char)(seq >> 16);
    p[2] = (unsigned char)(seq >> 8);
    p[3] = (unsigned char)seq;
    return lws_write(wsi, p, 4, LWS_WRITE_PING) < 4 ? -1 : 0;
}

/* Before the close frame of a failure (fail_error), what the app queued
 * goes out: its answers to the messages the server sent before its fault.
 * The writes past the first are appended to libwebsockets' output buffer
 * (lws_issue_raw(), output.c), which it sends before the close frame.
 * (Several writes in one callback corrupt a permessage-deflate stream;
 * lifeline refuses permessage-deflate on libwebsockets 4.1.) */
static void flush_queue(ll_conn *c, struct lws *wsi)
{
    while (ll_conn_write_next(c, wsi) > 0)
        ;
}

static const char *close_text(int code)
{
    switch (code) {
    case LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE:
        return "message too big";
    case LWS_CLOSE_STATUS_INVALID_PAYLOAD:
        return "invalid UTF-8";
    case LWS_CLOSE_STATUS_PROTOCOL_ERR:
        return "protocol error";
    case LWS_CLOSE_STATUS_UNEXPECTED_CONDITION:
        return "internal error";
    default:
        return "bye";
    }
}

/* On libuv, Debian's libwebsockets 4.1.6 (built with _DEBUG) closes a
 * connection a second time right after a callback of a socket event asked
 * for its close ("close_and_handled uv repeat test",
 * lws_service_fd_tsi(), service.c). The first close only readies the
 * close frame (LRS_WAITING_TO_SEND_CLOSE, sent at the next WRITEABLE); the
 * second finds it waiting ("we tried the polite way") and drops the
 * socket: the server would see no close frame (1006). There the close is
 * asked from the connection's lws timer instead (LWS_CALLBACK_TIMER
 * returning -1 closes it from a timer, outside lws_service_fd_tsi()), and
 * libwebsockets sends the frame and awaits the answer as elsewhere. */
static int close_from_timer(const ll_conn *c)
{
    return c->loop->foreign && c->loop->fx.kind == LIFELINE_LOOP_LIBUV;
}

static int on_writeable(ll_conn *c, struct lws *wsi)
{
    /* The close is libwebsockets' now: it sends the frame and awaits the
     * answer (rops_close_via_role_protocol_ws(), LRS_AWAITING_CLOSE_ACK,
     * ops-ws.c). A WRITEABLE asked for before (by the write path, say)
     * can still come meanwhile; returning -1 again would end the polite
     * close on the spot ("we tried the polite way", __lws_close_free_wsi(),
     * close.c): the socket was dropped without waiting for the answer. */
    if (c->close_handed)
        return 0;
    ll_conn_settle(c, wsi); /* what lws_write() kept has gone now */
    if (c->close_code) {
        if (c->fail_error) {
            flush_queue(c, wsi);
        } else {
            /* a graceful close (stop, free): what the app queued goes out
             * first, one message per WRITEABLE as below, so that the close's
             * wait bounds what is written; what it leaves stays queued for
             * the owner (on_dropped). A failed write fails the connection. */
            int n = ll_conn_write_next(c, wsi);
            if (n < 0)
                return -1;
            if (n > 0) {
                lws_callback_on_writable(wsi);
                return 0;
            }
        }
        const char *text = *c->fail_text ? c->fail_text : close_text(c->close_code);
        lws_close_reason(wsi, (enum lws_close_status)c->close_code, (unsigned char *)text,
                         strlen(text));
        c->close_handed = 1;
        if (close_from_timer(c)) {
            lws_set_timer_usecs(wsi, 1);
            return 0;
        }
        return -1;
    }
    /* one lws_write() per WRITEABLE, as libwebsockets wants (with
     * permessage-deflate a second one corrupts the stream): the ping
     * first, the queue on the next call */
    if (c->ping_seq) {
        if (write_ping(c, wsi) < 0)
            return -1;
        if (c->out_pending)
            lws_callback_on_writable(wsi);
        return 0;
    }
    return ll_conn_write_next(c, wsi) < 0 ? -1 : 0;
}

/* ---- reading ---------------------------------------------------------------- */

/* app_ping: is this {"type":"pong","ts":N} the answer to one of our pings?
 * Then it is the heartbeat's, not the app's. */
static int app_pong(ll_conn *c, const unsigned char *data, size_t len)
{
    long long v;
    if (!c->opts.app_ping || !ll_app_pong_ts(data, len, &v))
        return 0;
    for (size_t k = 0; k < LL_APP_PING_SLOTS; k++) {
        if (c->app_ping_seq[k] && c->app_ping_ts[k] == v) {
            uint32_t seq = c->app_ping_seq[k];
            c->app_ping_seq[k] = 0;
            ll_conn_report(c, &(ll_event){.type = LL_EV_PONG, .conn_id = c->wsi_conn_id,
                                          .seq = seq}, 0);
            return 1;
        }
    }
    return 0;
}

static void deliver(ll_conn *c, const unsigned char *data, size_t len, int binary)
{
    if (!binary && app_pong(c, data, len))
        return;
    if (c->close_code || c->abandoned)
        return; /* stopping: closed was the owner's last state */
    ll_lines_deliver(c->loop);
    ll_conn *prev = ll_loop_enter(c);
    c->up->message(c->owner, data, len, binary);
    ll_loop_exit(prev);
}

/* Fail the connection from inside a read: close with code from the next
 * WRITEABLE, and read nothing more. Not by returning -1 here: then
 * lws_ws_client_rx_sm() returns before it resets rx_ubuf_head (client-
 * parser-ws.c, "if (m) return 1;"), and when the rest of the frame is
 * parsed on, a buffer that was full is written past its end (the heap
 * corruption an oversize message caused). The close reason is set at once
 * as well: should libwebsockets close first (the bytes after the bad ones,
 * parsed in the same read, are no frame it accepts), it sends this one. */
static void fail_reading(ll_conn *c, struct lws *wsi, int code, int error)
{
    c->fail_error = error;
    c->close_code = code;
    c->rx_len = 0;
    const char *text = close_text(code);
    lws_close_reason(wsi, (enum lws_close_status)code, (unsigned char *)text, strlen(text));
    lws_callback_on_writable(wsi);
}

void ll_conn_fail(ll_conn *c, uint32_t conn_id, int code, int error, const char *text)
{
    if (!c->wsi || c->wsi_conn_id != conn_id || !c->wsi_open || c->close_code)
        return;
    ll_conn_detail(c, error, "%s", text);
    snprintf(c->fail_text, sizeof(c->fail_text), "%s", text);
    fail_reading(c, c->wsi, code, error);
    lws_close_reason(c->wsi, (enum lws_close_status)code, (unsigned char *)c->fail_text,
                     strlen(c->fail_text));
}

static int on_receive(ll_conn *c, struct lws *wsi, const void *in, size_t len)
{
    if (c->fail_error)
        return 0; /* closing: the rest is dropped */
    if (lws_is_first_fragment(wsi)) {
        c->rx_len = 0;
        c->rx_binary = lws_frame_is_binary(wsi);
        ll_utf8_stream_init(&c->rx_utf8);
    }
    int final = lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi);
    size_t need = c->rx_len + len;
    if (need > c->opts.max_message_bytes) {
        ll_conn_log(c, LIFELINE_LOG_WARN,
                      "inbound message over max_message_bytes (%zu): closing with 1009",
                      c->opts.max_message_bytes);
        ll_conn_detail(c, LIFELINE_ERR_MESSAGE_TOO_BIG,
                         "a message over max_message_bytes (%zu), closed with 1009",
                         c->opts.max_message_bytes);
        fail_reading(c, wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, LIFELINE_ERR_MESSAGE_TOO_BIG);
        return 0;
    }
    /* text is checked as it comes, each piece of each fragment: the
     * connection fails at the first byte that is not UTF-8 (RFC 6455
     * §8.1), and nothing of that message is delivered */
    if (!c->rx_binary) {
        size_t ok = ll_utf8_stream_feed(&c->rx_utf8, in, len);
        if (ok < len || (final && !ll_utf8_stream_complete(&c->rx_utf8))) {
            size_t at = c->rx_len + ok;
            ll_conn_log(c, LIFELINE_LOG_WARN,
                          "text message not UTF-8 at byte %zu: closing with 1007", at);
            ll_conn_detail(c, LIFELINE_ERR_PROTOCOL,
                             "a text message that is not UTF-8 (at byte %zu), closed with 1007",
                             at);
            fail_reading(c, wsi, LWS_CLOSE_STATUS_INVALID_PAYLOAD, LIFELINE_ERR_PROTOCOL);
            return 0;
        }
    }
    if (final && c->rx_len == 0) { /* the common case: one frame, no copy */
        deliver(c, in, len, c->rx_binary);
        return 0;
    }
    if (need + 1 > c->rx_cap) {
        size_t cap = c->rx_cap ? c->rx_cap : LL_RX_FIRST;
        while (cap < need + 1)
            cap *= 2;
        unsigned char *p = realloc(c->rx, cap);
        if (!p) {
            ll_conn_detail(c, LIFELINE_ERR_NO_MEMORY, "no memory for a %zu-byte message", need);
            fail_reading(c, wsi, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, LIFELINE_ERR_NO_MEMORY);
            return 0;
        }
        c->rx = p;
        c->rx_cap = cap;
    }
    memcpy(c->rx + c->rx_len, in, len);
    c->rx_len = need;
    if (!final)
        return 0;
    c->rx[c->rx_len] = 0;
    deliver(c, c->rx, c->rx_len, c->rx_binary);
    c->rx_len = 0;
    if (c->rx_cap > LL_BUFFER_KEEP_MAX) {
        free(c->rx);
        c->rx = NULL;
        c->rx_cap = 0;
    }
    return 0;
}

/* Copy at most n - 1 bytes of s to out for a reason line: control bytes
 * and what is not ASCII become '?', and "..." marks a cut. */
static void printable(char *out, size_t n, const char *s)
{
    size_t len = strlen(s), k = 0;
    for (; k + 1 < n && k < len; k++)
        out[k] = s[k] >= 0x20 && s[k] < 0x7f ? s[k] : '?';
    if (k < len && k >= 3)
        memcpy(out + k - 3, "...", 3);
    out[k] = 0;
}

/* 1 when the 101 selected the subprotocol offered (Sec-WebSocket-Protocol:
 * exactly it; libwebsockets 4.1 checks only that what is selected was
 * offered, and takes a 101 that selects none). */
static int selected(ll_conn *c, struct lws *wsi)
{
    char got[64];
    int n = lws_hdr_copy(wsi, got, sizeof(got), WSI_TOKEN_PROTOCOL);
    return n > 0 && strcmp(got, c->opts.subprotocol) == 0;
}

/* A refusal's body often says why ("token expired"): what of it came with
 * the headers, or is already waiting on the socket, is read here, once,
 * through lws_http_client_read(), which hands it to
 * RECEIVE_CLIENT_HTTP_READ (on_refusal_body()). It reads what
 * libwebsockets keeps past the headers, else the socket without waiting;
 * nothing is waited for, since the attempt fails when this returns. An
 * excerpt goes into the failure's detail. */
static void read_refusal(ll_conn *c, struct lws *wsi)
{
    char *buf = NULL;
    int len = 0;
    c->hs_body_open = 1;
    c->hs_body_len = 0;
    (void)lws_http_client_read(wsi, &buf, &len);
    c->hs_body_open = 0;
    char shown[LL_BODY_SHOWN];
    if (ll_body_excerpt(c->hs_body, c->hs_body_len, shown, sizeof(shown)))
        ll_conn_detail(c, LIFELINE_ERR_HTTP_STATUS, "the server said \"%s\"", shown);
}

static void on_refusal_body(ll_conn *c, const void *in, size_t len)
{
    if (!c->hs_body_open)
        return;
    size_t room = sizeof(c->hs_body) - c->hs_body_len;
    size_t n = len < room ? len : room;
    memcpy(c->hs_body + c->hs_body_len, in, n);
    c->hs_body_len += n;
}

/* The server's answer to the upgrade, before libwebsockets judges it:
 * ESTABLISHED_CLIENT_HTTP comes for every answer, 101 or not (client-
 * http.c, lws_client_interpret_server_handshake()), after the redirect
 * that LCCSCF_HTTP_NO_FOLLOW_REDIRECT turned off. libwebsockets reads the
 * status with atoi(), so "999999999999" became -727379969 and "-401" -401,
 * and "101abc" passed as 101: the status line is read here instead, and a
 * malformed one refused (returning non-zero fails the attempt with "HS:
 * disallowed by client filter"). */
static int on_upgrade_answer(ll_conn *c, struct lws *wsi)
{
    /* what follows "HTTP/1.1 " (or "HTTP/1.0 ") on the status line */
    enum lws_token_indexes tok = WSI_TOKEN_HTTP;
    int n = lws_hdr_total_length(wsi, tok);
    if (n <= 0)
        n = lws_hdr_total_length(wsi, tok = WSI_TOKEN_HTTP1_0);
    char *line = n > 0 ? malloc((size_t)n + 1) : NULL;
    if (line && lws_hdr_copy(wsi, line, n + 1, tok) != n) {
        free(line);
        line = NULL;
    }
    c->hs_status = line ? ll_parse_http_status(line, (size_t)n) : 0;
    if (!c->hs_status) {
        char shown[LL_STATUS_SHOWN];
        printable(shown, sizeof(shown), line ? line : "");
        free(line);
        c->hs_malformed = 1;
        ll_conn_detail(c, LIFELINE_ERR_PROTOCOL, "malformed HTTP status \"%s\"", shown);
        return -1;
    }
    free(line);
    if (c->hs_status == 101 && c->opts.require_subprotocol && !selected(c, wsi)) {
        c->hs_no_subprotocol = 1;
        ll_conn_detail(c, LIFELINE_ERR_NOT_LIFELINE,
                       "its 101 did not select the subprotocol %s", c->opts.subprotocol);
        return -1;
    }
    if (c->hs_status >= 300 && c->hs_status < 400) {
        char location[LL_LOCATION_MAX] = "", redacted[LL_LOCATION_REDACTED],
            shown[LL_LOCATION_SHOWN];
        if (lws_hdr_copy(wsi, location, sizeof(location), WSI_TOKEN_HTTP_LOCATION) < 0)
            snprintf(location, sizeof(location), "(too long)");
        lifeline_redact_url(location, redacted, sizeof(redacted));
        printable(shown, sizeof(shown), redacted);
        ll_conn_detail(c, LIFELINE_ERR_HTTP_STATUS, "redirect to %s not followed",
                         *shown ? shown : "(no Location)");
    } else if (c->hs_status != 101) {
        read_refusal(c, wsi);
    }
    return 0;
}

static void on_connection_error(ll_conn *c, struct lws *wsi, const char *why)
{
    /* the facts, the most telling first; the core judges them */
    ll_event ev = {.type = LL_EV_CONNECT_FAILED, .conn_id = c->wsi_conn_id};
    if (c->cert_refused && !c->opts.allow_insecure_tls) {
        ev.failure.kind = LL_FAIL_TLS_VERIFY; /* OpenSSL's verify result */
        why = "the server's certificate was refused";
    } else if (c->hs_malformed) {
        ev.failure.kind = LL_FAIL_PROTOCOL; /* our own status line check */
        why = "malformed status line";
    } else if (c->hs_no_subprotocol) {
        ev.failure.kind = LL_FAIL_SUBPROTOCOL; /* our own check too */
        why = "no subprotocol selected";
    } else if (c->hs_status && c->hs_status != 101) {
        char retry_after[32] = "";
        if (lws_hdr_copy(wsi, retry_after, sizeof(retry_after), WSI_TOKEN_HTTP_RETRY_AFTER) < 0)
            retry_after[0] = 0;
        ev.failure = ll_failure_http(c->hs_status, retry_after);
    } else {
        ev.failure = ll_failure_from_lws_text(why); /* all lws 4.1 says */
    }
    ll_failure_verdict v = ll_failure_judge(&ev.failure);
    ll_conn_log(c, v.permanent ? LIFELINE_LOG_ERROR : LIFELINE_LOG_INFO,
                  "connection attempt failed: %s (HTTP %d)", why ? why : "unknown",
                  v.http_status);
    lws_set_opaque_user_data(wsi, NULL);
    ll_conn_forget(c);
    ll_conn_report_later(c, &ev, 1); /* it may come from inside a connect */
}

/* The server's close frame, before libwebsockets answers it: it echoes
 * the payload as it came (client-parser-ws.c, LWSWSOPC_CLOSE), a 1-byte
 * one, a code of 5000 and up or a reason that is not UTF-8 included. A bad
 * one is answered 1002 or 1007 instead: returning -1 here makes
 * lws_ws_client_rx_sm() return before it copies the payload over the close
 * reason set here, and the close that follows sends that reason. (Codes
 * below 1000, 1004-1006 and 1012-2999 libwebsockets 4.1 has already
 * replaced with 1002 in the payload this sees: it answers those 1002
 * itself, 1012-1014 included, which are valid.) */
static int on_peer_close(ll_conn *c, struct lws *wsi, const unsigned char *in, size_t len)
{
    int code = 0;
    int answer = ll_ws_close_check(in, len, &code);
    c->last_peer_close = code ? code : 1005;
    if (!answer)
        return 0;
    if (len == 1)
        ll_conn_detail(c, LIFELINE_ERR_PROTOCOL,
                         "a close frame with a 1-byte payload, answered with 1002");
    else if (answer == LWS_CLOSE_STATUS_INVALID_PAYLOAD)
        ll_conn_detail(c, LIFELINE_ERR_PROTOCOL,
                         "a close frame (code %d) whose reason is not UTF-8, answered with 1007",
                         code);
    else
        ll_conn_detail(c, LIFELINE_ERR_PROTOCOL,
                         "a close frame with code %d, which may not be sent, answered with 1002",
                         code);
    ll_conn_log(c, LIFELINE_LOG_WARN, "%s", c->detail);
    c->fail_error = LIFELINE_ERR_PROTOCOL;
    const char *text = close_text(answer);
    lws_close_reason(wsi, (enum lws_close_status)answer, (unsigned char *)text, strlen(text));
    return -1;
}

/* The peer's end of the socket is still there: no end of stream and no
 * error waiting to be read (a peek, nothing is consumed). */
static int peer_still_there(struct lws *wsi)
{
    char b;
    ssize_t n = recv(lws_get_socket_fd(wsi), &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
}

/* libwebsockets is closing an open connection. When it does so because
 * its frame parser refused what the server sent (lws_ws_client_rx_sm(),
 * client-parser-ws.c, returns -1 on a reserved opcode or bit, a fragmented
 * or long control frame, a continuation with nothing to continue, a length
 * with bit 63 set...), it sets no close reason, and then
 * rops_close_via_role_protocol_ws() (ops-ws.c) sends no close frame: TCP
 * is dropped. RFC 6455 §7.1.7 wants a close frame with 1002 first.
 * __lws_close_free_wsi() (close.c) makes this callback (the protocol's
 * unbind: per_session_data_size is not 0 for it) just before it asks the
 * role to close, so a reason set here goes out. The same callback comes
 * for every other close: those are told apart by what lifeline knows
 * (a close of ours, a failure of ours, the server's close, a connection
 * that never opened), by the socket (the server has gone: nothing can be
 * sent) and by lws_callback_on_writable(), which refuses a socket
 * libwebsockets has given up on (a timeout, a write error). On every
 * failure of a connection that can still send, what the app queued goes
 * out before the close frame.
 *
 * One fault cannot be caught at all with libwebsockets 4.1: a masked frame
 * from the server (RFC 6455 §5.1: the client must fail the connection).
 * lws_ws_client_rx_sm() reads the mask bit into wsi->ws->this_frame_masked
 * (client-parser-ws.c, LWS_RXPS_04_FRAME_HDR_LEN), unmasks the payload and
 * delivers it as if unmasked; the bit is in a private struct, and no call
 * of the public API reports it. libwebsockets 4.3.1 fails the connection
 * itself (1002 "srv mask", upstream commit d42a7900d); the branch for a
 * reason libwebsockets set reports that as a PROTOCOL error. */
static void on_dropping(ll_conn *c, struct lws *wsi)
{
    if (!c->wsi_open || c->last_peer_close || (c->close_code && !c->fail_error))
        return; /* never opened; the server's close frame; our own close */
    if (!c->fail_error && lws_get_close_length(wsi) >= 2) {
        /* libwebsockets failed it with a reason of its own (from 4.3.1 on
         * it does for a masked frame: 1002 "srv mask") */
        const unsigned char *p = lws_get_close_payload(wsi);
        ll_conn_detail(c, LIFELINE_ERR_PROTOCOL, "libwebsockets closed it with %d",
                         p[0] << 8 | p[1]);
        c->fail_error = LIFELINE_ERR_PROTOCOL;
    }
    if (!peer_still_there(wsi) || lws_callback_on_writable(wsi) != 1)
        return; /* nothing can be sent any more */
    if (!c->fail_error) {
        ll_conn_log(c, LIFELINE_LOG_WARN,
                      "libwebsockets refused a frame from the server: closing with 1002");
        ll_conn_detail(c, LIFELINE_ERR_PROTOCOL,
                         "a frame libwebsockets refused (reserved bits or opcode, or bad "
                         "fragmentation), closed with 1002");
        c->fail_error = LIFELINE_ERR_PROTOCOL;
        const char *text = close_text(LWS_CLOSE_STATUS_PROTOCOL_ERR);
        lws_close_reason(wsi, LWS_CLOSE_STATUS_PROTOCOL_ERR, (unsigned char *)text,
                         strlen(text));
    }
    /* a failure of this connection: what the app queued goes out before
     * the close frame (for a failure of ours found while reading, this
     * close can come before the WRITEABLE that was to send it) */
    flush_queue(c, wsi);
}

static void on_closed(ll_conn *c)
{
    int was_open = c->wsi_open, failed = c->fail_error, peer = c->last_peer_close;
    uint32_t id = c->wsi_conn_id;
    ll_conn_settle(c, c->wsi); /* a message libwebsockets held part of */
    /* our graceful close ended before its wait ran out (close_timed_out()
     * forgets the wsi first): libwebsockets ends it when the server's
     * answer comes (LRS_AWAITING_CLOSE_ACK, client-parser-ws.c) */
    if (was_open && c->close_code == 1000 && !failed)
        c->close_answered = 1;
    ll_conn_forget(c);
    ll_event ev = {.type = was_open ? LL_EV_CLOSED : LL_EV_CONNECT_FAILED, .conn_id = id};
    ev.error = failed ? failed : peer ? LIFELINE_ERR_CLOSED_BY_PEER : LIFELINE_ERR_CONNECTION_RESET;
    if (peer && !failed)
        ll_conn_log(c, LIFELINE_LOG_INFO, "server closed the connection with %d", peer);
    if (was_open)
        ll_conn_report(c, &ev, 1);
    else
        ll_conn_report_later(c, &ev, 1); /* it may come from inside a connect */
}

static int add_headers(ll_conn *c, struct lws *wsi, void *in, size_t len)
{
    unsigned char **p = (unsigned char **)in, *end = (*p) + len;
    if (c->opts.origin && lws_add_http_header_by_name(wsi, (const unsigned char *)"origin:",
                                                 (const unsigned char *)c->opts.origin,
                                                 (int)strlen(c->opts.origin), p, end))
        return -1;
    for (size_t k = 0; k < c->opts.header_count; k++) {
        const char *h = c->opts.headers[k];
        const char *colon = strchr(h, ':');
        char name[LL_HEADER_NAME_MAX];
        size_t n = (size_t)(colon - h);
        if (n + 2 > sizeof(name))
            return -1;
        memcpy(name, h, n);
        name[n] = ':';
        name[n + 1] = 0;
        const char *v = colon + 1;
        while (*v == ' ')
            v++;
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                        (const unsigned char *)v, (int)strlen(v), p, end))
            return -1;
    }
    return 0;
}

static int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                       void *in, size_t len)
{
    (void)user;
    if (reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED)
        return ll_loop_on_wake(wsi);
    ll_conn *c = wsi ? lws_get_opaque_user_data(wsi) : NULL;
    if (c && c->probe_wsi == wsi && reason == LWS_CALLBACK_WSI_DESTROY)
        return ll_health_callback(wsi, reason, user, in, len); /* it comes to
                                                                  protocols[0] */
    if (!c || c->wsi != wsi)
        return 0; /* let go of, or unknown */
    ll_conn *prev = ll_loop_enter(c);
    int rc = 0;
    switch (reason) {
    case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
        /* len is OpenSSL's preverify_ok: remember a refusal, so the failure
         * that follows is known as a refused certificate (permanent) */
        if (len == 0)
            c->cert_refused = 1;
        break;
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
        rc = add_headers(c, wsi, in, len);
        break;
    case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
        rc = on_upgrade_answer(c, wsi);
        break;
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
        on_refusal_body(c, in, len);
        break;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        c->wsi_open = 1;
        ll_conn_report(c, &(ll_event){.type = LL_EV_OPENED, .conn_id = c->wsi_conn_id}, 0);
        break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        on_connection_error(c, wsi, in ? (const char *)in : NULL);
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        rc = on_receive(c, wsi, in, len);
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE_PONG:
        if (len == 4) {
            const unsigned char *b = in;
            uint32_t seq = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
            ll_conn_report(c, &(ll_event){.type = LL_EV_PONG, .conn_id = c->wsi_conn_id,
                                          .seq = seq}, 0);
        }
        break;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        rc = on_peer_close(c, wsi, in, len);
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        rc = on_writeable(c, wsi);
        break;
    case LWS_CALLBACK_TIMER: /* close_from_timer(): the close handed over */
        rc = c->close_handed ? -1 : 0;
        break;
    case LWS_CALLBACK_WS_CLIENT_DROP_PROTOCOL:
        on_dropping(c, wsi);
        break;
    case LWS_CALLBACK_CLIENT_CLOSED:
    case LWS_CALLBACK_WSI_DESTROY:
        on_closed(c);
        break;
    default:
        break;
    }
    ll_loop_exit(prev);
    return rc;
}

const struct lws_protocols ll_protocols[] = {
    /* per_session_data_size 1: libwebsockets makes the unbind callback that
     * on_dropping() needs only for a wsi with user space (close.c) */
    {"lifeline-ws", ws_callback, 1, LL_WS_RX_BUFFER, 0, NULL, 0},
    {"lifeline-http", ll_health_callback, 0, LL_HTTP_RX_BUFFER, 0, NULL, 0},
    {"lifeline-netwatch", ll_netwatch_callback, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};
