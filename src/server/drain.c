/* The drain's schedule; see drain.h. */
#include "server/drain.h"

void srv_drain_start(srv_drain *d, int64_t now, int64_t window_ms, uint64_t count)
{
    d->start_ms = now;
    d->window_ms = window_ms < 0 ? 0 : window_ms;
    d->total = count;
    d->taken = 0;
}

int64_t srv_drain_close_at(const srv_drain *d, uint64_t i)
{
    if (!d->total || !d->window_ms)
        return d->start_ms;
    return d->start_ms + (int64_t)(i * (uint64_t)d->window_ms / d->total);
}

uint64_t srv_drain_take(srv_drain *d, int64_t now)
{
    uint64_t before = d->taken;
    while (d->taken < d->total && srv_drain_close_at(d, d->taken) <= now)
        d->taken++;
    return d->taken - before;
}

int64_t srv_drain_next(const srv_drain *d)
{
    return d->taken < d->total ? srv_drain_close_at(d, d->taken) : SRV_DRAIN_NONE;
}
