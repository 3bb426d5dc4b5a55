/* lifeline.v1 on the server's connections: the adapter around delivery.c.
 * It reads units off a connection, hands data to the application (ws.c),
 * writes welcomes, acks and numbered data, commits the sessions' high-water
 * marks (and, with --journal, each accepted message) to SQLite before the
 * acks that cover them, and logs resumes and protocol errors.
 *
 * Commits are grouped: the marks and journal rows of every session go in
 * one transaction, when an ack falls due (ack_every messages or
 * ack_delay_ms) or a held message has waited ack_delay_ms, checked once
 * per service pass, and at each second's flush.
 *
 * Effects after the commit: an accepted message is held (delivery.c) and
 * handed to the application only once the transaction with its mark (and
 * journal row) has committed; its echo and broadcasts are numbered and
 * written from then on. A server killed before the commit has sent
 * nothing for the message, and the client's resend is handled as the
 * first: exactly once. A failed commit drops what it held. */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "proto/wire.h"
#include "server/clock.h"
#include "server/server.h"

_Static_assert(LWS_PRE + LL_WIRE_HEADER_MAX <= SRV_MSG_HEADROOM,
               "a data unit's header is written in the message's headroom");

uint64_t srv_v1_random_epoch(void)
{
    uint64_t e = 0;
    while (!e)
        if (getrandom(&e, sizeof(e), 0) != (ssize_t)sizeof(e))
            e = (uint64_t)srv_clock_wall_ms() * 0x9e3779b97f4a7c15ULL ^
                (uint64_t)srv_clock_mono_ms();
    return e;
}

/* The fields that say which connection a line is about. */
static cJSON *who(const srv_conn *c)
{
    cJSON *f = cJSON_CreateObject();
    if (f) {
        cJSON_AddNumberToObject(f, "id", (double)c->id);
        cJSON_AddStringToObject(f, "user", c->user ? c->user->name : "-");
        cJSON_AddStringToObject(f, "store", c->store ? c->store->name : "-");
    }
    return f;
}

int srv_v1_open(srv_server *s, srv_conn *c)
{
    (void)s;
    c->dlv = srv_dlv_conn_new(c);
    return c->dlv ? 0 : -1;
}

void srv_v1_close(srv_server *s, srv_conn *c)
{
    if (!c->dlv)
        return;
    srv_dlv_conn_release(&s->dlv, c->dlv, srv_clock_mono_ms());
    c->dlv = NULL;
}

static void wake(void *owner, void *ctx)
{
    (void)ctx;
    srv_conn *c = owner;
    if (!c->close_code && !c->blackholed)
        lws_callback_on_writable(c->wsi);
}

static void close_slow(void *owner, void *ctx)
{
    srv_server *s = ctx;
    srv_conn *c = owner;
    if (c->close_code)
        return;
    srv_log_msg(&s->log, SRV_LOG_WARN, "slow_reader",
                "closing %s/%s: it fell behind its lifeline.v1 replay buffer",
                c->store ? c->store->name : "-", c->user ? c->user->name : "-");
    srv_conn_close(s, c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "slow reader", SRV_CLOSE_SLOW_READER);
}

static void close_db(void *owner, void *ctx)
{
    srv_conn_close(ctx, owner, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "database error",
                   SRV_CLOSE_ERROR);
}

/* The batch cannot be committed: everything not committed is rolled back,
 * the held messages dropped unhandled, and the connections of those
 * sessions closed (their clients send it again). */
static void batch_failure(srv_server *s)
{
    if (s->dlv_tx)
        srv_db_rollback(s->db);
    s->dlv_tx = false;
    srv_dlv_rolled_back(&s->dlv, close_db, s);
}

static int tx_begin(srv_server *s)
{
    if (s->dlv_tx)
        return 0;
    if (srv_db_begin(s->db))
        return -1;
    s->dlv_tx = true;
    return 0;
}

typedef struct put_ctx {
    srv_server *s;
    int64_t wall;
} put_ctx;

static int put_hwm(const char *hex, uint64_t hwm, void *ctx)
{
    put_ctx *p = ctx;
    return srv_db_put_hwm(p->s->db, hex, hwm, p->wall);
}

