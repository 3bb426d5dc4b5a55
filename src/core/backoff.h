/* The wait before reconnection attempt n. Pure arithmetic over the config's
 * reconnection fields and a generator. */
#ifndef LL_CORE_BACKOFF_H
#define LL_CORE_BACKOFF_H

#include <stdint.h>

#include "core/rng.h"

typedef struct ll_backoff {
    int64_t base_delay_ms;
    int64_t max_delay_ms;
    int64_t jitter_ms;
    int jitter_mode; /* lifeline_jitter_mode */
} ll_backoff;

/* min(base * 2^(attempt-1), max) for attempt >= 1 (attempt < 1 counts as 1). */
int64_t ll_backoff_ceiling(const ll_backoff *b, int attempt);

/* The delay before attempt (>= 1): additive mode adds uniform [0, jitter);
 * full mode draws uniform [0, ceiling]. A server hint (Retry-After, > 0)
 * raises the delay to min(hint, max_delay) when that is longer. */
int64_t ll_backoff_delay(const ll_backoff *b, int attempt, int64_t hint_ms,
                         ll_rng *rng);

#endif
