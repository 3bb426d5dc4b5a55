/* Shared messages and the bounded FIFO; see outq.h. */
#include "server/outq.h"

#include <stdlib.h>
#include <string.h>

srv_msg *srv_msg_new(const void *data, size_t len, bool binary)
{
    srv_msg *m = malloc(sizeof(*m) + SRV_MSG_HEADROOM + len + 1);
    if (!m)
        return NULL;
    m->refs = 1;
    m->len = len;
    m->binary = binary;
    if (len)
        memcpy(srv_msg_payload(m), data, len);
    srv_msg_payload(m)[len] = '\0';
    return m;
}

srv_msg *srv_msg_from_text(char *text)
{
    if (!text)
        return NULL;
    srv_msg *m = srv_msg_new(text, strlen(text), false);
    free(text);
    return m;
}

srv_msg *srv_msg_ref(srv_msg *m)
{
    m->refs++;
    return m;
}

void srv_msg_unref(srv_msg *m)
{
    if (m && --m->refs == 0)
        free(m);
}

int srv_outq_push(srv_outq *q, srv_msg *msg, size_t max_count, size_t max_bytes)
{
    if (q->count >= max_count || (q->count && q->bytes + msg->len > max_bytes))
        return -1;
    srv_outq_node *n = malloc(sizeof(*n));
    if (!n)
        return -1;
    n->next = NULL;
    n->msg = srv_msg_ref(msg);
    if (q->tail)
        q->tail->next = n;
    else
        q->head = n;
    q->tail = n;
    q->count++;
    q->bytes += msg->len;
    return 0;
}

srv_msg *srv_outq_pop(srv_outq *q)
{
    srv_outq_node *n = q->head;
    if (!n)
        return NULL;
    q->head = n->next;
    if (!q->head)
        q->tail = NULL;
    q->count--;
    q->bytes -= n->msg->len;
    srv_msg *m = n->msg;
    free(n);
    return m;
}

void srv_outq_clear(srv_outq *q)
{
    srv_msg *m;
    while ((m = srv_outq_pop(q)))
        srv_msg_unref(m);
}
