/* The client's side of lifeline.v1 (docs/protocol.md): the numbers, the
 * acknowledgements and the resume, as a pure machine. Events and the
 * current time in, actions and the next deadline out; no I/O, no clock, no
 * allocation. The outbox (src/store/outbox.h) keeps the messages and the
 * numbers on disk; the client layer performs the actions: it writes the
 * units, reads what to resend from the outbox, hands messages to the app,
 * records what the app has had.
 *
 * Use, per client in reliable mode:
 *     ll_dlv_init(&d, ack_every, ack_delay_ms);
 *     ll_dlv_restore(&d, &what_the_outbox_says);
 *     on a connection opened:   ll_dlv_opened(&d, now)        -> SEND_HELLO
 *     on each unit read:        ll_dlv_unit(&d, &unit, now)   -> ...
 *     on a message appended:    ll_dlv_appended(&d, seq)      -> SEND
 *     on the connection lost:   ll_dlv_closed(&d)
 *     at ll_dlv_deadline():     ll_dlv_tick(&d, now)          -> SEND_ACK
 * then perform d.actions[0 .. d.n_actions). */
#ifndef LL_CORE_DELIVERY_H
#define LL_CORE_DELIVERY_H

#include <stddef.h>
#include <stdint.h>

typedef enum ll_dlv_phase {
    LL_DLV_OFFLINE = 0,   /* no connection */
    LL_DLV_HELLO_SENT,    /* hello sent, the welcome awaited */
    LL_DLV_OPEN,          /* resumed: data flows both ways */
} ll_dlv_phase;

typedef enum ll_dlv_action_type {
    LL_DLV_SEND_HELLO = 0, /* write hello(session, epoch, received, held) */
    LL_DLV_SEND_ACK,       /* write ack(seq) */
    LL_DLV_SEND,           /* write held messages seq .. upto from the
                              outbox, in order, after what is queued */
    LL_DLV_DELIVER,        /* give the unit's payload to the app (the unit
                              passed to ll_dlv_unit()), then record
                              received = seq in the outbox */
    LL_DLV_ACKED,          /* the server has every message up to seq: take
                              them out of the outbox, tell the app */
    LL_DLV_RESUMED,        /* recovered (0/1), replay: how many messages the
                              server sends again; with !recovered, record
                              epoch and received = seq in the outbox */
    LL_DLV_DUPLICATE,      /* a message already delivered came again
                              (dropped; counted) */
    LL_DLV_FAIL,           /* the server broke lifeline.v1: close the
                              connection with 1002 and text */
    LL_DLV_SEND_SKIP,      /* write skip(seq): ours up to seq were dropped
                              unsent (before the data that follows) */
} ll_dlv_action_type;

typedef struct ll_dlv_action {
    int type;              /* ll_dlv_action_type */
    uint64_t seq;          /* SEND: from; ACK, ACKED, DELIVER: the number;
                              RESUMED: the new received */
    uint64_t upto;         /* SEND: to (inclusive) */
    uint64_t epoch;        /* RESUMED */
    int recovered;         /* RESUMED */
    uint64_t replay;       /* RESUMED */
    const char *text;      /* FAIL: what was wrong (in the machine's own
                              buffer, valid until the next call) */
} ll_dlv_action;

/* The most actions one call produces: a welcome gives ACKED (or
 * SEND_SKIP), RESUMED, SEND. */
#define LL_DLV_MAX_ACTIONS 3
#define LL_DLV_NO_DEADLINE INT64_MAX
#define LL_DLV_TEXT_MAX 96

/* What the outbox holds, to start from (ll_dlv_restore()). */
typedef struct ll_dlv_saved {
    uint8_t session[16];
    uint64_t next_seq;     /* >= 1 */
    uint64_t acked;        /* < next_seq */
    uint64_t epoch;        /* 0: none */
    uint64_t received;
} ll_dlv_saved;

typedef struct ll_dlv {
    /* settings */
    uint32_t ack_every;    /* >= 1 */
    int64_t ack_delay_ms;  /* >= 0 */

    /* the session, both directions */
    uint8_t session[16];
    uint64_t next_seq;     /* the number the next message gets */
    uint64_t acked;        /* the highest of ours the server acknowledged */
    uint64_t epoch;        /* the server stream's epoch, 0: none */
    uint64_t received;     /* the highest server number delivered */

    /* this connection */
    int phase;             /* ll_dlv_phase */
    uint64_t hello_acked;  /* acked when the hello was made: it says
                              held = hello_acked + 1 */
    uint64_t sent_upto;    /* the highest of ours asked to be written */
    uint64_t sent_ever;    /* the same over every connection since the
                              restore: what is sent again is a resend */
    uint32_t unacked;      /* server messages (duplicates too) not yet
                              acknowledged */
    int64_t ack_due;       /* when the pending ack goes, or NO_DEADLINE */

    /* counters */
    uint64_t duplicates, resends, replays, resumes, resumes_lost;

    ll_dlv_action actions[LL_DLV_MAX_ACTIONS];
    size_t n_actions;
    char text[LL_DLV_TEXT_MAX];
} ll_dlv;

void ll_dlv_init(ll_dlv *d, uint32_t ack_every, int64_t ack_delay_ms);

/* Start from what the outbox holds (a new session: next_seq 1, acked 0,
 * epoch 0, received 0). */
void ll_dlv_restore(ll_dlv *d, const ll_dlv_saved *saved);

/* A connection opened: SEND_HELLO, with this session, epoch and received,
 * and held = hello_acked + 1 (a drop while the welcome is awaited does not
 * change what the hello said). */
void ll_dlv_opened(ll_dlv *d, int64_t now);

/* The connection is gone (closed, failed, stopped): no action; the pending
 * ack is forgotten (the server sends those messages again). */
void ll_dlv_closed(ll_dlv *d);

/* The outbox gave the app's message number seq (the next one): SEND when
 * resumed, else nothing (it goes with the resend after the welcome). */
void ll_dlv_appended(ll_dlv *d, uint64_t seq);

/* The messages up to upto left the outbox (dropped as the oldest): they
 * count as acknowledged; no action. (Those not written yet leave a hole in
 * the numbers the writer reads from the outbox: it writes a skip there.
 * Those dropped while the hello was out get SEND_SKIP with the welcome.) */
void ll_dlv_dropped(ll_dlv *d, uint64_t upto);

/* A unit read from the server (proto/wire.h's ll_wire_unit, passed as its
 * fields to keep the core free of other layers): kind, and for DATA and ACK
 * seq; for WELCOME epoch, accepted, recovered, first, last. An invalid unit
 * (kind 0) with its error text gives FAIL. */
typedef struct ll_dlv_unit {
    int kind;              /* ll_wire_kind's values: 0 invalid, 1 data,
                              2 ack, 3 hello, 4 welcome, 5 skip */
    uint64_t seq;
    uint64_t epoch, accepted, first, last;
    int recovered;
    const char *error;     /* kind 0: why */
} ll_dlv_unit;

void ll_dlv_unit_in(ll_dlv *d, const ll_dlv_unit *u, int64_t now);

/* now >= ll_dlv_deadline(): the pending ack, if due. */
void ll_dlv_tick(ll_dlv *d, int64_t now);

/* When ll_dlv_tick() is next wanted, or LL_DLV_NO_DEADLINE. */
int64_t ll_dlv_deadline(const ll_dlv *d);

/* Messages held: sent or not, not yet acknowledged. */
uint64_t ll_dlv_unacked(const ll_dlv *d);

#endif
