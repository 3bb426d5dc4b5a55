/* The client's app-level pong (src/transport/pong.c), looked for in every
 * text message when app_ping is on. Input: the message.
 * Properties: only 10..256 bytes starting with '{' can be a pong; the
 * server's answer to the client's own ping (src/server/protocol.c) is
 * recognised with the same ts, for a ts taken from the input.
 * Factored out of transport/ws.c (app_pong) for this target. */
#include "fuzz.h"
#include "server/protocol.h"
#include "transport/pong.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    long long ts = 0;
    if (ll_app_pong_ts(data, size, &ts))
        FUZZ_CHECK(size >= 10 && size <= 256 && data[0] == '{');

    /* a ping as transport/ws.c writes it, answered as the server does */
    fuzz_in in = fuzz_input(data, size);
    /* ms of the monotonic clock; from 10^15 on (31000 years) cJSON writes
     * some numbers as 1e+15, which strtoll would read as 1 */
    long long sent = (long long)(fuzz_take_u64(&in, 8) % 1000000000000000ull);
    char ping[64];
    int n = snprintf(ping, sizeof(ping), "{\"type\":\"ping\",\"ts\":%lld}", sent);
    srv_proto_result r;
    FUZZ_CHECK(srv_proto_handle_text(ping, (size_t)n, &r) == 0 && r.kind == SRV_PROTO_REPLY);
    long long got = -1;
    FUZZ_CHECK(ll_app_pong_ts(r.reply, strlen(r.reply), &got) == 1 && got == sent);
    srv_proto_result_free(&r);
    return 0;
}
