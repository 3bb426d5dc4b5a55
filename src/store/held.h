/* The lengths of the held messages, numbered first .. first + count - 1
 * with no gap (first is the outbox's acked + 1): what the outbox counts
 * its bytes with, and what acks and drops take off the front. A ring of
 * size_t, 8 bytes per held message. Not thread-safe: the outbox's lock
 * guards it. */
#ifndef LL_STORE_HELD_H
#define LL_STORE_HELD_H

#include <stddef.h>

typedef struct ll_held {
    size_t *len;   /* ring of cap entries; the oldest at head */
    size_t cap, head;
    size_t count;  /* messages */
    size_t bytes;  /* the sum of their lengths */
} ll_held;

/* An empty ring (no allocation). */
void ll_held_init(ll_held *h);

/* Free the ring; h is empty and reusable after. */
void ll_held_free(ll_held *h);

/* Make room for n messages in all, so that pushes up to n cannot fail.
 * Returns 0, or -1 (out of memory; h unchanged). */
int ll_held_reserve(ll_held *h, size_t n);

/* Add the newest message's length (growing the ring). Returns 0, or -1
 * (out of memory; h unchanged). */
int ll_held_push(ll_held *h, size_t len);

/* The length of the i-th oldest (i < count). */
size_t ll_held_at(const ll_held *h, size_t i);

/* Take the n oldest out (n <= count). */
void ll_held_pop(ll_held *h, size_t n);

#endif
