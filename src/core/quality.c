/* Grading: see quality.h. */
#include "core/quality.h"

#include "lifeline/lifeline.h"

void ll_quality_limits_init(ll_quality_limits *q, int64_t ping_interval_ms,
                            int64_t rtt_good_ms, int64_t rtt_poor_ms)
{
    q->silence_excellent_ms = ping_interval_ms > 30000 ? ping_interval_ms : 30000;
    q->silence_good_ms = 2 * ping_interval_ms > 60000 ? 2 * ping_interval_ms : 60000;
    q->rtt_good_ms = rtt_good_ms;
    q->rtt_poor_ms = rtt_poor_ms;
}

int ll_quality_grade(const ll_quality_limits *q, int have_sample,
                     int64_t silence_ms, double srtt_ms)
{
    if (!have_sample)
        return LIFELINE_QUALITY_UNKNOWN;
    int by_silence = silence_ms < q->silence_excellent_ms ? LIFELINE_QUALITY_EXCELLENT
                   : silence_ms < q->silence_good_ms      ? LIFELINE_QUALITY_GOOD
                                                          : LIFELINE_QUALITY_POOR;
    int by_rtt = srtt_ms < (double)q->rtt_good_ms ? LIFELINE_QUALITY_EXCELLENT
               : srtt_ms < (double)q->rtt_poor_ms ? LIFELINE_QUALITY_GOOD
                                                  : LIFELINE_QUALITY_POOR;
    /* the enum orders grades from best to worst */
    return by_silence > by_rtt ? by_silence : by_rtt;
}
