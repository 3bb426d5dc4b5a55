/* Outbound messages and the bounded per-connection queue. A message is
 * built once and shared by reference between the queues of every
 * recipient (a broadcast to a store copies nothing per connection); it
 * keeps SRV_MSG_HEADROOM bytes free before the payload for the WebSocket
 * frame header. Pure: no I/O. */
#ifndef SRV_OUTQ_H
#define SRV_OUTQ_H

#include <stdbool.h>
#include <stddef.h>

/* At least libwebsockets' LWS_PRE plus a lifeline.v1 data unit's header
 * (checked in v1.c). */
#define SRV_MSG_HEADROOM 64

typedef struct srv_msg {
    size_t refs;
    size_t len;
    bool binary;
    unsigned char bytes[]; /* SRV_MSG_HEADROOM, then len bytes of payload */
} srv_msg;

/* A message holding a copy of data, with one reference. NULL if out of
 * memory. */
srv_msg *srv_msg_new(const void *data, size_t len, bool binary);

/* Takes over a malloc'd NUL-terminated text (freed here in all cases). */
srv_msg *srv_msg_from_text(char *text);

static inline unsigned char *srv_msg_payload(srv_msg *m) { return m->bytes + SRV_MSG_HEADROOM; }

srv_msg *srv_msg_ref(srv_msg *m);
void srv_msg_unref(srv_msg *m);

typedef struct srv_outq_node {
    struct srv_outq_node *next;
    srv_msg *msg;
} srv_outq_node;

typedef struct srv_outq {
    srv_outq_node *head, *tail;
    size_t count;
    size_t bytes;
} srv_outq;

/* Appends a reference to msg unless that would pass max_count messages or
 * max_bytes of payload (a message alone larger than max_bytes is still
 * accepted into an empty queue). Returns 0, or -1 (full, or out of
 * memory) with msg untouched. */
int srv_outq_push(srv_outq *q, srv_msg *msg, size_t max_count, size_t max_bytes);

/* Removes the oldest message; the caller owns the reference. NULL if empty. */
srv_msg *srv_outq_pop(srv_outq *q);

/* Drops everything. */
void srv_outq_clear(srv_outq *q);

#endif
