/* A small seedable generator (splitmix64) owned by each core, so that a test
 * can replay a schedule exactly. A test may also set source to its own. */
#ifndef LL_CORE_RNG_H
#define LL_CORE_RNG_H

#include <stdint.h>

typedef uint64_t (*ll_rng_source)(void *ctx);

typedef struct ll_rng {
    uint64_t state;
    ll_rng_source source; /* NULL: splitmix64 over state; tests force extremes with their own */
    void *source_ctx;
} ll_rng;

void ll_rng_seed(ll_rng *rng, uint64_t seed);
uint64_t ll_rng_next(ll_rng *rng);
/* Uniform in [0, bound); 0 when bound is 0. */
uint64_t ll_rng_below(ll_rng *rng, uint64_t bound);

#endif
