/* Out-of-descriptor episodes; see nofd.h. */
#include "server/nofd.h"

#include <string.h>

void srv_nofd_init(srv_nofd *n)
{
    memset(n, 0, sizeof(*n));
}

srv_nofd_report srv_nofd_failed(srv_nofd *n, int64_t now, uint64_t count)
{
    srv_nofd_report r = {SRV_NOFD_QUIET, 0, 0};
    n->refused += count;
    if (!n->on) {
        n->on = true;
        n->began_ms = n->line_ms = now;
        n->episode = count;
        n->since_line = 0; /* the first line says it began, and counts from there */
        r.line = SRV_NOFD_BEGAN;
        r.refused = count;
        return r;
    }
    n->episode += count;
    n->since_line += count;
    if (now - n->line_ms >= SRV_NOFD_LINE_EVERY_MS && n->since_line) {
        r.line = SRV_NOFD_GOES_ON;
        r.refused = n->since_line;
        r.over_ms = now - n->line_ms;
        n->line_ms = now;
        n->since_line = 0;
    }
    return r;
}

srv_nofd_report srv_nofd_accepted(srv_nofd *n, int64_t now)
{
    srv_nofd_report r = {SRV_NOFD_QUIET, 0, 0};
    if (!n->on)
        return r;
    r.line = SRV_NOFD_ENDED;
    r.refused = n->episode;
    r.over_ms = now - n->began_ms;
    n->on = false;
    n->episode = n->since_line = 0;
    return r;
}
