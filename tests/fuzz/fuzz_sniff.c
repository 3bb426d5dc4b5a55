/* The handshake sniffer (src/server/sniff.c): the first bytes a client sent,
 * peeked at in blackhole mode. Input: those bytes.
 * Properties: the verdict for every prefix of the input agrees with the rule
 * in sniff.h, and once a prefix decides, longer ones decide the same. */
#include "fuzz.h"
#include "server/sniff.h"

static srv_sniff rule(const uint8_t *b, size_t n)
{
    static const char want[] = "GET /ws";
    for (size_t i = 0; i < n && i < 7; i++)
        if (b[i] != (uint8_t)want[i])
            return SRV_SNIFF_OTHER;
    if (n <= 7)
        return SRV_SNIFF_MORE;
    return b[7] == '?' || b[7] == ' ' || b[7] == '/' ? SRV_SNIFF_WS : SRV_SNIFF_OTHER;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    srv_sniff decided = SRV_SNIFF_MORE;
    for (size_t n = 0; n <= size && n <= 64; n++) {
        uint8_t *copy = malloc(n ? n : 1); /* exact size: no peeking past n */
        memcpy(copy, data, n);
        srv_sniff s = srv_sniff_request((const char *)copy, n);
        free(copy);
        FUZZ_CHECK(s == rule(data, n));
        if (decided != SRV_SNIFF_MORE)
            FUZZ_CHECK(s == decided);
        decided = s;
    }
    return 0;
}
