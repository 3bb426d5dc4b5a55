/* lifeline.v1's server-side rules (src/server/delivery.c), driven by a
 * hostile client: every unit a lifeline.v1 connection sends reaches
 * srv_dlv_receive() and srv_dlv_hello(), in any order, on any of three
 * connections, between the server's own pushes, writes, commits, failed
 * commits and sweeps. Small bounds (4 messages, 64 bytes, 2 idle
 * sessions, acks every 3) so that every limit is reached.
 * Input: lines. "o" + digit: connection digit % 3 ends and a new one
 * takes its place; "p" + text: a message for connection 0; "i" + text: a
 * message for the store's sessions without a connection; "w" + digit:
 * that connection writes what it has; "C": commit; "R": the commit
 * fails (the connections of its sessions are closed, as lifeline-server
 * closes them with 1011, and replaced); "t" + byte: time passes (byte x
 * 10 ms) and old messages go;
 * "u" + digit + unit: that connection sends the unit (a hello then gets
 * its welcome).
 * A delivered message is held for the commit; a commit echoes each held
 * one into its session's stream.
 * Properties: a message is handed on only with the number after the
 * session's mark, a skip raises the mark to its number (or leaves a higher
 * one), and the mark never falls below what is committed; a commit acts
 * on every message held since the last commit or failed one, in order,
 * each covered by its session's committed mark, and a failed one on none; a
 * connection is written consecutive numbers, a welcome that reads back as
 * one, and acks that never go down and never pass the mark; an error
 * names lifeline.v1; idle sessions stay within the cap (but for those
 * waiting for a commit); nothing leaks. */
#include "fuzz.h"
#include "server/delivery.h"

#define NCONN 3

typedef struct conn {
    srv_dlv_conn *c;
    uint64_t last_written; /* the last data number written */
    uint64_t last_ack;
} conn;

static void nothing(void *owner, void *ctx)
{
    (void)owner;
    (void)ctx;
}

/* A failed commit closes the connections of its sessions (lifeline-server:
 * 1011), which then read and write nothing more: their owners, to close. */
typedef struct to_close {
    void *owners[8];
    size_t n;
} to_close;

static void mark_closed(void *owner, void *ctx)
{
    to_close *t = ctx;
    if (t->n < sizeof(t->owners) / sizeof(t->owners[0]))
        t->owners[t->n++] = owner;
}

typedef struct acts {
    size_t held;     /* held since the last commit or failed commit */
    size_t acted;    /* acted on by this commit */
    const srv_dlv_session *last_session;
    uint64_t last_seq;
    srv_dlv *d;
    int64_t now;
} acts;

static void act(srv_dlv_session *s, uint64_t seq, srv_msg *m, void *ctx)
{
    acts *a = ctx;
    FUZZ_CHECK(seq <= s->durable);
    FUZZ_CHECK(a->last_session != s || seq > a->last_seq);
    a->last_session = s;
    a->last_seq = seq;
    a->acted++;
    srv_dlv_push_session(a->d, s, m, a->now); /* the echo */
}

static void open_conn(conn *k)
{
    memset(k, 0, sizeof(*k));
    k->c = srv_dlv_conn_new(k);
    if (!k->c)
        abort();
}

