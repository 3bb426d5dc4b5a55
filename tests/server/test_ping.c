/* One connection's ping schedule in virtual time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "server/ping.h"

static void the_first_ping_goes_out_one_interval_after_opening(void **state)
{
    (void)state;
    srv_ping p;
    srv_ping_init(&p, 1000, 200);
    assert_int_equal(srv_ping_poll(&p, 1199, 200, 100), SRV_PING_IDLE);
    assert_int_equal(srv_ping_deadline(&p, 100), 1200);
    assert_int_equal(srv_ping_poll(&p, 1200, 200, 100), SRV_PING_SEND);
    assert_int_equal(srv_ping_poll(&p, 1201, 200, 100), SRV_PING_IDLE);
}

static void a_pong_keeps_the_cadence(void **state)
{
    (void)state;
    srv_ping p;
    srv_ping_init(&p, 0, 200);
    assert_int_equal(srv_ping_poll(&p, 200, 200, 100), SRV_PING_SEND);
    srv_ping_pong(&p);
    assert_int_equal(srv_ping_deadline(&p, 100), 400);
    assert_int_equal(srv_ping_poll(&p, 399, 200, 100), SRV_PING_IDLE);
    assert_int_equal(srv_ping_poll(&p, 400, 200, 100), SRV_PING_SEND);
}

static void a_silent_peer_times_out_after_the_timeout(void **state)
{
    (void)state;
    srv_ping p;
    srv_ping_init(&p, 0, 200);
    assert_int_equal(srv_ping_poll(&p, 200, 200, 100), SRV_PING_SEND);
    assert_int_equal(srv_ping_deadline(&p, 100), 300);
    assert_int_equal(srv_ping_poll(&p, 299, 200, 100), SRV_PING_IDLE);
    assert_int_equal(srv_ping_poll(&p, 300, 200, 100), SRV_PING_TIMEOUT);
}

static void only_one_ping_is_outstanding_even_with_a_long_timeout(void **state)
{
    (void)state;
    srv_ping p;
    srv_ping_init(&p, 0, 100);
    assert_int_equal(srv_ping_poll(&p, 100, 100, 1000), SRV_PING_SEND);
    for (int64_t t = 101; t < 1100; t += 50)
        assert_int_equal(srv_ping_poll(&p, t, 100, 1000), SRV_PING_IDLE);
    assert_int_equal(srv_ping_poll(&p, 1100, 100, 1000), SRV_PING_TIMEOUT);
}

static void a_late_tick_sends_at_once(void **state)
{
    (void)state;
    srv_ping p;
    srv_ping_init(&p, 0, 100);
    assert_int_equal(srv_ping_poll(&p, 5000, 100, 50), SRV_PING_SEND);
    srv_ping_pong(&p);
    assert_int_equal(srv_ping_deadline(&p, 50), 5100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_first_ping_goes_out_one_interval_after_opening),
        cmocka_unit_test(a_pong_keeps_the_cadence),
        cmocka_unit_test(a_silent_peer_times_out_after_the_timeout),
        cmocka_unit_test(only_one_ping_is_outstanding_even_with_a_long_timeout),
        cmocka_unit_test(a_late_tick_sends_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
