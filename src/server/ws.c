/* The WebSocket endpoint: the upgrade check (path, fault mode, identity),
 * then each connection's life: join, messages, pongs, leave. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto/ws_close.h"
#include "server/api.h"
#include "server/clock.h"
#include "server/protocol.h"
#include "server/query.h"
#include "server/server.h"

#define MAX_FRAGS 8

/* The query fragments of the request being upgraded. */
typedef struct frags {
    char buf[MAX_FRAGS][SRV_TOKEN_MAX + 16];
    const char *ptrs[MAX_FRAGS];
    size_t n;
} frags;

/* Copies the query's fragments. One too long for its buffer is cut short:
 * it is still too long to be a token (401) or a name (400), the status a
 * longer one deserves. Returns -1 past MAX_FRAGS fragments. */
static int read_frags(struct lws *wsi, frags *f)
{
    static char whole[4096 + 1]; /* libwebsockets' header space, by default */
    f->n = 0;
    for (int i = 0;; i++) {
        int flen = lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (flen <= 0)
            return 0;
        if (f->n == MAX_FRAGS)
            return -1;
        bool cut = (size_t)flen >= sizeof(f->buf[0]);
        char *dst = cut ? whole : f->buf[f->n];
        int cap = cut ? (int)sizeof(whole) : (int)sizeof(f->buf[0]);
        if (lws_hdr_copy_fragment(wsi, dst, cap, WSI_TOKEN_HTTP_URI_ARGS, i) < 0)
            return -1;
        if (cut) {
            memcpy(f->buf[f->n], whole, sizeof(f->buf[0]) - 1);
            f->buf[f->n][sizeof(f->buf[0]) - 1] = '\0';
        }
        f->ptrs[f->n] = f->buf[f->n];
        f->n++;
    }
}

/* Who is asking: 0 with id filled, or the status to refuse with (and, for
 * a 401, the WWW-Authenticate challenge in *challenge). */
static int identify(srv_server *s, struct lws *wsi, srv_identity *id, const char **why,
                    const char **challenge)
{
    static frags f; /* 16 KiB: too big for the stack; the loop is single-threaded */
    srv_ws_query q;
    if (read_frags(wsi, &f)) {
        *why = "more than 8 query parameters";
        return 400;
    }
    if (srv_query_collect(f.ptrs, f.n, &q, why))
        return 400;
    int st = srv_query_identity(&q, s->opt.auth_secret, srv_clock_wall_ms() / 1000, id, why);
    *challenge = st == 401 ? srv_query_challenge(&q) : NULL;
    return st;
}

static int refuse(struct lws *wsi, int status, const char *why, const char *hname,
                  const char *hvalue)
{
    /* a client that cannot connect shows at the default level */
    srv_http_log(srv_server_of(wsi), wsi, SRV_LOG_INFO, "upgrade_refused", status, why);
    char *body = srv_api_error_body(why);
    srv_http_respond(wsi, status, body, hname, hvalue, true);
    cJSON_free(body);
    return 1; /* lws ends the transaction, then the connection */
}

/* LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: 0 lets the upgrade go ahead, 1 means
 * a refusal was written, -1 hangs up without an answer. */
static int confirm_upgrade(srv_server *s, struct lws *wsi, const char *upgrade)
{
    char path[64];
    if (strcasecmp(upgrade, "websocket"))
        return refuse(wsi, 400, "only websocket upgrades are served", NULL, NULL);
    if (lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI) <= 0)
        return refuse(wsi, 405, "upgrade with GET", "Allow", "GET");
    if (strcmp(path, "/ws"))
        return refuse(wsi, 404, "not found", NULL, NULL);
    if (s->stopping)
        return refuse(wsi, 503, "server shutting down", NULL, NULL);
    switch (s->fault.mode) {
    case SRV_FAULT_BLACKHOLE:
        return -1; /* only reached with TLS, where requests cannot be sniffed */
    case SRV_FAULT_REFUSE: {
        char ra[24];
        snprintf(ra, sizeof(ra), "%lld",
                 (long long)srv_fault_retry_after_s(&s->fault, srv_clock_mono_ms()));
        return refuse(wsi, 503, "refusing connections (fault injection)", "Retry-After", ra);
    }
    case SRV_FAULT_REJECT_401:
        return refuse(wsi, 401, "rejected (fault injection)", "WWW-Authenticate",
                      SRV_CHALLENGE_WS_INVALID);
    default:
        break;
    }
    srv_identity id;
    const char *why = "", *challenge = NULL;
    int status = identify(s, wsi, &id, &why, &challenge);
    if (status)
        return refuse(wsi, status, why, challenge ? "WWW-Authenticate" : NULL, challenge);
    return 0;
}

