/* splitmix64 (Steele, Lea, Flood 2014): one 64-bit state, full period, good
 * enough statistics for jitter, and trivially seedable. */
#include "core/rng.h"

void ll_rng_seed(ll_rng *rng, uint64_t seed)
{
    rng->state = seed;
    rng->source = 0;
    rng->source_ctx = 0;
}

uint64_t ll_rng_next(ll_rng *rng)
{
    if (rng->source)
        return rng->source(rng->source_ctx);
    uint64_t z = (rng->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t ll_rng_below(ll_rng *rng, uint64_t bound)
{
    if (bound == 0)
        return 0;
    /* Lemire's multiply-shift on the top 32 bits: bounds here are < 2^31,
     * so the bias is below 2^-32 and needs no rejection loop. */
    uint64_t r = ll_rng_next(rng) >> 32;
    return (r * bound) >> 32;
}
