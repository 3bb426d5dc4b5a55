/* Outbound messages and the bounded per-connection queue. A message is
 * built once and shared by reference between the queues of every
 * recipient (a broadcast to a store copies nothing per connection); it
 * keeps LL_MSG_HEADROOM bytes free before the payload for the WebSocket
 * frame header. Pure: no I/O. */
#ifndef LL_SERVER_OUTQ_H
#define LL_SERVER_OUTQ_H

#include <stdbool.h>
#include <stddef.h>

/* At least libwebsockets' LWS_PRE (checked where lws is included). */
#define LL_MSG_HEADROOM 32

typedef struct ll_msg {
    size_t refs;
    size_t len;
    bool binary;
    unsigned char bytes[]; /* LL_MSG_HEADROOM, then len bytes of payload */
} ll_msg;

/* A message holding a copy of data, with one reference. NULL if out of
 * memory. */
ll_msg *ll_msg_new(const void *data, size_t len, bool binary);

/* Takes over a malloc'd NUL-terminated text (freed here in all cases). */
ll_msg *ll_msg_from_text(char *text);

static inline unsigned char *ll_msg_payload(ll_msg *m) { return m->bytes + LL_MSG_HEADROOM; }

ll_msg *ll_msg_ref(ll_msg *m);
void ll_msg_unref(ll_msg *m);

typedef struct ll_outq_node {
    struct ll_outq_node *next;
    ll_msg *msg;
} ll_outq_node;

typedef struct ll_outq {
    ll_outq_node *head, *tail;
    size_t count;
    size_t bytes;
} ll_outq;

/* Appends a reference to msg unless that would pass max_count messages or
 * max_bytes of payload (a message alone larger than max_bytes is still
 * accepted into an empty queue). Returns 0, or -1 (full, or out of
 * memory) with msg untouched. */
int ll_outq_push(ll_outq *q, ll_msg *msg, size_t max_count, size_t max_bytes);

/* Removes the oldest message; the caller owns the reference. NULL if empty. */
ll_msg *ll_outq_pop(ll_outq *q);

/* Drops everything. */
void ll_outq_clear(ll_outq *q);

#endif
