/* The outbox of a lifeline.v1 client (docs/protocol.md, "Durability"): the
 * session, the numbers, and the messages sent and not yet acknowledged, in
 * a SQLite file (WAL) or in memory. What a message's send returns on is
 * here: ll_outbox_append() returns once the message is committed at the
 * outbox's durability, and the app threads that append at the same moment
 * share one transaction (group commit). The policy (when to resend, what
 * an ack means) is the core's (core/delivery.h); this keeps what it is told.
 *
 * The outbox keeps a copy of every held message's payload in memory as
 * well (bounded by max_bytes, the app's own limit), so that reading one
 * back (ll_outbox_next(), ll_outbox_drain(), the messages drop-oldest
 * takes out) never asks the file; a file opened over its limits is the
 * exception (see ll_outbox_open()).
 *
 * Threads: every function may be called from any thread; one lock guards
 * the outbox. It is not held while a transaction is written to the file
 * (appenders queue up meanwhile and share the next one); it is held while
 * the outbox copies a message out, and during the drop callbacks.
 *
 * The file (see src/store/README.md): SQLite, WAL, locking_mode=EXCLUSIVE
 * (one outbox per file: a second opener, in this process or another, gets
 * LIFELINE_ERR_OUTBOX_OPEN "in use"), auto_vacuum=INCREMENTAL; schema
 * version 2 in PRAGMA user_version (a version 1 file is read and marked 2). Numbers are stored as SQLite integers
 * and must stay below 2^63 (the epoch, a random 64-bit value, is stored as
 * its two's complement bit pattern). SQLite initialises itself on the first
 * open (sqlite3_initialize() is thread-safe); nothing else is process-wide. */
#ifndef LL_STORE_OUTBOX_H
#define LL_STORE_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "proto/wire.h"

typedef struct ll_outbox ll_outbox;

/* How a commit is made durable (SQLite's synchronous): NORMAL survives a
 * crash or kill -9 of the app, FULL a power loss too. (A transaction that
 * carries only acks and received numbers is written at NORMAL even in a
 * FULL outbox: it need not survive a power loss, see ll_outbox_ack(), and
 * the next FULL commit syncs it too.) */
typedef enum ll_outbox_durability {
    LL_OUTBOX_NORMAL = 0,
    LL_OUTBOX_FULL = 1,
} ll_outbox_durability;

/* When the outbox is full: refuse the new message, or drop the oldest held
 * ones (each passed to the drop callback) until the new one fits. Dropping
 * the oldest is acknowledging it as dropped: `acked` moves past it, so the
 * held numbers stay contiguous (acked + 1 .. next_seq - 1); the server
 * never sees a dropped number, and the hello's `held` (acked + 1) tells it
 * the client no longer has it. */
typedef enum ll_outbox_policy {
    LL_OUTBOX_REJECT_NEW = 0,
    LL_OUTBOX_DROP_OLDEST = 1,
} ll_outbox_policy;

typedef struct ll_outbox_options {
    const char *path;            /* a SQLite file, created if missing; NULL:
                                    in memory (lives as long as the outbox) */
    int durability;              /* ll_outbox_durability */
    int policy;                  /* ll_outbox_policy */
    size_t max_messages;         /* >= 1 */
    size_t max_bytes;            /* >= 1: the payloads' bytes */
    /* 16 random bytes for a new session's id (the client's rng); a file
     * that has a session keeps its own. */
    uint8_t new_session[16];
} ll_outbox_options;

/* What the outbox knows besides the messages. It is the process's view:
 * an ack is in it at once, and in the file with the next transaction. */
typedef struct ll_outbox_meta {
    ll_wire_session session;
    uint64_t next_seq;   /* the number the next appended message gets (>= 1) */
    uint64_t acked;      /* the highest number acknowledged (next_seq - 1 at
                            most); held messages are acked + 1 .. next_seq - 1 */
    uint64_t epoch;      /* the server stream's epoch last heard, 0: none */
    uint64_t received;   /* the highest server number delivered in it */
    size_t count;        /* messages held */
    size_t bytes;        /* their payloads' bytes */
} ll_outbox_meta;

