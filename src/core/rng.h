/* A small seedable generator (splitmix64) owned by each core, so that a test
 * can replay a schedule exactly. Tests may also inject their own source. */
#ifndef LL_CORE_RNG_H
#define LL_CORE_RNG_H

#include <stdint.h>

typedef uint64_t (*ll_rng_source)(void *ctx);

typedef struct ll_rng {
    uint64_t state;
    ll_rng_source source; /* NULL: splitmix64 over state */
    void *source_ctx;
} ll_rng;

void ll_rng_seed(ll_rng *rng, uint64_t seed);
/* Replace the generator with source(ctx): tests force extremes with it. */
void ll_rng_inject(ll_rng *rng, ll_rng_source source, void *ctx);
uint64_t ll_rng_next(ll_rng *rng);
/* Uniform in [0, bound); 0 when bound is 0. */
uint64_t ll_rng_below(ll_rng *rng, uint64_t bound);

#endif
