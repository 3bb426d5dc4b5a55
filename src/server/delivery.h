/* lifeline.v1 on the server side (docs/protocol.md): sessions, the rules
 * for the units a client sends, the server's numbered stream with its
 * replay buffer, and the batching of acks. Pure: no I/O, no clock, no
 * random source; times (monotonic ms) and the random epoch for a new stream
 * are parameters. The adapter (v1.c) reads units off connections, writes
 * what srv_dlv_next_write gives, and keeps each session's high-water mark
 * in SQLite (srv_dlv_dirty_each, srv_dlv_committed).
 *
 * Effects after the commit: an accepted message is held (srv_dlv_hold)
 * until the transaction that commits its mark has committed, and only then
 * handed to the application (srv_dlv_committed's act), so that nothing the
 * application does with it (an echo, a broadcast) leaves the server before
 * its acceptance is durable. A failed commit drops what it held
 * (srv_dlv_rolled_back): the client sends those messages again.
 *
 * Memory is bounded: at most max_sessions sessions without a connection
 * (the least recently used go first), and per session at most replay_max
 * messages and replay_max_bytes bytes of them in its replay buffer. */
#ifndef SRV_DELIVERY_H
#define SRV_DELIVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/wire.h"
#include "server/map.h"
#include "server/outq.h"

#define SRV_DLV_DEFAULT_REPLAY_MS 120000
#define SRV_DLV_DEFAULT_REPLAY_MAX 10000
#define SRV_DLV_DEFAULT_REPLAY_MAX_BYTES (16 * 1024 * 1024)
#define SRV_DLV_DEFAULT_ACK_EVERY 32
#define SRV_DLV_DEFAULT_ACK_DELAY_MS 20
#define SRV_DLV_DEFAULT_MAX_SESSIONS 10000
#define SRV_DLV_MAX_SESSIONS_MAX 100000000

/* A close reason fits a close frame (123 bytes) and its NUL. */
#define SRV_DLV_REASON_MAX 124

/* Messages kept for a connection before its hello, at most. */
#define SRV_DLV_EARLY_MAX 1024

typedef struct srv_dlv_cfg {
    int64_t replay_ms;         /* keep sent messages at least this long... */
    uint64_t replay_max;       /* ...but at most this many */
    uint64_t replay_max_bytes; /* ...and at most this many bytes of them */
    uint64_t ack_every;        /* ack after this many unacknowledged messages */
    int64_t ack_delay_ms;      /* or this long after the first of them */
    uint64_t max_sessions;     /* sessions kept without a connection */
} srv_dlv_cfg;

void srv_dlv_cfg_init(srv_dlv_cfg *c);

typedef struct srv_dlv_stats {
    uint64_t sessions;              /* in memory now */
    uint64_t accepted;              /* client messages handed to the application */
    uint64_t acknowledged;          /* of those, committed (and so acknowledged) */
    uint64_t duplicates;            /* client messages dropped as seen before */
    uint64_t skipped;               /* client numbers skipped (dropped unsent by the client) */
    uint64_t replayed;              /* server messages sent again on a resume */
    uint64_t resumes_recovered;     /* hellos answered "r" */
    uint64_t resumes_not_recovered; /* hellos of a known epoch answered "n" */
    uint64_t protocol_errors;
    uint64_t evicted;               /* sessions dropped past max_sessions */
} srv_dlv_stats;

/* One message of the server's stream, in the replay buffer. */
typedef struct srv_dlv_entry {
    uint64_t seq;
    int64_t at_ms;
    srv_msg *msg; /* the application's message (a reference) */
} srv_dlv_entry;

struct srv_dlv_conn;

typedef struct srv_dlv_session {
    char hex[LL_WIRE_SESSION_HEX + 1];
    char *store, *user; /* the identity it belongs to: "store\0user" in one block */
    /* client to server */
    uint64_t accepted; /* high-water mark: every number up to it was handed on (or skipped) */
    uint64_t durable;  /* the part of it committed to the database */
    uint64_t pending;  /* messages accepted since the last commit */
    /* server to client */
    uint64_t epoch;      /* never 0 */
    uint64_t last;       /* the highest number given in this epoch (0: none) */
    uint64_t sent_max;   /* the highest number written to a connection */
    uint64_t peer_acked; /* the highest number the client acknowledged */
    srv_dlv_entry *ring; /* the replay buffer: consecutive numbers, oldest at head */
    size_t ring_cap, ring_head, ring_count;
    uint64_t ring_bytes;
    /* acks to the client, on the current connection */
    uint64_t unacked;       /* data units (duplicates included) not yet acknowledged */
    int64_t unacked_since;  /* when the first of them arrived */
    struct srv_dlv_conn *conn; /* NULL: no connection */
    int64_t used_ms;        /* its connection's end, for the LRU order */
    struct srv_dlv_session *lru_prev, *lru_next;     /* sessions without a connection */
    struct srv_dlv_session *store_prev, *store_next; /* the store's sessions */
    struct srv_dlv_session *ack_prev, *ack_next;     /* connected, with acks owed */
    struct srv_dlv_session *dirty_next;              /* to write at the next commit */
    bool in_ackq, dirty;
    bool claimed; /* the adapter's: this instance owns it in Redis (shared.h) */
} srv_dlv_session;