typedef struct journal_ctx {
    srv_server *s;
    int64_t wall;
    int rc;
} journal_ctx;

/* --journal: a held message of a session kept here alone (a claimed one's
 * went to Redis with its mark). */
static void put_journal(const srv_dlv_held *h, void *ctx)
{
    journal_ctx *j = ctx;
    if (j->rc || h->session->claimed)
        return;
    j->rc = srv_db_journal_add(j->s->db, h->session->hex, h->seq, srv_msg_payload(h->msg),
                               h->msg->len, h->msg->binary, j->wall);
}

static bool in_memory(const char *hex, void *ctx)
{
    return srv_dlv_known(ctx, hex);
}

/* The application acts on a held message of session ss, now committed:
 * its reply goes to the session (its connection, or its stream for its
 * resume when the connection is gone), its broadcast to the rest of the
 * store. */
void srv_v1_act(srv_dlv_session *ss, uint64_t seq, srv_msg *m, void *ctx)
{
    (void)seq;
    srv_server *s = ctx;
    srv_conn *c = ss->conn ? ss->conn->owner : NULL;
    srv_msg *reply, *broadcast;
    srv_ws_app_effects(ss->store, ss->user, srv_msg_payload(m), m->len, m->binary, &reply,
                       &broadcast);
    if (reply) {
        if (c)
            srv_conn_send(s, c, reply);
        else if (!s->destroying)
            srv_dlv_push_session(&s->dlv, ss, reply, srv_clock_mono_ms());
    }
    if (broadcast)
        s->reg.stats.deliveries += srv_store_send_from(s, ss->store, c, ss, broadcast);
    srv_msg_unref(reply);
    srv_msg_unref(broadcast);
}

static bool unclaimed(const srv_dlv_session *ss)
{
    return !ss->claimed;
}

int srv_v1_commit(srv_server *s)
{
    if (!srv_dlv_dirty(&s->dlv) && !s->dlv_tx)
        return 0;
    /* shared sessions first: Redis says which are still ours, and their
     * marks and journal entries are committed there before anything else */
    if (srv_v1_shared_commit(s)) {
        srv_log_msg(&s->log, SRV_LOG_ERROR, "redis_error",
                    "lifeline.v1 marks could not be committed in Redis");
        batch_failure(s);
        return -1;
    }
    put_ctx p = {s, srv_clock_wall_ms()};
    journal_ctx j = {s, p.wall, 0};
    if (tx_begin(s))
        goto fail;
    if (s->opt.journal)
        srv_dlv_each_held(&s->dlv, put_journal, &j);
    if (j.rc || srv_dlv_dirty_each(&s->dlv, put_hwm, &p))
        goto fail;
    int64_t over = srv_db_session_count(s->db) - s->opt.max_sessions;
    if (over > 0 && srv_db_trim_sessions(s->db, over, in_memory, &s->dlv) < 0)
        goto fail;
    if (srv_db_commit(s->db))
        goto fail;
    s->dlv_tx = false;
    srv_dlv_committed(&s->dlv, srv_v1_act, s); /* the application acts only now */
    return 0;
fail:
    srv_log_msg(&s->log, SRV_LOG_ERROR, "db_error", "%s", srv_db_error(s->db));
    if (s->dlv_tx)
        srv_db_rollback(s->db);
    s->dlv_tx = false;
    /* the sessions committed in Redis are committed (Redis is their record:
     * their journal entries are there, and their marks answer a resend
     * anywhere); the others are rolled back, their clients send again */
    srv_dlv_rolled_back_if(&s->dlv, unclaimed, close_db, s);
    srv_dlv_committed(&s->dlv, srv_v1_act, s);
    return -1;
}

void srv_v1_service(srv_server *s)
{
    if (s->destroying || (!s->dlv.ackq && !s->dlv.held_count))
        return;
    int64_t now = srv_clock_mono_ms();
    if (srv_dlv_commit_due(&s->dlv, now))
        srv_v1_commit(s);
    srv_dlv_each_ack_due(&s->dlv, now, wake, s);
    int64_t next = srv_dlv_next_deadline(&s->dlv, now);
    if (next >= 0 && s->ctx)
        srv_timer_start(&s->ack_timer, (next - now) * 1000);
}