/* Who c is, for its log lines: a member's user and store, or the names
 * kept for one that never joined. */
static srv_conn_who who_of(const srv_conn *c)
{
    srv_conn_who who = {.id = c->id, .peer = c->peer};
    if (c->store && c->user) {
        who.user = c->user->name;
        who.store = c->store->name;
    } else if (c->names) {
        who.user = c->names;
        who.store = c->names + strlen(c->names) + 1;
    }
    return who;
}

/* connection_opened, for c as id says. */
static void log_opened(srv_server *s, const srv_conn *c, const srv_identity *id)
{
    if (!srv_log_enabled(&s->log, SRV_LOG_INFO))
        return;
    srv_conn_who who = {.id = c->id, .user = id->user, .store = id->store, .peer = c->peer};
    srv_log_emit(&s->log, SRV_LOG_INFO, "connection_opened", srv_connlog_opened(&who));
}

/* connection_closed: how c ended, and when (now, monotonic ms). */
static void log_closed(srv_server *s, const srv_conn *c, int64_t now)
{
    if (!srv_log_enabled(&s->log, SRV_LOG_INFO))
        return;
    srv_conn_who who = who_of(c);
    srv_conn_end end = {
        .cause = (srv_close_cause)c->cause,
        .server_code = c->close_code,
        .client_code = c->client_code,
        .detail = c->close_reason,
        .duration_ms = now - c->opened_ms,
    };
    srv_log_emit(&s->log, SRV_LOG_INFO, "connection_closed", srv_connlog_closed(&who, &end));
}

/* "user\0store", for a connection that never joins; NULL when out of
 * memory (its close line then names neither). */
static char *names_copy(const srv_identity *id)
{
    size_t u = strlen(id->user) + 1, st = strlen(id->store) + 1;
    char *p = malloc(u + st);
    if (p) {
        memcpy(p, id->user, u);
        memcpy(p + u, id->store, st);
    }
    return p;
}

static void announce(srv_server *s, srv_conn *c, const char *type)
{
    if (!c->store || s->stopping)
        return;
    srv_msg *m = srv_msg_from_text(srv_proto_presence(type, c->store->name, c->user->name));
    srv_store_send(s, c->store->name, c, m);
    srv_msg_unref(m);
}

void srv_ws_joined(srv_server *s, srv_conn *c)
{
    if (c->announced)
        return;
    c->announced = 1;
    announce(s, c, "user_joined");
}

/* Whether wsi was upgraded with the subprotocol lifeline.v1. */
static bool speaks_v1(struct lws *wsi)
{
    const struct lws_protocols *p = lws_get_protocol(wsi);
    return p && p->name && !strcmp(p->name, LL_WIRE_SUBPROTOCOL);
}

