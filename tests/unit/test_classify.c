/* Failure classification: which failures retry, which are permanent, and
 * the server's Retry-After hint. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "transport/classify.h"

static void upgrade_statuses_that_will_not_change_are_permanent(void **state)
{
    (void)state;
    const int permanent[] = {400, 401, 403, 404, 405, 410, 426, 300, 301, 302, 303, 307, 308};
    const int transient[] = {408, 425, 429, 500, 502, 503, 504};
    for (size_t i = 0; i < sizeof(permanent) / sizeof(permanent[0]); i++) {
        ll_event ev = {0};
        ll_classify_http(permanent[i], NULL, &ev);
        assert_true(ev.permanent);
        assert_int_equal(ev.error, LIFELINE_ERR_HTTP_STATUS);
        assert_int_equal(ev.http_status, permanent[i]);
    }
    for (size_t i = 0; i < sizeof(transient) / sizeof(transient[0]); i++) {
        ll_event ev = {0};
        ll_classify_http(transient[i], NULL, &ev);
        assert_false(ev.permanent);
    }
}

static void retry_after_is_a_hint_on_429_and_503_only(void **state)
{
    (void)state;
    ll_event ev = {0};
    ll_classify_http(503, "12", &ev);
    assert_int_equal(ev.retry_after_ms, 12000);
    ll_classify_http(429, " 3 ", &ev);
    assert_int_equal(ev.retry_after_ms, 3000);
    ll_classify_http(500, "12", &ev);
    assert_int_equal(ev.retry_after_ms, 0);
    assert_int_equal(ll_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), 0);
    assert_int_equal(ll_parse_retry_after("12x"), 0);
    assert_int_equal(ll_parse_retry_after(NULL), 0);
    assert_int_equal(ll_parse_retry_after("99999999999"), 86400000);
    /* a long number is no excuse for what follows it (it gave a day; found
     * by tests/fuzz/fuzz_classify) */
    assert_int_equal(ll_parse_retry_after("9999999x"), 0);
    assert_int_equal(ll_parse_retry_after("99999999999 \t"), 86400000);
}

static void connection_errors_map_to_their_kind(void **state)
{
    (void)state;
    const struct { const char *reason; int error; int permanent; } rows[] = {
        {"getaddrinfo (ipv4) failed", LIFELINE_ERR_DNS, 0},
        {"Unable to connect", LIFELINE_ERR_CONNECTION_REFUSED, 0},
        {"connect failed", LIFELINE_ERR_CONNECTION_REFUSED, 0},
        {"HS: ws upgrade unauthorized", LIFELINE_ERR_HTTP_STATUS, 1},
        {"server's cert didn't look good, X509_V_ERR = 18", LIFELINE_ERR_TLS, 1},
        {"lws_ssl_client_connect2 failed", LIFELINE_ERR_TLS, 0},
        {"HS: ACCEPT missing", LIFELINE_ERR_PROTOCOL, 0},
        {"timed out", LIFELINE_ERR_CONNECT_TIMEOUT, 0},
        {"read failed", LIFELINE_ERR_CONNECTION_RESET, 0},
        {NULL, LIFELINE_ERR_CONNECTION_RESET, 0},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        ll_event ev = {0};
        ll_classify_connect_error(rows[i].reason, &ev);
        if (ev.error != rows[i].error || ev.permanent != rows[i].permanent)
            fail_msg("%s: got %s permanent=%d", rows[i].reason ? rows[i].reason : "NULL",
                     lifeline_error_name(ev.error), ev.permanent);
    }
}

static void a_status_is_three_digits_from_100_to_599(void **state)
{
    (void)state;
    const struct { const char *line; int status; } rows[] = {
        {"101 Switching Protocols", 101},
        {"101", 101},
        {"302 Found", 302},
        {"599 x", 599},
        {"100 Continue", 100},
        {"404 ", 404},
        {"999999999999 Huge", 0},  /* atoi() made it -727379969 */
        {"-401 Negative", 0},
        {"+401", 0},
        {"20 Short", 0},
        {"2000", 0},
        {"101abc", 0},             /* atoi() made it 101 */
        {"099 Low", 0},
        {"600 High", 0},
        {" 101", 0},
        {"10a", 0},
        {"101\tTab", 0},
        {"", 0},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int got = ll_parse_http_status(rows[i].line, strlen(rows[i].line));
        if (got != rows[i].status)
            fail_msg("\"%s\": %d, want %d", rows[i].line, got, rows[i].status);
    }
    /* only len bytes are read: no NUL needed, none looked for */
    assert_int_equal(ll_parse_http_status("2004", 3), 200);
    assert_int_equal(ll_parse_http_status("200 OK", 2), 0);
    assert_int_equal(ll_parse_http_status(NULL, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(upgrade_statuses_that_will_not_change_are_permanent),
        cmocka_unit_test(retry_after_is_a_hint_on_429_and_503_only),
        cmocka_unit_test(connection_errors_map_to_their_kind),
        cmocka_unit_test(a_status_is_three_digits_from_100_to_599),
    };
    return cmocka_run_group_tests_name("classify", tests, NULL, NULL);
}
