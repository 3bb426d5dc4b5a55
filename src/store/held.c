/* The held messages: a ring that doubles; see held.h. */
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
    ll_held_pop(h, h->count);
    free(h->e);
    ll_held_init(h);
}

int ll_held_reserve(ll_held *h, size_t n)
{
    if (n <= h->cap)
        return 0;
    size_t cap = h->cap ? h->cap : 64;
    while (cap < n) {
        if (cap > SIZE_MAX / 2 / sizeof(ll_held_entry))
            return -1;
        cap *= 2;
    }
    ll_held_entry *e = malloc(cap * sizeof(*e));
    if (!e)
        return -1;
    /* unroll the ring: the oldest first */
    for (size_t i = 0; i < h->count; i++)
        e[i] = *ll_held_get(h, i);
    free(h->e);
    h->e = e;
    h->cap = cap;
    h->head = 0;
    return 0;
}

int ll_held_push(ll_held *h, size_t len, unsigned char *data, int is_binary)
{
    if (h->count == h->cap && ll_held_reserve(h, h->count + 1) != 0)
        return -1;
    h->e[(h->head + h->count) % h->cap] =
        (ll_held_entry){.data = data, .len = len, .is_binary = is_binary};
    h->count++;
    h->bytes += len;
    return 0;
}

const ll_held_entry *ll_held_get(const ll_held *h, size_t i)
{
    return &h->e[(h->head + i) % h->cap];
}

void ll_held_pop(ll_held *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ll_held_entry *e = &h->e[(h->head + i) % h->cap];
        h->bytes -= e->len;
        free(e->data);
        e->data = NULL;
    }
    h->count -= n;
    h->head = h->count ? (h->head + n) % h->cap : 0;
}
