/* The HTTP API's handlers; see api.h. */
#include "server/api.h"

#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "lifeline/lifeline.h"
#include "server/clock.h"
#include "server/cluster_users.h"
#include "server/isotime.h"
#include "server/metrics.h"
#include "server/names.h"
#include "server/page.h"
#include "server/protocol.h"
#include "server/status.h"

char *srv_api_error_body(const char *message)
{
    cJSON *o = cJSON_CreateObject();
    char *text = NULL;
    if (o && cJSON_AddStringToObject(o, "error", message))
        text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

static int error(srv_api_response *r, int status, const char *message)
{
    r->status = status;
    r->body = srv_api_error_body(message);
    return 0;
}

/* Answers with o (taken), or 500 if it could not be built. */
static int reply(srv_api_response *r, int status, cJSON *o)
{
    r->body = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (!r->body)
        return error(r, 500, "out of memory");
    r->status = status;
    return 0;
}

static void add_count(const char *key, void *value, void *ctx)
{
    cJSON_AddNumberToObject(ctx, key, (double)(uintptr_t)value);
}

/* With --redis: which instance answers, Redis's state, and the cluster's
 * connections as the instances' presence records said at read_at (with
 * the stores when stores is true). NULL when this instance is alone. */
static cJSON *cluster(const srv_server *s, bool stores)
{
    if (!s->cluster)
        return NULL;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    int64_t at = 0;
    const srv_cluster_view *v = srv_cluster_get_view(s->cluster, &at);
    cJSON_AddStringToObject(o, "instance", srv_cluster_id(s->cluster));
    cJSON_AddStringToObject(o, "redis", srv_cluster_state(s->cluster));
    cJSON_AddNumberToObject(o, "instances", (double)v->instances);
    cJSON_AddNumberToObject(o, "connections", (double)v->connections);
    if (at) {
        char ts[SRV_ISO_LEN];
        cJSON_AddStringToObject(o, "read_at", srv_iso8601(at, ts, sizeof(ts)));
    } else {
        cJSON_AddNullToObject(o, "read_at");
    }
    if (stores) {
        cJSON *st = cJSON_CreateObject();
        if (st)
            srv_map_each(&v->stores, add_count, st);
        cJSON_AddItemToObject(o, "stores", st);
        const srv_cluster_stats *cs = srv_cluster_get_stats(s->cluster);
        cJSON_AddNumberToObject(o, "published", (double)cs->published);
        cJSON_AddNumberToObject(o, "received", (double)cs->received);
        cJSON_AddNumberToObject(o, "dropped", (double)cs->dropped);
        cJSON_AddNumberToObject(o, "errors", (double)cs->errors);
        cJSON_AddNumberToObject(o, "reconnects", (double)cs->reconnects);
    }
    return o;
}

static int health(srv_server *s, srv_api_response *r)
{
    char ts[SRV_ISO_LEN];
    cJSON *o = cJSON_CreateObject();
    if (o) {
        cJSON_AddBoolToObject(o, "online", 1);
        cJSON_AddBoolToObject(o, "draining", s->draining);
        cJSON_AddNumberToObject(o, "active_connections", (double)s->reg.stats.active);
        cJSON_AddNumberToObject(o, "sessions", (double)s->dlv.stats.sessions);
        cJSON_AddStringToObject(o, "timestamp", srv_iso8601(srv_clock_wall_ms(), ts, sizeof(ts)));
        cJSON *c = cluster(s, false);
        if (c)
            cJSON_AddItemToObject(o, "cluster", c);
    }
    return reply(r, 200, o);
}

static void add_store(const char *key, void *value, void *ctx)
{
    const srv_store *st = value;
    cJSON_AddNumberToObject(ctx, key, (double)st->count);
}

/* lifeline.v1's figures (delivery.h's srv_dlv_stats). */
static cJSON *delivery(const srv_dlv_stats *d)
{
    cJSON *o = cJSON_CreateObject();
    if (o) {
        cJSON_AddNumberToObject(o, "sessions", (double)d->sessions);
        cJSON_AddNumberToObject(o, "accepted", (double)d->accepted);
        cJSON_AddNumberToObject(o, "acknowledged", (double)d->acknowledged);
        cJSON_AddNumberToObject(o, "duplicates_dropped", (double)d->duplicates);
        cJSON_AddNumberToObject(o, "skipped", (double)d->skipped);
        cJSON_AddNumberToObject(o, "replayed", (double)d->replayed);
        cJSON_AddNumberToObject(o, "resumes_recovered", (double)d->resumes_recovered);
        cJSON_AddNumberToObject(o, "resumes_not_recovered", (double)d->resumes_not_recovered);
        cJSON_AddNumberToObject(o, "protocol_errors", (double)d->protocol_errors);
        cJSON_AddNumberToObject(o, "sessions_evicted", (double)d->evicted);
    }
    return o;
}

static int stats(srv_server *s, srv_api_response *r)
{
    int64_t now = srv_clock_mono_ms();
    const srv_stats *st = &s->reg.stats;
    cJSON *o = cJSON_CreateObject();
    cJSON *stores = cJSON_CreateObject();
    if (o && stores) {
        srv_map_each(&s->reg.stores, add_store, stores);
        cJSON_AddBoolToObject(o, "online", 1);
        cJSON_AddNumberToObject(o, "total_connections", (double)st->total);
        cJSON_AddNumberToObject(o, "active_connections", (double)st->active);
        cJSON_AddNumberToObject(o, "refused_no_descriptors",
                                (double)s->listener.nofd.refused);
        cJSON_AddItemToObject(o, "stores", stores);
        stores = NULL;
        cJSON_AddNumberToObject(o, "average_connection_ms", srv_stats_average_ms(st, now));
        cJSON_AddNumberToObject(o, "messages_in", (double)st->messages_in);
        cJSON_AddNumberToObject(o, "messages_out", (double)st->messages_out);
        cJSON_AddNumberToObject(o, "uptime_ms", (double)(now - s->started_mono));
        cJSON_AddStringToObject(o, "fault", srv_fault_mode_name(s->fault.mode));
        cJSON_AddItemToObject(o, "delivery", delivery(&s->dlv.stats));
        cJSON *c = cluster(s, true);
        if (c)
            cJSON_AddItemToObject(o, "cluster", c);
    }
    cJSON_Delete(stores);
    return reply(r, 200, o);
}

/* The stores being gathered for the metrics. */
typedef struct store_list {
    srv_metrics_store *v;
    size_t n, cap;
} store_list;

static void list_store(const char *key, void *value, void *ctx)
{
    (void)key;
    const srv_store *st = value;
    store_list *l = ctx;
    if (l->n < l->cap)
        l->v[l->n++] = (srv_metrics_store){st->name, st->count};
}

_Static_assert(SRV_METRICS_CHANNELS == SRV_ALERT_CHANNELS, "the same alert channels");

/* GET /metrics: the figures as Prometheus text (metrics.c). */
static int metrics(srv_server *s, srv_api_response *r)
{
    const srv_stats *st = &s->reg.stats;
    int64_t mono = srv_clock_mono_ms();
    srv_metrics m = {
        .version = LIFELINE_VERSION_STRING,
        .start_time_ms = srv_clock_wall_ms() - (mono - s->started_mono),
        .connections_open = st->active,
        .connections_accepted = st->total,
        .refused_no_descriptors = s->listener.nofd.refused,
        .max_stores = (size_t)s->opt.metrics_max_stores,
        .messages_in = st->messages_in,
        .messages_out = st->messages_out,
        .bytes_in = st->bytes_in,
        .bytes_out = st->bytes_out,
        .deliveries = st->deliveries,
        .rate_limited = st->rate_limited,
        .rate_limit_pauses = st->rate_limit_pauses,
        .fault_mode = s->fault.mode,
        .db_errors = srv_db_error_count(s->db),
        .v1 = s->dlv.stats,
    };
    memcpy(m.connections_closed, st->closed, sizeof(m.connections_closed));
    if (s->cluster) {
        const srv_cluster_stats *cs = srv_cluster_get_stats(s->cluster);
        m.cluster = true;
        m.redis_up = !strcmp(srv_cluster_state(s->cluster), "up");
        m.cluster_published = cs->published;
        m.cluster_received = cs->received;
        m.cluster_dropped = cs->dropped;
        m.redis_errors = cs->errors;
        m.redis_reconnects = cs->reconnects;
    }
    srv_alerts_counts(&s->alerts, m.alerts_sent, m.alerts_failed);
    store_list l = {.cap = s->reg.stores.count};
    l.v = l.cap ? malloc(l.cap * sizeof(*l.v)) : NULL;
    if (l.cap && !l.v)
        return error(r, 500, "out of memory");
    srv_map_each(&s->reg.stores, list_store, &l);
    m.stores = l.v;
    m.store_count = l.n;
    size_t len = srv_metrics_render(&m, NULL, 0);
    char *text = cJSON_malloc(len + 1); /* freed with the other bodies, by cJSON_free */
    if (text)
        srv_metrics_render(&m, text, len + 1);
    free(l.v);
    if (!text)
        return error(r, 500, "out of memory");
    r->status = 200;
    r->body = text;
    r->ctype = SRV_METRICS_CONTENT_TYPE;
    return 0;
}

/* A user's figure on this instance: the registry's (connected, or not yet
 * written) or the database's. Returns 1, 0 (unknown here) or -1 (database
 * error). */
static int local_user(srv_server *s, const char *name, srv_user_seen *out)
{
    const srv_user *u = srv_registry_user(&s->reg, name);
    if (u) {
        snprintf(out->store, sizeof(out->store), "%s", u->store);
        out->last_active_ms = u->last_active_ms;
        return 1;
    }
    return srv_db_get_user(s->db, name, out->store, sizeof(out->store), &out->last_active_ms);
}

/* The answer about user: the newer of this instance's figure and Redis's
 * (redis_found 1, with redis; 0: Redis has none; -1: Redis did not answer).
 * With --redis it says where it comes from: "cluster" when Redis answered,
 * "local" when only this instance's data could be read. */
static int user_answer(srv_server *s, const char *name, int redis_found,
                       const srv_user_seen *redis, srv_api_response *r)
{
    srv_user_seen here;
    int found = local_user(s, name, &here);
    const srv_user_seen *best =
        srv_users_newest(found == 1 ? &here : NULL, redis_found == 1 ? redis : NULL);
    const char *source = !s->cluster ? NULL : redis_found >= 0 ? "cluster" : "local";
    if (!best && found < 0)
        return error(r, 500, "database error");
    char ts[SRV_ISO_LEN];
    cJSON *o = cJSON_CreateObject();
    if (o && best) {
        cJSON_AddStringToObject(o, "user", name);
        cJSON_AddStringToObject(o, "store", best->store);
        cJSON_AddStringToObject(o, "last_active_at",
                                srv_iso8601(best->last_active_ms, ts, sizeof(ts)));
    } else if (o) {
        cJSON_AddStringToObject(o, "error", "no such user");
    }
    if (o && source)
        cJSON_AddStringToObject(o, "source", source);
    return reply(r, best ? 200 : 404, o);
}

struct srv_api_later {
    srv_server *s;
    srv_user_lookup *lookup;
    srv_api_later_fn *fn;
    void *ctx;
    char user[SRV_NAME_MAX + 1];
};

/* Redis's answer about l->user: the answer goes out through l->fn. */
static void user_got(int found, const srv_user_seen *seen, void *priv)
{
    srv_api_later *l = priv;
    srv_api_response resp;
    memset(&resp, 0, sizeof(resp));
    user_answer(l->s, l->user, found, seen, &resp);
    srv_api_later_fn *fn = l->fn;
    void *ctx = l->ctx;
    free(l);
    fn(&resp, ctx);
}

/* With --redis (and a caller that can wait), the answer waits for Redis's
 * figure; else, or when Redis cannot be asked, it is this instance's. */
static int user(srv_server *s, const srv_api_request *req, srv_api_response *r)
{
    if (s->cluster && req->later) {
        srv_api_later *l = calloc(1, sizeof(*l));
        if (l) {
            l->s = s;
            l->fn = req->later;
            l->ctx = req->later_ctx;
            snprintf(l->user, sizeof(l->user), "%s", req->param);
            l->lookup = srv_cluster_users_lookup(s->cluster, req->param, user_got, l);
            if (l->lookup) {
                r->deferred = l;
                return 0;
            }
            free(l);
        }
    }
    return user_answer(s, req->param, -1, NULL, r);
}

void srv_api_later_cancel(srv_api_later *l)
{
    if (!l)
        return;
    srv_cluster_users_cancel(l->lookup);
    free(l);
}

void srv_api_later_give_up(srv_api_later *l, srv_api_response *resp)
{
    memset(resp, 0, sizeof(*resp));
    user_answer(l->s, l->user, -1, NULL, resp);
    srv_api_later_cancel(l);
}

static int store_broadcast(srv_server *s, const srv_api_request *req, srv_api_response *r)
{
    cJSON *body = srv_json_parse_whole(req->body, req->body_len);
    if (!body)
        return error(r, 400, "the body must be JSON");
    char *data = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    if (!data)
        return error(r, 500, "out of memory");
    srv_msg *m = srv_msg_from_text(srv_proto_broadcast(req->param, "server", data));
    cJSON_free(data);
    if (!m)
        return error(r, 500, "out of memory");
    size_t n = srv_store_send(s, req->param, NULL, m);
    s->reg.stats.deliveries += n;
    srv_msg_unref(m);
    cJSON *o = cJSON_CreateObject();
    if (o)
        cJSON_AddNumberToObject(o, "delivered", (double)n);
    return reply(r, 200, o);
}

static void fault_state(srv_server *s, cJSON *o)
{
    int64_t now = srv_clock_mono_ms();
    cJSON_AddStringToObject(o, "mode", srv_fault_mode_name(s->fault.mode));
    if (s->fault.until_ms)
        cJSON_AddNumberToObject(o, "remaining_ms", (double)(s->fault.until_ms - now));
    else
        cJSON_AddNullToObject(o, "remaining_ms");
    if (s->fault.mode == SRV_FAULT_DELAY_PONGS)
        cJSON_AddNumberToObject(o, "delay_ms", (double)s->fault.delay_ms);
}

static int fault_set(srv_server *s, const srv_api_request *req, srv_api_response *r)
{
    srv_fault_request fr;
    char err[128];
    if (srv_fault_parse(req->body, req->body_len, &fr, err, sizeof(err)))
        return error(r, 400, err);
    size_t closed = srv_server_set_fault(s, &fr);
    cJSON *o = cJSON_CreateObject();
    if (o) {
        fault_state(s, o);
        if (fr.mode == SRV_FAULT_CLOSE_ALL)
            cJSON_AddNumberToObject(o, "closed", (double)closed);
    }
    return reply(r, 200, o);
}

static int fault_get(srv_server *s, srv_api_response *r)
{
    cJSON *o = cJSON_CreateObject();
    if (o)
        fault_state(s, o);
    return reply(r, 200, o);
}

/* A file of the status page, or 304 when the client's copy is current. */
static int page(const srv_api_request *req, srv_api_response *r)
{
    const srv_asset *a = srv_page_asset(req->param);
    if (!a)
        return error(r, 404, "not found");
    r->ctype = a->ctype;
    r->headers = SRV_PAGE_HEADERS;
    r->etag = a->etag;
    if (srv_page_not_modified(req->if_none_match, a->etag)) {
        r->status = 304;
        return 0;
    }
    r->status = 200;
    r->sbody = a->data;
    r->slen = a->len;
    return 0;
}

/* GET /api/v1/websockets/history: the connections sampled once a second. */
static int history(srv_server *s, srv_api_response *r)
{
    return reply(r, 200, srv_status_history_json(&s->status, srv_clock_wall_ms()));
}

static const char *const channel_names[SRV_ALERT_CHANNELS] = {"discord", "email"};

/* The alert channels: which are on, and their counts. */
static void alert_figures(srv_server *s, cJSON *alerts)
{
    uint64_t sent[SRV_ALERT_CHANNELS], failed[SRV_ALERT_CHANNELS];
    srv_alerts_counts(&s->alerts, sent, failed);
    bool on[SRV_ALERT_CHANNELS] = {s->alerts.discord != 0, s->alerts.email != 0};
    cJSON *ch = cJSON_AddObjectToObject(alerts, "channels");
    cJSON *so = cJSON_AddObjectToObject(alerts, "sent");
    cJSON *fo = cJSON_AddObjectToObject(alerts, "failed");
    for (int c = 0; c < SRV_ALERT_CHANNELS; c++) {
        cJSON_AddBoolToObject(ch, channel_names[c], on[c]);
        cJSON_AddNumberToObject(so, channel_names[c], (double)sent[c]);
        cJSON_AddNumberToObject(fo, channel_names[c], (double)failed[c]);
    }
}

static void fault_state(srv_server *s, cJSON *o);

/* GET /api/v1/admin/status: what the status page shows to admins. */
static int admin_status(srv_server *s, srv_api_response *r)
{
    int64_t mono = srv_clock_mono_ms(), wall = srv_clock_wall_ms();
    srv_status_view v = srv_status_monitor_view(&s->monitor, mono, wall);
    srv_status_deliveries *d = malloc(sizeof(*d));
    if (!d)
        return error(r, 500, "out of memory");
    srv_alerts_recent(&s->alerts, d);
    cJSON *o = srv_status_admin_json(&s->status, &v, s->opt.down_after_ms, s->reg.stats.active,
                                     d, wall);
    free(d);
    if (o) {
        cJSON *f = cJSON_AddObjectToObject(o, "fault");
        if (f)
            fault_state(s, f);
        alert_figures(s, cJSON_GetObjectItem(o, "alerts"));
    }
    return reply(r, 200, o);
}

static int dispatch(srv_server *s, const srv_api_request *req, srv_api_response *resp)
{
    switch (req->route.id) {
    case SRV_ROUTE_HEALTH:
        return health(s, resp);
    case SRV_ROUTE_STATS:
        return stats(s, resp);
    case SRV_ROUTE_USER:
        if (!srv_name_valid(req->param, strlen(req->param)))
            return error(resp, 404, "no such user");
        return user(s, req, resp);
    case SRV_ROUTE_STORE_BROADCAST:
        if (!srv_name_valid(req->param, strlen(req->param)))
            return error(resp, 404, "no such store");
        return store_broadcast(s, req, resp);
    case SRV_ROUTE_FAULT_SET:
        return fault_set(s, req, resp);
    case SRV_ROUTE_FAULT_GET:
        return fault_get(s, resp);
    case SRV_ROUTE_METRICS:
        return metrics(s, resp);
    case SRV_ROUTE_PAGE:
        return page(req, resp);
    case SRV_ROUTE_HISTORY:
        return history(s, resp);
    case SRV_ROUTE_ADMIN_STATUS:
        return admin_status(s, resp);
    case SRV_ROUTE_WS_PLAIN:
        resp->hname = "Upgrade";
        snprintf(resp->hvalue, sizeof(resp->hvalue), "websocket");
        return error(resp, 426, "use a WebSocket upgrade");
    case SRV_ROUTE_BAD_METHOD:
        resp->hname = "Allow";
        snprintf(resp->hvalue, sizeof(resp->hvalue), "%s", req->route.allow);
        return error(resp, 405, "method not allowed");
    case SRV_ROUTE_NOT_FOUND:
        break;
    }
    return error(resp, 404, "not found");
}

void srv_api_handle(srv_server *s, const srv_api_request *req, srv_api_response *resp)
{
    memset(resp, 0, sizeof(*resp));
    dispatch(s, req, resp);
}
