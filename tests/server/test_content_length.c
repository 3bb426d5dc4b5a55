/* A request's Content-Length (server/content_length.c): digits only, as
 * RFC 9110 8.6 has it, no longer than libwebsockets reads; and whether
 * libwebsockets reads a body, as lws_http_action() decides it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "server/content_length.h"

static bool parse(const char *v, int64_t *out)
{
    *out = -1;
    return srv_content_length(v, strlen(v), out);
}

static void digits_are_the_length(void **state)
{
    (void)state;
    int64_t n;
    assert_true(parse("0", &n));
    assert_int_equal(n, 0);
    assert_true(parse("5", &n));
    assert_int_equal(n, 5);
    assert_true(parse("007", &n));
    assert_int_equal(n, 7);
    assert_true(parse("1048576", &n));
    assert_int_equal(n, 1048576);
    assert_true(parse("9223372036854775807", &n));
    assert_int_equal(n, INT64_MAX);
}

static void spaces_and_tabs_around_the_digits_are_allowed(void **state)
{
    (void)state;
    int64_t n;
    assert_true(parse(" 12", &n));
    assert_int_equal(n, 12);
    assert_true(parse("12 \t", &n));
    assert_int_equal(n, 12);
    assert_true(parse("\t 12  ", &n));
    assert_int_equal(n, 12);
}

static void anything_but_digits_is_refused(void **state)
{
    (void)state;
    int64_t n;
    const char *bad[] = {"", " ", "\t", "+5", "-1", "-0", "5,5", "5, 5", "5 5", "0x10",
                         "1e3", "5.0", "five", "5\r", "\n5", "\v5", "5;", "\xd9\xa5"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(parse(bad[i], &n));
    assert_int_equal(n, -1); /* untouched */
}

static void only_the_given_bytes_are_read(void **state)
{
    (void)state;
    int64_t n;
    assert_true(srv_content_length("123456", 3, &n));
    assert_int_equal(n, 123);
    assert_false(srv_content_length("12x", 3, &n));
    assert_false(srv_content_length("", 0, &n));
}

static void a_number_too_big_is_the_largest_there_is(void **state)
{
    (void)state;
    int64_t n;
    assert_true(parse("9223372036854775808", &n));
    assert_int_equal(n, INT64_MAX);
    assert_true(parse("99999999999999999999999999999", &n));
    assert_int_equal(n, INT64_MAX);
}

static void longer_than_libwebsockets_reads_is_refused(void **state)
{
    (void)state;
    int64_t n;
    char v[SRV_LWS_CLEN_MAX + 2];
    memset(v, '0', sizeof(v));
    v[SRV_LWS_CLEN_MAX - 1] = '5';
    v[SRV_LWS_CLEN_MAX] = '\0'; /* 30 bytes: read */
    assert_true(parse(v, &n));
    assert_int_equal(n, 5);
    v[SRV_LWS_CLEN_MAX - 1] = '0';
    v[SRV_LWS_CLEN_MAX] = '5';
    v[SRV_LWS_CLEN_MAX + 1] = '\0'; /* 31: libwebsockets would take the method's default */
    assert_false(parse(v, &n));
    assert_true(parse("                        5     ", &n)); /* 30 with the spaces */
    assert_false(parse("                         5     ", &n)); /* 31 */
}

static void libwebsockets_reads_a_body_for_any_number_but_zero(void **state)
{
    (void)state;
    assert_true(srv_lws_reads_body("5", false));
    assert_true(srv_lws_reads_body(" 3", false));
    assert_true(srv_lws_reads_body("+3", false));
    assert_true(srv_lws_reads_body("7abc", false));
    assert_false(srv_lws_reads_body("0", true));
    assert_false(srv_lws_reads_body("-0", true));
    assert_false(srv_lws_reads_body("abc", true));
    assert_false(srv_lws_reads_body("", true));
}

static void a_negative_length_is_a_body_for_libwebsockets(void **state)
{
    (void)state;
    /* atoll("-1") kept in an unsigned field: 2^64 - 1 bytes to read */
    assert_true(srv_lws_reads_body("-1", false));
    assert_true(srv_lws_reads_body("-99999999999999999999", false));
}

static void without_a_length_post_put_and_patch_have_a_body(void **state)
{
    (void)state;
    assert_true(srv_lws_reads_body(NULL, true));
    assert_false(srv_lws_reads_body(NULL, false));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(digits_are_the_length),
        cmocka_unit_test(spaces_and_tabs_around_the_digits_are_allowed),
        cmocka_unit_test(anything_but_digits_is_refused),
        cmocka_unit_test(only_the_given_bytes_are_read),
        cmocka_unit_test(a_number_too_big_is_the_largest_there_is),
        cmocka_unit_test(longer_than_libwebsockets_reads_is_refused),
        cmocka_unit_test(libwebsockets_reads_a_body_for_any_number_but_zero),
        cmocka_unit_test(a_negative_length_is_a_body_for_libwebsockets),
        cmocka_unit_test(without_a_length_post_put_and_patch_have_a_body),
    };
    return cmocka_run_group_tests_name("content_length", tests, NULL, NULL);
}
