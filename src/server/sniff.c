/* Request sniffing; see sniff.h. */
#include "server/sniff.h"

#include <string.h>

ll_sniff ll_sniff_request(const char *buf, size_t n)
{
    static const char want[] = "GET /ws";
    size_t wlen = sizeof(want) - 1;
    size_t k = n < wlen ? n : wlen;
    if (memcmp(buf, want, k))
        return LL_SNIFF_OTHER;
    if (n <= wlen)
        return LL_SNIFF_MORE;
    char c = buf[wlen];
    return c == '?' || c == ' ' || c == '/' ? LL_SNIFF_WS : LL_SNIFF_OTHER;
}
