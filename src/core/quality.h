/* The connection quality grade. Two measures, the worse one wins:
 *  - silence: time since the last proof of life (a pong). Under
 *    max(30 s, ping_interval) excellent, under max(60 s, 2 * ping_interval)
 *    good, otherwise poor.
 *  - smoothed RTT: below rtt_good_ms excellent, below rtt_poor_ms good,
 *    otherwise poor.
 * No sample yet gives LIFELINE_QUALITY_UNKNOWN. */
#ifndef LL_CORE_QUALITY_H
#define LL_CORE_QUALITY_H

#include <stdint.h>

typedef struct ll_quality_limits {
    int64_t silence_excellent_ms;
    int64_t silence_good_ms;
    int64_t rtt_good_ms;
    int64_t rtt_poor_ms;
} ll_quality_limits;

void ll_quality_limits_init(ll_quality_limits *q, int64_t ping_interval_ms,
                            int64_t rtt_good_ms, int64_t rtt_poor_ms);

/* lifeline_quality for a silence and smoothed RTT; have_sample = 0 gives
 * LIFELINE_QUALITY_UNKNOWN. */
int ll_quality_grade(const ll_quality_limits *q, int have_sample,
                     int64_t silence_ms, double srtt_ms);

#endif
