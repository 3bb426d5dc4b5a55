/* The small pure helpers: ISO 8601 timestamps, connection statistics,
 * request sniffing, and the name rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "server/isotime.h"
#include "server/names.h"
#include "server/sniff.h"
#include "server/stats.h"

static void timestamps_are_utc_with_milliseconds(void **state)
{
    (void)state;
    char buf[SRV_ISO_LEN];
    assert_string_equal(srv_iso8601(0, buf, sizeof(buf)), "1970-01-01T00:00:00.000Z");
    assert_string_equal(srv_iso8601(1700000000123, buf, sizeof(buf)), "2023-11-14T22:13:20.123Z");
    assert_string_equal(srv_iso8601(951782400000, buf, sizeof(buf)), "2000-02-29T00:00:00.000Z");
    assert_string_equal(srv_iso8601(4102444799999, buf, sizeof(buf)), "2099-12-31T23:59:59.999Z");
    assert_string_equal(srv_iso8601(-1, buf, sizeof(buf)), "1969-12-31T23:59:59.999Z");
    char small[8];
    assert_string_equal(srv_iso8601(0, small, sizeof(small)), "");
}

static void the_average_covers_closed_and_open_connections(void **state)
{
    (void)state;
    srv_stats s = {0};
    assert_true(srv_stats_average_ms(&s, 1000) == 0.0);
    srv_stats_opened(&s, 0);    /* A: 0 .. 100 */
    srv_stats_opened(&s, 50);   /* B: 50 .. open */
    srv_stats_closed(&s, 0, 100);
    assert_int_equal(s.total, 2);
    assert_int_equal(s.active, 1);
    /* at 250: A lasted 100, B has lasted 200 so far */
    assert_true(srv_stats_average_ms(&s, 250) == 150.0);
    srv_stats_closed(&s, 50, 250);
    assert_int_equal(s.active, 0);
    assert_true(srv_stats_average_ms(&s, 99999) == 150.0);
    srv_stats_closed(&s, 0, 1); /* more closes than opens are ignored */
    assert_int_equal(s.active, 0);
}

static void handshakes_for_ws_are_told_from_other_requests(void **state)
{
    (void)state;
    assert_int_equal(srv_sniff_request("GET /ws?store=s", 15), SRV_SNIFF_WS);
    assert_int_equal(srv_sniff_request("GET /ws HTTP/1.1", 16), SRV_SNIFF_WS);
    assert_int_equal(srv_sniff_request("GET /ws/", 8), SRV_SNIFF_WS);
    assert_int_equal(srv_sniff_request("GET /api/v1/websockets/health", 29), SRV_SNIFF_OTHER);
    assert_int_equal(srv_sniff_request("GET /wsx", 8), SRV_SNIFF_OTHER);
    assert_int_equal(srv_sniff_request("POST /ws", 8), SRV_SNIFF_OTHER);
    assert_int_equal(srv_sniff_request("\x16\x03\x01", 3), SRV_SNIFF_OTHER);
    assert_int_equal(srv_sniff_request("GET /w", 6), SRV_SNIFF_MORE);
    assert_int_equal(srv_sniff_request("GET /ws", 7), SRV_SNIFF_MORE);
    assert_int_equal(srv_sniff_request("", 0), SRV_SNIFF_MORE);
}

static void names_are_short_printable_utf8(void **state)
{
    (void)state;
    assert_true(srv_name_valid("store-1", 7));
    assert_true(srv_name_valid("caf\xc3\xa9 \xf0\x9f\x8d\x95", 10));
    assert_false(srv_name_valid("", 0));
    assert_false(srv_name_valid("a\tb", 3));
    assert_false(srv_name_valid("a\x7f", 2));
    char name[130];
    memset(name, 'n', sizeof(name));
    assert_true(srv_name_valid(name, 128));
    assert_false(srv_name_valid(name, 129));
}

static void c1_controls_are_not_name_characters(void **state)
{
    (void)state;
    assert_false(srv_name_valid("a\xc2\x80", 3));  /* U+0080 */
    assert_false(srv_name_valid("\xc2\x85z", 3));  /* U+0085, next line */
    assert_false(srv_name_valid("a\xc2\x9f", 3));  /* U+009F */
    assert_true(srv_name_valid("a\xc2\xa0", 3));   /* U+00A0 is not a control */
    assert_true(srv_name_valid("\xc3\x85", 2));    /* U+00C5: 0x85 as a continuation byte */
    assert_false(srv_name_valid("victim\0x", 8));  /* a NUL inside the given length */
}

static void utf8_validation_follows_the_standard(void **state)
{
    (void)state;
    const struct { const char *s; int ok; } cases[] = {
        {"plain", 1}, {"\xc3\xa9", 1}, {"\xe2\x82\xac", 1}, {"\xf0\x9f\x98\x80", 1},
        {"\xc3", 0}, {"\xe2\x82", 0}, {"\x80", 0}, {"\xc0\xaf", 0} /* overlong */,
        {"\xed\xa0\x80", 0} /* surrogate */, {"\xf4\x90\x80\x80", 0} /* > U+10FFFF */,
        {"\xfe", 0}, {"ok\xc3\xa9\xc3", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(srv_utf8_valid((const unsigned char *)cases[i].s, strlen(cases[i].s)),
                         cases[i].ok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(timestamps_are_utc_with_milliseconds),
        cmocka_unit_test(the_average_covers_closed_and_open_connections),
        cmocka_unit_test(handshakes_for_ws_are_told_from_other_requests),
        cmocka_unit_test(names_are_short_printable_utf8),
        cmocka_unit_test(c1_controls_are_not_name_characters),
        cmocka_unit_test(utf8_validation_follows_the_standard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
