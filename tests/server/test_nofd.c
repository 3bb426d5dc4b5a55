/* Out-of-descriptor episodes in virtual time: what is counted, and which
 * log line each failed or working accept calls for. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "server/nofd.h"

static void the_first_failure_begins_an_episode_and_asks_for_one_line(void **state)
{
    (void)state;
    srv_nofd n;
    srv_nofd_init(&n);
    srv_nofd_report r = srv_nofd_failed(&n, 1000, 3);
    assert_int_equal(r.line, SRV_NOFD_BEGAN);
    assert_int_equal(r.refused, 3);
    assert_true(n.on);
    assert_int_equal(n.refused, 3);
}

static void failures_within_the_minute_are_counted_without_a_line(void **state)
{
    (void)state;
    srv_nofd n;
    srv_nofd_init(&n);
    srv_nofd_failed(&n, 0, 1);
    for (int64_t t = 1; t < SRV_NOFD_LINE_EVERY_MS; t += 7)
        assert_int_equal(srv_nofd_failed(&n, t, 2).line, SRV_NOFD_QUIET);
    assert_int_equal(n.refused, 1 + 2 * ((SRV_NOFD_LINE_EVERY_MS - 1 + 6) / 7));
}

static void a_long_episode_sums_up_once_a_minute(void **state)
{
    (void)state;
    srv_nofd n;
    srv_nofd_init(&n);
    srv_nofd_failed(&n, 0, 1);
    srv_nofd_failed(&n, 10000, 5);
    srv_nofd_report r = srv_nofd_failed(&n, SRV_NOFD_LINE_EVERY_MS, 4);
    assert_int_equal(r.line, SRV_NOFD_GOES_ON);
    assert_int_equal(r.refused, 9); /* since the first line */
    assert_int_equal(r.over_ms, SRV_NOFD_LINE_EVERY_MS);
    assert_int_equal(srv_nofd_failed(&n, SRV_NOFD_LINE_EVERY_MS + 1, 1).line, SRV_NOFD_QUIET);
    r = srv_nofd_failed(&n, 3 * SRV_NOFD_LINE_EVERY_MS, 1);
    assert_int_equal(r.line, SRV_NOFD_GOES_ON);
    assert_int_equal(r.refused, 2);
    assert_int_equal(r.over_ms, 2 * SRV_NOFD_LINE_EVERY_MS);
}

static void a_failure_that_closed_nothing_still_begins_the_episode(void **state)
{
    (void)state;
    srv_nofd n;
    srv_nofd_init(&n);
    srv_nofd_report r = srv_nofd_failed(&n, 5, 0); /* the spare was taken */
    assert_int_equal(r.line, SRV_NOFD_BEGAN);
    assert_int_equal(r.refused, 0);
    /* and a minute of such failures has nothing to sum up */
    assert_int_equal(srv_nofd_failed(&n, 5 + SRV_NOFD_LINE_EVERY_MS, 0).line, SRV_NOFD_QUIET);
    assert_int_equal(n.refused, 0);
}

static void the_first_accept_that_works_ends_the_episode_with_its_count(void **state)
{
    (void)state;
    srv_nofd n;
    srv_nofd_init(&n);
    srv_nofd_failed(&n, 100, 2);
    srv_nofd_failed(&n, 200, 3);
    srv_nofd_report r = srv_nofd_accepted(&n, 2100);
    assert_int_equal(r.line, SRV_NOFD_ENDED);
    assert_int_equal(r.refused, 5);
    assert_int_equal(r.over_ms, 2000);
    assert_false(n.on);
    assert_int_equal(srv_nofd_accepted(&n, 2200).line, SRV_NOFD_QUIET);
}

static void the_next_episode_begins_afresh_and_the_total_goes_on(void **state)
{
    (void)state;
    srv_nofd n;
    srv_nofd_init(&n);
    srv_nofd_failed(&n, 0, 4);
    srv_nofd_accepted(&n, 10);
    srv_nofd_report r = srv_nofd_failed(&n, 20, 1);
    assert_int_equal(r.line, SRV_NOFD_BEGAN);
    r = srv_nofd_accepted(&n, 50);
    assert_int_equal(r.refused, 1);
    assert_int_equal(r.over_ms, 30);
    assert_int_equal(n.refused, 5);
}

static void accepts_outside_an_episode_say_nothing(void **state)
{
    (void)state;
    srv_nofd n;
    srv_nofd_init(&n);
    for (int64_t t = 0; t < 1000; t++)
        assert_int_equal(srv_nofd_accepted(&n, t).line, SRV_NOFD_QUIET);
    assert_int_equal(n.refused, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_first_failure_begins_an_episode_and_asks_for_one_line),
        cmocka_unit_test(failures_within_the_minute_are_counted_without_a_line),
        cmocka_unit_test(a_long_episode_sums_up_once_a_minute),
        cmocka_unit_test(a_failure_that_closed_nothing_still_begins_the_episode),
        cmocka_unit_test(the_first_accept_that_works_ends_the_episode_with_its_count),
        cmocka_unit_test(the_next_episode_begins_afresh_and_the_total_goes_on),
        cmocka_unit_test(accepts_outside_an_episode_say_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
