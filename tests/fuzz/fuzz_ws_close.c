/* A received WebSocket close frame's payload (src/proto/ws_close.c): a
 * two-byte code and a UTF-8 reason, from the peer. Input: the payload.
 * Properties: the verdict is exactly RFC 6455's rule as ws_close.h states
 * it (empty: 1005; 1 byte, over 125 bytes or a code that may not be sent:
 * 1002; a reason that is not UTF-8: 1007), with the reason judged by the
 * table 3-7 reference; the code is reported in every case. */
#include "fuzz.h"
#include "proto/ws_close.h"

static bool code_may_be_sent(int c)
{
    return (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *p = (uint8_t *)fuzz_dup(data, size);
    int code = -1;
    int rc = ll_ws_close_check(p, size, &code);
    int want_code = size >= 2 ? p[0] << 8 | p[1] : size == 0 ? 1005 : 0;
    int want = size == 0                                    ? 0
               : size == 1 || size > 125 || !code_may_be_sent(want_code) ? 1002
               : fuzz_utf8_strict(p + 2, size - 2)          ? 0
                                                            : 1007;
    FUZZ_CHECK(rc == want);
    FUZZ_CHECK(code == want_code);
    FUZZ_CHECK(ll_ws_close_check(p, size, NULL) == rc);
    FUZZ_CHECK(!!ll_ws_close_code_valid(want_code) == code_may_be_sent(want_code));
    /* every code a peer could write, and around */
    for (int c = want_code - 2; c <= want_code + 2; c++)
        FUZZ_CHECK(!!ll_ws_close_code_valid(c) == code_may_be_sent(c));
    free(p);
    return 0;
}
