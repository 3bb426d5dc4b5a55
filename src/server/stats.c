/* Connection counters; see stats.h. */
#include "server/stats.h"

void srv_stats_opened(srv_stats *s, int64_t now)
{
    s->total++;
    s->active++;
    s->open_start_sum += now;
}

void srv_stats_closed(srv_stats *s, int64_t opened_at, int64_t now)
{
    if (!s->active)
        return;
    s->active--;
    s->open_start_sum -= opened_at;
    s->closed_ms_sum += now - opened_at;
}

double srv_stats_average_ms(const srv_stats *s, int64_t now)
{
    if (!s->total)
        return 0.0;
    double open_ms = (double)s->active * (double)now - (double)s->open_start_sum;
    return ((double)s->closed_ms_sum + open_ms) / (double)s->total;
}
