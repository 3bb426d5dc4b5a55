/* URL parsing for the transport, and keeping secrets out of logs. */
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

static void malformed_urls_are_refused(void **state)
{
    (void)state;
    const char *bad[] = {NULL, "", "ftp://h/", "ws://", "ws://:80/", "ws://h:0/", "ws://h:70000/",
                         "ws://h:8x/", "ws://[::1/", "ws://h :80/", "ws://h:/"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ll_url u;
        if (ll_url_parse(bad[i], &u) == 0)
            fail_msg("accepted %s", bad[i] ? bad[i] : "NULL");
    }
}

static void secrets_are_userinfo_query_values_and_webhook_tokens(void **state)
{
    (void)state;
    char *s[8];
    size_t n = ll_url_secrets("wss://bob:hunter2@h/ws?token=abc.def&store=7", s, 8);
    assert_int_equal(n, 3);
    assert_string_equal(s[0], "bob:hunter2");
    assert_string_equal(s[1], "abc.def");
    assert_string_equal(s[2], "7");
    for (size_t i = 0; i < n; i++)
        free(s[i]);
    n = ll_url_secrets("https://discord.com/api/webhooks/123/SeCrEtToKeN", s, 8);
    assert_int_equal(n, 1);
    assert_string_equal(s[0], "SeCrEtToKeN");
    free(s[0]);
}

static void redaction_replaces_every_occurrence(void **state)
{
    (void)state;
    char *secrets[] = {"hunter2", "abc.def", "7"};
    char out[128];
    ll_redact("pw hunter2 tok=abc.def again hunter2 store=7", out, sizeof(out), secrets, 3);
    assert_string_equal(out, "pw *** tok=*** again *** store=7"); /* < 3 bytes: kept */
    ll_redact("hunter2hunter2", out, 8, secrets, 3);
    assert_string_equal(out, "******"); /* truncated, still NUL-terminated */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(websocket_urls_split_into_host_port_and_path),
        cmocka_unit_test(malformed_urls_are_refused),
        cmocka_unit_test(secrets_are_userinfo_query_values_and_webhook_tokens),
        cmocka_unit_test(redaction_replaces_every_occurrence),
    };
    return cmocka_run_group_tests_name("url", tests, NULL, NULL);
}
