/* The Prometheus text of the server's figures; see metrics.h. */
#include "server/metrics.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A text being written: what does not fit is counted, not written. */
typedef struct out {
    char *p;
    size_t room; /* bytes for text: the buffer less its NUL */
    size_t len;  /* the whole text's length so far */
} out;

static void put(out *o, const char *s, size_t n)
{
    if (o->len < o->room) {
        size_t left = o->room - o->len;
        memcpy(o->p + o->len, s, n < left ? n : left);
    }
    o->len += n;
}

static void puts_(out *o, const char *s)
{
    put(o, s, strlen(s));
}

static void put_u64(out *o, uint64_t v)
{
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%" PRIu64, v);
    put(o, buf, (size_t)n);
}

/* A label value: backslash, double quote and newline escaped, as the
 * format asks. */
static void put_label_value(out *o, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            put(o, "\\\\", 2);
        else if (*s == '"')
            put(o, "\\\"", 2);
        else if (*s == '\n')
            put(o, "\\n", 2);
        else
            put(o, s, 1);
    }
}

/* The # HELP and # TYPE lines of a metric (help: backslash and newline
 * escaped, as the format asks). */
static void family(out *o, const char *name, const char *type, const char *help)
{
    puts_(o, "# HELP ");
    puts_(o, name);
    put(o, " ", 1);
    for (const char *s = help; *s; s++) {
        if (*s == '\\')
            put(o, "\\\\", 2);
        else if (*s == '\n')
            put(o, "\\n", 2);
        else
            put(o, s, 1);
    }
    puts_(o, "\n# TYPE ");
    puts_(o, name);
    put(o, " ", 1);
    puts_(o, type);
    put(o, "\n", 1);
}

/* One sample: name{labels} value. labels: n pairs of name and value. */
static void sample(out *o, const char *name, uint64_t value, size_t n, const char *const *labels)
{
    puts_(o, name);
    for (size_t i = 0; i < n; i++) {
        put(o, i ? "," : "{", 1);
        puts_(o, labels[2 * i]);
        put(o, "=\"", 2);
        put_label_value(o, labels[2 * i + 1]);
        put(o, "\"", 1);
    }
    if (n)
        put(o, "}", 1);
    put(o, " ", 1);
    put_u64(o, value);
    put(o, "\n", 1);
}

/* A metric with one sample and no labels. */
static void single(out *o, const char *name, const char *type, const char *help, uint64_t value)
{
    family(o, name, type, help);
    sample(o, name, value, 0, NULL);
}

/* Most connections first; ties by name. */
static int by_size(const void *a, const void *b)
{
    const srv_metrics_store *x = a, *y = b;
    if (x->connections != y->connections)
        return x->connections > y->connections ? -1 : 1;
    return strcmp(x->name, y->name);
}

static void stores(out *o, srv_metrics *m)
{
    if (m->store_count > 1)
        qsort(m->stores, m->store_count, sizeof(m->stores[0]), by_size);
    size_t named = m->store_count < m->max_stores ? m->store_count : m->max_stores;
    uint64_t rest = 0;
    for (size_t i = named; i < m->store_count; i++)
        rest += m->stores[i].connections;
    single(o, "lifeline_server_stores", "gauge", "Stores with open WebSocket connections.",
           (uint64_t)m->store_count);
    family(o, "lifeline_server_store_connections", "gauge",
           "Open WebSocket connections of the stores with the most of them (at most "
           "--metrics-max-stores stores; the rest are in "
           "lifeline_server_store_connections_other).");
    for (size_t i = 0; i < named; i++) {
        const char *labels[] = {"store", m->stores[i].name};
        sample(o, "lifeline_server_store_connections", m->stores[i].connections, 1, labels);
    }
    single(o, "lifeline_server_store_connections_other", "gauge",
           "Open WebSocket connections of the stores not in lifeline_server_store_connections.",
           rest);
}

static void v1(out *o, const srv_dlv_stats *d)
{
    single(o, "lifeline_server_v1_sessions", "gauge", "lifeline.v1 sessions in memory.",
           d->sessions);
    single(o, "lifeline_server_v1_messages_accepted_total", "counter",
           "lifeline.v1 client messages accepted (handed to the application).", d->accepted);
    single(o, "lifeline_server_v1_messages_acknowledged_total", "counter",
           "lifeline.v1 client messages accepted and committed, so acknowledged.",
           d->acknowledged);
    single(o, "lifeline_server_v1_duplicates_total", "counter",
           "lifeline.v1 client messages dropped as already accepted.", d->duplicates);
    single(o, "lifeline_server_v1_skipped_total", "counter",
           "lifeline.v1 client numbers taken as received from skips.", d->skipped);
    single(o, "lifeline_server_v1_replayed_total", "counter",
           "lifeline.v1 server messages sent again on a resume.", d->replayed);
    family(o, "lifeline_server_v1_resumes_total", "counter",
           "lifeline.v1 hellos naming an epoch, by answer: recovered (r) or not (n).");
    const char *r[] = {"result", "recovered"}, *n[] = {"result", "not_recovered"};
    sample(o, "lifeline_server_v1_resumes_total", d->resumes_recovered, 1, r);
    sample(o, "lifeline_server_v1_resumes_total", d->resumes_not_recovered, 1, n);
    single(o, "lifeline_server_v1_protocol_errors_total", "counter",
           "lifeline.v1 connections closed for a protocol error.", d->protocol_errors);
    single(o, "lifeline_server_v1_sessions_evicted_total", "counter",
           "lifeline.v1 sessions dropped past --max-sessions.", d->evicted);
}