void srv_v1_sweep(srv_server *s)
{
    srv_dlv_sweep(&s->dlv, srv_clock_mono_ms(), close_slow, s);
}

static int protocol_error(srv_server *s, srv_conn *c)
{
    cJSON *f = srv_log_enabled(&s->log, SRV_LOG_WARN) ? who(c) : NULL;
    if (f) {
        cJSON_AddStringToObject(f, "reason", c->dlv->reason);
        srv_log_emit(&s->log, SRV_LOG_WARN, "delivery_protocol_error", f);
    }
    return srv_conn_fail(s, c, LWS_CLOSE_STATUS_PROTOCOL_ERR, c->dlv->reason, SRV_CLOSE_PROTOCOL);
}

static int hello(srv_server *s, srv_conn *c, const ll_wire_unit *u, int64_t now)
{
    uint64_t stored = 0;
    char hex[LL_WIRE_SESSION_HEX + 1];
    ll_wire_session_hex(&u->session, hex);
    /* with --redis: the session as the cluster has it (else as alone) */
    void *settle = NULL;
    int shared = s->shared ? srv_v1_shared_claim(s, c, u, hex, now, &settle) : -1;
    if (shared == SRV_DLV_ERROR)
        return protocol_error(s, c);
    if (shared == SRV_V1_SHARED_WAIT) {
        srv_v1_shared_close_waiting(c, s);
        return 0;
    }
    if (!srv_dlv_find(&s->dlv, &u->session) && srv_db_get_hwm(s->db, hex, &stored) < 0) {
        srv_v1_shared_settle(s, NULL, settle);
        srv_log_msg(&s->log, SRV_LOG_ERROR, "db_error", "%s", srv_db_error(s->db));
        return srv_conn_fail(s, c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "database error",
                             SRV_CLOSE_ERROR);
    }
    srv_dlv_welcome w;
    int rc = srv_dlv_hello(&s->dlv, c->dlv, u, c->store->name, c->user->name, stored, now,
                           srv_v1_random_epoch(), &w);
    srv_v1_shared_settle(s, rc == 0 || rc == 1 ? c->dlv->session : NULL, settle);
    if (rc == SRV_DLV_ERROR)
        return protocol_error(s, c);
    if (rc < 0)
        return srv_conn_fail(s, c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "out of memory",
                             SRV_CLOSE_ERROR);
    if (w.displaced) {
        srv_conn *old = w.displaced->owner;
        /* the user stays, through c: the old connection's end is no
         * user_left, and c's start no second user_joined */
        if (old->announced) {
            old->announced = 0;
            c->announced = 1;
        }
        srv_conn_close(s, old, LWS_CLOSE_STATUS_POLICY_VIOLATION, w.displaced->reason,
                       SRV_CLOSE_REPLACED);
    }
    if (rc == 1)
        close_slow(c, s);
    srv_ws_joined(s, c);
    cJSON *f = w.resumed && srv_log_enabled(&s->log, SRV_LOG_INFO) ? who(c) : NULL;
    if (f) {
        cJSON_AddStringToObject(f, "session", hex);
        cJSON_AddBoolToObject(f, "recovered", w.recovered);
        cJSON_AddNumberToObject(f, "replayed", (double)w.replayed);
        srv_log_emit(&s->log, SRV_LOG_INFO, "session_resumed", f);
    }
    wake(c, s);
    return 0;
}

