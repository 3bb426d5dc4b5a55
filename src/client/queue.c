/* A FIFO of heap-allocated messages with count and byte bounds. */
#include "client/queue.h"

#include <stdlib.h>
#include <string.h>

void ll_queue_init(ll_queue *q, size_t max_count, size_t max_bytes)
{
    memset(q, 0, sizeof(*q));
    q->max_count = max_count;
    q->max_bytes = max_bytes;
}

ll_msg *ll_msg_new(const void *data, size_t len, int is_binary)
{
    ll_msg *m = malloc(sizeof(*m) + len + 1);
    if (!m)
        return NULL;
    m->next = NULL;
    m->reason = 0;
    m->id = 0;
    m->len = len;
    m->is_binary = is_binary;
    if (len)
        memcpy(m->data, data, len);
    m->data[len] = 0; /* text payloads stay NUL-terminated */
    return m;
}

int ll_queue_fits(const ll_queue *q, const ll_msg *m)
{
    return q->count + 1 <= q->max_count && q->bytes + m->len <= q->max_bytes;
}

void ll_queue_push(ll_queue *q, ll_msg *m)
{
    m->next = NULL;
    if (q->tail)
        q->tail->next = m;
    else
        q->head = m;
    q->tail = m;
    q->count++;
    q->bytes += m->len;
}

void ll_queue_push_front(ll_queue *q, ll_msg *m)
{
    m->next = q->head;
    q->head = m;
    if (!q->tail)
        q->tail = m;
    q->count++;
    q->bytes += m->len;
}

ll_msg *ll_queue_pop(ll_queue *q)
{
    ll_msg *m = q->head;
    if (!m)
        return NULL;
    q->head = m->next;
    if (!q->head)
        q->tail = NULL;
    q->count--;
    q->bytes -= m->len;
    m->next = NULL;
    return m;
}