/* One held message, as read back. */
typedef struct ll_outbox_msg {
    uint64_t seq;
    int is_binary;
    const void *data;    /* not NULL, even when len is 0 */
    size_t len;
} ll_outbox_msg;

/* Called (with the outbox's lock held: it must not call the outbox) for each
 * message dropped as the oldest by LL_OUTBOX_DROP_OLDEST, oldest first, on
 * the thread that commits the append that needed the room (which may be
 * another appender's), after that commit succeeded and before the
 * append returns. msg->data is valid during the call only. */
typedef void (*ll_outbox_drop_fn)(void *arg, const ll_outbox_msg *msg);

/* Counters, for tests, benchmarks and logs. */
typedef struct ll_outbox_stats {
    uint64_t appended;      /* messages committed by ll_outbox_append() */
    uint64_t commits;       /* transactions committed: SQLite's commit hook
                               (vacuums included); in memory, the writes */
    uint64_t batches;       /* commits that carried appends */
    uint64_t largest_batch; /* the most appends one commit carried */
    uint64_t dropped;       /* messages dropped as the oldest */
    uint64_t shrinks;       /* incremental vacuum + WAL truncate runs */
    uint64_t wal_frames_merged; /* WAL frames written in one write with
                                   their header (sqlite_vfs.h) */
    int last_error;         /* the last failed write's lifeline_error, 0: none */
    char last_why[160];     /* and SQLite's words for it */
} ll_outbox_stats;

/* Open (or create) the outbox. On error returns NULL with *error set to a
 * lifeline_error (LIFELINE_ERR_INVALID_ARGUMENT: opt is NULL or a field is
 * out of range; LIFELINE_ERR_OUTBOX_OPEN: the file cannot be opened or
 * created, or another outbox has it open; LIFELINE_ERR_OUTBOX_CORRUPT: it
 * is not an outbox, or its contents break the outbox's rules;
 * LIFELINE_ERR_NO_MEMORY) and why[] (why_size bytes, NUL-terminated; NULL
 * or 0: not written) saying what was wrong, naming the path ("outbox
 * /var/lib/till/outbox.db: not a SQLite database", "...: held message 7 is
 * below the acknowledged 9"). Checks on open: SQLite's quick_check, the
 * schema and its version, the tables and their columns, one meta row, the
 * session id (a 16-byte blob), next_seq >= 1, 0 <= acked < next_seq,
 * received >= 0, the held rows exactly acked + 1 .. N - 1, N the larger of
 * the meta row's next_seq and the last row + 1 (none below, no gap: an
 * append writes its row only, so rows past the meta row's next_seq are
 * the appends since it was written), each with is_binary 0 or 1 and a
 * blob. The held messages' payloads are loaded into memory, the oldest
 * first. A file holding more than max_messages or max_bytes (opened with
 * smaller limits than it was written with) is not corrupt: it is over its
 * limits, and appends make room or are refused; the payloads that fit in
 * the limits are loaded, and the rest are read from the file when asked
 * (so memory stays within the limits). The caller owns the outbox
 * (ll_outbox_close()). */
ll_outbox *ll_outbox_open(const ll_outbox_options *opt, int *error, char *why,
                          size_t why_size);

/* Close: waits for a write in progress, writes the acks and received
 * numbers not yet in the file, closes it (SQLite checkpoints the WAL and
 * removes it). NULL is a no-op. No call may be in progress or follow. */
void ll_outbox_close(ll_outbox *o);

/* The outbox's view (see ll_outbox_meta) into *out. Does not wait for a
 * write in progress. */
void ll_outbox_get_meta(ll_outbox *o, ll_outbox_meta *out);