static int established(srv_server *s, struct lws *wsi, srv_session *pss)
{
    srv_identity id;
    const char *why = "", *challenge;
    if (identify(s, wsi, &id, &why, &challenge))
        return -1; /* checked at the upgrade a moment ago */
    int64_t now = srv_clock_mono_ms();
    srv_conn *c = srv_registry_open(&s->reg, wsi, now);
    if (!c)
        return -1;
    pss->conn = c;
    srv_peer_of(wsi, c->peer);
    log_opened(s, c, &id);
    srv_tap_watch(s, c);
    srv_ping_init(&c->ping, now, s->opt.ping_interval_ms);
    srv_rl_init(&c->rl, &s->opt.rate_limit, now);
    if (s->fault.mode == SRV_FAULT_ACCEPT_THEN_CLOSE) {
        c->names = names_copy(&id);
        srv_conn_close(s, c, LWS_CLOSE_STATUS_GOINGAWAY, "accept_then_close", SRV_CLOSE_FAULT);
        srv_server_check_monitor(s);
        return 0;
    }
    if (srv_registry_join(&s->reg, c, id.store, id.user)) {
        c->cause = SRV_CLOSE_ERROR;
        return -1;
    }
    if (speaks_v1(wsi) && srv_v1_open(s, c)) {
        c->cause = SRV_CLOSE_ERROR;
        return -1;
    }
    srv_registry_touch(&s->reg, c, srv_clock_wall_ms());
    srv_hold_new_conn(s, c);
    if (!c->dlv)
        srv_ws_joined(s, c); /* a lifeline.v1 connection joins at its hello */
    srv_server_check_monitor(s);
    return 0;
}

static void closed(srv_server *s, srv_session *pss)
{
    srv_conn *c = pss->conn;
    if (!c)
        return;
    pss->conn = NULL;
    srv_tap_forget(c);
    srv_outq_clear(&c->pongs);
    if (c->announced)
        announce(s, c, "user_left");
    int64_t now = srv_clock_mono_ms();
    log_closed(s, c, now);
    if (c->cause < SRV_CLOSE_CAUSE_COUNT)
        s->reg.stats.closed[c->cause]++;
    srv_v1_close(s, c); /* after user_left, which its own session does not get */
    if (c->rl_paused)
        s->reg.rl_paused--;
    srv_registry_close(&s->reg, c, now);
    if (!s->destroying)
        srv_server_check_monitor(s);
}

void srv_ws_app_effects(const char *store, const char *user, const unsigned char *data,
                        size_t len, bool binary, srv_msg **reply, srv_msg **broadcast)
{
    *reply = *broadcast = NULL;
    if (binary) {
        *reply = srv_msg_new(data, len, true);
        return;
    }
    srv_proto_result r;
    if (srv_proto_handle_text((const char *)data, len, &r))
        return;
    switch (r.kind) {
    case SRV_PROTO_ECHO_RAW:
        *reply = srv_msg_new(data, len, false);
        break;
    case SRV_PROTO_REPLY:
    case SRV_PROTO_ERROR:
        *reply = srv_msg_new(r.reply, strlen(r.reply), false);
        break;
    case SRV_PROTO_BROADCAST:
        *broadcast = srv_msg_from_text(srv_proto_broadcast(store, user, r.data));
        break;
    }
    srv_proto_result_free(&r);
}

void srv_ws_app_message(srv_server *s, srv_conn *c, const unsigned char *data, size_t len,
                        bool binary)
{
    srv_msg *reply, *broadcast;
    srv_ws_app_effects(c->store->name, c->user->name, data, len, binary, &reply, &broadcast);
    if (reply)
        srv_conn_send(s, c, reply);
    if (broadcast)
        s->reg.stats.deliveries += srv_store_send(s, c->store->name, c, broadcast);
    srv_msg_unref(reply);
    srv_msg_unref(broadcast);
}

/* rate_limited: c went on sending over the limit; its identity for the
 * log, with what it did. */
static void log_abuse(srv_server *s, const srv_conn *c)
{
    if (!srv_log_enabled(&s->log, SRV_LOG_WARN))
        return;
    srv_conn_who who = who_of(c);
    cJSON *f = srv_connlog_opened(&who); /* id, user, store, peer */
    if (f) {
        cJSON_AddNumberToObject(f, "dropped", (double)c->rl.dropped);
        cJSON_AddNumberToObject(f, "over_ms", (double)(c->rl.drop_ms - c->rl.streak_ms));
    }
    srv_log_emit(&s->log, SRV_LOG_WARN, "rate_limited", f);
}

