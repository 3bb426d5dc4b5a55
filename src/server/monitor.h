/* The server status monitor: when the count of active connections stays at
 * zero for down_after_ms, that is a "no clients connected" change; the
 * first connection after it is a "clients back" change, carrying how long
 * there were none. Pure: the caller passes the time and the count. */
#ifndef LL_SERVER_MONITOR_H
#define LL_SERVER_MONITOR_H

#include <stdbool.h>
#include <stdint.h>

typedef enum ll_monitor_change {
    LL_MONITOR_NONE = 0,
    LL_MONITOR_NO_CLIENTS,  /* zero connections for down_after_ms */
    LL_MONITOR_CLIENTS_BACK /* a connection after a NO_CLIENTS change */
} ll_monitor_change;

typedef struct ll_monitor {
    int64_t down_after_ms;
    bool empty;         /* the count is zero now */
    bool down;          /* NO_CLIENTS was reported and not yet cleared */
    int64_t empty_since_ms;
} ll_monitor;

typedef struct ll_monitor_result {
    ll_monitor_change change;
    int64_t duration_ms; /* NO_CLIENTS: time empty so far; CLIENTS_BACK: the whole gap */
} ll_monitor_result;

/* Starts with no connections at time now. */
void ll_monitor_init(ll_monitor *m, int64_t down_after_ms, int64_t now);

/* Feeds the count of active connections at time now; returns the change,
 * if any. Call it on every connect and disconnect and periodically. */
ll_monitor_result ll_monitor_update(ll_monitor *m, int64_t now, uint64_t active);

/* When the next NO_CLIENTS change is due if nothing connects, or -1. */
int64_t ll_monitor_deadline(const ll_monitor *m);

/* "no_clients", "clients_back" or "none". */
const char *ll_monitor_change_name(ll_monitor_change c);

#endif
