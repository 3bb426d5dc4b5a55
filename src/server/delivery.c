/* lifeline.v1's sessions and rules on the server side; see delivery.h and
 * docs/protocol.md ("Rules", "Resume"). */
#include "server/delivery.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void srv_dlv_cfg_init(srv_dlv_cfg *c)
{
    c->replay_ms = SRV_DLV_DEFAULT_REPLAY_MS;
    c->replay_max = SRV_DLV_DEFAULT_REPLAY_MAX;
    c->replay_max_bytes = SRV_DLV_DEFAULT_REPLAY_MAX_BYTES;
    c->ack_every = SRV_DLV_DEFAULT_ACK_EVERY;
    c->ack_delay_ms = SRV_DLV_DEFAULT_ACK_DELAY_MS;
    c->max_sessions = SRV_DLV_DEFAULT_MAX_SESSIONS;
}

void srv_dlv_init(srv_dlv *d, const srv_dlv_cfg *cfg)
{
    memset(d, 0, sizeof(*d));
    d->cfg = *cfg;
    if (d->cfg.replay_max < 1)
        d->cfg.replay_max = 1;
    if (d->cfg.ack_every < 1)
        d->cfg.ack_every = 1;
    srv_map_init(&d->sessions);
    srv_map_init(&d->stores);
}

/* --- the replay buffer --------------------------------------------------- */

static srv_dlv_entry *ring_at(const srv_dlv_session *s, size_t i)
{
    return &s->ring[(s->ring_head + i) % s->ring_cap];
}

static uint64_t ring_oldest(const srv_dlv_session *s)
{
    return s->ring_count ? ring_at(s, 0)->seq : s->last + 1;
}

/* Drops the oldest message; true when its connection had not been sent it. */
static bool drop_oldest(srv_dlv_session *s)
{
    srv_dlv_entry *e = ring_at(s, 0);
    bool lost = s->conn && e->seq >= s->conn->send_next;
    s->ring_bytes -= e->msg->len;
    srv_msg_unref(e->msg);
    e->msg = NULL;
    s->ring_head = (s->ring_head + 1) % s->ring_cap;
    s->ring_count--;
    return lost;
}

/* Drops what the client acknowledged or said it has. */
static void drop_acked(srv_dlv_session *s)
{
    while (s->ring_count && ring_at(s, 0)->seq <= s->peer_acked)
        drop_oldest(s);
}

/* Drops messages past the buffer's limits; true if one not yet written to
 * the connection went. */
static bool trim(const srv_dlv *d, srv_dlv_session *s, int64_t now)
{
    bool lost = false;
    while (s->ring_count &&
           (s->ring_count > d->cfg.replay_max ||
            (s->ring_bytes > d->cfg.replay_max_bytes && s->ring_count > 1) ||
            now - ring_at(s, 0)->at_ms > d->cfg.replay_ms))
        lost |= drop_oldest(s);
    return lost;
}

static int ring_grow(srv_dlv_session *s)
{
    size_t cap = s->ring_cap ? s->ring_cap * 2 : 16;
    srv_dlv_entry *r = malloc(cap * sizeof(*r));
    if (!r)
        return -1;
    for (size_t i = 0; i < s->ring_count; i++)
        r[i] = *ring_at(s, i);
    free(s->ring);
    s->ring = r;
    s->ring_cap = cap;
    s->ring_head = 0;
    return 0;
}

/* Appends m with the next number. Returns 0, or -1 when the connection
 * lost a message it had not been sent (or m could not be kept). */
static int stream_push(const srv_dlv *d, srv_dlv_session *s, srv_msg *m, int64_t now)
{
    if (s->last == UINT64_MAX)
        return -1; /* 2^64 - 1 messages: no number is left in this epoch */
    bool lost = false;
    /* make room first: the buffer never holds more than replay_max */
    while (s->ring_count && s->ring_count >= d->cfg.replay_max)
        lost |= drop_oldest(s);
    if (s->ring_count == s->ring_cap && ring_grow(s))
        return -1;
    srv_dlv_entry *e = &s->ring[(s->ring_head + s->ring_count) % s->ring_cap];
    e->seq = ++s->last;
    e->at_ms = now;
    e->msg = srv_msg_ref(m);
    s->ring_count++;
    s->ring_bytes += m->len;
    if (d->on_push)
        d->on_push(s, e, d->on_push_ctx);
    lost |= trim(d, s, now);
    return lost ? -1 : 0;
}