/* --redis: the cluster's figures (cluster.h's srv_cluster_stats). */
static void cluster(out *o, const srv_metrics *m)
{
    single(o, "lifeline_server_redis_up", "gauge",
           "1 while both connections to Redis (--redis) are up, else 0.", m->redis_up);
    single(o, "lifeline_server_redis_errors_total", "counter",
           "Failed Redis connections and commands.", m->redis_errors);
    single(o, "lifeline_server_redis_reconnects_total", "counter",
           "Connections to Redis made again after a loss.", m->redis_reconnects);
    single(o, "lifeline_server_cluster_frames_published_total", "counter",
           "Store messages sent to the other instances through Redis.", m->cluster_published);
    single(o, "lifeline_server_cluster_frames_received_total", "counter",
           "Store messages of other instances delivered here.", m->cluster_received);
    single(o, "lifeline_server_cluster_frames_dropped_total", "counter",
           "Store messages not sent to the other instances: Redis down, or too many waiting.",
           m->cluster_dropped);
}

size_t srv_metrics_render(srv_metrics *m, char *buf, size_t cap)
{
    out o = {.p = buf, .room = cap ? cap - 1 : 0, .len = 0};
    out *w = &o;

    family(w, "lifeline_server_build_info", "gauge", "The server's version, as a label; always 1.");
    const char *ver[] = {"version", m->version ? m->version : ""};
    sample(w, "lifeline_server_build_info", 1, 1, ver);
    family(w, "lifeline_server_start_time_seconds", "gauge",
           "When the server started, in seconds since the Unix epoch.");
    char start[48];
    int64_t t = m->start_time_ms > 0 ? m->start_time_ms : 0;
    int n = snprintf(start, sizeof(start), "%lld.%03lld\n", (long long)(t / 1000),
                     (long long)(t % 1000));
    puts_(w, "lifeline_server_start_time_seconds ");
    put(w, start, (size_t)n); /* at most 25 bytes */

    single(w, "lifeline_server_connections_open", "gauge", "WebSocket connections open now.",
           m->connections_open);
    single(w, "lifeline_server_connections_accepted_total", "counter",
           "WebSocket connections upgraded.", m->connections_accepted);
    family(w, "lifeline_server_connections_closed_total", "counter",
           "WebSocket connections ended, by the reason of their connection_closed line.");
    for (int c = 0; c < SRV_CLOSE_CAUSE_COUNT; c++) {
        const char *labels[] = {"reason", srv_close_cause_name((srv_close_cause)c)};
        sample(w, "lifeline_server_connections_closed_total", m->connections_closed[c], 1,
               labels);
    }
    single(w, "lifeline_server_connections_refused_no_descriptors_total", "counter",
           "TCP connections closed as soon as accepted, the server being out of file "
           "descriptors (accept: EMFILE, ENFILE).",
           m->refused_no_descriptors);
    stores(w, m);

    single(w, "lifeline_server_messages_received_total", "counter",
           "WebSocket application messages received (complete messages, not control frames).",
           m->messages_in);
    single(w, "lifeline_server_messages_sent_total", "counter",
           "WebSocket application messages written (one per recipient).", m->messages_out);
    single(w, "lifeline_server_received_bytes_total", "counter",
           "Payload bytes of the messages in lifeline_server_messages_received_total.",
           m->bytes_in);
    single(w, "lifeline_server_sent_bytes_total", "counter",
           "Payload bytes of the messages in lifeline_server_messages_sent_total.", m->bytes_out);
    single(w, "lifeline_server_deliveries_total", "counter",
           "Copies of broadcasts (a client's or the admin route's) queued for the other "
           "members of a store, lifeline.v1 sessions without a connection included.",
           m->deliveries);

    single(w, "lifeline_server_rate_limited_messages_total", "counter",
           "Messages of plain connections dropped over --rate-limit.", m->rate_limited);
    single(w, "lifeline_server_rate_limit_pauses_total", "counter",
           "Times a lifeline.v1 connection's reading was paused by --rate-limit.",
           m->rate_limit_pauses);

    family(w, "lifeline_server_fault_mode", "gauge",
           "The fault injection mode in force: 1 for it, 0 for the others.");
    for (int f = 0; f < SRV_FAULT_MODE_COUNT; f++) {
        const char *labels[] = {"mode", srv_fault_mode_name((srv_fault_mode)f)};
        sample(w, "lifeline_server_fault_mode", (int)m->fault_mode == f, 1, labels);
    }
    single(w, "lifeline_server_database_errors_total", "counter",
           "Failed SQLite calls (see the db_error log lines).",
           m->db_errors);

    family(w, "lifeline_server_alerts_total", "counter",
           "Status alerts, by channel and result: sent (delivered) or failed (given up, or "
           "never queued).");
    static const char *const channels[SRV_METRICS_CHANNELS] = {"discord", "email"};
    for (int c = 0; c < SRV_METRICS_CHANNELS; c++) {
        const char *sent[] = {"channel", channels[c], "result", "sent"};
        const char *failed[] = {"channel", channels[c], "result", "failed"};
        sample(w, "lifeline_server_alerts_total", m->alerts_sent[c], 2, sent);
        sample(w, "lifeline_server_alerts_total", m->alerts_failed[c], 2, failed);
    }
    v1(w, &m->v1);
    if (m->cluster)
        cluster(w, m);

    if (cap)
        buf[o.len < o.room ? o.len : o.room] = '\0';
    return o.len;
}
