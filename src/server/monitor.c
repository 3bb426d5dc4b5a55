/* The status monitor's two-state rule; see monitor.h. */
#include "server/monitor.h"

void srv_monitor_init(srv_monitor *m, int64_t down_after_ms, int64_t now)
{
    m->down_after_ms = down_after_ms;
    m->empty = true;
    m->down = false;
    m->empty_since_ms = now;
}

srv_monitor_result srv_monitor_update(srv_monitor *m, int64_t now, uint64_t active)
{
    srv_monitor_result r = {SRV_MONITOR_NONE, 0};
    if (active > 0) {
        if (m->down) {
            r.change = SRV_MONITOR_CLIENTS_BACK;
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
        r.change = SRV_MONITOR_NO_CLIENTS;
        r.duration_ms = now - m->empty_since_ms;
    }
    return r;
}

int64_t srv_monitor_deadline(const srv_monitor *m)
{
    return m->empty && !m->down ? m->empty_since_ms + m->down_after_ms : -1;
}

const char *srv_monitor_change_name(srv_monitor_change c)
{
    switch (c) {
    case SRV_MONITOR_NO_CLIENTS:
        return "no_clients";
    case SRV_MONITOR_CLIENTS_BACK:
        return "clients_back";
    case SRV_MONITOR_NONE:
        break;
    }
    return "none";
}
