/* One connection's ping schedule; see ping.h. */
#include "server/ping.h"

void srv_ping_init(srv_ping *p, int64_t now, int64_t interval_ms)
{
    p->next_ms = now + interval_ms;
    p->sent_ms = 0;
    p->awaiting = false;
}

srv_ping_action srv_ping_poll(srv_ping *p, int64_t now, int64_t interval_ms, int64_t timeout_ms)
{
    if (p->awaiting)
        return now - p->sent_ms >= timeout_ms ? SRV_PING_TIMEOUT : SRV_PING_IDLE;
    if (now < p->next_ms)
        return SRV_PING_IDLE;
    p->awaiting = true;
    p->sent_ms = now;
    p->next_ms = now + interval_ms;
    return SRV_PING_SEND;
}

void srv_ping_pong(srv_ping *p)
{
    p->awaiting = false;
}

int64_t srv_ping_deadline(const srv_ping *p, int64_t timeout_ms)
{
    return p->awaiting ? p->sent_ms + timeout_ms : p->next_ms;
}
