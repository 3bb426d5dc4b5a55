/* lifeline.v1 sessions shared by the instances (with --redis): the glue
 * between v1.c's sessions (delivery.c) and Redis (shared.c).
 *
 * A session this instance claimed at its hello is "claimed": its marks
 * (and, with --journal, its accepted messages) are committed in Redis by
 * one script per batch, before the local SQLite commit and before the
 * application sees them; each message numbered into its stream is
 * mirrored there. Redis answers "not the owner" once another instance has
 * claimed it (the till reconnected there): this instance then drops it,
 * what it held unhandled, and closes its connection if it still has one.
 * Redis down: claimed sessions become this instance's own (unclaimed)
 * until their next hello finds Redis again. */
#include <string.h>

#include "server/clock.h"
#include "server/drain.h"
#include "server/server.h"

/* Whether the sessions' connection is up, opening it again only once the
 * fan-out's (asynchronous) connection has found Redis: a Redis that cannot
 * be reached never blocks the loop on a connection attempt. */
static bool shared_up(srv_server *s, int64_t now)
{
    if (!srv_cluster_up(s->cluster)) {
        /* said in the log, and the connection opened again with the
         * fan-out's: the sessions go on alone from here */
        srv_shared_down(s->shared, "the fan-out's connection lost Redis");
        return false;
    }
    return srv_shared_up(s->shared, now);
}

/* A message numbered into a session's stream (delivery.c's on_push). */
void srv_v1_shared_pushed(const srv_dlv_session *ss, const srv_dlv_entry *e, void *ctx)
{
    srv_server *s = ctx;
    if (!ss->claimed)
        return;
    if (srv_shared_push(s->shared, ss->hex, ss->epoch, e->seq, srv_clock_wall_ms(),
                        e->msg->binary, srv_msg_payload(e->msg), e->msg->len,
                        s->dlv.cfg.replay_max, ss->peer_acked))
        ((srv_dlv_session *)ss)->claimed = false; /* a hole in Redis's copy: ours alone now */
}

/* Closes a connection whose session srv_dlv_disown gave up, with the
 * reason delivery.c set on it ("lifeline.v1: session resumed elsewhere"). */
static void close_elsewhere(void *owner, void *ctx)
{
    srv_conn *c = owner;
    if (!c->close_code)
        srv_conn_close(ctx, c, LWS_CLOSE_STATUS_POLICY_VIOLATION, c->dlv->reason,
                       SRV_CLOSE_REPLACED);
}

void srv_v1_shared_close_waiting(void *owner, void *ctx)
{
    srv_conn *c = owner;
    if (!c->close_code)
        srv_conn_close(ctx, c, 1013 /* Try Again Later */,
                       "lifeline.v1: the session waits for Redis", SRV_CLOSE_ERROR);
}

static void disown(srv_server *s, srv_dlv_session *ss)
{
    srv_log_msg(&s->log, SRV_LOG_INFO, "session_moved",
                "lifeline.v1 session %s is another instance's now", ss->hex);
    srv_dlv_disown(&s->dlv, ss, close_elsewhere, s);
}

/* Another instance had a message for the session after this one took
 * it: the stream may miss it. A new epoch, and the connection closed, so
 * that the client resumes and is told "n". */
static void restart(srv_server *s, srv_dlv_session *ss)
{
    uint64_t epoch = srv_v1_random_epoch();
    srv_log_msg(&s->log, SRV_LOG_WARN, "session_gap",
                "lifeline.v1 session %s: a message for it reached another instance after "
                "this one took it over; its stream starts again",
                ss->hex);
    srv_dlv_restart_stream(&s->dlv, ss, epoch);
    srv_shared_restart(s->shared, ss->hex, epoch);
    if (ss->conn) {
        srv_conn *c = ss->conn->owner;
        if (!c->close_code)
            srv_conn_close(s, c, SRV_DRAIN_CLOSE_CODE, /* 1012: the client comes back */
                           "lifeline.v1: session moved, resume again", SRV_CLOSE_REPLACED);
    }
}

