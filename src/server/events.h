/* Server status events: starting, stopping, and the monitor's
 * "no clients connected" / "clients back" changes. The server emits them to
 * every hook added here; the log is one hook, and an alerting hook
 * (Discord, email) can be added beside it without touching the server. */
#ifndef LL_SERVER_EVENTS_H
#define LL_SERVER_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "server/log.h"

typedef enum ll_srv_event_kind {
    LL_SRV_EVENT_STARTING = 0,
    LL_SRV_EVENT_STOPPING,
    LL_SRV_EVENT_NO_CLIENTS,  /* duration_ms: how long there have been none */
    LL_SRV_EVENT_CLIENTS_BACK /* duration_ms: the whole time without clients */
} ll_srv_event_kind;

typedef struct ll_srv_event {
    ll_srv_event_kind kind;
    int64_t at_ms;       /* wall clock, unix ms */
    int64_t duration_ms; /* see the kinds; 0 otherwise */
    int port;            /* the listening port */
    uint64_t active;     /* active connections at the time */
} ll_srv_event;

/* Called on the server's thread; must not block for long. */
typedef void (*ll_srv_event_fn)(const ll_srv_event *ev, void *user_data);

#define LL_SRV_EVENT_HOOKS_MAX 8

typedef struct ll_srv_events {
    struct {
        ll_srv_event_fn fn;
        void *user_data;
    } hooks[LL_SRV_EVENT_HOOKS_MAX];
    size_t count;
} ll_srv_events;

/* Adds a hook; returns 0, or -1 when the table is full. */
int ll_srv_events_add(ll_srv_events *e, ll_srv_event_fn fn, void *user_data);

/* Calls every hook in the order added. */
void ll_srv_events_emit(const ll_srv_events *e, const ll_srv_event *ev);

/* "server_starting", "server_stopping", "no_clients", "clients_back". */
const char *ll_srv_event_name(ll_srv_event_kind k);

/* A hook that logs the event; user_data is the ll_log. */
void ll_srv_event_log_hook(const ll_srv_event *ev, void *user_data);

#endif
