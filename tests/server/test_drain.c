/* The drain's schedule in virtual time: which connection closes when,
 * given the count, the window and the start. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "server/drain.h"

static void the_first_closes_at_once_and_the_rest_evenly_over_the_window(void **state)
{
    (void)state;
    srv_drain d;
    srv_drain_start(&d, 5000, 1000, 4);
    assert_int_equal(srv_drain_close_at(&d, 0), 5000);
    assert_int_equal(srv_drain_close_at(&d, 1), 5250);
    assert_int_equal(srv_drain_close_at(&d, 2), 5500);
    assert_int_equal(srv_drain_close_at(&d, 3), 5750);
}

static void each_close_is_handed_out_once_and_not_before_its_time(void **state)
{
    (void)state;
    srv_drain d;
    srv_drain_start(&d, 0, 1000, 4);
    assert_int_equal(srv_drain_take(&d, 0), 1);
    assert_int_equal(srv_drain_take(&d, 0), 0);
    assert_int_equal(srv_drain_next(&d), 250);
    assert_int_equal(srv_drain_take(&d, 249), 0);
    assert_int_equal(srv_drain_take(&d, 250), 1);
    assert_int_equal(srv_drain_take(&d, 250), 0);
    assert_int_equal(srv_drain_next(&d), 500);
    assert_int_equal(srv_drain_take(&d, 750), 2);
    assert_int_equal(srv_drain_next(&d), SRV_DRAIN_NONE);
    assert_int_equal(srv_drain_take(&d, 999999), 0);
}

static void a_late_call_hands_out_every_overdue_close(void **state)
{
    (void)state;
    srv_drain d;
    srv_drain_start(&d, 100, 1000, 10);
    assert_int_equal(srv_drain_take(&d, 100 + 450), 5); /* 0, 100, ..., 400 */
    assert_int_equal(srv_drain_next(&d), 100 + 500);
    assert_int_equal(srv_drain_take(&d, 100 + 5000), 5); /* the loop was held up */
}

static void a_zero_window_closes_every_connection_at_once(void **state)
{
    (void)state;
    srv_drain d;
    srv_drain_start(&d, 42, 0, 1000);
    assert_int_equal(srv_drain_close_at(&d, 999), 42);
    assert_int_equal(srv_drain_take(&d, 42), 1000);
    assert_int_equal(srv_drain_next(&d), SRV_DRAIN_NONE);
}

static void one_connection_closes_at_once(void **state)
{
    (void)state;
    srv_drain d;
    srv_drain_start(&d, 7, 10000, 1);
    assert_int_equal(srv_drain_take(&d, 7), 1);
    assert_int_equal(srv_drain_next(&d), SRV_DRAIN_NONE);
}

static void no_connections_means_nothing_to_close(void **state)
{
    (void)state;
    srv_drain d;
    srv_drain_start(&d, 0, 10000, 0);
    assert_int_equal(srv_drain_next(&d), SRV_DRAIN_NONE);
    assert_int_equal(srv_drain_take(&d, 0), 0);
    assert_int_equal(srv_drain_take(&d, 20000), 0);
}

static void an_uneven_split_rounds_down_and_stays_inside_the_window(void **state)
{
    (void)state;
    srv_drain d;
    srv_drain_start(&d, 0, 1000, 3);
    assert_int_equal(srv_drain_close_at(&d, 1), 333);
    assert_int_equal(srv_drain_close_at(&d, 2), 666);
    /* more connections than milliseconds: several share a millisecond */
    srv_drain_start(&d, 0, 10, 25);
    assert_int_equal(srv_drain_take(&d, 0), 3); /* 0, 0.4, 0.8 */
    assert_int_equal(srv_drain_take(&d, 9), 22);
}

static void twenty_over_two_seconds_span_1900_ms(void **state)
{
    /* the figures tests/server/test_drain.py checks over real sockets */
    (void)state;
    srv_drain d;
    srv_drain_start(&d, 0, 2000, 20);
    int64_t prev = -1;
    for (uint64_t i = 0; i < 20; i++) {
        int64_t at = srv_drain_close_at(&d, i);
        assert_int_equal(at, (int64_t)i * 100);
        assert_true(at > prev);
        prev = at;
    }
    assert_int_equal(srv_drain_close_at(&d, 19) - srv_drain_close_at(&d, 0), 1900);
}

static void the_largest_window_and_a_million_connections_do_not_overflow(void **state)
{
    (void)state;
    srv_drain d;
    const uint64_t n = 1u << 20;
    srv_drain_start(&d, 1, SRV_DRAIN_MAX_WINDOW_MS, n);
    int64_t last = srv_drain_close_at(&d, n - 1);
    assert_true(last < 1 + SRV_DRAIN_MAX_WINDOW_MS);
    assert_true(last > 1 + SRV_DRAIN_MAX_WINDOW_MS - 10);
    assert_true(srv_drain_close_at(&d, n / 2) == 1 + SRV_DRAIN_MAX_WINDOW_MS / 2);
    assert_int_equal(srv_drain_take(&d, 1 + SRV_DRAIN_MAX_WINDOW_MS), n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_first_closes_at_once_and_the_rest_evenly_over_the_window),
        cmocka_unit_test(each_close_is_handed_out_once_and_not_before_its_time),
        cmocka_unit_test(a_late_call_hands_out_every_overdue_close),
        cmocka_unit_test(a_zero_window_closes_every_connection_at_once),
        cmocka_unit_test(one_connection_closes_at_once),
        cmocka_unit_test(no_connections_means_nothing_to_close),
        cmocka_unit_test(an_uneven_split_rounds_down_and_stays_inside_the_window),
        cmocka_unit_test(twenty_over_two_seconds_span_1900_ms),
        cmocka_unit_test(the_largest_window_and_a_million_connections_do_not_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
