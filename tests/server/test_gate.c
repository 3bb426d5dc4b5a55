/* The delay_pongs gate: input is let in only after bytes have waited the
 * delay, for one step at a time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "server/gate.h"

static void nothing_waiting_keeps_the_gate_shut(void **state)
{
    (void)state;
    srv_gate g = {0};
    for (int64_t t = 0; t < 1000; t += 10)
        assert_false(srv_gate_step(&g, t, false, false, 100));
    assert_int_equal(g.state, SRV_GATE_HELD);
}

static void bytes_are_let_in_after_waiting_the_delay(void **state)
{
    (void)state;
    srv_gate g = {0};
    assert_false(srv_gate_step(&g, 1000, true, false, 300));
    assert_false(srv_gate_step(&g, 1290, true, false, 300));
    assert_true(srv_gate_step(&g, 1300, true, false, 300));
    assert_int_equal(g.state, SRV_GATE_OPEN);
}

static void an_open_gate_shuts_at_the_next_step(void **state)
{
    (void)state;
    srv_gate g = {0};
    srv_gate_step(&g, 0, true, false, 100);
    assert_true(srv_gate_step(&g, 100, true, false, 100));
    /* the bytes were read: shut */
    assert_false(srv_gate_step(&g, 110, false, false, 100));
    assert_int_equal(g.state, SRV_GATE_HELD);
}

static void bytes_still_waiting_after_opening_start_a_new_wait(void **state)
{
    (void)state;
    srv_gate g = {0};
    srv_gate_step(&g, 0, true, false, 100);
    assert_true(srv_gate_step(&g, 100, true, false, 100));
    assert_false(srv_gate_step(&g, 110, true, false, 100));
    assert_int_equal(g.state, SRV_GATE_WAITING);
    assert_false(srv_gate_step(&g, 209, true, false, 100));
    assert_true(srv_gate_step(&g, 210, true, false, 100));
}

static void a_partly_read_message_keeps_the_gate_open(void **state)
{
    (void)state;
    srv_gate g = {0};
    srv_gate_step(&g, 0, true, false, 100);
    assert_true(srv_gate_step(&g, 100, true, false, 100));
    for (int64_t t = 110; t < 500; t += 10)
        assert_true(srv_gate_step(&g, t, true, true, 100));
    /* the message is complete: shut, and what follows waits again */
    assert_false(srv_gate_step(&g, 500, true, false, 100));
    assert_int_equal(g.state, SRV_GATE_WAITING);
}

static void busy_does_not_open_a_shut_gate(void **state)
{
    (void)state;
    srv_gate g = {0};
    assert_false(srv_gate_step(&g, 0, true, true, 100));
    assert_false(srv_gate_step(&g, 50, true, true, 100));
    assert_true(srv_gate_step(&g, 100, true, true, 100));
}

static void a_zero_delay_opens_at_once(void **state)
{
    (void)state;
    srv_gate g = {0};
    assert_true(srv_gate_step(&g, 5, true, false, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nothing_waiting_keeps_the_gate_shut),
        cmocka_unit_test(bytes_are_let_in_after_waiting_the_delay),
        cmocka_unit_test(an_open_gate_shuts_at_the_next_step),
        cmocka_unit_test(bytes_still_waiting_after_opening_start_a_new_wait),
        cmocka_unit_test(a_partly_read_message_keeps_the_gate_open),
        cmocka_unit_test(busy_does_not_open_a_shut_gate),
        cmocka_unit_test(a_zero_delay_opens_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
