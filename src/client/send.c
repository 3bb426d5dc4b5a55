/* Outbound: lifeline_client_send() and the queue policy, the write path
 * the transport pulls messages through, and the reports of dropped
 * messages. */
#include <stdlib.h>
#include <string.h>

#include "client/client_impl.h"

void ll_client_report_dropped(lifeline_client *c)
{
    for (;;) {
        pthread_mutex_lock(&c->mu);
        ll_msg *m = ll_queue_pop(&c->dropped);
        pthread_mutex_unlock(&c->mu);
        if (!m)
            return;
        if (c->cfg.on_dropped && !ll_client_quiet(c)) {
            c->cfg.on_dropped(c, m->data, m->len, m->is_binary,
                              m->reason, c->cfg.user_data);
        }
        if (m->id && c->cfg.on_dropped_id && !ll_client_quiet(c))
            c->cfg.on_dropped_id(c, m->id, m->reason, c->cfg.user_data);
        free(m);
    }
}

/* Everything still queued is dropped (stop). mu held. */
void ll_client_drop_all_locked(lifeline_client *c)
{
    ll_msg *m;
    while ((m = ll_queue_pop(&c->queue))) {
        m->reason = LIFELINE_ERR_STOPPED;
        ll_queue_push(&c->dropped, m);
        c->msgs_dropped++;
    }
}

int ll_client_next_out(void *owner, ll_out *out)
{
    lifeline_client *c = owner;
    if (c->rel)
        return ll_rel_next_out(c, out);
    pthread_mutex_lock(&c->mu);
    ll_msg *m = ll_queue_pop(&c->queue);
    int more = c->queue.count > 0;
    c->write_armed = more;
    pthread_mutex_unlock(&c->mu);
    if (!m)
        return 0;
    c->writing = m;
    *out = (ll_out){.data = m->data, .len = m->len, .is_binary = m->is_binary, .more = more};
    return 1;
}

void ll_client_written(void *owner, int ok)
{
    lifeline_client *c = owner;
    if (c->rel) {
        ll_rel_written(c, ok);
        return;
    }
    ll_msg *m = c->writing;
    c->writing = NULL;
    pthread_mutex_lock(&c->mu);
    if (!ok) {
        ll_queue_push_front(&c->queue, m); /* not sent: it goes again, first */
        m = NULL;
    } else {
        c->msgs_sent++;
        c->bytes_sent += m->len;
    }
    pthread_mutex_unlock(&c->mu);
    free(m);
}

int lifeline_client_send(lifeline_client *c, const void *data, size_t len, int is_binary)
{
    if (!c || (!data && len))
        return LIFELINE_ERR_INVALID_ARGUMENT;
    if (c->rel)
        return lifeline_client_send_id(c, data, len, is_binary, NULL);
    if (len > c->cfg.max_message_bytes)
        return LIFELINE_ERR_MESSAGE_TOO_BIG;
    ll_msg *m = ll_msg_new(data, len, is_binary != 0);
    if (!m)
        return LIFELINE_ERR_NO_MEMORY;
    int rc = LIFELINE_OK, wake = 0;
    pthread_mutex_lock(&c->mu);
    int state = c->core.state;
    if (state == LIFELINE_STATE_CLOSED) {
        rc = LIFELINE_ERR_STOPPED;
    } else if (c->cfg.queue_policy == LIFELINE_QUEUE_OFF && state != LIFELINE_STATE_CONNECTED) {
        rc = LIFELINE_ERR_NOT_CONNECTED;
    } else if (len > c->queue.max_bytes) {
        rc = LIFELINE_ERR_QUEUE_FULL;
    } else if (!ll_queue_fits(&c->queue, m)) {
        if (c->cfg.queue_policy == LIFELINE_QUEUE_DROP_OLDEST) {
            while (!ll_queue_fits(&c->queue, m)) {
                ll_msg *old = ll_queue_pop(&c->queue);
                old->reason = LIFELINE_ERR_QUEUE_FULL;
                ll_queue_push(&c->dropped, old);
                c->msgs_dropped++;
                wake |= LL_CMD_DROPPED;
            }
        } else {
            rc = LIFELINE_ERR_QUEUE_FULL;
        }
    }
    if (rc == LIFELINE_OK) {
        ll_queue_push(&c->queue, m);
        m = NULL;
        if (state == LIFELINE_STATE_CONNECTED && !c->write_armed) {
            c->write_armed = 1;
            wake |= LL_CMD_WRITE;
        }
    }
    pthread_mutex_unlock(&c->mu);
    free(m);
    if (wake == LL_CMD_WRITE && ll_loop_on_thread(c->loop))
        ll_conn_want_write(c->conn); /* on the loop thread already: no wake-up */
    else if (wake)
        ll_client_post(c, (unsigned)wake);
    return rc;
}

int lifeline_client_send_text(lifeline_client *c, const char *text)
{
    if (!text)
        return LIFELINE_ERR_INVALID_ARGUMENT;
    return lifeline_client_send(c, text, strlen(text), 0);
}