void srv_v1_shared_status(const char *hex, int status, void *ctx)
{
    srv_server *s = ctx;
    srv_dlv_session *ss = srv_dlv_find_hex(&s->dlv, hex);
    if (!ss || !ss->claimed)
        return;
    if (status < 0)
        ss->claimed = false; /* a hole in Redis's copy maybe: ours alone now */
    else if (status == 0)
        disown(s, ss);
    else if (status == 2)
        restart(s, ss);
}

/* What a commit of unknown outcome held for a session: acted on by the
 * claim that learns Redis took it, dropped otherwise. */
typedef struct stash {
    size_t n, cap;
    uint64_t *seq;
    srv_msg **msg;
    uint64_t hwm; /* at the claim that lifted the doubt: Redis's mark */
    bool mine;    /* no other instance had the session since */
} stash;

static void stash_free(void *p)
{
    stash *t = p;
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        srv_msg_unref(t->msg[i]);
    free(t->seq);
    free(t->msg);
    free(t);
}

typedef struct stash_ctx {
    const srv_dlv_session *session;
    stash *t;
    bool oom;
} stash_ctx;

static void stash_one(const srv_dlv_held *h, void *ctx)
{
    stash_ctx *x = ctx;
    if (h->session != x->session || x->oom)
        return;
    stash *t = x->t;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        uint64_t *seq = realloc(t->seq, cap * sizeof(*seq));
        if (seq)
            t->seq = seq;
        srv_msg **msg = realloc(t->msg, cap * sizeof(*msg));
        if (msg)
            t->msg = msg;
        if (!seq || !msg) {
            x->oom = true;
            return;
        }
        t->cap = cap;
    }
    t->seq[t->n] = h->seq;
    t->msg[t->n++] = srv_msg_ref(h->msg);
}

/* The held messages of ss, in order, or NULL when out of memory. */
static stash *stash_of(srv_server *s, const srv_dlv_session *ss)
{
    stash_ctx x = {ss, calloc(1, sizeof(stash)), false};
    if (!x.t)
        return NULL;
    srv_dlv_each_held(&s->dlv, stash_one, &x);
    if (x.oom) {
        stash_free(x.t);
        return NULL;
    }
    return x.t;
}

void srv_v1_shared_settle(srv_server *s, srv_dlv_session *ss, void *settle)
{
    stash *t = settle;
    if (!t)
        return;
    bool mine = t->mine;
    size_t acted = 0;
    for (size_t i = 0; ss && mine && i < t->n; i++)
        if (t->seq[i] <= t->hwm) {
            srv_v1_act(ss, t->seq[i], t->msg[i], s);
            acted++;
        }
    srv_log_msg(&s->log, SRV_LOG_INFO, "redis_commit_known",
                "lifeline.v1 session %s: %zu of the %zu messages of its commit of unknown "
                "outcome had reached Redis%s",
                ss ? ss->hex : "-", acted, t->n,
                mine ? "" : " (another instance had it since: none handled here)");
    stash_free(t);
}

/* t, the claim's lifted doubt (NULL: none), for srv_v1_shared_settle. */
static void *to_settle(stash *t, uint64_t hwm, bool mine)
{
    if (t) {
        t->hwm = hwm;
        t->mine = mine;
    }
    return t;
}

