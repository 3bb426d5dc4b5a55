/* Inbound: a whole message from the transport, counted and handed to
 * on_message. */
#include "client/client_impl.h"

void ll_client_deliver(lifeline_client *c, const void *data, size_t len, int is_binary)
{
    if (c->close_code)
        return; /* stopping: closed was the last state; nothing follows it */
    pthread_mutex_lock(&c->mu);
    c->msgs_recv++;
    c->bytes_recv += len;
    pthread_mutex_unlock(&c->mu);
    if (c->cfg.on_message) {
        c->cfg.on_message(c, data, len, is_binary, c->cfg.user_data);
    }
}
