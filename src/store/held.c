/* The held messages' lengths: a ring that doubles; see held.h. */
#include "store/held.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void ll_held_init(ll_held *h)
{
    memset(h, 0, sizeof(*h));
}

void ll_held_free(ll_held *h)
{
    free(h->len);
    ll_held_init(h);
}

int ll_held_reserve(ll_held *h, size_t n)
{
    if (n <= h->cap)
        return 0;
    size_t cap = h->cap ? h->cap : 64;
    while (cap < n) {
        if (cap > SIZE_MAX / 2 / sizeof(size_t))
            return -1;
        cap *= 2;
    }
    size_t *len = malloc(cap * sizeof(*len));
    if (!len)
        return -1;
    /* unroll the ring: the oldest first */
    for (size_t i = 0; i < h->count; i++)
        len[i] = ll_held_at(h, i);
    free(h->len);
    h->len = len;
    h->cap = cap;
    h->head = 0;
    return 0;
}

int ll_held_push(ll_held *h, size_t len)
{
    if (h->count == h->cap && ll_held_reserve(h, h->count + 1) != 0)
        return -1;
    h->len[(h->head + h->count) % h->cap] = len;
    h->count++;
    h->bytes += len;
    return 0;
}

size_t ll_held_at(const ll_held *h, size_t i)
{
    return h->len[(h->head + i) % h->cap];
}

void ll_held_pop(ll_held *h, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h->bytes -= ll_held_at(h, i);
    h->count -= n;
    h->head = h->count ? (h->head + n) % h->cap : 0;
}
