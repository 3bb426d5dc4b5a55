/* lifeline_client_stats_sized(): a consistent snapshot of the client's
 * figures, written into as much of the application's struct as it has. */
#include <string.h>

#include "client/client_impl.h"
#include "client/sized.h"

int lifeline_client_stats_sized(lifeline_client *c, lifeline_stats *out, size_t size)
{
    if (!c || !out || size < LL_STATS_SIZE_MIN)
        return LIFELINE_ERR_INVALID_ARGUMENT;
    /* the whole snapshot here; the application's struct gets what it has
     * room for, and nothing more */
    lifeline_stats snap, *s = &snap;
    memset(s, 0, sizeof(*s));
    pthread_mutex_lock(&c->mu);
    const ll_core *k = &c->core;
    int64_t now = ll_now_ms();
    s->state = k->state;
    s->time_in_state_ms = k->state == LIFELINE_STATE_IDLE ? 0 : now - k->state_since;
    s->attempt = k->attempt;
    s->retry_in_ms = ll_core_retry_in(k, now);
    s->last_error = k->last_error;
    s->last_http_status = k->last_http_status;
    s->quality = k->quality;
    s->rtt_last_ms = k->rtt.last_ms;
    s->rtt_smoothed_ms = k->rtt.srtt_ms;
    s->rtt_variation_ms = k->rtt.rttvar_ms;
    s->rtt_min_ms = k->rtt.min_ms;
    s->rtt_max_ms = k->rtt.max_ms;
    s->pongs = k->rtt.samples;
    s->ping_timeouts = k->rtt.timeouts;
    s->since_last_pong_ms = k->last_pong_at >= 0 ? now - k->last_pong_at : -1;
    s->queued_messages = c->queue.count;
    s->queued_bytes = c->queue.bytes;
    s->messages_sent = c->msgs_sent;
    s->bytes_sent = c->bytes_sent;
    s->messages_received = c->msgs_recv;
    s->bytes_received = c->bytes_recv;
    s->messages_dropped = c->msgs_dropped;
    s->reconnections = k->reconnections;
    s->downtime_ms = ll_core_downtime(k, now);
    s->last_close_answered = c->close_answered;
    s->url_index = k->url_index;
    pthread_mutex_unlock(&c->mu);
    ll_rel_stats(c, s); /* the outbox's lock first, then mu */
    size_t filled = size < sizeof(snap) ? size : sizeof(snap);
    snap.struct_size = filled;
    memcpy(out, &snap, filled);
    if (size > filled)
        memset((char *)out + filled, 0, size - filled);
    return LIFELINE_OK;
}
