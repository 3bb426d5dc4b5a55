/* The status monitor's two-state rule; see monitor.h. */
#include "server/monitor.h"

void ll_monitor_init(ll_monitor *m, int64_t down_after_ms, int64_t now)
{
    m->down_after_ms = down_after_ms;
    m->empty = true;
    m->down = false;
    m->empty_since_ms = now;
}

ll_monitor_result ll_monitor_update(ll_monitor *m, int64_t now, uint64_t active)
{
    ll_monitor_result r = {LL_MONITOR_NONE, 0};
    if (active > 0) {
        if (m->down) {
            r.change = LL_MONITOR_CLIENTS_BACK;
            r.duration_ms = now - m->empty_since_ms;
        }
        m->empty = false;
        m->down = false;
        return r;
    }
    if (!m->empty) {
        m->empty = true;
        m->empty_since_ms = now;
    }
    if (!m->down && now - m->empty_since_ms >= m->down_after_ms) {
        m->down = true;
        r.change = LL_MONITOR_NO_CLIENTS;
        r.duration_ms = now - m->empty_since_ms;
    }
    return r;
}

int64_t ll_monitor_deadline(const ll_monitor *m)
{
    return m->empty && !m->down ? m->empty_since_ms + m->down_after_ms : -1;
}

const char *ll_monitor_change_name(ll_monitor_change c)
{
    switch (c) {
    case LL_MONITOR_NO_CLIENTS:
        return "no_clients";
    case LL_MONITOR_CLIENTS_BACK:
        return "clients_back";
    case LL_MONITOR_NONE:
        break;
    }
    return "none";
}