/* --- sessions ------------------------------------------------------------ */

static void lru_unlink(srv_dlv *d, srv_dlv_session *s)
{
    if (s->lru_prev)
        s->lru_prev->lru_next = s->lru_next;
    else
        d->lru_head = s->lru_next;
    if (s->lru_next)
        s->lru_next->lru_prev = s->lru_prev;
    else
        d->lru_tail = s->lru_prev;
    s->lru_prev = s->lru_next = NULL;
    d->idle--;
}

static void lru_append(srv_dlv *d, srv_dlv_session *s)
{
    s->lru_next = NULL;
    s->lru_prev = d->lru_tail;
    if (d->lru_tail)
        d->lru_tail->lru_next = s;
    else
        d->lru_head = s;
    d->lru_tail = s;
    d->idle++;
}

static void ackq_remove(srv_dlv *d, srv_dlv_session *s)
{
    if (!s->in_ackq)
        return;
    if (s->ack_prev)
        s->ack_prev->ack_next = s->ack_next;
    else
        d->ackq = s->ack_next;
    if (s->ack_next)
        s->ack_next->ack_prev = s->ack_prev;
    s->ack_prev = s->ack_next = NULL;
    s->in_ackq = false;
}

static void ackq_add(srv_dlv *d, srv_dlv_session *s)
{
    if (s->in_ackq)
        return;
    s->ack_prev = NULL;
    s->ack_next = d->ackq;
    if (d->ackq)
        d->ackq->ack_prev = s;
    d->ackq = s;
    s->in_ackq = true;
}

static void mark_dirty(srv_dlv *d, srv_dlv_session *s)
{
    if (s->dirty)
        return;
    s->dirty = true;
    s->dirty_next = d->dirty;
    d->dirty = s;
}

/* One more data unit to acknowledge (a new message or a duplicate). */
static void owe_ack(srv_dlv *d, srv_dlv_session *s, int64_t now)
{
    if (!s->unacked++)
        s->unacked_since = now;
    if (s->conn)
        ackq_add(d, s);
}

static void session_free(srv_dlv *d, srv_dlv_session *s)
{
    srv_map_remove(&d->sessions, s->hex);
    if (s->store_prev)
        s->store_prev->store_next = s->store_next;
    else if (s->store_next)
        srv_map_put(&d->stores, s->store, s->store_next); /* replaces: no allocation */
    else
        srv_map_remove(&d->stores, s->store);
    if (s->store_next)
        s->store_next->store_prev = s->store_prev;
    while (s->ring_count)
        drop_oldest(s);
    free(s->ring);
    free(s->store);
    free(s);
    d->stats.sessions--;
}

/* Evicts the least recently used sessions without a connection past
 * max_sessions; a session whose mark is not yet committed waits for the
 * commit. */
static void evict(srv_dlv *d)
{
    srv_dlv_session *s = d->lru_head;
    while (s && d->idle > d->cfg.max_sessions) {
        srv_dlv_session *next = s->lru_next;
        if (!s->dirty) {
            lru_unlink(d, s);
            session_free(d, s);
            d->stats.evicted++;
        }
        s = next;
    }
}

static srv_dlv_session *session_new(srv_dlv *d, const ll_wire_session *id, const char *store,
                                    const char *user, uint64_t stored, uint64_t epoch)
{
    srv_dlv_session *s = calloc(1, sizeof(*s));
    size_t sl = strlen(store) + 1, ul = strlen(user) + 1;
    char *names = malloc(sl + ul);
    if (!s || !names) {
        free(s);
        free(names);
        return NULL;
    }
    memcpy(names, store, sl);
    memcpy(names + sl, user, ul);
    s->store = names;
    s->user = names + sl;
    ll_wire_session_hex(id, s->hex);
    s->accepted = s->durable = stored;
    s->epoch = epoch ? epoch : 1;
    srv_dlv_session *head = srv_map_get(&d->stores, store);
    if (srv_map_put(&d->sessions, s->hex, s) || srv_map_put(&d->stores, store, s)) {
        srv_map_remove(&d->sessions, s->hex);
        free(names);
        free(s);
        return NULL;
    }
    s->store_next = head;
    if (head)
        head->store_prev = s;
    d->stats.sessions++;
    return s;
}