int srv_v1_shared_claim(srv_server *s, srv_conn *c, const ll_wire_unit *u, const char *hex,
                        int64_t now, void **settle)
{
    *settle = NULL;
    srv_shared_record cl;
    if (!shared_up(s, now) ||
        srv_shared_claim(s->shared, hex, c->store->name, c->user->name, &cl))
        return srv_shared_in_doubt(s->shared, hex) ? SRV_V1_SHARED_WAIT : -1;
    if (cl.identity) {
        snprintf(c->dlv->reason, sizeof(c->dlv->reason),
                 "lifeline.v1: session %s belongs to another user or store", hex);
        c->dlv->failed = true;
        return SRV_DLV_ERROR;
    }
    const char *me = srv_cluster_id(s->cluster);
    stash *doubted = srv_shared_resolved(s->shared, hex);
    srv_dlv_session *local = srv_dlv_find(&s->dlv, &u->session);
    /* the one in memory is current when no instance took it since */
    if (local && (!cl.prev[0] || !strcmp(cl.prev, me))) {
        local->claimed = true;
        *settle = to_settle(doubted, cl.hwm, true);
        srv_shared_claim_done(&cl);
        return 0;
    }
    if (local)
        srv_dlv_disown(&s->dlv, local, close_elsewhere, s);
    srv_dlv_stored st = {.hwm = cl.hwm};
    uint64_t local_mark = 0;
    if (srv_db_get_hwm(s->db, hex, &local_mark) > 0 && local_mark > st.hwm)
        st.hwm = local_mark; /* from before Redis knew it */
    srv_dlv_entry *entries = NULL;
    if (srv_shared_stream_continues(cl.released, cl.gap, cl.epoch)) {
        st.epoch = cl.epoch;
        st.last = cl.last;
        entries = cl.count ? calloc(cl.count, sizeof(*entries)) : NULL;
        int64_t wall = srv_clock_wall_ms();
        for (size_t i = 0; entries && i < cl.count; i++) {
            const srv_shared_entry *e = &cl.entries[i];
            entries[i].seq = e->seq;
            entries[i].at_ms = now - (wall > e->wall_ms ? wall - e->wall_ms : 0);
            if (!(entries[i].msg = srv_msg_new(e->payload, e->len, e->binary))) {
                st.epoch = 0; /* out of memory: a new stream */
                break;
            }
            st.count = i + 1;
        }
        if (cl.count && !entries)
            st.epoch = 0;
        st.entries = entries;
    }
    srv_dlv_session *ss = srv_dlv_adopt(&s->dlv, &u->session, c->store->name, c->user->name,
                                        &st, srv_v1_random_epoch(), now);
    for (size_t i = 0; entries && i < cl.count; i++)
        srv_msg_unref(entries[i].msg);
    free(entries);
    uint64_t hwm = cl.hwm;
    bool mine = !strcmp(cl.prev, me);
    srv_shared_claim_done(&cl);
    if (!ss) {
        stash_free(doubted);
        return -1;
    }
    ss->claimed = true;
    if (!st.epoch)
        srv_shared_restart(s->shared, hex, ss->epoch);
    *settle = to_settle(doubted, hwm, mine);
    return 0;
}

void srv_v1_shared_release_asked(srv_server *s, const char *text, size_t len)
{
    /* "release <hex> <claimant>" */
    char hex[LL_WIRE_SESSION_HEX + 1], claimant[SRV_CLUSTER_ID_MAX + 1];
    if (len < 8 + LL_WIRE_SESSION_HEX + 2 || memcmp(text, "release ", 8) ||
        text[8 + LL_WIRE_SESSION_HEX] != ' ' ||
        len - (8 + LL_WIRE_SESSION_HEX + 1) > SRV_CLUSTER_ID_MAX)
        return;
    memcpy(hex, text + 8, LL_WIRE_SESSION_HEX);
    hex[LL_WIRE_SESSION_HEX] = 0;
    size_t cl = len - (8 + LL_WIRE_SESSION_HEX + 1);
    memcpy(claimant, text + 8 + LL_WIRE_SESSION_HEX + 1, cl);
    claimant[cl] = 0;
    if (!srv_cluster_id_valid(claimant))
        return;
    srv_dlv_session *ss = srv_dlv_find_hex(&s->dlv, hex);
    bool had = ss && ss->claimed;
    /* what it accepted is committed, and its effects numbered and mirrored,
     * before it lets go (the release is ordered after the mirrors) */
    if (ss && srv_v1_commit(s))
        had = false;
    if (ss && !had && (ss = srv_dlv_find_hex(&s->dlv, hex)) && ss->durable) {
        /* ours alone since Redis went: its mark reaches Redis before the
         * claimant reads it (Redis refuses it if another instance owns the
         * session), or what this instance accepted would be taken again */
        int st;
        const char *h = ss->hex;
        uint64_t mark = ss->durable;
        srv_shared_commit(s->shared, 1, &h, &mark, 0, NULL, &st);
    }
    if (had && !(ss = srv_dlv_find_hex(&s->dlv, hex)))
        had = false; /* the commit found it was no longer ours */
    srv_shared_release(s->shared, hex, claimant, had && ss->claimed);
    /* the release's round trip read the answers to the mirrors before it
     * (the commit's effects): one may have disowned the session already */
    ss = srv_dlv_find_hex(&s->dlv, hex);
    if (ss) {
        srv_log_msg(&s->log, SRV_LOG_INFO, "session_released",
                    "lifeline.v1 session %s goes to instance %s", hex, claimant);
        srv_dlv_disown(&s->dlv, ss, close_elsewhere, s);
    }
}

