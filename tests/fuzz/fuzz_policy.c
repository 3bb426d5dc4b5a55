/* The alert notifier's reading of a webhook's answer (src/notify/policy.c):
 * Discord's 429 body {"retry_after": seconds} or the Retry-After header,
 * and the verdict that follows. Input: one byte picking the status, the
 * header line, '\n', the body.
 * Properties: the wait is -1 (no hint) or a number of ms that is at least
 * the seconds given; a verdict to retry never waits a negative time, and a
 * 429 never longer than max_wait_ms. */
#include <cJSON.h>
#include <math.h>

#include "fuzz.h"
#include "notify/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const long statuses[] = {200, 204, 400, 403, 404, 408, 429, 500, 502, 503};
    fuzz_in in = fuzz_input(data, size);
    long status = statuses[fuzz_take_u64(&in, 1) % (sizeof(statuses) / sizeof(statuses[0]))];
    char *header = fuzz_take(&in, '\n', NULL);
    char *body = fuzz_rest(&in, NULL);
    if (!header)
        header = fuzz_dup("", 0);

    int64_t ms = ll_retry_after_ms(body, header);
    FUZZ_CHECK(ms >= -1);
    cJSON *j = cJSON_Parse(body);
    const cJSON *ra = cJSON_GetObjectItemCaseSensitive(j, "retry_after");
    if (cJSON_IsNumber(ra) && ra->valuedouble >= 0 && ra->valuedouble < 1e12)
        FUZZ_CHECK(ms >= 0 && (double)ms >= ra->valuedouble * 1000.0 - 1.0);
    cJSON_Delete(j);
    FUZZ_CHECK(ll_retry_after_ms(NULL, NULL) == -1);
    int64_t h = ll_retry_after_ms(NULL, header);
    FUZZ_CHECK(h >= -1);

    ll_retry_policy p = {.max_retries = 3, .max_rate_limited = 2, .base_ms = 500,
                         .max_wait_ms = 60000};
    for (int failures = 0; failures < 5; failures++) {
        int64_t wait = -7;
        ll_verdict v = ll_notify_decide(&p, failures & 1, 1, status, body, header, failures,
                                        failures / 2, &wait);
        FUZZ_CHECK(v >= LL_VERDICT_OK && v <= LL_VERDICT_GONE);
        FUZZ_CHECK(wait >= 0);
        if (v != LL_VERDICT_RETRY)
            FUZZ_CHECK(wait == 0);
        if (v == LL_VERDICT_RETRY && status == 429)
            FUZZ_CHECK(wait <= p.max_wait_ms);
        if (status >= 200 && status < 300)
            FUZZ_CHECK(v == LL_VERDICT_OK);
    }
    free(header);
    free(body);
    return 0;
}