static void free_session(const char *key, void *value, void *ctx)
{
    (void)key;
    (void)ctx;
    srv_dlv_session *s = value;
    while (s->ring_count)
        drop_oldest(s);
    free(s->ring);
    free(s->store);
    free(s);
}

/* Releases, without acting on them, the held messages of session only
 * (NULL: of any session) for which which(session) is true (NULL: all);
 * the others keep their order. */
static void drop_held(srv_dlv *d, const srv_dlv_session *only,
                      bool (*which)(const srv_dlv_session *s))
{
    size_t kept = 0;
    for (size_t i = 0; i < d->held_count; i++) {
        const srv_dlv_session *hs = d->held[i].session;
        if ((!only || hs == only) && (!which || which(hs)))
            srv_msg_unref(d->held[i].msg);
        else
            d->held[kept++] = d->held[i];
    }
    d->held_count = kept;
}

/* c's session now has another connection (or instance): c reads nothing
 * more, and is closed with this reason. */
static void displace(srv_dlv *d, srv_dlv_session *s)
{
    srv_dlv_conn *c = s->conn;
    ackq_remove(d, s);
    c->session = NULL;
    c->failed = true;
    snprintf(c->reason, sizeof(c->reason), "lifeline.v1: session resumed elsewhere");
    s->conn = NULL;
}

void srv_dlv_free(srv_dlv *d)
{
    drop_held(d, NULL, NULL);
    free(d->held);
    srv_map_each(&d->sessions, free_session, NULL);
    srv_map_free(&d->sessions);
    srv_map_free(&d->stores);
    memset(d, 0, sizeof(*d));
}

srv_dlv_session *srv_dlv_find_hex(const srv_dlv *d, const char *hex)
{
    return srv_map_get(&d->sessions, hex);
}

srv_dlv_session *srv_dlv_find(const srv_dlv *d, const ll_wire_session *id)
{
    char hex[LL_WIRE_SESSION_HEX + 1];
    ll_wire_session_hex(id, hex);
    return srv_dlv_find_hex(d, hex);
}

bool srv_dlv_known(const srv_dlv *d, const char *hex)
{
    return srv_dlv_find_hex(d, hex) != NULL;
}

/* --- connections --------------------------------------------------------- */

srv_dlv_conn *srv_dlv_conn_new(void *owner)
{
    srv_dlv_conn *c = calloc(1, sizeof(*c));
    if (c)
        c->owner = owner;
    return c;
}

void srv_dlv_conn_release(srv_dlv *d, srv_dlv_conn *c, int64_t now)
{
    if (!c)
        return;
    srv_dlv_session *s = c->session;
    if (s) {
        s->conn = NULL;
        s->unacked = 0;
        s->used_ms = now;
        ackq_remove(d, s);
        lru_append(d, s);
        evict(d);
    }
    srv_outq_clear(&c->early);
    free(c);
}

static srv_dlv_verdict fail(srv_dlv *d, srv_dlv_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static srv_dlv_verdict fail(srv_dlv *d, srv_dlv_conn *c, const char *fmt, ...)
{
    int n = snprintf(c->reason, sizeof(c->reason), "lifeline.v1: ");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->reason + n, sizeof(c->reason) - (size_t)n, fmt, ap);
    va_end(ap);
    c->failed = true;
    d->stats.protocol_errors++;
    return SRV_DLV_ERROR;
}

