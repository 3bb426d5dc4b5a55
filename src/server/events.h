/* Server status events: starting, stopping, and the monitor's
 * "no clients connected" / "clients back" changes. The server emits them to
 * every hook added here; the log is one hook, and an alerting hook
 * (Discord, email) can be added beside it without touching the server. */
#ifndef SRV_EVENTS_H
#define SRV_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "server/log.h"

typedef enum srv_event_kind {
    SRV_EVENT_STARTING = 0,
    SRV_EVENT_STOPPING,
    SRV_EVENT_NO_CLIENTS,  /* duration_ms: how long there have been none */
    SRV_EVENT_CLIENTS_BACK /* duration_ms: the whole time without clients */
} srv_event_kind;

typedef struct srv_event {
    srv_event_kind kind;
    int64_t at_ms;       /* wall clock, unix ms */
    int64_t duration_ms; /* see the kinds; 0 otherwise */
    int port;            /* the listening port */
    uint64_t active;     /* active connections at the time */
} srv_event;

/* Called on the server's thread; must not block for long. */
typedef void (*srv_event_fn)(const srv_event *ev, void *user_data);

#define SRV_EVENT_HOOKS_MAX 8

typedef struct srv_events {
    struct {
        srv_event_fn fn;
        void *user_data;
    } hooks[SRV_EVENT_HOOKS_MAX];
    size_t count;
} srv_events;

/* Adds a hook; returns 0, or -1 when the table is full. */
int srv_events_add(srv_events *e, srv_event_fn fn, void *user_data);

/* Calls every hook in the order added. */
void srv_events_emit(const srv_events *e, const srv_event *ev);

/* "server_starting", "server_stopping", "no_clients", "clients_back". */
const char *srv_event_name(srv_event_kind k);

/* A hook that logs the event; user_data is the srv_log. */
void srv_event_log_hook(const srv_event *ev, void *user_data);

#endif
