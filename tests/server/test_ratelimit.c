/* The rate limiter's buckets in virtual time: bursts, refill, bytes and
 * messages, the error once a second, the abuse rule, and the flow control
 * of lifeline.v1 connections. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "server/ratelimit.h"

static srv_rl_cfg cfg_of(int64_t msgs, int64_t bytes)
{
    srv_rl_cfg c;
    srv_rl_cfg_init(&c);
    c.msgs_per_s = msgs;
    c.bytes_per_s = bytes;
    return c;
}

static void off_by_default_and_off_passes_everything(void **state)
{
    (void)state;
    srv_rl_cfg c;
    srv_rl_cfg_init(&c);
    assert_false(srv_rl_enabled(&c));
    assert_int_equal(c.burst_ms, 1000);
    assert_int_equal(c.close_after_ms, 5000);
    srv_rl rl;
    srv_rl_init(&rl, &c, 0);
    for (int i = 0; i < 100000; i++)
        assert_int_equal(srv_rl_take(&rl, &c, 1 << 20, 0), SRV_RL_PASS);
    assert_int_equal(srv_rl_charge(&rl, &c, 1 << 20, 0), 0);
    c.msgs_per_s = 1;
    assert_true(srv_rl_enabled(&c));
}

static void a_full_bucket_takes_a_burst_then_refills_at_the_rate(void **state)
{
    (void)state;
    srv_rl_cfg c = cfg_of(10, 0); /* 10 a second, a burst of 10 */
    srv_rl rl;
    srv_rl_init(&rl, &c, 0);
    for (int i = 0; i < 10; i++)
        assert_int_equal(srv_rl_take(&rl, &c, 100, 0), SRV_RL_PASS);
    assert_int_equal(srv_rl_take(&rl, &c, 100, 0), SRV_RL_DROP_NOTIFY);
    assert_int_equal(srv_rl_take(&rl, &c, 100, 99), SRV_RL_DROP);    /* 0.99 of a message */
    assert_int_equal(srv_rl_take(&rl, &c, 100, 100), SRV_RL_PASS);   /* one more after 100 ms */
    assert_int_equal(srv_rl_take(&rl, &c, 100, 150), SRV_RL_DROP);
    assert_int_equal(srv_rl_take(&rl, &c, 100, 250), SRV_RL_PASS);   /* 150 ms: 1.5 messages */
    assert_int_equal(srv_rl_take(&rl, &c, 100, 300), SRV_RL_PASS);   /* the half and 50 ms */
    assert_int_equal(srv_rl_take(&rl, &c, 100, 300), SRV_RL_DROP);
    assert_int_equal(rl.dropped, 4);
    /* an idle second fills it again, and no more than that */
    for (int i = 0; i < 10; i++)
        assert_int_equal(srv_rl_take(&rl, &c, 100, 100000), SRV_RL_PASS);
    assert_int_equal(srv_rl_take(&rl, &c, 100, 100000), SRV_RL_DROP_NOTIFY);
}