static void write_all(srv_dlv *d, conn *k, int64_t now)
{
    for (int i = 0; i < 64; i++) {
        srv_dlv_write w;
        bool had = srv_dlv_has_write(d, k->c, now);
        srv_dlv_next_write(d, k->c, now, &w);
        FUZZ_CHECK(had == (w.kind != SRV_DLV_WRITE_NONE));
        if (w.kind == SRV_DLV_WRITE_NONE)
            return;
        if (w.kind == SRV_DLV_WRITE_DATA) {
            FUZZ_CHECK(k->last_written == 0 || w.seq == k->last_written + 1 || w.replay);
            k->last_written = w.seq;
            continue;
        }
        ll_wire_unit u;
        int kind = ll_wire_read(w.text, w.len, 0, &u);
        FUZZ_CHECK(kind == LL_WIRE_WELCOME || kind == LL_WIRE_ACK);
        if (kind == LL_WIRE_ACK) {
            FUZZ_CHECK(u.seq >= k->last_ack);
            FUZZ_CHECK(k->c->session && u.seq <= k->c->session->accepted);
            k->last_ack = u.seq;
        } else {
            k->last_written = u.recovered ? u.first - 1 : u.last;
            k->last_ack = u.accepted;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    srv_dlv_cfg cfg = {.replay_ms = 1000, .replay_max = 4, .replay_max_bytes = 64,
                       .ack_every = 3, .ack_delay_ms = 20, .max_sessions = 2};
    srv_dlv d;
    srv_dlv_init(&d, &cfg);
    conn k[NCONN];
    for (int i = 0; i < NCONN; i++)
        open_conn(&k[i]);
    int64_t now = 0;
    acts a = {.d = &d};
    fuzz_in in = fuzz_input(data, size);
    size_t len;
    char *line;
    while ((line = fuzz_take(&in, '\n', &len))) {
        conn *x = &k[len > 1 ? (unsigned char)line[1] % NCONN : 0];
        srv_msg *m;
        switch (len ? line[0] : 0) {
        case 'o':
            srv_dlv_conn_release(&d, x->c, now);
            open_conn(x);
            break;
        case 'p':
            m = srv_msg_new(line + 1, len - 1, false);
            srv_dlv_push_conn(&d, k[0].c, m, now);
            srv_msg_unref(m);
            break;
        case 'i':
            m = srv_msg_new(line + 1, len - 1, true);
            srv_dlv_push_idle(&d, "shop", NULL, m, now);
            srv_msg_unref(m);
            break;
        case 'w':
            write_all(&d, x, now);
            break;
        case 'C':
            a.acted = 0;
            a.last_session = NULL;
            a.now = now;
            srv_dlv_committed(&d, act, &a);
            FUZZ_CHECK(a.acted == a.held && d.held_count == 0);
            a.held = 0;
            break;
        case 'R': {
            to_close t = {.n = 0};
            srv_dlv_rolled_back(&d, mark_closed, &t);
            FUZZ_CHECK(d.held_count == 0);
            a.held = 0;
            for (size_t i = 0; i < t.n; i++) { /* as the server does: 1011 */
                conn *gone = t.owners[i];
                srv_dlv_conn_release(&d, gone->c, now);
                open_conn(gone);
            }
            break;
        }
        case 't':
            now += len > 1 ? (unsigned char)line[1] * 10 : 1;
            srv_dlv_sweep(&d, now, nothing, NULL);
            break;
        case 'u': {
            if (len < 2)
                break;
            ll_wire_unit u;
            ll_wire_read(line + 2, len - 2, 0, &u);
            srv_dlv_session *s = x->c->session;
            uint64_t before = s ? s->accepted : 0;
            srv_dlv_verdict v = srv_dlv_receive(&d, x->c, &u, now);
            if (v == SRV_DLV_DELIVER) {
                FUZZ_CHECK(s && u.seq == before + 1 && s->accepted == u.seq);
                m = srv_msg_new(u.payload, u.payload_len, false);
                if (!srv_dlv_hold(&d, x->c, u.seq, m, now))
                    a.held++;
                srv_msg_unref(m);
            } else if (v == SRV_DLV_NOTHING && u.kind == LL_WIRE_SKIP) {
                FUZZ_CHECK(s && s->accepted == (u.seq > before ? u.seq : before));
            } else if (v == SRV_DLV_ERROR) {
                FUZZ_CHECK(!strncmp(x->c->reason, "lifeline.v1: ", 13));
            } else if (v == SRV_DLV_HELLO) {
                srv_dlv_welcome w;
                int rc = srv_dlv_hello(&d, x->c, &u, "shop", len % 2 ? "till" : "other",
                                       u.received % 5, now, 0x1234, &w);
                if (rc == SRV_DLV_ERROR)
                    FUZZ_CHECK(!strncmp(x->c->reason, "lifeline.v1: ", 13));
                else
                    FUZZ_CHECK(x->c->welcome_due);
            }
            break;
        }
        default:
            break;
        }
        free(line);
        for (int i = 0; i < NCONN; i++) {
            const srv_dlv_session *s = k[i].c->session;
            if (s)
                FUZZ_CHECK(s->durable <= s->accepted && s->conn == k[i].c &&
                           s->ring_count <= cfg.replay_max);
        }
        size_t dirty_idle = 0;
        for (const srv_dlv_session *s = d.lru_head; s; s = s->lru_next)
            dirty_idle += s->dirty;
        FUZZ_CHECK(d.idle <= cfg.max_sessions + dirty_idle);
        FUZZ_CHECK(d.stats.sessions == d.sessions.count);
    }
    for (int i = 0; i < NCONN; i++)
        srv_dlv_conn_release(&d, k[i].c, now);
    srv_dlv_free(&d);
    return 0;
}
