/* The admin fault body (src/server/fault.c): POST /api/v1/admin/fault.
 * Input: the request body; its first bytes also give a time for the state.
 * Properties: a parsed request has a known mode and every number in its
 * documented range (delay_pongs with a delay); a refusal says why; the
 * state made from it expires when and only when its duration says, and
 * Retry-After is at least one second. */
#include "fuzz.h"
#include "server/fault.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *body = fuzz_dup(data, size);
    srv_fault_request req;
    char err[128];
    err[0] = '\0';
    int rc = srv_fault_parse(body, size, &req, err, sizeof(err));
    free(body);
    FUZZ_CHECK(rc == 0 || rc == -1);
    if (rc) {
        FUZZ_CHECK(err[0] != '\0' && memchr(err, '\0', sizeof(err)));
        return 0;
    }
    FUZZ_CHECK(req.mode >= SRV_FAULT_NONE && req.mode < SRV_FAULT_MODE_COUNT);
    srv_fault_mode back;
    FUZZ_CHECK(!srv_fault_mode_from_name(srv_fault_mode_name(req.mode), &back) &&
               back == req.mode);
    FUZZ_CHECK(req.duration_ms >= 0 && req.duration_ms <= 86400000);
    FUZZ_CHECK(req.delay_ms >= 0 && req.delay_ms <= 600000);
    FUZZ_CHECK(req.retry_after_s >= 0 && req.retry_after_s <= 86400);
    if (req.mode == SRV_FAULT_DELAY_PONGS)
        FUZZ_CHECK(req.delay_ms >= 1);

    /* a monotonic clock in ms: anything from boot to a century */
    fuzz_in in = fuzz_input(data, size);
    int64_t now = (int64_t)(fuzz_take_u64(&in, 6) % 3155760000000ull);
    srv_fault_state st;
    srv_fault_apply(&st, &req, now);
    srv_fault_mode want = req.mode == SRV_FAULT_CLOSE_ALL ? SRV_FAULT_NONE : req.mode;
    FUZZ_CHECK(st.mode == want && st.since_ms == now);
    FUZZ_CHECK(srv_fault_retry_after_s(&st, now) >= 1);
    if (st.retry_after_s)
        FUZZ_CHECK(srv_fault_retry_after_s(&st, now) == st.retry_after_s);

    srv_fault_mode ended = SRV_FAULT_MODE_COUNT;
    bool lasts = want != SRV_FAULT_NONE && req.duration_ms;
    if (lasts) {
        FUZZ_CHECK(!srv_fault_expire(&st, now + req.duration_ms - 1, &ended));
        FUZZ_CHECK(srv_fault_retry_after_s(&st, now + req.duration_ms - 1) >= 1);
    }
    bool expired = srv_fault_expire(&st, now + req.duration_ms, &ended);
    FUZZ_CHECK(expired == lasts);
    if (expired)
        FUZZ_CHECK(ended == want && st.mode == SRV_FAULT_NONE);
    return 0;
}