/* --rate-limit for a message of len bytes from c, a plain connection:
 * true to handle it. Over the limit it is dropped; the sender gets an
 * error at most once a second, and is closed with 1008 once it has been
 * over the limit for --rate-limit-close-ms. */
static bool within_rate(srv_server *s, srv_conn *c, size_t len)
{
    switch (srv_rl_take(&c->rl, &s->opt.rate_limit, len, srv_clock_mono_ms())) {
    case SRV_RL_PASS:
        return true;
    case SRV_RL_DROP_NOTIFY: {
        srv_msg *m = srv_msg_from_text(srv_proto_error("rate limited"));
        srv_conn_send(s, c, m);
        srv_msg_unref(m);
        break;
    }
    case SRV_RL_DROP:
        break;
    case SRV_RL_ABUSE:
        log_abuse(s, c);
        srv_conn_close(s, c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "rate limited",
                       SRV_CLOSE_RATE_LIMITED);
        break;
    }
    s->reg.stats.rate_limited++;
    return false;
}

/* --rate-limit for c, a lifeline.v1 connection, after its unit of len
 * bytes was handled: its input stops until the buckets hold a message
 * again (hold.c's tick looks, every 10 ms while a connection is paused). A
 * unit is never dropped: its number would be missing, a gap. Its pongs
 * wait unread behind its units: the heartbeat starts afresh now and at
 * each look, so a paused connection is not pinged (its units said it is
 * alive) and never times out for it. */
static void pace(srv_server *s, srv_conn *c, size_t len)
{
    int64_t now = srv_clock_mono_ms();
    if (!srv_rl_charge(&c->rl, &s->opt.rate_limit, len, now) || c->close_code || c->failing)
        return;
    srv_ping_init(&c->ping, now, s->opt.ping_interval_ms);
    srv_conn_set_rx(c, false); /* libwebsockets keeps what it read past this unit */
    if (c->rl_paused)
        return;
    c->rl_paused = 1;
    s->reg.stats.rate_limit_pauses++;
    if (s->reg.rl_paused++ == 0)
        srv_server_kick(s); /* the tick goes fast from now on */
}

/* One complete message from c (a text message is valid UTF-8). Returns
 * what the receive callback returns. */
static int handle_message(srv_server *s, srv_conn *c, const unsigned char *data, size_t len,
                          bool binary)
{
    s->reg.stats.messages_in++;
    s->reg.stats.bytes_in += len;
    srv_registry_touch(&s->reg, c, srv_clock_wall_ms());
    if (c->dlv) {
        int rc = srv_v1_message(s, c, data, len, binary);
        if (!rc && srv_rl_enabled(&s->opt.rate_limit))
            pace(s, c, len);
        return rc;
    }
    if (srv_rl_enabled(&s->opt.rate_limit) && !within_rate(s, c, len))
        return 0;
    srv_ws_app_message(s, c, data, len, binary);
    return 0;
}

/* LWS_CALLBACK_RECEIVE: a piece of a message, as it arrives (a fragment,
 * or part of one); reassemble up to the limit. Text is checked piece by
 * piece, so invalid UTF-8 fails the connection at the first piece that
 * holds it, not at the end of the message. */
