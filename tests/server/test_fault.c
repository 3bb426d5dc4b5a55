/* Fault modes: names both ways, the admin body's validation, applying a
 * mode, its expiry, and the Retry-After value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "server/fault.h"

static int parse(const char *body, srv_fault_request *r, char *err)
{
    return srv_fault_parse(body, strlen(body), r, err, 128);
}

static void every_mode_name_round_trips(void **state)
{
    (void)state;
    const char *names[] = {"none", "blackhole", "refuse", "reject_401", "accept_then_close",
                           "close_all", "delay_pongs"};
    for (int i = 0; i < SRV_FAULT_MODE_COUNT; i++) {
        srv_fault_mode m;
        assert_int_equal(srv_fault_mode_from_name(names[i], &m), 0);
        assert_int_equal(m, i);
        assert_string_equal(srv_fault_mode_name(m), names[i]);
    }
    srv_fault_mode m;
    assert_int_equal(srv_fault_mode_from_name("Blackhole", &m), -1);
    assert_int_equal(srv_fault_mode_from_name("", &m), -1);
}

static void a_mode_alone_lasts_until_the_next_call(void **state)
{
    (void)state;
    srv_fault_request r;
    char err[128];
    assert_int_equal(parse("{\"mode\":\"blackhole\"}", &r, err), 0);
    assert_int_equal(r.mode, SRV_FAULT_BLACKHOLE);
    assert_int_equal(r.duration_ms, 0);
    assert_int_equal(parse("{\"mode\":\"refuse\",\"duration_ms\":null}", &r, err), 0);
    assert_int_equal(r.duration_ms, 0);
}

static void durations_delays_and_retry_after_are_read(void **state)
{
    (void)state;
    srv_fault_request r;
    char err[128];
    assert_int_equal(parse("{\"mode\":\"delay_pongs\",\"delay_ms\":300,\"duration_ms\":5000}", &r,
                           err), 0);
    assert_int_equal(r.mode, SRV_FAULT_DELAY_PONGS);
    assert_int_equal(r.delay_ms, 300);
    assert_int_equal(r.duration_ms, 5000);
    assert_int_equal(parse("{\"mode\":\"refuse\",\"retry_after_s\":7}", &r, err), 0);
    assert_int_equal(r.retry_after_s, 7);
}

static void bad_bodies_are_refused_with_a_reason(void **state)
{
    (void)state;
    srv_fault_request r;
    char err[128];
    const char *bad[] = {
        "", "nope", "[]", "{}", "{\"mode\":3}", "{\"mode\":\"meltdown\"}",
        "{\"mode\":\"refuse\",\"duration_ms\":-5}", "{\"mode\":\"refuse\",\"duration_ms\":0}",
        "{\"mode\":\"refuse\",\"duration_ms\":1.5}", "{\"mode\":\"refuse\",\"duration_ms\":\"1\"}",
        "{\"mode\":\"delay_pongs\"}", "{\"mode\":\"delay_pongs\",\"delay_ms\":0}", NULL};
    for (size_t i = 0; bad[i]; i++) {
        err[0] = '\0';
        assert_int_equal(parse(bad[i], &r, err), -1);
        assert_true(strlen(err) > 0);
    }
}

static void text_after_the_json_body_is_malformed(void **state)
{
    (void)state;
    srv_fault_request r;
    char err[128];
    const char *bad[] = {"{\"mode\":\"none\"}garbage", "{\"mode\":\"none\"} {}",
                         "{\"mode\":\"none\"}}", NULL};
    for (size_t i = 0; bad[i]; i++)
        assert_int_equal(parse(bad[i], &r, err), -1);
    /* the length is the body's, not the first NUL's */
    static const char nul[] = "{\"mode\":\"none\"}\0x";
    assert_int_equal(srv_fault_parse(nul, sizeof(nul) - 1, &r, err, sizeof(err)), -1);
    assert_int_equal(parse(" {\"mode\":\"none\"}\r\n", &r, err), 0);
}

static void a_mode_with_a_duration_expires_on_time(void **state)
{
    (void)state;
    srv_fault_state st = {0};
    srv_fault_request r = {.mode = SRV_FAULT_REFUSE, .duration_ms = 1000};
    srv_fault_apply(&st, &r, 5000);
    assert_int_equal(st.mode, SRV_FAULT_REFUSE);
    srv_fault_mode ended = SRV_FAULT_NONE;
    assert_false(srv_fault_expire(&st, 5999, &ended));
    assert_true(srv_fault_expire(&st, 6000, &ended));
    assert_int_equal(ended, SRV_FAULT_REFUSE);
    assert_int_equal(st.mode, SRV_FAULT_NONE);
    assert_false(srv_fault_expire(&st, 9000, &ended));
}

static void a_mode_without_a_duration_never_expires(void **state)
{
    (void)state;
    srv_fault_state st = {0};
    srv_fault_request r = {.mode = SRV_FAULT_BLACKHOLE};
    srv_fault_apply(&st, &r, 0);
    srv_fault_mode ended;
    assert_false(srv_fault_expire(&st, INT64_MAX / 2, &ended));
    assert_int_equal(st.mode, SRV_FAULT_BLACKHOLE);
}

static void close_all_is_one_shot_and_leaves_normal_service(void **state)
{
    (void)state;
    srv_fault_state st = {.mode = SRV_FAULT_BLACKHOLE};
    srv_fault_request r = {.mode = SRV_FAULT_CLOSE_ALL, .duration_ms = 5000};
    srv_fault_apply(&st, &r, 10);
    assert_int_equal(st.mode, SRV_FAULT_NONE);
    assert_int_equal(st.until_ms, 0);
}

static void retry_after_comes_from_the_request_or_the_time_left(void **state)
{
    (void)state;
    srv_fault_state st = {0};
    srv_fault_request r = {.mode = SRV_FAULT_REFUSE, .duration_ms = 2500};
    srv_fault_apply(&st, &r, 0);
    assert_int_equal(srv_fault_retry_after_s(&st, 0), 3);    /* 2.5 s rounds up */
    assert_int_equal(srv_fault_retry_after_s(&st, 2000), 1);
    r.retry_after_s = 9;
    srv_fault_apply(&st, &r, 0);
    assert_int_equal(srv_fault_retry_after_s(&st, 0), 9);
    r.retry_after_s = 0;
    r.duration_ms = 0;
    srv_fault_apply(&st, &r, 0);
    assert_int_equal(srv_fault_retry_after_s(&st, 123456), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_mode_name_round_trips),
        cmocka_unit_test(a_mode_alone_lasts_until_the_next_call),
        cmocka_unit_test(durations_delays_and_retry_after_are_read),
        cmocka_unit_test(bad_bodies_are_refused_with_a_reason),
        cmocka_unit_test(text_after_the_json_body_is_malformed),
        cmocka_unit_test(a_mode_with_a_duration_expires_on_time),
        cmocka_unit_test(a_mode_without_a_duration_never_expires),
        cmocka_unit_test(close_all_is_one_shot_and_leaves_normal_service),
        cmocka_unit_test(retry_after_comes_from_the_request_or_the_time_left),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
