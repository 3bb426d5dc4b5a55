/* URL parsing for the transport (secrets and redaction: test_redact.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "transport/url.h"

static void websocket_urls_split_into_host_port_and_path(void **state)
{
    (void)state;
    ll_url u;
    assert_int_equal(ll_url_parse("ws://127.0.0.1:8080/ws?store=s1&user=u", &u), 0);
    assert_false(u.secure);
    assert_true(u.websocket);
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 8080);
    assert_string_equal(u.path, "/ws?store=s1&user=u");
    ll_url_free(&u);
    assert_int_equal(ll_url_parse("wss://pos.example.com", &u), 0);
    assert_true(u.secure);
    assert_int_equal(u.port, 443);
    assert_string_equal(u.path, "/");
    ll_url_free(&u);
    assert_int_equal(ll_url_parse("ws://user:pw@[::1]:9000/a#frag", &u), 0);
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 9000);
    assert_string_equal(u.userinfo, "user:pw");
    assert_string_equal(u.path, "/a");
    ll_url_free(&u);
    assert_int_equal(ll_url_parse("https://h/api/v1/websockets/health", &u), 0);
    assert_false(u.websocket);
    assert_true(u.secure);
    ll_url_free(&u);
    assert_int_equal(ll_url_parse("ws://h?x=1", &u), 0);
    assert_string_equal(u.path, "/?x=1");
    ll_url_free(&u);
}

static void the_userinfo_ends_at_the_last_at_sign(void **state)
{
    (void)state;
    /* the host was "ss@h.example", and logs showed that part of the
     * password (found by tests/fuzz/fuzz_url) */
    ll_url u;
    assert_int_equal(ll_url_parse("wss://user:p@ss@h.example:8443/ws", &u), 0);
    assert_string_equal(u.userinfo, "user:p@ss");
    assert_string_equal(u.host, "h.example");
    assert_int_equal(u.port, 8443);
    char shown[64];
    ll_url_display(&u, shown, sizeof(shown));
    assert_string_equal(shown, "wss://h.example:8443/ws");
    ll_url_free(&u);
}

static void malformed_urls_are_refused(void **state)
{
    (void)state;
    const char *bad[] = {NULL, "", "ftp://h/", "ws://", "ws://:80/", "ws://h:0/", "ws://h:70000/",
                         "ws://h:8x/", "ws://[::1/", "ws://h :80/", "ws://h:/",
                         "ws://[[]/", "ws://a]b/", "ws://[a[b]:80/"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ll_url u;
        if (ll_url_parse(bad[i], &u) == 0)
            fail_msg("accepted %s", bad[i] ? bad[i] : "NULL");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(websocket_urls_split_into_host_port_and_path),
        cmocka_unit_test(the_userinfo_ends_at_the_last_at_sign),
        cmocka_unit_test(malformed_urls_are_refused),
    };
    return cmocka_run_group_tests_name("url", tests, NULL, NULL);
}