srv_dlv_verdict srv_dlv_receive(srv_dlv *d, srv_dlv_conn *c, const ll_wire_unit *u, int64_t now)
{
    if (c->failed)
        return SRV_DLV_ERROR;
    srv_dlv_session *s = c->session;
    switch (u->kind) {
    case LL_WIRE_HELLO:
        return s ? fail(d, c, "second hello") : SRV_DLV_HELLO;
    case LL_WIRE_WELCOME:
        return fail(d, c, "welcome from a client");
    case LL_WIRE_ACK:
        if (!s)
            return fail(d, c, "ack before hello");
        if (u->seq > s->sent_max)
            return fail(d, c, "ack %llu for a message never sent (last %llu)",
                        (unsigned long long)u->seq, (unsigned long long)s->sent_max);
        if (u->seq > s->peer_acked) {
            s->peer_acked = u->seq;
            drop_acked(s);
        }
        return SRV_DLV_NOTHING;
    case LL_WIRE_SKIP:
        /* the client dropped its messages up to u->seq unsent: every number
         * up to it counts as received, nothing is handed on, and the mark
         * is committed and acknowledged as a message's would be */
        if (!s)
            return fail(d, c, "skip before hello");
        if (u->seq <= s->accepted)
            return SRV_DLV_NOTHING; /* says nothing new */
        d->stats.skipped += u->seq - s->accepted;
        s->accepted = u->seq;
        mark_dirty(d, s);
        owe_ack(d, s, now);
        return SRV_DLV_NOTHING;
    case LL_WIRE_DATA:
        if (!s)
            return fail(d, c, "data before hello");
        if (u->seq <= s->accepted) {
            d->stats.duplicates++;
            owe_ack(d, s, now);
            return SRV_DLV_NOTHING;
        }
        if (u->seq != s->accepted + 1)
            return fail(d, c, "gap: expected %llu, got %llu",
                        (unsigned long long)s->accepted + 1, (unsigned long long)u->seq);
        s->accepted = u->seq;
        s->pending++;
        d->stats.accepted++;
        mark_dirty(d, s);
        owe_ack(d, s, now);
        return SRV_DLV_DELIVER;
    default:
        return fail(d, c, "%s", u->error ? u->error : "not a lifeline.v1 unit");
    }
}

int srv_dlv_hello(srv_dlv *d, srv_dlv_conn *c, const ll_wire_unit *u, const char *store,
                  const char *user, uint64_t stored, int64_t now, uint64_t new_epoch,
                  srv_dlv_welcome *out)
{
    memset(out, 0, sizeof(*out));
    srv_dlv_session *s = srv_dlv_find(d, &u->session);
    if (s && (strcmp(s->store, store) || strcmp(s->user, user)))
        return fail(d, c, "session %s belongs to another user or store", s->hex);
    if (!s && !(s = session_new(d, &u->session, store, user, stored, new_epoch)))
        return -1;
    if (s->conn) {
        /* the client is back before its old connection was seen to end */
        out->displaced = s->conn;
        displace(d, s);
    } else if (s->lru_prev || d->lru_head == s) {
        lru_unlink(d, s);
    }
    s->conn = c;
    s->unacked = 0;
    c->session = s;

    /* 1. client to server: messages below held were acknowledged by a
     * server, which is what counts */
    uint64_t floor = u->held - 1;
    if (s->accepted < floor) {
        s->accepted = floor;
        mark_dirty(d, s);
    }
    uint64_t accepted = s->durable > floor ? s->durable : floor;
    c->ack_written = accepted;

    /* 2. server to client */
    out->resumed = u->epoch != 0;
    bool recovered = u->epoch == s->epoch && u->received <= s->last &&
                     (u->received == s->last || ring_oldest(s) <= u->received + 1);
    uint64_t first;
    if (recovered) {
        first = u->received + 1;
        c->send_next = first;
        c->replay_to = s->last;
        out->replayed = s->last - u->received;
        if (u->received > s->peer_acked)
            s->peer_acked = u->received;
    } else {
        /* the client goes on from last + 1: nothing older is for it */
        first = ring_oldest(s);
        c->send_next = s->last + 1;
        c->replay_to = 0;
        s->peer_acked = s->last;
    }
    drop_acked(s);
    if (s->sent_max < s->peer_acked)
        s->sent_max = s->peer_acked;
    out->recovered = recovered;
    if (out->resumed) {
        if (recovered)
            d->stats.resumes_recovered++;
        else
            d->stats.resumes_not_recovered++;
    }
    ll_wire_welcome(s->epoch, accepted, recovered, first, s->last, c->welcome);
    c->welcome_due = true;

    /* what was sent to the connection before its hello joins the stream */
    int rc = 0;
    srv_msg *m;
    while ((m = srv_outq_pop(&c->early))) {
        if (stream_push(d, s, m, now))
            rc = 1;
        srv_msg_unref(m);
    }
    return rc;
}