/* The counters into *out. */
void ll_outbox_get_stats(ll_outbox *o, ll_outbox_stats *out);

/* Append a message (len bytes; copied, before the lock: the outbox's copy)
 * under the next number, which goes to *seq.
 * Returns once it is committed at the outbox's durability (the appends of
 * threads waiting at the same moment share one transaction: the thread
 * that finds no write in progress writes every append queued so far, with
 * the acks and received numbers not yet in the file). Numbers are given
 * in commit order, with no gap. Returns LIFELINE_OK;
 * LIFELINE_ERR_QUEUE_FULL (REJECT_NEW and full, or a message larger than
 * max_bytes); LIFELINE_ERR_OUTBOX_IO (the commit failed, e.g. the disk is
 * full: every append of that transaction fails, nothing of it was
 * appended or dropped, their numbers are not used);
 * LIFELINE_ERR_NO_MEMORY; LIFELINE_ERR_INVALID_ARGUMENT (o or seq NULL,
 * data NULL with len > 0). drop, if not NULL, gets each message dropped to
 * make room (DROP_OLDEST); the drops and the append are one transaction, so
 * when the append fails nothing was dropped. A message dropped by a later
 * append of the same transaction is appended (its number is used) and
 * dropped at once. The thread that writes may then also write the acks
 * that came during its transaction before it returns. */
int ll_outbox_append(ll_outbox *o, int is_binary, const void *data, size_t len, uint64_t *seq,
                     ll_outbox_drop_fn drop, void *drop_arg);

/* The server acknowledged every number up to upto: those messages go
 * (upto past next_seq - 1 is the caller's error to refuse, before; here it
 * is clamped; an upto at or below acked changes nothing). Applied to the
 * outbox's view at once; written to the file at once (in its own small
 * transaction, at NORMAL) when no write is in progress, else by the
 * thread writing, after its transaction (it need not be durable before
 * the return: an ack lost in a crash only makes the server drop a resent
 * duplicate). Returns LIFELINE_OK or LIFELINE_ERR_OUTBOX_IO (its own
 * write failed: the ack stays applied in the outbox's view and is written
 * with the next transaction). Threads: any; it never waits for another
 * thread's write. */
int ll_outbox_ack(ll_outbox *o, uint64_t upto);

/* Record the server stream's epoch and the highest number delivered in it
 * (after the app's callback returned). Unlike ll_outbox_ack(), committed
 * before it returns (it waits for another thread's write in progress, then
 * writes): the client sends the ack covering those messages next, after
 * which the server may forget them. Returns LIFELINE_OK or
 * LIFELINE_ERR_OUTBOX_IO. */
int ll_outbox_set_received(ll_outbox *o, uint64_t epoch, uint64_t received);

/* Read the held message with the smallest number >= from into *out.
 * out->data is a copy, valid until the next ll_outbox_next() or
 * ll_outbox_close() on this outbox (from any thread); appends, acks and
 * drops do not touch it: copy what you keep past that. Answers from the
 * outbox's copies: the committed messages, without waiting for a write in
 * progress (a message kept in the file only, see ll_outbox_open(), waits
 * for it and is read from the file). Returns 1 (found), 0 (none), or -1
 * (the file could not be read: LIFELINE_ERR_OUTBOX_IO, or out of
 * memory). */
int ll_outbox_next(ll_outbox *o, uint64_t from, ll_outbox_msg *out);

/* Take every held message out, each passed to fn (with the lock held), as
 * the oldest first: what a client that gives up on its outbox reports as
 * dropped. Like a drop, it acknowledges them as dropped (acked becomes
 * next_seq - 1), written at once (or with the next transaction if that
 * write fails). fn may be NULL. Returns the count passed to fn (a read
 * failure, of a message kept in the file only, stops the drain there: the
 * messages after it stay held). Waits for a write in progress. */
size_t ll_outbox_drain(ll_outbox *o, ll_outbox_drop_fn fn, void *arg);

#endif
