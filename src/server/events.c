/* Event hooks; see events.h. */
#include "server/events.h"

#include "lifeline/version.h"

int srv_events_add(srv_events *e, srv_event_fn fn, void *user_data)
{
    if (e->count >= SRV_EVENT_HOOKS_MAX)
        return -1;
    e->hooks[e->count].fn = fn;
    e->hooks[e->count].user_data = user_data;
    e->count++;
    return 0;
}

void srv_events_emit(const srv_events *e, const srv_event *ev)
{
    for (size_t i = 0; i < e->count; i++)
        e->hooks[i].fn(ev, e->hooks[i].user_data);
}

const char *srv_event_name(srv_event_kind k)
{
    switch (k) {
    case SRV_EVENT_STARTING:
        return "server_starting";
    case SRV_EVENT_STOPPING:
        return "server_stopping";
    case SRV_EVENT_NO_CLIENTS:
        return "no_clients";
    case SRV_EVENT_CLIENTS_BACK:
        return "clients_back";
    }
    return "unknown";
}

void srv_event_log_hook(const srv_event *ev, void *user_data)
{
    const srv_log *log = user_data;
    cJSON *f = cJSON_CreateObject();
    if (f) {
        /* no "at": the line's own timestamp (ts) is the event's time */
        if (ev->kind == SRV_EVENT_STARTING)
            cJSON_AddStringToObject(f, "version", LIFELINE_VERSION_STRING);
        cJSON_AddNumberToObject(f, "port", ev->port);
        cJSON_AddNumberToObject(f, "active_connections", (double)ev->active);
        if (ev->kind == SRV_EVENT_NO_CLIENTS)
            cJSON_AddStringToObject(f, "status", "no clients connected");
        if (ev->kind == SRV_EVENT_CLIENTS_BACK)
            cJSON_AddStringToObject(f, "status", "clients back");
        if (ev->kind == SRV_EVENT_NO_CLIENTS || ev->kind == SRV_EVENT_CLIENTS_BACK)
            cJSON_AddNumberToObject(f, "duration_ms", (double)ev->duration_ms);
    }
    srv_log_level level = ev->kind == SRV_EVENT_NO_CLIENTS ? SRV_LOG_WARN : SRV_LOG_INFO;
    srv_log_emit(log, level, srv_event_name(ev->kind), f);
}