int srv_dlv_hold(srv_dlv *d, srv_dlv_conn *c, uint64_t seq, srv_msg *m, int64_t now)
{
    if (!c->session || !m)
        return -1;
    if (d->held_count == d->held_cap) {
        size_t cap = d->held_cap ? d->held_cap * 2 : 64;
        srv_dlv_held *h = realloc(d->held, cap * sizeof(*h));
        if (!h)
            return -1;
        d->held = h;
        d->held_cap = cap;
    }
    if (!d->held_count)
        d->held_since = now;
    d->held[d->held_count++] = (srv_dlv_held){c->session, seq, srv_msg_ref(m)};
    return 0;
}

int srv_dlv_push_session(srv_dlv *d, srv_dlv_session *s, srv_msg *m, int64_t now)
{
    int rc = stream_push(d, s, m, now);
    return s->conn ? rc : 0;
}

int srv_dlv_push_conn(srv_dlv *d, srv_dlv_conn *c, srv_msg *m, int64_t now)
{
    if (!c->session)
        return srv_outq_push(&c->early, m, SRV_DLV_EARLY_MAX, d->cfg.replay_max_bytes);
    return stream_push(d, c->session, m, now);
}

size_t srv_dlv_push_idle(srv_dlv *d, const char *store, const srv_dlv_session *except,
                         srv_msg *m, int64_t now)
{
    size_t n = 0;
    for (srv_dlv_session *s = srv_map_get(&d->stores, store); s; s = s->store_next)
        if (!s->conn && s != except) {
            stream_push(d, s, m, now);
            n++;
        }
    return n;
}

/* --- writing ------------------------------------------------------------- */

static bool ack_is_due(const srv_dlv *d, const srv_dlv_session *s, int64_t now)
{
    return s->unacked &&
           (s->unacked >= d->cfg.ack_every || now - s->unacked_since >= d->cfg.ack_delay_ms);
}

/* An ack can go: it is due, and says something (a committed number, or the
 * same one again for duplicates when nothing waits for a commit). */
static bool ack_ready(const srv_dlv *d, const srv_dlv_conn *c, int64_t now)
{
    const srv_dlv_session *s = c->session;
    return ack_is_due(d, s, now) && s->durable > 0 &&
           !(s->dirty && s->durable <= c->ack_written);
}

bool srv_dlv_has_write(const srv_dlv *d, const srv_dlv_conn *c, int64_t now)
{
    if (c->failed || !c->session)
        return false;
    if (c->welcome_due || ack_ready(d, c, now))
        return true;
    return c->send_next <= c->session->last && c->send_next >= ring_oldest(c->session);
}

void srv_dlv_next_write(srv_dlv *d, srv_dlv_conn *c, int64_t now, srv_dlv_write *w)
{
    memset(w, 0, sizeof(*w));
    srv_dlv_session *s = c->session;
    if (c->failed || !s)
        return;
    if (c->welcome_due) {
        c->welcome_due = false;
        w->kind = SRV_DLV_WRITE_TEXT;
        w->len = strlen(c->welcome);
        memcpy(w->text, c->welcome, w->len + 1);
        return;
    }
    /* the stream before the ack: the effects of the messages an ack covers
     * (their echoes, released at the commit) are written before it */
    if (c->send_next > s->last || c->send_next < ring_oldest(s)) {
        if (!ack_ready(d, c, now))
            return;
        w->kind = SRV_DLV_WRITE_TEXT;
        w->len = ll_wire_ack(s->durable, w->text);
        c->ack_written = s->durable;
        /* what is accepted but not yet committed is still owed */
        s->unacked = s->accepted > s->durable ? s->accepted - s->durable : 0;
        s->unacked_since = now;
        if (!s->unacked)
            ackq_remove(d, s);
        return;
    }
    const srv_dlv_entry *e = ring_at(s, (size_t)(c->send_next - ring_oldest(s)));
    w->kind = SRV_DLV_WRITE_DATA;
    w->seq = e->seq;
    w->msg = e->msg;
    w->len = ll_wire_data_header(e->seq, w->text);
    w->replay = e->seq <= c->replay_to;
    if (w->replay)
        d->stats.replayed++;
    if (s->sent_max < e->seq)
        s->sent_max = e->seq;
    c->send_next++;
}

