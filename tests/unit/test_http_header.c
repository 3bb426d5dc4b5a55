/* A header line of a webhook's answer, as libcurl hands it over
 * (notify/http_header.c): the field picked by name, its value trimmed, and
 * lines refused whole rather than cut or misread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "notify/http_header.h"

static char out[16];

static bool value(const char *line)
{
    strcpy(out, "untouched");
    return ll_http_header_value(line, strlen(line), "Retry-After", out, sizeof(out));
}

static void the_named_field_gives_its_value(void **state)
{
    (void)state;
    assert_true(value("Retry-After: 5\r\n"));
    assert_string_equal(out, "5");
    assert_true(value("Retry-After:0.25\n"));
    assert_string_equal(out, "0.25");
    assert_true(value("Retry-After: Fri, 31 Dec\r\n"));
    assert_string_equal(out, "Fri, 31 Dec");
}

static void the_name_is_matched_without_regard_to_case(void **state)
{
    (void)state;
    assert_true(value("retry-after: 7\r\n"));
    assert_string_equal(out, "7");
    assert_true(value("RETRY-AFTER: 8\r\n"));
    assert_string_equal(out, "8");
}

static void whitespace_around_the_value_is_dropped(void **state)
{
    (void)state;
    assert_true(value("Retry-After: \t 3 \t\r\n"));
    assert_string_equal(out, "3");
    assert_true(value("Retry-After:   \r\n"));
    assert_string_equal(out, "");
    assert_true(value("Retry-After:"));
    assert_string_equal(out, "");
    assert_true(value("Retry-After: 1\t2\r\n")); /* HTAB inside a value is allowed */
    assert_string_equal(out, "1\t2");
}

static void other_lines_leave_the_value_as_it_was(void **state)
{
    (void)state;
    const char *other[] = {
        "HTTP/1.1 429 Too Many Requests\r\n", "Content-Type: application/json\r\n",
        "Retry-After-Ms: 5\r\n", "Retry-After : 5\r\n", " Retry-After: 5\r\n",
        "Retry-Afte: 5\r\n", "Retry-After\r\n", "Retry-After", "\r\n", "",
    };
    for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
        assert_false(value(other[i]));
        assert_string_equal(out, "untouched");
    }
}

static void a_value_with_a_control_byte_is_refused(void **state)
{
    (void)state;
    assert_false(value("Retry-After: 5\r6\r\n"));
    assert_false(value("Retry-After: 5\n6\r\n"));
    assert_false(value("Retry-After: \x7f\r\n"));
    assert_false(ll_http_header_value("Retry-After: 5\0 6\r\n", 20, "Retry-After", out,
                                      sizeof(out)));
    assert_string_equal(out, "untouched");
}

static void a_value_too_long_is_refused_not_cut(void **state)
{
    (void)state;
    assert_true(value("Retry-After: 123456789012345\r\n")); /* 15 and the NUL: fits */
    assert_string_equal(out, "123456789012345");
    assert_false(value("Retry-After: 1234567890123456\r\n"));
    assert_string_equal(out, "untouched");
    assert_false(ll_http_header_value("Retry-After: 1", 14, "Retry-After", out, 0));
}

static void only_the_given_bytes_are_read(void **state)
{
    (void)state;
    strcpy(out, "untouched");
    assert_true(ll_http_header_value("Retry-After: 12345", 15, "Retry-After", out, sizeof(out)));
    assert_string_equal(out, "12");
    assert_false(ll_http_header_value("Retry-After: 1", 11, "Retry-After", out, sizeof(out)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_named_field_gives_its_value),
        cmocka_unit_test(the_name_is_matched_without_regard_to_case),
        cmocka_unit_test(whitespace_around_the_value_is_dropped),
        cmocka_unit_test(other_lines_leave_the_value_as_it_was),
        cmocka_unit_test(a_value_with_a_control_byte_is_refused),
        cmocka_unit_test(a_value_too_long_is_refused_not_cut),
        cmocka_unit_test(only_the_given_bytes_are_read),
    };
    return cmocka_run_group_tests_name("http_header", tests, NULL, NULL);
}
