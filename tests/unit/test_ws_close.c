/* A received close frame's payload (src/proto/ws_close.c): which codes may
 * be echoed, and what a bad payload is answered with. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "proto/ws_close.h"

static void registered_and_application_codes_are_valid_reserved_ones_not(void **state)
{
    (void)state;
    const int valid[] = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011,
                         1012, 1013, 1014, 3000, 3999, 4000, 4999};
    const int invalid[] = {0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000,
                           2999, 5000, 65535, -1};
    for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
        assert_true(ll_ws_close_code_valid(valid[i]));
    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
        assert_false(ll_ws_close_code_valid(invalid[i]));
    /* the whole range, against the rule as RFC 6455 §7.4 states it */
    for (int code = -10; code < 70000; code++) {
        int rule = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
                   (code >= 3000 && code <= 4999);
        assert_int_equal(ll_ws_close_code_valid(code), rule);
    }
}

static void an_empty_payload_is_no_status_and_valid(void **state)
{
    (void)state;
    int code = -1;
    assert_int_equal(ll_ws_close_check("", 0, &code), 0);
    assert_int_equal(code, 1005);
    assert_int_equal(ll_ws_close_check(NULL, 0, NULL), 0);
}

static void a_valid_code_with_or_without_a_reason_is_echoed(void **state)
{
    (void)state;
    int code = 0;
    assert_int_equal(ll_ws_close_check("\x03\xe8", 2, &code), 0);
    assert_int_equal(code, 1000);
    assert_int_equal(ll_ws_close_check("\x0f\xa0goodbye \xce\xba", 12, &code), 0);
    assert_int_equal(code, 4000);
    /* a reason of the largest size a control frame allows */
    char big[125];
    big[0] = 0x03;
    big[1] = (char)0xe9;
    memset(big + 2, 'x', sizeof(big) - 2);
    assert_int_equal(ll_ws_close_check(big, sizeof(big), &code), 0);
    assert_int_equal(code, 1001);
}

static void a_bad_payload_is_answered_1002_or_1007(void **state)
{
    (void)state;
    int code = -1;
    assert_int_equal(ll_ws_close_check("\x03", 1, &code), 1002);
    assert_int_equal(code, 0);
    assert_int_equal(ll_ws_close_check("\x00\x00", 2, &code), 1002);
    assert_int_equal(code, 0);
    assert_int_equal(ll_ws_close_check("\x03\xe7", 2, &code), 1002);   /* 999 */
    assert_int_equal(ll_ws_close_check("\x03\xed", 2, &code), 1002);   /* 1005 */
    assert_int_equal(ll_ws_close_check("\x03\xf7", 2, &code), 1002);   /* 1015 */
    assert_int_equal(ll_ws_close_check("\x0b\xb7", 2, &code), 1002);   /* 2999 */
    assert_int_equal(ll_ws_close_check("\x13\x88", 2, &code), 1002);   /* 5000 */
    assert_int_equal(code, 5000);
    assert_int_equal(ll_ws_close_check("\xff\xff", 2, &code), 1002);
    assert_int_equal(code, 65535);
    /* a reason that is not UTF-8, or ends inside a character */
    assert_int_equal(ll_ws_close_check("\x03\xe8\xce\xba\xed\xa0\x80", 7, &code), 1007);
    assert_int_equal(code, 1000);
    assert_int_equal(ll_ws_close_check("\x03\xe8\xe2\x82", 4, &code), 1007);
    /* a bad code wins over a bad reason */
    assert_int_equal(ll_ws_close_check("\x13\x88\xff", 3, &code), 1002);
    /* more than a control frame may carry */
    char big[126];
    big[0] = 0x03;
    big[1] = (char)0xe8;
    memset(big + 2, 'x', sizeof(big) - 2);
    assert_int_equal(ll_ws_close_check(big, sizeof(big), &code), 1002);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(registered_and_application_codes_are_valid_reserved_ones_not),
        cmocka_unit_test(an_empty_payload_is_no_status_and_valid),
        cmocka_unit_test(a_valid_code_with_or_without_a_reason_is_echoed),
        cmocka_unit_test(a_bad_payload_is_answered_1002_or_1007),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
