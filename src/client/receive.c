/* Inbound: a whole message from the transport (events->message), counted
 * and handed to on_message. The transport delivers nothing once a close
 * has begun: closed was the last state, nothing follows it. */
#include "client/client_impl.h"

void ll_client_on_message(void *owner, const void *data, size_t len, int is_binary)
{
    lifeline_client *c = owner;
    if (ll_client_quiet(c))
        return;
    if (c->rel) {
        ll_rel_on_message(c, data, len, is_binary); /* lifeline.v1's units */
        return;
    }
    pthread_mutex_lock(&c->mu);
    c->msgs_recv++;
    c->bytes_recv += len;
    pthread_mutex_unlock(&c->mu);
    if (c->cfg.on_message && !ll_client_quiet(c)) {
        c->cfg.on_message(c, data, len, is_binary, c->cfg.user_data);
    }
}
