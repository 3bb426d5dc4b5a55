/* RTT statistics: EWMA 1/8, variation 1/4, min and max. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/heartbeat.h"

static void first_sample_sets_srtt_and_half_variation(void **state)
{
    (void)state;
    ll_rtt_stats s;
    ll_rtt_reset(&s);
    ll_rtt_add(&s, 80);
    assert_int_equal(s.samples, 1);
    assert_int_equal(s.last_ms, 80);
    assert_true(s.srtt_ms == 80.0);
    assert_true(s.rttvar_ms == 40.0);
    assert_int_equal(s.min_ms, 80);
    assert_int_equal(s.max_ms, 80);
}

static void smoothed_rtt_moves_an_eighth_of_the_error(void **state)
{
    (void)state;
    ll_rtt_stats s;
    ll_rtt_reset(&s);
    ll_rtt_add(&s, 100);
    ll_rtt_add(&s, 180); /* |err| 80: rttvar 50 + (80 - 50) / 4, srtt 100 + 80 / 8 */
    assert_true(s.srtt_ms == 110.0);
    assert_true(s.rttvar_ms == 57.5);
    assert_int_equal(s.min_ms, 100);
    assert_int_equal(s.max_ms, 180);
    assert_int_equal(s.last_ms, 180);
}

static void smoothed_rtt_converges_to_a_steady_rtt(void **state)
{
    (void)state;
    ll_rtt_stats s;
    ll_rtt_reset(&s);
    ll_rtt_add(&s, 1000);
    for (int i = 0; i < 200; i++)
        ll_rtt_add(&s, 20);
    assert_true(s.srtt_ms > 19.9 && s.srtt_ms < 20.1);
    assert_true(s.rttvar_ms < 0.1);
    assert_int_equal(s.min_ms, 20);
    assert_int_equal(s.max_ms, 1000);
    assert_int_equal(s.samples, 201);
}

static void negative_rtt_counts_as_zero(void **state)
{
    (void)state;
    ll_rtt_stats s;
    ll_rtt_reset(&s);
    ll_rtt_add(&s, -5);
    assert_int_equal(s.last_ms, 0);
    assert_int_equal(s.min_ms, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(first_sample_sets_srtt_and_half_variation),
        cmocka_unit_test(smoothed_rtt_moves_an_eighth_of_the_error),
        cmocka_unit_test(smoothed_rtt_converges_to_a_steady_rtt),
        cmocka_unit_test(negative_rtt_counts_as_zero),
    };
    return cmocka_run_group_tests_name("heartbeat", tests, NULL, NULL);
}
