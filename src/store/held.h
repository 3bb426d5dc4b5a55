/* The held messages, numbered first .. first + count - 1 with no gap
 * (first is the outbox's acked + 1): their lengths, which the outbox
 * counts its bytes with, and their payloads, which the writer reads back
 * (ll_outbox_next()) without asking the file. A ring that doubles; acks
 * and drops take entries off the front and free their payloads. An entry
 * whose data is NULL is in the file only (an outbox file opened over its
 * limits: see ll_outbox_open()). Not thread-safe: the outbox's lock
 * guards it. */
#ifndef LL_STORE_HELD_H
#define LL_STORE_HELD_H

#include <stddef.h>

typedef struct ll_held_entry {
    unsigned char *data; /* malloc'd (at least 1 byte), owned; NULL: file only */
    size_t len;
    int is_binary;
} ll_held_entry;

typedef struct ll_held {
    ll_held_entry *e; /* ring of cap entries; the oldest at head */
    size_t cap, head;
    size_t count;     /* messages */
    size_t bytes;     /* the sum of their lengths */
} ll_held;

/* An empty ring (no allocation). */
void ll_held_init(ll_held *h);

/* Free the ring and every payload in it; h is empty and reusable after. */
void ll_held_free(ll_held *h);

/* Make room for n messages in all, so that pushes up to n cannot fail.
 * Returns 0, or -1 (out of memory; h unchanged). */
int ll_held_reserve(ll_held *h, size_t n);

/* Add the newest message (growing the ring); data (malloc'd, or NULL: in
 * the file only) is the ring's from then on. Returns 0, or -1 (out of
 * memory; h unchanged, data still the caller's). */
int ll_held_push(ll_held *h, size_t len, unsigned char *data, int is_binary);

/* The i-th oldest (i < count). */
const ll_held_entry *ll_held_get(const ll_held *h, size_t i);

/* Take the n oldest out (n <= count), freeing their payloads. */
void ll_held_pop(ll_held *h, size_t n);

#endif
