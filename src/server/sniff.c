/* Request sniffing; see sniff.h. */
#include "server/sniff.h"

#include <string.h>

srv_sniff srv_sniff_request(const char *buf, size_t n)
{
    static const char want[] = "GET /ws";
    size_t wlen = sizeof(want) - 1;
    size_t k = n < wlen ? n : wlen;
    if (memcmp(buf, want, k))
        return SRV_SNIFF_OTHER;
    if (n <= wlen)
        return SRV_SNIFF_MORE;
    char c = buf[wlen];
    return c == '?' || c == ' ' || c == '/' ? SRV_SNIFF_WS : SRV_SNIFF_OTHER;
}
