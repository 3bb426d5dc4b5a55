/* The outbound queue: messages the app sent that are not yet written to the
 * socket, in order, bounded by a message count and a byte total. Not
 * thread-safe: the client guards it with its mutex. */
#ifndef LL_CLIENT_QUEUE_H
#define LL_CLIENT_QUEUE_H

#include <stddef.h>
#include <stdint.h>

typedef struct ll_msg {
    struct ll_msg *next;
    size_t len;
    int is_binary;
    int reason;   /* why it was dropped (lifeline_error), on the drop list */
    uint64_t id;  /* reliable delivery: the outbox's id of a dropped one */
    unsigned char data[]; /* the payload, then a NUL */
} ll_msg;

typedef struct ll_queue {
    ll_msg *head, *tail;
    size_t count, bytes;
    size_t max_count, max_bytes;
} ll_queue;

void ll_queue_init(ll_queue *q, size_t max_count, size_t max_bytes);

/* A new message (not queued yet) holding a copy of data, NUL-terminated
 * (text stays a C string); NULL on OOM. The transport writes a copy of it,
 * so no headroom is kept before the payload. */
ll_msg *ll_msg_new(const void *data, size_t len, int is_binary);

/* Would m fit with the queue as it is? */
int ll_queue_fits(const ll_queue *q, const ll_msg *m);
/* Append m; the caller has made room. */
void ll_queue_push(ll_queue *q, ll_msg *m);
/* Put m back at the front (a write that must be retried). */
void ll_queue_push_front(ll_queue *q, ll_msg *m);
/* Take the first message, or NULL. The caller owns it. */
ll_msg *ll_queue_pop(ll_queue *q);

#endif