/* An accepted message waiting for the commit of its mark. */
typedef struct srv_dlv_held {
    srv_dlv_session *session; /* dirty, so never evicted while held */
    uint64_t seq;
    srv_msg *msg;             /* the payload, a reference */
} srv_dlv_held;

/* One lifeline.v1 connection's protocol state. */
typedef struct srv_dlv_conn {
    void *owner;               /* the adapter's connection */
    srv_dlv_session *session;  /* after its hello */
    srv_outq early;            /* messages for it before its hello */
    uint64_t send_next;        /* the next number to write */
    uint64_t replay_to;        /* numbers up to it are written again (a resume) */
    uint64_t ack_written;      /* the last ack value written */
    bool welcome_due;
    bool failed;               /* a protocol error: nothing more is read */
    char welcome[LL_WIRE_CONTROL_MAX];
    char reason[SRV_DLV_REASON_MAX]; /* the close reason of its protocol error */
} srv_dlv_conn;

/* Told of each message numbered into a session's stream (s and e valid
 * during the call): with --redis the adapter mirrors the stream there. */
typedef void (*srv_dlv_push_fn)(const srv_dlv_session *s, const srv_dlv_entry *e, void *ctx);

typedef struct srv_dlv {
    srv_dlv_cfg cfg;
    srv_dlv_push_fn on_push; /* NULL: none */
    void *on_push_ctx;
    srv_map sessions; /* hex -> srv_dlv_session* */
    srv_map stores;   /* store name -> srv_dlv_session* (head of its list) */
    srv_dlv_session *lru_head, *lru_tail;
    uint64_t idle;    /* sessions without a connection */
    srv_dlv_session *ackq;
    srv_dlv_session *dirty;
    srv_dlv_held *held;    /* accepted messages waiting for the commit, in order */
    size_t held_count, held_cap;
    int64_t held_since;    /* when the first of them was accepted */
    srv_dlv_stats stats;
} srv_dlv;

void srv_dlv_init(srv_dlv *d, const srv_dlv_cfg *cfg);

/* Frees every session and held message; the connections must be released
 * first. */
void srv_dlv_free(srv_dlv *d);

/* A new connection's state (owner: the adapter's), or NULL when out of
 * memory. Release it with srv_dlv_conn_release. */
srv_dlv_conn *srv_dlv_conn_new(void *owner);

/* The connection ends at now: its session (kept) has no connection from
 * now on, and may be evicted past max_sessions. Frees c. */
void srv_dlv_conn_release(srv_dlv *d, srv_dlv_conn *c, int64_t now);

typedef enum srv_dlv_verdict {
    SRV_DLV_NOTHING = 0, /* an ack, a skip or a duplicate: handled here */
    SRV_DLV_DELIVER,     /* hand payload to the application */
    SRV_DLV_HELLO,       /* the adapter calls srv_dlv_hello */
    SRV_DLV_ERROR        /* close with 1002 and c->reason */
} srv_dlv_verdict;

/* A unit read from connection c (u: ll_wire_read's result, which may be
 * LL_WIRE_INVALID) at now. For SRV_DLV_DELIVER, u->payload is the
 * message to hand on, once: the adapter holds it (srv_dlv_hold) for the
 * commit. After SRV_DLV_ERROR every later unit is SRV_DLV_ERROR too
 * (nothing after the error is delivered). */
srv_dlv_verdict srv_dlv_receive(srv_dlv *d, srv_dlv_conn *c, const ll_wire_unit *u, int64_t now);

/* Holds m (a reference is taken), the payload of the message numbered seq
 * that c's last unit delivered (SRV_DLV_DELIVER), at now, until the commit
 * of its session's mark: srv_dlv_committed then gives it to the
 * application, srv_dlv_rolled_back drops it. Returns 0, or -1 when out of
 * memory (nothing is held: the adapter fails the batch as a failed
 * commit, so that the message is not accepted). */