int srv_v1_message(srv_server *s, srv_conn *c, const unsigned char *data, size_t len, bool binary)
{
    ll_wire_unit u;
    ll_wire_read(data, len, binary, &u);
    int64_t now = srv_clock_mono_ms();
    switch (srv_dlv_receive(&s->dlv, c->dlv, &u, now)) {
    case SRV_DLV_NOTHING:
        return 0;
    case SRV_DLV_HELLO:
        return hello(s, c, &u, now);
    case SRV_DLV_ERROR:
        return protocol_error(s, c);
    case SRV_DLV_DELIVER:
        break;
    }
    /* the application gets it once the commit of its mark is done */
    srv_msg *m = srv_msg_new(u.payload, u.payload_len, binary);
    int held = srv_dlv_hold(&s->dlv, c->dlv, u.seq, m, now);
    srv_msg_unref(m);
    if (held) {
        srv_log_msg(&s->log, SRV_LOG_ERROR, "out_of_memory",
                    "cannot hold a lifeline.v1 message for its commit");
        batch_failure(s); /* closes c: its client sends the message again */
    }
    return 0;
}

int srv_v1_send(srv_server *s, srv_conn *c, srv_msg *m)
{
    bool early = !c->dlv->session;
    if (srv_dlv_push_conn(&s->dlv, c->dlv, m, srv_clock_mono_ms())) {
        close_slow(c, s);
        if (early)
            return -1; /* dropped */
    }
    wake(c, s);
    return 0; /* the session keeps it */
}

size_t srv_v1_send_idle(srv_server *s, const char *store, const srv_dlv_session *except,
                        srv_msg *m)
{
    return srv_dlv_push_idle(&s->dlv, store, except, m, srv_clock_mono_ms());
}

/* Units written per WRITEABLE at most, so that one connection (a long
 * replay) does not hold up the others' turn for long. */
#define WRITE_BURST 1024

/* Writes one unit; returns lws_write's result (0: nothing to write). */
static int write_unit(srv_server *s, srv_conn *c, int64_t now)
{
    srv_dlv_write w;
    srv_dlv_next_write(&s->dlv, c->dlv, now, &w);
    int n = 0;
    if (w.kind == SRV_DLV_WRITE_TEXT) {
        unsigned char buf[LWS_PRE + LL_WIRE_CONTROL_MAX];
        memcpy(buf + LWS_PRE, w.text, w.len);
        n = lws_write(c->wsi, buf + LWS_PRE, w.len, LWS_WRITE_TEXT);
    } else if (w.kind == SRV_DLV_WRITE_DATA) {
        /* the header goes in the headroom before the shared payload: lws
         * writes it, or copies what the socket did not take, before it
         * returns */
        unsigned char *p = srv_msg_payload(w.msg) - w.len;
        memcpy(p, w.text, w.len);
        n = lws_write(c->wsi, p, w.len + w.msg->len,
                      w.msg->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
        if (n >= 0) {
            s->reg.stats.messages_out++;
            s->reg.stats.bytes_out += w.len + w.msg->len; /* the unit: header and payload */
        }
    }
    return n;
}

/* TCP_CORK on or off for c's socket: the units of a burst leave in as few
 * segments as the kernel can make of them, when the burst ends. */
static void cork(srv_conn *c, int on)
{
    lws_sockfd_type fd = lws_get_socket_fd(c->wsi);
    if (fd >= 0)
        setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof(on));
}

int srv_v1_writeable(srv_server *s, srv_conn *c)
{
    /* what is due goes out now, while the socket takes it (a commit
     * releases a batch of echoes at once): until lws holds unsent bytes or
     * the socket is full, then at the next WRITEABLE. Corked, so that the
     * burst costs the kernel one transmission: what a commit released
     * reaches the client sooner (a server killed meanwhile loses it) */
    int64_t now = srv_clock_mono_ms();
    int rc = 0, i = 0;
    bool corked = false;
    for (; i < WRITE_BURST; i++) {
        if (write_unit(s, c, now) < 0) {
            rc = -1;
            break;
        }
        if (!srv_v1_has_write(s, c))
            break;
        if (lws_send_pipe_choked(c->wsi))
            break;
        if (!corked) {
            cork(c, 1);
            corked = true;
        }
    }
    if (corked)
        cork(c, 0);
    if (rc == 0 && srv_v1_has_write(s, c))
        lws_callback_on_writable(c->wsi);
    return rc;
}

bool srv_v1_has_write(srv_server *s, const srv_conn *c)
{
    return srv_dlv_has_write(&s->dlv, c->dlv, srv_clock_mono_ms());
}
