/* The server status monitor: when the count of active connections stays at
 * zero for down_after_ms, that is a "no clients connected" change; the
 * first connection after it is a "clients back" change, carrying how long
 * there were none. Pure: the caller passes the time and the count. */
#ifndef SRV_MONITOR_H
#define SRV_MONITOR_H

#include <stdbool.h>
#include <stdint.h>

typedef enum srv_monitor_change {
    SRV_MONITOR_NONE = 0,
    SRV_MONITOR_NO_CLIENTS,  /* zero connections for down_after_ms */
    SRV_MONITOR_CLIENTS_BACK /* a connection after a NO_CLIENTS change */
} srv_monitor_change;

typedef struct srv_monitor {
    int64_t down_after_ms;
    bool empty;         /* the count is zero now */
    bool down;          /* NO_CLIENTS was reported and not yet cleared */
    int64_t empty_since_ms;
} srv_monitor;

typedef struct srv_monitor_result {
    srv_monitor_change change;
    int64_t duration_ms; /* NO_CLIENTS: time empty so far; CLIENTS_BACK: the whole gap */
} srv_monitor_result;

/* Starts with no connections at time now. */
void srv_monitor_init(srv_monitor *m, int64_t down_after_ms, int64_t now);

/* Feeds the count of active connections at time now; returns the change,
 * if any. Call it on every connect and disconnect and periodically. */
srv_monitor_result srv_monitor_update(srv_monitor *m, int64_t now, uint64_t active);

/* When the next NO_CLIENTS change is due if nothing connects, or -1. */
int64_t srv_monitor_deadline(const srv_monitor *m);

/* "no_clients", "clients_back" or "none". */
const char *srv_monitor_change_name(srv_monitor_change c);

#endif