int srv_dlv_hold(srv_dlv *d, srv_dlv_conn *c, uint64_t seq, srv_msg *m, int64_t now);

/* The session in memory with that id, or NULL. */
srv_dlv_session *srv_dlv_find(const srv_dlv *d, const ll_wire_session *id);

typedef struct srv_dlv_welcome {
    bool resumed;        /* the client named an epoch (not a new session) */
    bool recovered;      /* "r" */
    uint64_t replayed;   /* messages it sends again */
    srv_dlv_conn *displaced; /* a connection the session had: close it */
} srv_dlv_welcome;

/* The hello u (SRV_DLV_HELLO) from c, whose identity is store and user, at
 * now. stored: the session's high-water mark in the database (0: none),
 * looked up by the adapter when srv_dlv_find gave NULL. new_epoch: a random
 * non-zero number, used if a new stream starts. Applies "Resume": the
 * welcome is then due on c, then the messages sent again. Returns 0; 1
 * when a message sent to c before its hello could not be kept (close it as
 * a slow reader); -1 when out of memory; or SRV_DLV_ERROR with c->reason
 * (the session belongs to another identity). */
int srv_dlv_hello(srv_dlv *d, srv_dlv_conn *c, const ll_wire_unit *u, const char *store,
                  const char *user, uint64_t stored, int64_t now, uint64_t new_epoch,
                  srv_dlv_welcome *out);

/* Puts the application's message m (a reference is taken) into c's
 * stream, with the next number; before c's hello, into its early queue.
 * Returns 0, or -1 when c cannot keep up: a message it has not been sent
 * yet was dropped from the buffer (or its early queue is full, or memory
 * ran out). The adapter then closes c (slow reader); its session keeps
 * the messages, and a resume says "n" if it needs those that are gone. */
int srv_dlv_push_conn(srv_dlv *d, srv_dlv_conn *c, srv_msg *m, int64_t now);

/* Puts m into session s's stream: as srv_dlv_push_conn with its
 * connection, else kept for its resume (returns 0). */
int srv_dlv_push_session(srv_dlv *d, srv_dlv_session *s, srv_msg *m, int64_t now);

/* Puts m into the stream of every session of store that has no connection
 * (kept for their resume), but except (NULL: none). Returns how many took
 * it. */
size_t srv_dlv_push_idle(srv_dlv *d, const char *store, const srv_dlv_session *except,
                         srv_msg *m, int64_t now);

typedef enum srv_dlv_write_kind {
    SRV_DLV_WRITE_NONE = 0,
    SRV_DLV_WRITE_TEXT, /* a control unit: text[0..len) */
    SRV_DLV_WRITE_DATA  /* a data unit: header[0..len) then msg's payload */
} srv_dlv_write_kind;

typedef struct srv_dlv_write {
    srv_dlv_write_kind kind;
    char text[LL_WIRE_CONTROL_MAX]; /* TEXT: the unit; DATA: the header */
    size_t len;
    srv_msg *msg;  /* DATA: borrowed from the buffer; valid until the next call */
    uint64_t seq;  /* DATA */
    bool replay;   /* DATA: sent again */
} srv_dlv_write;

/* The next unit to write on c at now: the welcome, the stream's next
 * message, then (the stream written) an ack that is due and committed, so
 * that a client that reads an ack has the echoes of what it covers. Marks
 * it written. */
void srv_dlv_next_write(srv_dlv *d, srv_dlv_conn *c, int64_t now, srv_dlv_write *w);

/* Whether c has a unit to write now (as srv_dlv_next_write would). */
bool srv_dlv_has_write(const srv_dlv *d, const srv_dlv_conn *c, int64_t now);

/* Whether the adapter commits now: an ack is due (count or time) in a
 * session whose accepted messages are not yet committed, or a message has
 * been held ack_delay_ms (its session may have lost its connection). */
bool srv_dlv_commit_due(const srv_dlv *d, int64_t now);

/* Calls fn(owner) for each connection with an ack due and committed. */
void srv_dlv_each_ack_due(srv_dlv *d, int64_t now, void (*fn)(void *owner, void *ctx),
                          void *ctx);

/* When the next ack (or commit of held messages) not yet due at now falls
 * due by time (monotonic ms), or -1: none. Acks due already are
 * srv_dlv_each_ack_due's. */