/* Held messages wait at most ack_delay_ms for a commit, whether or not
 * their session still has a connection to owe an ack to. */
static bool held_due(const srv_dlv *d, int64_t now)
{
    return d->held_count && now - d->held_since >= d->cfg.ack_delay_ms;
}

bool srv_dlv_commit_due(const srv_dlv *d, int64_t now)
{
    if (held_due(d, now))
        return true;
    for (const srv_dlv_session *s = d->ackq; s; s = s->ack_next)
        if (s->dirty && ack_is_due(d, s, now))
            return true;
    return false;
}

void srv_dlv_each_ack_due(srv_dlv *d, int64_t now, void (*fn)(void *owner, void *ctx), void *ctx)
{
    for (srv_dlv_session *s = d->ackq; s; s = s->ack_next)
        if (s->conn && ack_ready(d, s->conn, now))
            fn(s->conn->owner, ctx);
}

int64_t srv_dlv_next_deadline(const srv_dlv *d, int64_t now)
{
    int64_t next = d->held_count && !held_due(d, now) ? d->held_since + d->cfg.ack_delay_ms : -1;
    for (const srv_dlv_session *s = d->ackq; s; s = s->ack_next) {
        if (!s->unacked || ack_is_due(d, s, now))
            continue;
        int64_t at = s->unacked_since + d->cfg.ack_delay_ms;
        if (next < 0 || at < next)
            next = at;
    }
    return next;
}

/* --- durability ---------------------------------------------------------- */

bool srv_dlv_dirty(const srv_dlv *d)
{
    return d->dirty != NULL;
}

int srv_dlv_dirty_each(const srv_dlv *d, int (*fn)(const char *hex, uint64_t hwm, void *ctx),
                       void *ctx)
{
    for (const srv_dlv_session *s = d->dirty; s; s = s->dirty_next) {
        int rc = fn(s->hex, s->accepted, ctx);
        if (rc)
            return rc;
    }
    return 0;
}

void srv_dlv_committed(srv_dlv *d, srv_dlv_act_fn act, void *ctx)
{
    srv_dlv_session *s = d->dirty;
    d->dirty = NULL;
    while (s) {
        srv_dlv_session *next = s->dirty_next;
        s->durable = s->accepted;
        d->stats.acknowledged += s->pending;
        s->pending = 0;
        s->dirty = false;
        s->dirty_next = NULL;
        s = next;
    }
    /* the sessions of held messages are not evicted before the end */
    for (size_t i = 0; i < d->held_count; i++) {
        srv_dlv_held *h = &d->held[i];
        if (act)
            act(h->session, h->seq, h->msg, ctx);
        srv_msg_unref(h->msg);
        h->msg = NULL;
    }
    d->held_count = 0;
    evict(d); /* sessions that waited for the commit */
}

void srv_dlv_rolled_back(srv_dlv *d, void (*fn)(void *owner, void *ctx), void *ctx)
{
    srv_dlv_rolled_back_if(d, NULL, fn, ctx);
}

void srv_dlv_rolled_back_if(srv_dlv *d, bool (*which)(const srv_dlv_session *s),
                            void (*fn)(void *owner, void *ctx), void *ctx)
{
    drop_held(d, NULL, which);
    srv_dlv_session **p = &d->dirty;
    while (*p) {
        srv_dlv_session *s = *p;
        if (which && !which(s)) {
            p = &s->dirty_next;
            continue;
        }
        *p = s->dirty_next;
        s->accepted = s->durable;
        s->pending = 0;
        s->dirty = false;
        s->dirty_next = NULL;
        if (s->conn)
            fn(s->conn->owner, ctx);
    }
    evict(d);
}

