/* The server's counters for /api/v1/websockets/stats and /metrics:
 * connections since start, open now, messages in and out, and the mean
 * connection length over closed and open connections alike. Pure: times
 * are parameters. The adapters add to the plain counters directly (one
 * thread). */
#ifndef SRV_STATS_H
#define SRV_STATS_H

#include <stdint.h>

#include "server/connlog.h"

typedef struct srv_stats {
    uint64_t total;          /* WebSocket connections since start */
    uint64_t active;         /* open now */
    uint64_t messages_in;    /* complete data messages received */
    uint64_t messages_out;   /* data messages written */
    uint64_t bytes_in;       /* the payload bytes of those received */
    uint64_t bytes_out;      /* and of those written */
    uint64_t deliveries;     /* broadcast copies queued for a store's members */
    uint64_t rate_limited;   /* messages dropped over --rate-limit */
    uint64_t rate_limit_pauses; /* lifeline.v1 connections' reading paused by --rate-limit */
    uint64_t closed[SRV_CLOSE_CAUSE_COUNT]; /* connections ended, by srv_close_cause */
    int64_t closed_ms_sum;   /* summed lengths of closed connections */
    int64_t open_start_sum;  /* summed start times of open connections */
} srv_stats;

void srv_stats_opened(srv_stats *s, int64_t now);

/* A connection opened at opened_at closes at now. */
void srv_stats_closed(srv_stats *s, int64_t opened_at, int64_t now);

/* Mean length in ms over every connection so far (open ones count up to
 * now); 0 before the first. */
double srv_stats_average_ms(const srv_stats *s, int64_t now);

#endif