/* ---- committing ------------------------------------------------------------ */

typedef struct batch {
    srv_server *s;
    srv_dlv_session **v; /* the claimed dirty sessions */
    const char **hex;
    uint64_t *hwm;
    size_t n, cap;
    srv_shared_journal *j;
    size_t jn, jcap;
    bool oom;
} batch;

static void collect(srv_dlv_session *ss, void *ctx)
{
    batch *b = ctx;
    if (!ss->claimed || b->oom)
        return;
    if (!shared_up(b->s, srv_clock_mono_ms())) {
        ss->claimed = false; /* Redis is down: ours alone */
        return;
    }
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        void *v = realloc(b->v, cap * sizeof(*b->v)), *h, *w;
        if (v)
            b->v = v;
        h = realloc(b->hex, cap * sizeof(*b->hex));
        if (h)
            b->hex = h;
        w = realloc(b->hwm, cap * sizeof(*b->hwm));
        if (w)
            b->hwm = w;
        if (!v || !h || !w) {
            b->oom = true;
            return;
        }
        b->cap = cap;
    }
    b->v[b->n] = ss;
    b->hex[b->n] = ss->hex;
    b->hwm[b->n++] = ss->accepted;
}

static void collect_journal(const srv_dlv_held *h, void *ctx)
{
    batch *b = ctx;
    if (!h->session->claimed || b->oom)
        return;
    size_t i = 0;
    while (i < b->n && b->v[i] != h->session)
        i++;
    if (i == b->n)
        return;
    if (b->jn == b->jcap) {
        size_t cap = b->jcap ? b->jcap * 2 : 64;
        srv_shared_journal *j = realloc(b->j, cap * sizeof(*j));
        if (!j) {
            b->oom = true;
            return;
        }
        b->j = j;
        b->jcap = cap;
    }
    b->j[b->jn++] = (srv_shared_journal){i, h->seq, srv_msg_payload(h->msg), h->msg->len,
                                         h->msg->binary};
}

int srv_v1_shared_commit(srv_server *s)
{
    if (!s->shared)
        return 0;
    /* the answers to the mirrors sent so far first: one may say a session
     * is another instance's, and disowning it frees it, which must not
     * happen inside the commit's round trip, with the batch pointing at it */
    if (s->shared && srv_cluster_up(s->cluster))
        srv_shared_sync(s->shared);
    batch b = {.s = s};
    srv_dlv_each_dirty_session(&s->dlv, collect, &b);
    if (s->opt.journal && b.n)
        srv_dlv_each_held(&s->dlv, collect_journal, &b);
    int rc = 0;
    int *status = b.n ? calloc(b.n, sizeof(*status)) : NULL;
    if (b.oom || (b.n && !status)) {
        rc = -1;
    } else if (b.n) {
        if (srv_shared_commit(s->shared, b.n, b.hex, b.hwm, b.jn, b.j, status)) {
            /* whether Redis took it is unknown: these sessions wait for
             * Redis; the rest of the batch commits here */
            srv_log_msg(&s->log, SRV_LOG_WARN, "redis_commit_unknown",
                        "%zu lifeline.v1 sessions wait for Redis: their last commit may or "
                        "may not have reached it",
                        b.n);
            for (size_t i = 0; i < b.n; i++) {
                srv_shared_doubt(s->shared, b.v[i]->hex, stash_of(s, b.v[i]), stash_free);
                srv_dlv_disown(&s->dlv, b.v[i], srv_v1_shared_close_waiting, s);
            }
            b.n = 0;
        }
        for (size_t i = 0; i < b.n; i++) {
            if (status[i] == 0)
                disown(s, b.v[i]);
            else if (status[i] == 2)
                restart(s, b.v[i]);
        }
    }
    free(status);
    free(b.v);
    free(b.hex);
    free(b.hwm);
    free(b.j);
    return rc;
}
