/* SIGTERM's drain: when each WebSocket connection is closed. The n
 * connections open when the drain starts are closed one at a time, evenly
 * over the window: the i-th (from 0) at start + i * window / n (rounded
 * down), so the first at once and then one every window / n, the last
 * window / n before the window ends. A fleet of clients told to reconnect
 * (close code 1012) then comes back spread over the window rather than in
 * one spike. A window of 0 closes them all at once. Pure: the caller
 * passes the time, picks the connections and closes them. */
#ifndef SRV_DRAIN_H
#define SRV_DRAIN_H

#include <stdint.h>

/* --drain-window-ms: the default and the largest. window * n must fit in
 * 63 bits: an hour of milliseconds times a million connections does. */
#define SRV_DRAIN_DEFAULT_WINDOW_MS 10000
#define SRV_DRAIN_MAX_WINDOW_MS (3600LL * 1000)

/* The close a drain sends: 1012, "Service Restart" in IANA's registry of
 * close codes (added after RFC 6455; libwebsockets 4.1 has no name for
 * it): the client should connect again, as it would after a restart. */
#define SRV_DRAIN_CLOSE_CODE 1012
#define SRV_DRAIN_CLOSE_REASON "service restart"

/* No more closes are due. */
#define SRV_DRAIN_NONE INT64_MAX

typedef struct srv_drain {
    int64_t start_ms;
    int64_t window_ms;
    uint64_t total;  /* connections to close */
    uint64_t taken;  /* closes handed out by srv_drain_take */
} srv_drain;

/* A drain of count connections over window_ms (0 to
 * SRV_DRAIN_MAX_WINDOW_MS), starting at now. */
void srv_drain_start(srv_drain *d, int64_t now, int64_t window_ms, uint64_t count);

/* When the i-th close (from 0, below total) is due. */
int64_t srv_drain_close_at(const srv_drain *d, uint64_t i);

/* How many closes are due at now that were not handed out before: the
 * caller closes that many more connections. Each close is handed out once;
 * a late call hands out every one that is overdue. */
uint64_t srv_drain_take(srv_drain *d, int64_t now);

/* When the next close is due, or SRV_DRAIN_NONE when all were handed out. */
int64_t srv_drain_next(const srv_drain *d);

#endif
