/* Exponential backoff with jitter; see backoff.h for the rule. */
#include "core/backoff.h"

#include "lifeline/lifeline.h"

int64_t ll_backoff_ceiling(const ll_backoff *b, int attempt)
{
    int64_t d = b->base_delay_ms;
    /* double until the cap; the loop ends within 63 steps for any base > 0 */
    for (int n = 1; n < attempt && d < b->max_delay_ms; n++)
        d *= 2;
    return d < b->max_delay_ms ? d : b->max_delay_ms;
}

int64_t ll_backoff_delay(const ll_backoff *b, int attempt, int64_t hint_ms,
                         ll_rng *rng)
{
    int64_t ceiling = ll_backoff_ceiling(b, attempt);
    int64_t delay;
    if (b->jitter_mode == LIFELINE_JITTER_FULL)
        delay = (int64_t)ll_rng_below(rng, (uint64_t)ceiling + 1);
    else
        delay = ceiling + (int64_t)ll_rng_below(rng, (uint64_t)b->jitter_ms);
    if (hint_ms > 0) {
        int64_t hint = hint_ms < b->max_delay_ms ? hint_ms : b->max_delay_ms;
        if (hint > delay)
            delay = hint;
    }
    return delay;
}
