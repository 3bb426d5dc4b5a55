/* What the status page shows beyond the stats, kept in bounded rings in
 * memory: the connections sampled once a second, the status monitor's
 * changes, and the recent alert deliveries; and these as the JSON of
 * GET /api/v1/websockets/history and GET /api/v1/admin/status. Pure: the
 * caller passes the times; nothing here reads a clock or locks (alerts.c
 * guards its delivery ring, written on the notifier's thread). */
#ifndef SRV_STATUS_H
#define SRV_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "server/monitor.h"

/* Ten minutes of connection counts, one a second. */
#define SRV_STATUS_SAMPLES 600
#define SRV_STATUS_SAMPLE_MS 1000
/* The most recent monitor changes and alert deliveries kept. */
#define SRV_STATUS_EVENTS 32
#define SRV_STATUS_DELIVERIES 32
#define SRV_STATUS_DETAIL_LEN 120

typedef struct srv_status_sample {
    int64_t at_ms; /* wall clock, unix ms */
    uint64_t active;
} srv_status_sample;

typedef struct srv_status_event {
    const char *name;    /* static: "server_starting", "no_clients", "clients_back" */
    int64_t at_ms;       /* wall clock */
    int64_t duration_ms; /* no_clients: empty so far; clients_back: the whole gap; else 0 */
} srv_status_event;

typedef struct srv_status_delivery {
    int64_t at_ms;       /* wall clock, when the outcome was known */
    const char *channel; /* static: "discord", "email" */
    const char *kind;    /* static: the event's name */
    bool ok;
    long http_status;    /* 0: none */
    int attempts;
    char detail[SRV_STATUS_DETAIL_LEN]; /* one line, never a secret (the notifier's) */
} srv_status_delivery;

/* A ring's bookkeeping over an array of cap items: head is where the next
 * goes, count how many are kept. */
typedef struct srv_status_ring {
    size_t head, count, cap;
} srv_status_ring;

typedef struct srv_status {
    srv_status_ring sring, ering;
    srv_status_sample samples[SRV_STATUS_SAMPLES];
    srv_status_event events[SRV_STATUS_EVENTS];
} srv_status;

typedef struct srv_status_deliveries {
    srv_status_ring ring;
    srv_status_delivery items[SRV_STATUS_DELIVERIES];
} srv_status_deliveries;

/* Empties st. */
void srv_status_init(srv_status *st);

/* Keeps a connection count (the oldest goes past SRV_STATUS_SAMPLES). */
void srv_status_sample_add(srv_status *st, int64_t at_ms, uint64_t active);

/* Keeps a monitor change or the start (the oldest goes past
 * SRV_STATUS_EVENTS). name must be static. */
void srv_status_event_add(srv_status *st, const char *name, int64_t at_ms, int64_t duration_ms);

/* Empties d. */
void srv_status_deliveries_init(srv_status_deliveries *d);

/* Keeps a delivery's outcome (copied; the detail cut to fit). */
void srv_status_delivery_add(srv_status_deliveries *d, const srv_status_delivery *item);

/* The i-th kept item, 0 the oldest, of a ring of count items; for the
 * rings above: samples[srv_status_index(&st->sring, i)]. */
size_t srv_status_index(const srv_status_ring *r, size_t i);

/* The monitor's state now, for the page. */
typedef enum srv_status_state {
    SRV_STATUS_CLIENTS = 0, /* connections open */
    SRV_STATUS_EMPTY,       /* none, for less than down_after_ms: no change yet */
    SRV_STATUS_NO_CLIENTS   /* none for down_after_ms: "no clients connected" */
} srv_status_state;

typedef struct srv_status_view {
    srv_status_state state;
    int64_t since_ms;  /* wall clock: EMPTY, NO_CLIENTS: empty since; CLIENTS: 0 */
    int64_t due_ms;    /* wall clock: EMPTY: when NO_CLIENTS falls due; else 0 */
} srv_status_view;

/* The monitor's state at monotonic time now_mono, whose wall-clock time
 * is now_wall (the monitor counts in monotonic time). */
srv_status_view srv_status_monitor_view(const srv_monitor *m, int64_t now_mono, int64_t now_wall);

/* "clients", "empty", "no_clients". */
const char *srv_status_state_name(srv_status_state s);

/* GET /api/v1/websockets/history:
 * {"interval_ms":1000,"now_ms":N,"samples":[[unix_ms,count],...]}, oldest
 * first. NULL when out of memory. */
cJSON *srv_status_history_json(const srv_status *st, int64_t now_wall);

/* The admin status (GET /api/v1/admin/status), but the fault and alert
 * counters the caller adds: {"now_ms", "monitor":{"state","since","due",
 * "down_after_ms","active_connections"}, "history":[{"event","at",
 * "duration_ms"}...] newest first, "alerts":{"recent":[{"at","channel",
 * "kind","ok","status","attempts","detail"}...] newest first}}. Times are
 * ISO 8601 (null when none). d may be NULL (no deliveries). NULL when out
 * of memory. */
cJSON *srv_status_admin_json(const srv_status *st, const srv_status_view *v,
                             int64_t down_after_ms, uint64_t active,
                             const srv_status_deliveries *d, int64_t now_wall);

#endif
