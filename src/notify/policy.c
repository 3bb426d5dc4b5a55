/* See policy.h. */
#include "notify/policy.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* s >= 0 seconds as ms, rounded up. Past what int64_t holds (1e300,
 * "inf") it is INT64_MAX, a wait no policy takes: converting such a double
 * is undefined, and on x86 gave INT64_MIN, read as "no hint". */
static int64_t seconds_to_ms(double s)
{
    double ms = ceil(s * 1000.0);
    return ms < 9.2e18 ? (int64_t)ms : INT64_MAX;
}

int64_t ll_retry_after_ms(const char *body, const char *header)
{
    if (body) {
        cJSON *j = cJSON_ParseWithLength(body, strlen(body));
        cJSON *ra = cJSON_GetObjectItemCaseSensitive(j, "retry_after");
        double s = cJSON_IsNumber(ra) ? ra->valuedouble : -1;
        cJSON_Delete(j);
        if (s >= 0)
            return seconds_to_ms(s);
    }
    if (header) {
        char *end;
        double s = strtod(header, &end);
        while (*end == ' ' || *end == '\r' || *end == '\n')
            end++;
        if (end != header && !*end && s >= 0)
            return seconds_to_ms(s);
    }
    return -1;
}

ll_verdict ll_notify_decide(const ll_retry_policy *p, int is_discord, int transport_ok,
                            long status, const char *body, const char *retry_after,
                            int failures, int rate_limited, int64_t *wait_ms)
{
    *wait_ms = 0;
    if (transport_ok && status >= 200 && status < 300)
        return LL_VERDICT_OK;
    if (transport_ok && status == 429) {
        int64_t w = ll_retry_after_ms(body, retry_after);
        if (w < 0)
            w = 1000;
        if (rate_limited >= p->max_rate_limited || w > p->max_wait_ms)
            return LL_VERDICT_FAIL;
        *wait_ms = w;
        return LL_VERDICT_RETRY;
    }
    if (transport_ok && status == 404 && is_discord)
        return LL_VERDICT_GONE;
    if (transport_ok && status >= 400 && status < 500)
        return LL_VERDICT_FAIL; /* the request is wrong: sending it again will not help */
    /* 5xx, anything unexpected, or no answer: a bounded backoff */
    if (failures >= p->max_retries)
        return LL_VERDICT_FAIL;
    *wait_ms = p->base_ms << (failures < 20 ? failures : 20);
    return LL_VERDICT_RETRY;
}
