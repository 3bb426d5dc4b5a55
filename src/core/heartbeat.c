/* RTT estimator: srtt += (rtt - srtt) / 8; rttvar += (|srtt - rtt| - rttvar) / 4,
 * the first sample setting srtt = rtt and rttvar = rtt / 2 (RFC 6298 2.2). */
#include "core/heartbeat.h"

#include <string.h>

void ll_rtt_reset(ll_rtt_stats *s)
{
    memset(s, 0, sizeof(*s));
}

void ll_rtt_add(ll_rtt_stats *s, int64_t rtt_ms)
{
    if (rtt_ms < 0)
        rtt_ms = 0;
    double r = (double)rtt_ms;
    if (s->samples == 0) {
        s->srtt_ms = r;
        s->rttvar_ms = r / 2.0;
        s->min_ms = s->max_ms = rtt_ms;
    } else {
        double err = s->srtt_ms - r;
        s->rttvar_ms += ((err < 0 ? -err : err) - s->rttvar_ms) / 4.0;
        s->srtt_ms += (r - s->srtt_ms) / 8.0;
        if (rtt_ms < s->min_ms)
            s->min_ms = rtt_ms;
        if (rtt_ms > s->max_ms)
            s->max_ms = rtt_ms;
    }
    s->last_ms = rtt_ms;
    s->samples++;
}
