/* What the outbox (outbox.c: the lock, group commit, limits and drops)
 * asks of where the messages live: a SQLite file (sqlite.c) or memory
 * (mem.c). A backend holds what was last written to it, the held rows
 * being exactly acked + 1 .. next_seq - 1 of its meta after every write;
 * it knows nothing of threads (the outbox calls it from one thread at a
 * time) nor of limits. */
#ifndef LL_STORE_BACKEND_H
#define LL_STORE_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "store/held.h"
#include "store/outbox.h"

/* The meta row, as written; next_seq is the outbox's next number (in the
 * file, the meta row's next_seq may be behind it: see ll_outbox_write). */
typedef struct ll_outbox_state {
    ll_wire_session session;
    uint64_t next_seq, acked, epoch, received;
} ll_outbox_state;

/* One message to write; data is the appender's (it waits meanwhile). */
typedef struct ll_outbox_put {
    uint64_t seq;
    int is_binary;
    const void *data;
    size_t len;
} ll_outbox_put;

/* One transaction: the puts (numbered meta.next_seq - n_puts ..
 * meta.next_seq - 1, all above meta.acked), the rows up to meta.acked
 * deleted, the meta row written when meta_row is 1. A write of puts alone
 * (meta_row 0) touches only the messages: a backend need not keep
 * next_seq apart from them, as the held rows are acked + 1 .. next_seq - 1
 * (a file's open takes next_seq as the larger of the meta row's and the
 * last row's + 1). Every write that moves acked (and so may delete the
 * last row) writes the meta row, next_seq with it. */
typedef struct ll_outbox_write {
    const ll_outbox_put *puts;
    size_t n_puts;
    ll_outbox_state meta;
    int meta_row;  /* acked, epoch or received moved: write the meta row */
    int deletes;   /* meta.acked moved: delete the rows up to it */
    int durable;   /* 1: at the outbox's durability; 0: may be NORMAL */
} ll_outbox_write;

/* A growable buffer a read copies into (the caller's; free(p) when done). */
typedef struct ll_outbox_buf {
    unsigned char *p;
    size_t cap;
} ll_outbox_buf;

typedef struct ll_outbox_backend ll_outbox_backend;

typedef struct ll_outbox_backend_ops {
    /* Write w as one transaction: all of it or nothing. Returns
     * LIFELINE_OK, LIFELINE_ERR_OUTBOX_IO or LIFELINE_ERR_NO_MEMORY, with
     * words in why[] on failure. */
    int (*write)(ll_outbox_backend *b, const ll_outbox_write *w, char *why, size_t why_size);
    /* Read message seq (a held one) into *out, its data copied into *into
     * (grown as needed; out->data points there, never NULL): asked only
     * for a held message whose payload the outbox does not keep (held.h:
     * a file opened over its limits). Returns
     * LIFELINE_OK, LIFELINE_ERR_OUTBOX_IO (with why[]; a missing row is
     * one) or LIFELINE_ERR_NO_MEMORY. */
    int (*read)(ll_outbox_backend *b, uint64_t seq, ll_outbox_msg *out, ll_outbox_buf *into,
                char *why, size_t why_size);
    /* Commits, shrinks and merged WAL writes so far (read by the thread
     * that last wrote). */
    void (*counters)(ll_outbox_backend *b, uint64_t *commits, uint64_t *shrinks,
                     uint64_t *merged);
    /* Close and free b. */
    void (*close)(ll_outbox_backend *b);
} ll_outbox_backend_ops;

struct ll_outbox_backend {
    const ll_outbox_backend_ops *ops;
};

/* Open the backends. Each fills *state (the meta row: a new one with
 * new_session, next_seq 1, the rest 0, for a new file or memory). The file
 * pushes each held message, oldest first, to *held (empty on entry): its
 * payload as long as the messages loaded fit in max_messages and
 * max_bytes, the rest (a file over its limits) with data NULL, read from
 * the file when asked (ops->read). On error returns NULL with *error
 * (LIFELINE_ERR_OUTBOX_OPEN, LIFELINE_ERR_OUTBOX_CORRUPT,
 * LIFELINE_ERR_NO_MEMORY) and why[]; see ll_outbox_open(). The caller owns
 * the backend (ops->close). */
ll_outbox_backend *ll_outbox_sqlite_open(const char *path, int durability,
                                         const uint8_t new_session[16], size_t max_messages,
                                         size_t max_bytes, ll_outbox_state *state, ll_held *held,
                                         int *error, char *why, size_t why_size);
ll_outbox_backend *ll_outbox_mem_open(const uint8_t new_session[16], ll_outbox_state *state,
                                      int *error, char *why, size_t why_size);

/* Grow buf to at least n bytes (and 1). Returns 0, or -1 (out of memory;
 * buf unchanged). */
int ll_outbox_buf_reserve(ll_outbox_buf *buf, size_t n);

/* Write "outbox <where>: <fmt...>" into why (why_size bytes; nothing when
 * why is NULL or why_size 0). where is the path, or "in memory". */
void ll_outbox_why(char *why, size_t why_size, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
