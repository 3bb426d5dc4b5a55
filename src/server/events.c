/* Event hooks; see events.h. */
#include "server/events.h"

#include "server/isotime.h"

int ll_srv_events_add(ll_srv_events *e, ll_srv_event_fn fn, void *user_data)
{
    if (e->count >= LL_SRV_EVENT_HOOKS_MAX)
        return -1;
    e->hooks[e->count].fn = fn;
    e->hooks[e->count].user_data = user_data;
    e->count++;
    return 0;
}

void ll_srv_events_emit(const ll_srv_events *e, const ll_srv_event *ev)
{
    for (size_t i = 0; i < e->count; i++)
        e->hooks[i].fn(ev, e->hooks[i].user_data);
}

const char *ll_srv_event_name(ll_srv_event_kind k)
{
    switch (k) {
    case LL_SRV_EVENT_STARTING:
        return "server_starting";
    case LL_SRV_EVENT_STOPPING:
        return "server_stopping";
    case LL_SRV_EVENT_NO_CLIENTS:
        return "no_clients";
    case LL_SRV_EVENT_CLIENTS_BACK:
        return "clients_back";
    }
    return "unknown";
}

void ll_srv_event_log_hook(const ll_srv_event *ev, void *user_data)
{
    const ll_log *log = user_data;
    cJSON *f = cJSON_CreateObject();
    if (f) {
        char at[LL_ISO_LEN];
        cJSON_AddStringToObject(f, "at", ll_iso8601(ev->at_ms, at, sizeof(at)));
        cJSON_AddNumberToObject(f, "port", ev->port);
        cJSON_AddNumberToObject(f, "active_connections", (double)ev->active);
        if (ev->kind == LL_SRV_EVENT_NO_CLIENTS)
            cJSON_AddStringToObject(f, "status", "no clients connected");
        if (ev->kind == LL_SRV_EVENT_CLIENTS_BACK)
            cJSON_AddStringToObject(f, "status", "clients back");
        if (ev->kind == LL_SRV_EVENT_NO_CLIENTS || ev->kind == LL_SRV_EVENT_CLIENTS_BACK)
            cJSON_AddNumberToObject(f, "duration_ms", (double)ev->duration_ms);
    }
    ll_log_level level = ev->kind == LL_SRV_EVENT_NO_CLIENTS ? LL_LOG_WARN : LL_LOG_INFO;
    ll_log_emit(log, level, ll_srv_event_name(ev->kind), f);
}