typedef struct sweep_ctx {
    srv_dlv *d;
    int64_t now;
    void (*fn)(void *owner, void *ctx);
    void *ctx;
} sweep_ctx;

static void sweep_one(const char *key, void *value, void *ctx)
{
    (void)key;
    sweep_ctx *x = ctx;
    srv_dlv_session *s = value;
    if (trim(x->d, s, x->now) && s->conn && x->fn)
        x->fn(s->conn->owner, x->ctx);
}

void srv_dlv_sweep(srv_dlv *d, int64_t now, void (*fn)(void *owner, void *ctx), void *ctx)
{
    sweep_ctx x = {d, now, fn, ctx};
    srv_map_each(&d->sessions, sweep_one, &x);
}

/* --- sessions shared with other instances -------------------------------- */

srv_dlv_session *srv_dlv_adopt(srv_dlv *d, const ll_wire_session *id, const char *store,
                               const char *user, const srv_dlv_stored *st, uint64_t new_epoch,
                               int64_t now)
{
    srv_dlv_session *s = srv_dlv_find(d, id);
    if (s) {
        if (s->lru_prev || d->lru_head == s)
            lru_unlink(d, s);
        session_free(d, s);
    }
    s = session_new(d, id, store, user, st->hwm, st->epoch ? st->epoch : new_epoch);
    if (!s)
        return NULL;
    if (st->epoch) {
        s->last = st->last;
        s->peer_acked = s->sent_max = st->count ? st->entries[0].seq - 1 : st->last;
        for (size_t i = 0; i < st->count; i++) {
            if (s->ring_count == s->ring_cap && ring_grow(s)) {
                /* out of memory: none is kept, and a resume from before
                 * last says "n" (the buffer must end at last) */
                while (s->ring_count)
                    drop_oldest(s);
                break;
            }
            srv_dlv_entry *e = &s->ring[(s->ring_head + s->ring_count) % s->ring_cap];
            *e = st->entries[i];
            e->msg = srv_msg_ref(st->entries[i].msg);
            s->ring_count++;
            s->ring_bytes += e->msg->len;
        }
        trim(d, s, now);
    }
    s->used_ms = now;
    lru_append(d, s);
    return s;
}

void srv_dlv_disown(srv_dlv *d, srv_dlv_session *s, void (*fn)(void *owner, void *ctx), void *ctx)
{
    drop_held(d, s, NULL);
    if (s->dirty) {
        srv_dlv_session **p = &d->dirty;
        while (*p != s)
            p = &(*p)->dirty_next;
        *p = s->dirty_next;
        s->dirty = false;
    }
    if (s->conn) {
        srv_dlv_conn *c = s->conn;
        displace(d, s);
        if (fn)
            fn(c->owner, ctx);
    } else if (s->lru_prev || d->lru_head == s) {
        lru_unlink(d, s);
    }
    session_free(d, s);
}

void srv_dlv_restart_stream(srv_dlv *d, srv_dlv_session *s, uint64_t epoch)
{
    (void)d;
    while (s->ring_count)
        drop_oldest(s);
    s->epoch = epoch ? epoch : 1;
    s->last = s->sent_max = s->peer_acked = 0;
    if (s->conn) {
        s->conn->send_next = 1;
        s->conn->replay_to = 0;
    }
}

void srv_dlv_each_dirty_session(srv_dlv *d, void (*fn)(srv_dlv_session *s, void *ctx), void *ctx)
{
    srv_dlv_session *s = d->dirty;
    while (s) {
        srv_dlv_session *next = s->dirty_next; /* s may go */
        fn(s, ctx);
        s = next;
    }
}

void srv_dlv_each_held(const srv_dlv *d, void (*fn)(const srv_dlv_held *h, void *ctx), void *ctx)
{
    for (size_t i = 0; i < d->held_count; i++)
        fn(&d->held[i], ctx);
}