int64_t srv_dlv_next_deadline(const srv_dlv *d, int64_t now);

/* The sessions whose high-water mark is to be written: fn(hex, accepted,
 * ctx) for each; a non-zero return stops the walk and is returned. */
int srv_dlv_dirty_each(const srv_dlv *d, int (*fn)(const char *hex, uint64_t hwm, void *ctx),
                       void *ctx);

/* Whether there is anything to commit. */
bool srv_dlv_dirty(const srv_dlv *d);

/* The application's handling of a held message, once its mark is
 * committed: s (valid during the call), the message's number and payload. */
typedef void (*srv_dlv_act_fn)(srv_dlv_session *s, uint64_t seq, srv_msg *m, void *ctx);

/* The written marks are committed: they become durable (acks may cover
 * them), then act(held message) is called for each held message, in the
 * order they were accepted, and they are released. act may push messages
 * (srv_dlv_push_*) but not hold, commit or roll back. */
void srv_dlv_committed(srv_dlv *d, srv_dlv_act_fn act, void *ctx);

/* The commit failed and was rolled back: the held messages are dropped
 * (the application never sees them), each dirty session goes back to its
 * durable mark (the client sends the rest again and it is handed on
 * again), and fn(owner) is called for each of their connections, which
 * the adapter closes. */
void srv_dlv_rolled_back(srv_dlv *d, void (*fn)(void *owner, void *ctx), void *ctx);

/* As srv_dlv_rolled_back, for the sessions for which which(s) is true
 * (NULL: all) and their held messages; the others stay to be committed
 * (srv_dlv_committed). */
void srv_dlv_rolled_back_if(srv_dlv *d, bool (*which)(const srv_dlv_session *s),
                            void (*fn)(void *owner, void *ctx), void *ctx);

/* Drops messages older than replay_ms at now from every session; calls
 * fn(owner) for connections that lost a message not yet written to them
 * (slow readers). */
void srv_dlv_sweep(srv_dlv *d, int64_t now, void (*fn)(void *owner, void *ctx), void *ctx);

/* Whether keep(hex) is true for a session in memory: the database keeps
 * its row. */
bool srv_dlv_known(const srv_dlv *d, const char *hex);

/* ---- sessions shared with other instances (with --redis) ---------------- */

/* A session's state as another instance left it (read from Redis). */
typedef struct srv_dlv_stored {
    uint64_t hwm;   /* client to server: the committed high-water mark */
    uint64_t epoch; /* server to client: the stream's epoch; 0: start a new one */
    uint64_t last;  /* the last number given in it */
    srv_dlv_entry *entries; /* its replay buffer, oldest first, consecutive,
                             * ending at last (references taken) */
    size_t count;
} srv_dlv_stored;

/* Replaces (or creates) the session id of store and user with st, at now;
 * new_epoch is used when st->epoch is 0. A session in memory with that id
 * must have no connection and nothing held (srv_dlv_disown it first).
 * Entries past the buffer's limits are dropped. Returns the session, or
 * NULL when out of memory. */
srv_dlv_session *srv_dlv_adopt(srv_dlv *d, const ll_wire_session *id, const char *store,
                               const char *user, const srv_dlv_stored *st, uint64_t new_epoch,
                               int64_t now);

/* The session is another instance's now: its held messages are dropped
 * (never handed on), its mark forgotten, fn(owner) is called for its
 * connection (the adapter closes it), and it is freed. */
void srv_dlv_disown(srv_dlv *d, srv_dlv_session *s, void (*fn)(void *owner, void *ctx), void *ctx);

/* The session's stream starts again in epoch (its buffer emptied): what it
 * held may be gone. Its connection, if any, must be closed by the adapter
 * (the client resumes and is told "n"). */
void srv_dlv_restart_stream(srv_dlv *d, srv_dlv_session *s, uint64_t epoch);

/* Calls fn(s, ctx) for each session whose mark is to be written (the
 * sessions of srv_dlv_dirty_each); fn may disown or restart the session
 * it is given, nothing else. */
void srv_dlv_each_dirty_session(srv_dlv *d, void (*fn)(srv_dlv_session *s, void *ctx), void *ctx);

/* Calls fn for each held message, in the order they were accepted. */
void srv_dlv_each_held(const srv_dlv *d, void (*fn)(const srv_dlv_held *h, void *ctx), void *ctx);

/* The session in memory with that id (32 hex digits), or NULL. */
srv_dlv_session *srv_dlv_find_hex(const srv_dlv *d, const char *hex);

#endif
