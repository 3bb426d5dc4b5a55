/* GET /metrics: the server's figures in the Prometheus text exposition
 * format, version 0.0.4. Pure: the caller gathers the figures (api.c) into
 * an srv_metrics; this module only writes the text, into a buffer. */
#ifndef SRV_METRICS_H
#define SRV_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/connlog.h"
#include "server/delivery.h"
#include "server/fault.h"

/* The answer's Content-Type. */
#define SRV_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Stores shown by name (the ones with the most connections), by default:
 * --metrics-max-stores. The others are summed in one series of their own,
 * so that a server with many stores does not make as many series. */
#define SRV_METRICS_DEFAULT_MAX_STORES 100
#define SRV_METRICS_MAX_STORES_MAX 100000

/* Alert channels, by ll_channel (src/notify/notifier.h): discord, email. */
#define SRV_METRICS_CHANNELS 2

/* One store and its open connections. */
typedef struct srv_metrics_store {
    const char *name;
    uint64_t connections;
} srv_metrics_store;

/* The figures, as of one moment. Counters count since the server started. */
typedef struct srv_metrics {
    const char *version;            /* the build's version (build_info's label) */
    int64_t start_time_ms;          /* when the server started, unix ms */
    uint64_t connections_open;      /* WebSocket connections open now */
    uint64_t connections_accepted;  /* WebSocket connections upgraded */
    uint64_t connections_closed[SRV_CLOSE_CAUSE_COUNT]; /* ended, by srv_close_cause */
    uint64_t refused_no_descriptors; /* TCP connections closed at accept: out of descriptors */
    srv_metrics_store *stores;      /* every store with open connections; sorted in place */
    size_t store_count;
    size_t max_stores;              /* at most this many are named */
    uint64_t messages_in, messages_out; /* WebSocket application messages */
    uint64_t bytes_in, bytes_out;       /* their payload bytes */
    uint64_t deliveries;            /* broadcast copies queued for a store's members */
    uint64_t rate_limited;          /* messages dropped over --rate-limit */
    uint64_t rate_limit_pauses;     /* lifeline.v1 connections' reading paused by it */
    srv_fault_mode fault_mode;      /* the mode in force */
    uint64_t db_errors;             /* failed SQLite calls */
    uint64_t alerts_sent[SRV_METRICS_CHANNELS];   /* delivered, by channel */
    uint64_t alerts_failed[SRV_METRICS_CHANNELS]; /* given up or never queued */
    srv_dlv_stats v1;               /* lifeline.v1's figures */
    /* --redis (cluster.h): shown only when cluster is true */
    bool cluster;
    bool redis_up;                  /* both connections to Redis are up */
    uint64_t cluster_published;     /* frames sent to Redis */
    uint64_t cluster_received;      /* frames of other instances delivered here */
    uint64_t cluster_dropped;       /* frames not sent: Redis down, or too many waiting */
    uint64_t redis_errors;          /* failed Redis connections and commands */
    uint64_t redis_reconnects;      /* connections made again after a loss */
} srv_metrics;

/* Writes m as Prometheus text (0.0.4) into out, at most cap bytes with the
 * terminating NUL (cut short when it does not fit; nothing is written when
 * cap is 0). Every metric has its # HELP and # TYPE lines; names begin
 * "lifeline_server_", counters end "_total". Sorts m->stores: most
 * connections first, ties by name; the first m->max_stores of them get a
 * series each, the rest are summed. Label values are escaped (\\, \", \n).
 * Returns the length of the whole text, without the NUL (as snprintf). */
size_t srv_metrics_render(srv_metrics *m, char *out, size_t cap);

#endif