static int receive(srv_server *s, srv_conn *c, const unsigned char *in, size_t len)
{
    struct lws *wsi = c->wsi;
    if (c->close_code || !c->store)
        return 0;
    size_t max = (size_t)s->opt.max_message_bytes;
    bool first = lws_is_first_fragment(wsi), final = lws_is_final_fragment(wsi);
    size_t remaining = lws_remaining_packet_payload(wsi);
    if (first) {
        c->rx_len = 0;
        c->rx_binary = lws_frame_is_binary(wsi) ? 1 : 0;
        ll_utf8_stream_init(&c->rx_utf8);
    }
    c->rx_partial = !final;
    if (c->rx_len + len > max || remaining > max - c->rx_len - len)
        return srv_conn_fail(s, c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too big",
                             SRV_CLOSE_OVERSIZE);
    if (!c->rx_binary && (ll_utf8_stream_feed(&c->rx_utf8, in, len) != len ||
                          (final && !ll_utf8_stream_complete(&c->rx_utf8))))
        return srv_conn_fail(s, c, LWS_CLOSE_STATUS_INVALID_PAYLOAD, "invalid UTF-8",
                             SRV_CLOSE_PROTOCOL);
    if (first && final)
        return handle_message(s, c, in, len, c->rx_binary);
    size_t need = c->rx_len + len + remaining;
    if (need > c->rx_cap) {
        size_t cap = c->rx_cap ? c->rx_cap : 4096;
        while (cap < need)
            cap *= 2;
        if (cap > max)
            cap = max;
        unsigned char *p = realloc(c->rx, cap);
        if (!p)
            return -1;
        c->rx = p;
        c->rx_cap = cap;
    }
    memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
    if (final) {
        int rc = handle_message(s, c, c->rx, c->rx_len, c->rx_binary);
        /* idle connections keep no reassembly memory */
        free(c->rx);
        c->rx = NULL;
        c->rx_len = c->rx_cap = 0;
        return rc;
    }
    return 0;
}

/* LWS_CALLBACK_WS_PEER_INITIATED_CLOSE: the peer's close frame, before
 * libwebsockets echoes its payload back. It has already replaced some
 * codes that may not be sent (below 1000, 1004-1006, 1012-2999) by 1002,
 * in place; the rest of the rule (1 byte, 5000 and up, a reason that is
 * not UTF-8) is checked here: such a close is not echoed but answered with
 * 1002 or 1007, and the connection dropped. */
static int peer_close(srv_server *s, srv_conn *c, const void *in, size_t len)
{
    int code = 0;
    switch (ll_ws_close_check(in, len, &code)) {
    case 0:
        if (!c->close_code && c->cause == SRV_CLOSE_HANGUP) {
            c->cause = SRV_CLOSE_CLIENT; /* the client closes: its code is logged */
            c->client_code = (uint16_t)code;
        }
        return 0;
    case LWS_CLOSE_STATUS_INVALID_PAYLOAD:
        return srv_conn_fail(s, c, LWS_CLOSE_STATUS_INVALID_PAYLOAD,
                             "invalid UTF-8 in close reason", SRV_CLOSE_PROTOCOL);
    default:
        return srv_conn_fail(s, c, LWS_CLOSE_STATUS_PROTOCOL_ERR, "invalid close frame",
                             SRV_CLOSE_PROTOCOL);
    }
}

int srv_ws_callback(srv_server *s, struct lws *wsi, enum lws_callback_reasons reason,
                    srv_session *pss, void *in, size_t len)
{
    switch (reason) {
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        return confirm_upgrade(s, wsi, in ? (const char *)in : "");
    case LWS_CALLBACK_ESTABLISHED:
        return pss ? established(s, wsi, pss) : -1;
    case LWS_CALLBACK_RECEIVE:
        return pss && pss->conn ? receive(s, pss->conn, in, len) : 0;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        return pss && pss->conn ? peer_close(s, pss->conn, in, len) : 0;
    case LWS_CALLBACK_WS_SERVER_DROP_PROTOCOL:
        if (pss && pss->conn)
            srv_conn_closing(s, pss->conn);
        return 0;
    case LWS_CALLBACK_RECEIVE_PONG:
        if (pss && pss->conn) {
            srv_ping_pong(&pss->conn->ping);
            srv_registry_touch(&s->reg, pss->conn, srv_clock_wall_ms());
        }
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return pss && pss->conn ? srv_conn_writeable(s, pss->conn) : 0;
    case LWS_CALLBACK_CLOSED:
        if (pss)
            closed(s, pss);
        return 0;
    default:
        return 0;
    }
}
