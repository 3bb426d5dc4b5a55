/* The notifier's delivery policy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "notify/policy.h"

static const ll_retry_policy P = {.max_retries = 3, .max_rate_limited = 5, .base_ms = 1000,
                                  .max_wait_ms = 60000};

static void any_2xx_is_success(void **state)
{
    (void)state;
    int64_t w;
    assert_int_equal(ll_notify_decide(&P, 1, 1, 204, NULL, NULL, 0, 0, &w), LL_VERDICT_OK);
    assert_int_equal(ll_notify_decide(&P, 0, 1, 202, NULL, NULL, 0, 0, &w), LL_VERDICT_OK);
    assert_int_equal(ll_notify_decide(&P, 1, 1, 200, NULL, NULL, 0, 0, &w), LL_VERDICT_OK);
}

static void rate_limits_wait_retry_after_from_the_body_or_header(void **state)
{
    (void)state;
    int64_t w;
    const char *body = "{\"message\":\"You are being rate limited.\",\"retry_after\":1.234,\"global\":false}";
    assert_int_equal(ll_notify_decide(&P, 1, 1, 429, body, "9", 0, 0, &w), LL_VERDICT_RETRY);
    assert_int_equal(w, 1234); /* the body wins: it is the precise one */
    assert_int_equal(ll_notify_decide(&P, 1, 1, 429, NULL, "2.5", 0, 0, &w), LL_VERDICT_RETRY);
    assert_int_equal(w, 2500);
    assert_int_equal(ll_notify_decide(&P, 1, 1, 429, "not json", NULL, 0, 0, &w), LL_VERDICT_RETRY);
    assert_int_equal(w, 1000); /* neither: a second */
    assert_int_equal(ll_notify_decide(&P, 1, 1, 429, NULL, "3600", 0, 0, &w), LL_VERDICT_FAIL);
    assert_int_equal(ll_notify_decide(&P, 1, 1, 429, NULL, "1", 0, 5, &w), LL_VERDICT_FAIL);
}

static void an_absurdly_long_retry_after_gives_up(void **state)
{
    (void)state;
    int64_t w;
    /* past int64_t milliseconds: gave a retry after a second (found by
     * tests/fuzz/fuzz_policy, undefined behaviour under UBSan) */
    assert_int_equal(ll_notify_decide(&P, 1, 1, 429, "{\"retry_after\":1e300}", NULL, 0, 0, &w),
                     LL_VERDICT_FAIL);
    assert_int_equal(ll_notify_decide(&P, 1, 1, 429, NULL, "1e20", 0, 0, &w), LL_VERDICT_FAIL);
    assert_int_equal(ll_notify_decide(&P, 1, 1, 429, NULL, "inf", 0, 0, &w), LL_VERDICT_FAIL);
    assert_true(ll_retry_after_ms(NULL, "1e300") == INT64_MAX);
}

static void server_errors_and_network_errors_back_off_a_bounded_number_of_times(void **state)
{
    (void)state;
    int64_t w;
    for (int f = 0; f < 3; f++) {
        assert_int_equal(ll_notify_decide(&P, 1, 1, 503, NULL, NULL, f, 0, &w), LL_VERDICT_RETRY);
        assert_int_equal(w, 1000LL << f);
        assert_int_equal(ll_notify_decide(&P, 1, 0, 0, NULL, NULL, f, 0, &w), LL_VERDICT_RETRY);
    }
    assert_int_equal(ll_notify_decide(&P, 1, 1, 500, NULL, NULL, 3, 0, &w), LL_VERDICT_FAIL);
    assert_int_equal(ll_notify_decide(&P, 1, 0, 0, NULL, NULL, 3, 0, &w), LL_VERDICT_FAIL);
}

static void client_errors_do_not_retry_and_404_means_gone(void **state)
{
    (void)state;
    int64_t w;
    assert_int_equal(ll_notify_decide(&P, 1, 1, 400, NULL, NULL, 0, 0, &w), LL_VERDICT_FAIL);
    assert_int_equal(ll_notify_decide(&P, 1, 1, 401, NULL, NULL, 0, 0, &w), LL_VERDICT_FAIL);
    assert_int_equal(ll_notify_decide(&P, 1, 1, 404, NULL, NULL, 0, 0, &w), LL_VERDICT_GONE);
    assert_int_equal(ll_notify_decide(&P, 0, 1, 404, NULL, NULL, 0, 0, &w), LL_VERDICT_FAIL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(any_2xx_is_success),
        cmocka_unit_test(rate_limits_wait_retry_after_from_the_body_or_header),
        cmocka_unit_test(an_absurdly_long_retry_after_gives_up),
        cmocka_unit_test(server_errors_and_network_errors_back_off_a_bounded_number_of_times),
        cmocka_unit_test(client_errors_do_not_retry_and_404_means_gone),
    };
    return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
