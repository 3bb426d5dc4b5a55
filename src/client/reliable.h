/* Reliable delivery (lifeline.v1, docs/protocol.md) in the client: the
 * outbox (store/outbox.h) and the delivery machine (core/delivery.h)
 * joined to the client's write path, read path and state changes. A client
 * in best-effort mode has none (c->rel is NULL) and none of this runs.
 *
 * Locks: the outbox has its own lock, taken before the client's mutex and
 * never while it is held (its drop callback takes the mutex). */
#ifndef LL_CLIENT_RELIABLE_H
#define LL_CLIENT_RELIABLE_H

#include <stddef.h>
#include <stdint.h>

#include "core/delivery.h"
#include "lifeline/lifeline.h"
#include "store/outbox.h"

typedef struct ll_reliable {
    ll_outbox *outbox;           /* any thread (its own lock) */
    int file;                    /* the outbox is a file (kept at a stop) */

    /* the client's mu */
    ll_dlv dlv;                  /* the machine; fed by the loop thread */
    uint64_t appended;           /* the highest id appended so far */
    uint64_t dropped_upto;       /* the highest id dropped as the oldest */
    int writer_busy;             /* the transport will pull again: the
                                    writer picks up new messages itself */

    /* loop thread only */
    uint64_t told;               /* appended ids the machine has been told of */
    int hello_due;               /* the hello goes first */
    uint64_t ack_due;            /* an ack to write, 0: none */
    uint64_t skip_due;           /* a skip to write, 0: none */
    uint64_t send_next, send_upto; /* data units to write, from the outbox */
    int writing;                 /* what is being written: 0 nothing, 1 the
                                    hello, 2 an ack, 3 a data unit, 4 a skip */
    uint64_t writing_seq;        /* its number (ack, data) */
    size_t writing_len;          /* its payload's length (data) */
    unsigned char *unit;         /* the unit being written */
    size_t unit_cap;
} ll_reliable;

struct lifeline_client;

/* Open the outbox and start the machine from it (lifeline_client_new()).
 * Returns LIFELINE_OK, LIFELINE_ERR_NO_MEMORY, LIFELINE_ERR_OUTBOX_OPEN,
 * LIFELINE_ERR_OUTBOX_CORRUPT (why: what, for a log line). */
int ll_rel_new(struct lifeline_client *c, char *why, size_t why_size);
void ll_rel_free(struct lifeline_client *c);

/* The write path's part (events->next_out, ->written). */
int ll_rel_next_out(struct lifeline_client *c, void *out);
void ll_rel_written(struct lifeline_client *c, int ok);

/* A whole message read (events->message). */
void ll_rel_on_message(struct lifeline_client *c, const void *data, size_t len, int is_binary);

/* The connection opened (state connected) / is gone (left connected). */
void ll_rel_opened(struct lifeline_client *c);
void ll_rel_closed(struct lifeline_client *c);

/* Stopped: an outbox in memory reports what it holds as dropped (STOPPED,
 * to c->dropped, before closed); a file keeps it for the next start. mu
 * NOT held. */
void ll_rel_stopped(struct lifeline_client *c);

/* LL_CMD_APPENDED: tell the machine of what app threads appended. */
void ll_rel_on_appended(struct lifeline_client *c);

/* The machine's deadline (mu held), and its tick (loop thread). */
int64_t ll_rel_deadline_locked(struct lifeline_client *c);
void ll_rel_tick(struct lifeline_client *c);

/* The delivery figures of lifeline_stats (mu NOT held: it reads the
 * outbox, then takes mu). */
void ll_rel_stats(struct lifeline_client *c, lifeline_stats *s);

#endif
