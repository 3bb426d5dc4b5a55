/* Shared messages and the bounded FIFO; see outq.h. */
#include "server/outq.h"

#include <stdlib.h>
#include <string.h>

ll_msg *ll_msg_new(const void *data, size_t len, bool binary)
{
    ll_msg *m = malloc(sizeof(*m) + LL_MSG_HEADROOM + len + 1);
    if (!m)
        return NULL;
    m->refs = 1;
    m->len = len;
    m->binary = binary;
    if (len)
        memcpy(ll_msg_payload(m), data, len);
    ll_msg_payload(m)[len] = '\0';
    return m;
}

ll_msg *ll_msg_from_text(char *text)
{
    if (!text)
        return NULL;
    ll_msg *m = ll_msg_new(text, strlen(text), false);
    free(text);
    return m;
}

ll_msg *ll_msg_ref(ll_msg *m)
{
    m->refs++;
    return m;
}

void ll_msg_unref(ll_msg *m)
{
    if (m && --m->refs == 0)
        free(m);
}

int ll_outq_push(ll_outq *q, ll_msg *msg, size_t max_count, size_t max_bytes)
{
    if (q->count >= max_count || (q->count && q->bytes + msg->len > max_bytes))
        return -1;
    ll_outq_node *n = malloc(sizeof(*n));
    if (!n)
        return -1;
    n->next = NULL;
    n->msg = ll_msg_ref(msg);
    if (q->tail)
        q->tail->next = n;
    else
        q->head = n;
    q->tail = n;
    q->count++;
    q->bytes += msg->len;
    return 0;
}

ll_msg *ll_outq_pop(ll_outq *q)
{
    ll_outq_node *n = q->head;
    if (!n)
        return NULL;
    q->head = n->next;
    if (!q->head)
        q->tail = NULL;
    q->count--;
    q->bytes -= n->msg->len;
    ll_msg *m = n->msg;
    free(n);
    return m;
}

void ll_outq_clear(ll_outq *q)
{
    ll_msg *m;
    while ((m = ll_outq_pop(q)))
        ll_msg_unref(m);
}
