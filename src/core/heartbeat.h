/* Round-trip statistics from matched pongs: last, smoothed (EWMA 1/8 as TCP
 * does, RFC 6298), variation (1/4), min and max. */
#ifndef LL_CORE_HEARTBEAT_H
#define LL_CORE_HEARTBEAT_H

#include <stdint.h>

typedef struct ll_rtt_stats {
    uint64_t samples;   /* pongs matched to their ping */
    uint64_t timeouts;  /* pings that got no pong within the timeout */
    int64_t last_ms;
    double srtt_ms;
    double rttvar_ms;
    int64_t min_ms;
    int64_t max_ms;
} ll_rtt_stats;

void ll_rtt_reset(ll_rtt_stats *s);
void ll_rtt_add(ll_rtt_stats *s, int64_t rtt_ms);

#endif
