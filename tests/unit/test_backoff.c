/* The wait before reconnection attempt n: exact schedule, cap, jitter bounds
 * and distribution in both modes, Retry-After hints. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/backoff.h"
#include "lifeline/lifeline.h"

static ll_backoff defaults(void)
{
    ll_backoff b = {.base_delay_ms = 5000, .max_delay_ms = 30000, .jitter_ms = 1000,
                    .jitter_mode = LIFELINE_JITTER_ADDITIVE};
    return b;
}

/* The generator replaced by source(ctx) (core/rng.h), until the next seed. */
static void rng_inject(ll_rng *rng, ll_rng_source source, void *ctx)
{
    rng->source = source;
    rng->source_ctx = ctx;
}

static uint64_t always_zero(void *ctx) { (void)ctx; return 0; }
static uint64_t always_max(void *ctx) { (void)ctx; return UINT64_MAX; }

static void default_schedule_is_5_10_20_30_30_seconds(void **state)
{
    (void)state;
    ll_backoff b = defaults();
    const int64_t expected[] = {5000, 10000, 20000, 30000, 30000};
    for (int n = 1; n <= 5; n++)
        assert_int_equal(ll_backoff_ceiling(&b, n), expected[n - 1]);
}

static void ceiling_caps_at_max_delay_for_any_attempt(void **state)
{
    (void)state;
    ll_backoff b = defaults();
    for (int n = 4; n < 1000; n++)
        assert_int_equal(ll_backoff_ceiling(&b, n), 30000);
    b.max_delay_ms = INT32_MAX;
    b.base_delay_ms = 1;
    assert_int_equal(ll_backoff_ceiling(&b, 200), INT32_MAX); /* no overflow */
}

static void additive_jitter_stays_in_zero_to_jitter(void **state)
{
    (void)state;
    ll_backoff b = defaults();
    ll_rng rng;
    ll_rng_seed(&rng, 1);
    rng_inject(&rng, always_zero, NULL);
    assert_int_equal(ll_backoff_delay(&b, 1, 0, &rng), 5000);
    rng_inject(&rng, always_max, NULL);
    assert_int_equal(ll_backoff_delay(&b, 1, 0, &rng), 5999); /* [0, 1000) */
    assert_int_equal(ll_backoff_delay(&b, 9, 0, &rng), 30999);
    b.jitter_ms = 0;
    assert_int_equal(ll_backoff_delay(&b, 2, 0, &rng), 10000);
}

static void additive_jitter_is_uniform(void **state)
{
    (void)state;
    ll_backoff b = defaults();
    ll_rng rng;
    ll_rng_seed(&rng, 42);
    const int draws = 100000;
    double sum = 0;
    int buckets[10] = {0};
    for (int i = 0; i < draws; i++) {
        int64_t j = ll_backoff_delay(&b, 1, 0, &rng) - 5000;
        assert_true(j >= 0 && j < 1000);
        sum += (double)j;
        buckets[j / 100]++;
    }
    double mean = sum / draws;
    assert_true(mean > 499.5 * 0.97 && mean < 499.5 * 1.03);
    for (int k = 0; k < 10; k++) /* each tenth holds about 10 % */
        assert_true(buckets[k] > draws / 10 * 0.95 && buckets[k] < draws / 10 * 1.05);
}

static void full_jitter_spans_zero_to_ceiling(void **state)
{
    (void)state;
    ll_backoff b = defaults();
    b.jitter_mode = LIFELINE_JITTER_FULL;
    ll_rng rng;
    ll_rng_seed(&rng, 7);
    rng_inject(&rng, always_zero, NULL);
    assert_int_equal(ll_backoff_delay(&b, 3, 0, &rng), 0);
    rng_inject(&rng, always_max, NULL);
    assert_int_equal(ll_backoff_delay(&b, 3, 0, &rng), 20000); /* inclusive */
    assert_int_equal(ll_backoff_delay(&b, 8, 0, &rng), 30000);

    ll_rng_seed(&rng, 7);
    for (int n = 1; n <= 6; n++) {
        int64_t ceiling = ll_backoff_ceiling(&b, n);
        double sum = 0;
        const int draws = 50000;
        for (int i = 0; i < draws; i++) {
            int64_t d = ll_backoff_delay(&b, n, 0, &rng);
            assert_true(d >= 0 && d <= ceiling);
            sum += (double)d;
        }
        double mean = sum / draws, expected = (double)ceiling / 2.0;
        assert_true(mean > expected * 0.97 && mean < expected * 1.03);
    }
}

static void retry_after_hint_raises_the_wait_up_to_max_delay(void **state)
{
    (void)state;
    ll_backoff b = defaults();
    ll_rng rng;
    ll_rng_seed(&rng, 1);
    rng_inject(&rng, always_zero, NULL);
    assert_int_equal(ll_backoff_delay(&b, 1, 12000, &rng), 12000); /* hint wins */
    assert_int_equal(ll_backoff_delay(&b, 3, 12000, &rng), 20000); /* backoff wins */
    assert_int_equal(ll_backoff_delay(&b, 1, 120000, &rng), 30000); /* capped */
    assert_int_equal(ll_backoff_delay(&b, 1, 0, &rng), 5000);       /* no hint */
}

static void same_seed_replays_the_same_schedule(void **state)
{
    (void)state;
    ll_backoff b = defaults();
    ll_rng r1, r2, r3;
    ll_rng_seed(&r1, 1234);
    ll_rng_seed(&r2, 1234);
    ll_rng_seed(&r3, 4321);
    int differs = 0;
    for (int n = 1; n <= 50; n++) {
        int64_t a = ll_backoff_delay(&b, n, 0, &r1);
        assert_int_equal(a, ll_backoff_delay(&b, n, 0, &r2));
        differs |= a != ll_backoff_delay(&b, n, 0, &r3);
    }
    assert_true(differs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(default_schedule_is_5_10_20_30_30_seconds),
        cmocka_unit_test(ceiling_caps_at_max_delay_for_any_attempt),
        cmocka_unit_test(additive_jitter_stays_in_zero_to_jitter),
        cmocka_unit_test(additive_jitter_is_uniform),
        cmocka_unit_test(full_jitter_spans_zero_to_ceiling),
        cmocka_unit_test(retry_after_hint_raises_the_wait_up_to_max_delay),
        cmocka_unit_test(same_seed_replays_the_same_schedule),
    };
    return cmocka_run_group_tests_name("backoff", tests, NULL, NULL);
}
