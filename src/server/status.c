/* The status page's rings and their JSON; see status.h. */
#include "server/status.h"

#include <stdio.h>
#include <string.h>

#include "server/isotime.h"

/* Takes the next slot of r: its index. */
static size_t ring_push(srv_status_ring *r)
{
    size_t at = r->head;
    r->head = (r->head + 1) % r->cap;
    if (r->count < r->cap)
        r->count++;
    return at;
}

size_t srv_status_index(const srv_status_ring *r, size_t i)
{
    return (r->head + r->cap - r->count + i) % r->cap;
}

void srv_status_init(srv_status *st)
{
    memset(st, 0, sizeof(*st));
    st->sring.cap = SRV_STATUS_SAMPLES;
    st->ering.cap = SRV_STATUS_EVENTS;
}

void srv_status_sample_add(srv_status *st, int64_t at_ms, uint64_t active)
{
    st->samples[ring_push(&st->sring)] = (srv_status_sample){at_ms, active};
}

void srv_status_event_add(srv_status *st, const char *name, int64_t at_ms, int64_t duration_ms)
{
    st->events[ring_push(&st->ering)] = (srv_status_event){name, at_ms, duration_ms};
}

void srv_status_deliveries_init(srv_status_deliveries *d)
{
    memset(d, 0, sizeof(*d));
    d->ring.cap = SRV_STATUS_DELIVERIES;
}

void srv_status_delivery_add(srv_status_deliveries *d, const srv_status_delivery *item)
{
    srv_status_delivery *slot = &d->items[ring_push(&d->ring)];
    *slot = *item;
    slot->detail[sizeof(slot->detail) - 1] = '\0';
}

srv_status_view srv_status_monitor_view(const srv_monitor *m, int64_t now_mono, int64_t now_wall)
{
    srv_status_view v = {SRV_STATUS_CLIENTS, 0, 0};
    if (!m->empty)
        return v;
    v.since_ms = now_wall - (now_mono - m->empty_since_ms);
    if (m->down) {
        v.state = SRV_STATUS_NO_CLIENTS;
    } else {
        v.state = SRV_STATUS_EMPTY;
        v.due_ms = v.since_ms + m->down_after_ms;
    }
    return v;
}

const char *srv_status_state_name(srv_status_state s)
{
    switch (s) {
    case SRV_STATUS_EMPTY:
        return "empty";
    case SRV_STATUS_NO_CLIENTS:
        return "no_clients";
    case SRV_STATUS_CLIENTS:
        break;
    }
    return "clients";
}

/* key: the time at_ms as ISO 8601, or null for 0. */
static void add_time(cJSON *o, const char *key, int64_t at_ms)
{
    char ts[SRV_ISO_LEN];
    if (at_ms)
        cJSON_AddStringToObject(o, key, srv_iso8601(at_ms, ts, sizeof(ts)));
    else
        cJSON_AddNullToObject(o, key);
}

cJSON *srv_status_history_json(const srv_status *st, int64_t now_wall)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *a = cJSON_CreateArray();
    if (!o || !a)
        goto fail;
    cJSON_AddNumberToObject(o, "interval_ms", SRV_STATUS_SAMPLE_MS);
    cJSON_AddNumberToObject(o, "now_ms", (double)now_wall);
    for (size_t i = 0; i < st->sring.count; i++) {
        const srv_status_sample *s = &st->samples[srv_status_index(&st->sring, i)];
        cJSON *pair = cJSON_CreateArray();
        if (!pair)
            goto fail;
        cJSON_AddItemToArray(a, pair);
        cJSON_AddItemToArray(pair, cJSON_CreateNumber((double)s->at_ms));
        cJSON_AddItemToArray(pair, cJSON_CreateNumber((double)s->active));
    }
    cJSON_AddItemToObject(o, "samples", a);
    return o;
fail:
    cJSON_Delete(a);
    cJSON_Delete(o);
    return NULL;
}

static cJSON *monitor_json(const srv_status_view *v, int64_t down_after_ms, uint64_t active)
{
    cJSON *m = cJSON_CreateObject();
    if (!m)
        return NULL;
    cJSON_AddStringToObject(m, "state", srv_status_state_name(v->state));
    add_time(m, "since", v->since_ms);
    add_time(m, "due", v->due_ms);
    cJSON_AddNumberToObject(m, "down_after_ms", (double)down_after_ms);
    cJSON_AddNumberToObject(m, "active_connections", (double)active);
    return m;
}

static cJSON *history_json(const srv_status *st)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = st->ering.count; a && i-- > 0;) {
        const srv_status_event *e = &st->events[srv_status_index(&st->ering, i)];
        cJSON *o = cJSON_CreateObject();
        if (!o)
            break;
        cJSON_AddItemToArray(a, o);
        cJSON_AddStringToObject(o, "event", e->name);
        add_time(o, "at", e->at_ms);
        cJSON_AddNumberToObject(o, "duration_ms", (double)e->duration_ms);
    }
    return a;
}

static cJSON *deliveries_json(const srv_status_deliveries *d)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = d ? d->ring.count : 0; a && i-- > 0;) {
        const srv_status_delivery *e = &d->items[srv_status_index(&d->ring, i)];
        cJSON *o = cJSON_CreateObject();
        if (!o)
            break;
        cJSON_AddItemToArray(a, o);
        add_time(o, "at", e->at_ms);
        cJSON_AddStringToObject(o, "channel", e->channel ? e->channel : "?");
        cJSON_AddStringToObject(o, "kind", e->kind ? e->kind : "?");
        cJSON_AddBoolToObject(o, "ok", e->ok);
        cJSON_AddNumberToObject(o, "status", (double)e->http_status);
        cJSON_AddNumberToObject(o, "attempts", e->attempts);
        cJSON_AddStringToObject(o, "detail", e->detail);
    }
    return a;
}

cJSON *srv_status_admin_json(const srv_status *st, const srv_status_view *v,
                             int64_t down_after_ms, uint64_t active,
                             const srv_status_deliveries *d, int64_t now_wall)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *m = monitor_json(v, down_after_ms, active);
    cJSON *h = history_json(st);
    cJSON *alerts = cJSON_CreateObject();
    cJSON *recent = deliveries_json(d);
    if (!o || !m || !h || !alerts || !recent) {
        cJSON_Delete(o);
        cJSON_Delete(m);
        cJSON_Delete(h);
        cJSON_Delete(alerts);
        cJSON_Delete(recent);
        return NULL;
    }
    cJSON_AddNumberToObject(o, "now_ms", (double)now_wall);
    cJSON_AddItemToObject(o, "monitor", m);
    cJSON_AddItemToObject(o, "history", h);
    cJSON_AddItemToObject(alerts, "recent", recent);
    cJSON_AddItemToObject(o, "alerts", alerts);
    return o;
}
