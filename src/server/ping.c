/* One connection's ping schedule; see ping.h. */
#include "server/ping.h"

void ll_ping_init(ll_ping *p, int64_t now, int64_t interval_ms)
{
    p->next_ms = now + interval_ms;
    p->sent_ms = 0;
    p->awaiting = false;
}

ll_ping_action ll_ping_poll(ll_ping *p, int64_t now, int64_t interval_ms, int64_t timeout_ms)
{
    if (p->awaiting)
        return now - p->sent_ms >= timeout_ms ? LL_PING_TIMEOUT : LL_PING_IDLE;
    if (now < p->next_ms)
        return LL_PING_IDLE;
    p->awaiting = true;
    p->sent_ms = now;
    p->next_ms = now + interval_ms;
    return LL_PING_SEND;
}

void ll_ping_pong(ll_ping *p)
{
    p->awaiting = false;
}

int64_t ll_ping_deadline(const ll_ping *p, int64_t timeout_ms)
{
    return p->awaiting ? p->sent_ms + timeout_ms : p->next_ms;
}