static void the_burst_is_burst_ms_of_the_rate_and_at_least_one_message(void **state)
{
    (void)state;
    srv_rl_cfg c = cfg_of(10, 0);
    c.burst_ms = 300; /* 3 messages */
    srv_rl rl;
    srv_rl_init(&rl, &c, 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(srv_rl_take(&rl, &c, 1, 0), SRV_RL_PASS);
    assert_int_not_equal(srv_rl_take(&rl, &c, 1, 0), SRV_RL_PASS);
    c = cfg_of(1, 0);
    c.burst_ms = 1; /* a thousandth of a message: one, all the same */
    srv_rl_init(&rl, &c, 0);
    assert_int_equal(srv_rl_take(&rl, &c, 1, 0), SRV_RL_PASS);
    assert_int_not_equal(srv_rl_take(&rl, &c, 1, 999), SRV_RL_PASS);
    assert_int_equal(srv_rl_take(&rl, &c, 1, 1000), SRV_RL_PASS);
}

static void bytes_are_limited_beside_messages(void **state)
{
    (void)state;
    srv_rl_cfg c = cfg_of(1000, 1000); /* many messages, 1000 bytes a second */
    srv_rl rl;
    srv_rl_init(&rl, &c, 0);
    assert_int_equal(srv_rl_take(&rl, &c, 600, 0), SRV_RL_PASS);
    assert_int_equal(srv_rl_take(&rl, &c, 600, 0), SRV_RL_DROP_NOTIFY); /* 400 left */
    assert_int_equal(srv_rl_take(&rl, &c, 400, 0), SRV_RL_PASS);
    assert_int_equal(srv_rl_take(&rl, &c, 1, 0), SRV_RL_DROP);
    assert_int_equal(srv_rl_take(&rl, &c, 600, 599), SRV_RL_DROP);
    assert_int_equal(srv_rl_take(&rl, &c, 600, 600), SRV_RL_PASS);
    /* and messages beside bytes */
    c = cfg_of(2, 1000000);
    srv_rl_init(&rl, &c, 0);
    assert_int_equal(srv_rl_take(&rl, &c, 1, 0), SRV_RL_PASS);
    assert_int_equal(srv_rl_take(&rl, &c, 1, 0), SRV_RL_PASS);
    assert_int_equal(srv_rl_take(&rl, &c, 1, 0), SRV_RL_DROP_NOTIFY);
}

static void a_message_larger_than_the_bucket_needs_it_full_and_leaves_a_debt(void **state)
{
    (void)state;
    srv_rl_cfg c = cfg_of(1000, 1000);
    srv_rl rl;
    srv_rl_init(&rl, &c, 0);
    assert_int_equal(srv_rl_take(&rl, &c, 5000, 0), SRV_RL_PASS); /* 4000 bytes owed */
    assert_int_equal(srv_rl_take(&rl, &c, 1, 4000), SRV_RL_DROP_NOTIFY); /* back at 0 */
    assert_int_equal(srv_rl_take(&rl, &c, 1, 4001), SRV_RL_PASS);
    /* a partly full bucket does not let it through */
    srv_rl_init(&rl, &c, 0);
    assert_int_equal(srv_rl_take(&rl, &c, 1, 0), SRV_RL_PASS);
    assert_int_equal(srv_rl_take(&rl, &c, 5000, 0), SRV_RL_DROP_NOTIFY);
    assert_int_equal(srv_rl_take(&rl, &c, 5000, 1), SRV_RL_PASS);
}

static void the_sender_is_told_at_most_once_a_second(void **state)
{
    (void)state;
    srv_rl_cfg c = cfg_of(1, 0);
    c.close_after_ms = 0;
    srv_rl rl;
    srv_rl_init(&rl, &c, 0);
    assert_int_equal(srv_rl_take(&rl, &c, 1, 0), SRV_RL_PASS);
    int64_t told[8];
    size_t n = 0;
    for (int64_t t = 10; t < 3500; t += 10) {
        srv_rl_verdict v = srv_rl_take(&rl, &c, 1, t);
        if (v == SRV_RL_DROP_NOTIFY)
            told[n++] = t;
        assert_int_not_equal(v, SRV_RL_ABUSE); /* close_after_ms 0: never */
    }
    /* a message passes each second; the drops around them are told once a second */
    assert_int_equal(n, 4);
    assert_int_equal(told[0], 10);
    assert_int_equal(told[1], 1010);
    assert_int_equal(told[2], 2010);
    assert_int_equal(told[3], 3010);
}

static void over_the_limit_for_close_after_ms_is_abuse(void **state)
{
    (void)state;
    srv_rl_cfg c = cfg_of(10, 0); /* close_after_ms 5000 */
    srv_rl rl;
    srv_rl_init(&rl, &c, 0);
    for (int i = 0; i < 10; i++) /* the burst */
        assert_int_equal(srv_rl_take(&rl, &c, 10, 0), SRV_RL_PASS);
    /* then a flood from 0: a message every millisecond; one passes every
     * 100 ms (at 100, 200, ... 5000), the rest are dropped */
    int64_t t = 0;
    size_t passed = 0;
    srv_rl_verdict v;
    while ((v = srv_rl_take(&rl, &c, 10, t)) != SRV_RL_ABUSE) {
        assert_true(t == 0 ? v == SRV_RL_DROP_NOTIFY : t % 100 ? v != SRV_RL_PASS
                                                             : v == SRV_RL_PASS);
        passed += v == SRV_RL_PASS;
        t++;
        assert_true(t < 100000);
    }
    /* the first drop at 0, 5000 passed: the next drop is abuse */
    assert_int_equal(t, 5001);
    assert_int_equal(passed, 50);
    assert_int_equal(rl.dropped, 5002 - 50);
}

static void a_second_without_a_drop_starts_the_count_again(void **state)
{
    (void)state;
    srv_rl_cfg c = cfg_of(1, 0); /* one a second: one passes at each whole second */
    srv_rl rl;
    srv_rl_init(&rl, &c, 0);
    assert_int_equal(srv_rl_take(&rl, &c, 1, 0), SRV_RL_PASS);
    /* over the limit from 0 to 4000 (the last drop at 3995), then quiet */
    for (int64_t t = 0; t <= 4000; t += 5)
        assert_int_not_equal(srv_rl_take(&rl, &c, 1, t), SRV_RL_ABUSE);
    /* from 5000 on, over the limit again: 5000 passes, and the count
     * starts at the drop at 5005, over a second after the last one */
    int64_t t = 5000;
    while (srv_rl_take(&rl, &c, 1, t) != SRV_RL_ABUSE) {
        t += 5;
        assert_true(t < 20000);
    }
    assert_int_equal(t, 10005);
    /* a gap just under a second does not start it again */
    srv_rl_init(&rl, &c, 0);
    assert_int_equal(srv_rl_take(&rl, &c, 1, 0), SRV_RL_PASS);
    for (t = 0; t <= 2000; t += 5) /* the last drop at 1995 */
        srv_rl_take(&rl, &c, 1, t);
    t = 2990; /* 995 ms later */
    while (srv_rl_take(&rl, &c, 1, t) != SRV_RL_ABUSE) {
        t += 5;
        assert_true(t < 20000);
    }
    assert_int_equal(t, 5005); /* 5000 passed; 5005 is 5005 ms after the first drop, at 0 */
}

static void charging_says_how_long_to_stop_reading(void **state)
{
    (void)state;
    srv_rl_cfg c = cfg_of(10, 0);
    srv_rl rl;
    srv_rl_init(&rl, &c, 0);
    for (int i = 0; i < 9; i++)
        assert_int_equal(srv_rl_charge(&rl, &c, 100, 0), 0);
    assert_int_equal(srv_rl_charge(&rl, &c, 100, 0), 100); /* the 10th: empty, 100 ms to one */
    assert_int_equal(srv_rl_charge(&rl, &c, 100, 100), 100); /* read after the pause */
    /* messages read anyway (already buffered) go into debt: a longer pause */
    assert_int_equal(srv_rl_charge(&rl, &c, 100, 100), 200);
    assert_int_equal(srv_rl_charge(&rl, &c, 100, 150), 250);
    /* bytes: a debt is paid back at the byte rate */
    c = cfg_of(1000, 1000);
    srv_rl_init(&rl, &c, 0);
    assert_int_equal(srv_rl_charge(&rl, &c, 600, 0), 0);
    assert_int_equal(srv_rl_charge(&rl, &c, 5400, 0), 5000); /* 5000 bytes owed at 1000/s */
    assert_int_equal(srv_rl_charge(&rl, &c, 1, 5000), 1);   /* 1 byte owed: 1 ms */
    assert_int_equal(rl.dropped, 0); /* nothing is ever dropped */
}

static void the_wait_counts_down_and_takes_nothing(void **state)
{
    (void)state;
    srv_rl_cfg c = cfg_of(1000, 1000);
    srv_rl rl;
    srv_rl_init(&rl, &c, 0);
    assert_int_equal(srv_rl_wait(&rl, &c, 0), 0);
    assert_int_equal(srv_rl_charge(&rl, &c, 5000, 0), 4000);
    assert_int_equal(srv_rl_wait(&rl, &c, 0), 4000);
    assert_int_equal(srv_rl_wait(&rl, &c, 1500), 2500); /* asking again takes nothing */
    assert_int_equal(srv_rl_wait(&rl, &c, 1500), 2500);
    assert_int_equal(srv_rl_wait(&rl, &c, 4000), 0);
    c = cfg_of(10, 0);
    srv_rl_init(&rl, &c, 0);
    for (int i = 0; i < 10; i++)
        srv_rl_charge(&rl, &c, 1, 0);
    assert_int_equal(srv_rl_wait(&rl, &c, 40), 60);
    c.msgs_per_s = 0; /* off: never a wait */
    assert_int_equal(srv_rl_wait(&rl, &c, 40), 0);
}

static void a_long_idle_fills_the_buckets_without_overflow(void **state)
{
    (void)state;
    srv_rl_cfg c = cfg_of(SRV_RL_MSGS_MAX, SRV_RL_BYTES_MAX);
    c.burst_ms = SRV_RL_BURST_MS_MAX;
    srv_rl rl;
    srv_rl_init(&rl, &c, 0);
    assert_int_equal(srv_rl_take(&rl, &c, (size_t)1 << 40, 0), SRV_RL_PASS);
    assert_int_equal(srv_rl_take(&rl, &c, 1, INT64_MAX / 2), SRV_RL_PASS);
    assert_int_equal(rl.bytes, SRV_RL_BYTES_MAX * SRV_RL_BURST_MS_MAX - 1000);
    assert_int_equal(rl.msgs, (int64_t)SRV_RL_MSGS_MAX * SRV_RL_BURST_MS_MAX - 1000);
    /* a clock that does not move, or steps back, refills nothing */
    srv_rl_init(&rl, &c, 1000);
    assert_int_equal(srv_rl_take(&rl, &c, 1, 500), SRV_RL_PASS);
    assert_int_equal(rl.at_ms, 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(off_by_default_and_off_passes_everything),
        cmocka_unit_test(a_full_bucket_takes_a_burst_then_refills_at_the_rate),
        cmocka_unit_test(the_burst_is_burst_ms_of_the_rate_and_at_least_one_message),
        cmocka_unit_test(bytes_are_limited_beside_messages),
        cmocka_unit_test(a_message_larger_than_the_bucket_needs_it_full_and_leaves_a_debt),
        cmocka_unit_test(the_sender_is_told_at_most_once_a_second),
        cmocka_unit_test(over_the_limit_for_close_after_ms_is_abuse),
        cmocka_unit_test(a_second_without_a_drop_starts_the_count_again),
        cmocka_unit_test(charging_says_how_long_to_stop_reading),
        cmocka_unit_test(the_wait_counts_down_and_takes_nothing),
        cmocka_unit_test(a_long_idle_fills_the_buckets_without_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
