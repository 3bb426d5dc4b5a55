/* Secrets and redaction (src/client/redact.c): which parts of a URL are
 * secret, text with every secret replaced, lifeline_redact_url(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client/redact.h"
#include "lifeline/lifeline.h"

/* ll_redact into a buffer large enough, for the cases below. */
static const char *redact(const char *text, char *const *secrets, size_t n)
{
    static char out[256];
    ll_redact(text, out, sizeof(out), secrets, n);
    return out;
}

static void the_longest_secret_wins_at_each_position(void **state)
{
    (void)state;
    /* issue 10 item 18: the first match left the longer secret's tail */
    char *short_first[] = {"abc", "abcdef"};
    assert_string_equal(redact("token=abcdef", short_first, 2), "token=***");
    char *long_first[] = {"abcdef", "abc"};
    assert_string_equal(redact("token=abcdef", long_first, 2), "token=***");
    /* the shorter one still goes where the longer one is not */
    assert_string_equal(redact("a=abc b=abcdef c=abcd", short_first, 2), "a=*** b=*** c=***d");
    /* a secret that contains another, further in */
    char *nested[] = {"cdef", "abcdefgh"};
    assert_string_equal(redact("x abcdefgh y", nested, 2), "x *** y");
}

static void every_occurrence_is_replaced(void **state)
{
    (void)state;
    char *secrets[] = {"hunter2", "abc.def", "7"};
    assert_string_equal(redact("pw hunter2 tok=abc.def again hunter2 store=7", secrets, 3),
                        "pw *** tok=*** again *** store=7"); /* < 3 bytes: kept */
    char *none[] = {NULL};
    assert_string_equal(redact("nothing to hide", none, 1), "nothing to hide");
    assert_string_equal(redact("nothing to hide", NULL, 0), "nothing to hide");
}

static void a_short_buffer_is_cut_and_terminated(void **state)
{
    (void)state;
    char *secrets[] = {"hunter2"};
    char out[8];
    ll_redact("hunter2hunter2", out, sizeof(out), secrets, 1);
    assert_string_equal(out, "******");
    out[0] = 'x';
    ll_redact("abc", out, 1, secrets, 1);
    assert_string_equal(out, "");
}

/* The secret parts of url, as strings joined by '|'. */
static const char *parts(const char *url)
{
    static char out[256];
    size_t o = 0;
    ll_span sp;
    out[0] = 0;
    for (size_t pos = 0; ll_url_next_secret(url, pos, &sp); pos = sp.start + sp.len) {
        assert_true(sp.start >= pos);
        assert_true(sp.len > 0);
        assert_true(o + sp.len + 2 < sizeof(out));
        if (o)
            out[o++] = '|';
        memcpy(out + o, url + sp.start, sp.len);
        o += sp.len;
        out[o] = 0;
    }
    return out;
}

static void url_secrets_are_userinfo_query_values_fragment_and_webhook_token(void **state)
{
    (void)state;
    assert_string_equal(parts("wss://bob:hunter2@h/ws?token=abc.def&store=7"),
                        "bob:hunter2|abc.def|7");
    assert_string_equal(parts("https://discord.com/api/webhooks/123/SeCrEtToKeN"), "SeCrEtToKeN");
    assert_string_equal(parts("https://discord.com/api/webhooks/123/SeCrEt?wait=true"),
                        "SeCrEt|true");
    /* an item without '=' may be a token; empty values and items are not parts */
    assert_string_equal(parts("ws://h/ws?sessionkey&a=&&b=xyz#frag"), "sessionkey|xyz|frag");
    /* the last '@' of the authority ends the userinfo */
    assert_string_equal(parts("ws://a@b:c@h:80/"), "a@b:c");
    /* a '?' after the '#' belongs to the fragment; "://" in a query is no scheme */
    assert_string_equal(parts("ws://h/p#f?x=1"), "f?x=1");
    assert_string_equal(parts("h/x?next=http://u:p@x"), "http://u:p@x");
    assert_string_equal(parts("ws://h:80/ws"), "");
    assert_string_equal(parts("ws://h/ws?#"), "");
    ll_span sp;
    assert_false(ll_url_next_secret(NULL, 0, &sp));
}

static void a_client_secret_set_keeps_what_is_long_enough(void **state)
{
    (void)state;
    ll_secrets s = {0};
    assert_int_equal(ll_secrets_add_url(&s, "wss://bob:hunter2@h/ws?token=abc.def&store=7"), 0);
    assert_int_equal(ll_secrets_add_url(&s, NULL), 0);
    assert_int_equal(ll_secrets_add(&s, "Bearer xyz", strlen("Bearer xyz")), 0);
    assert_int_equal(ll_secrets_add(&s, "ab", 2), 0); /* too short: not added */
    assert_int_equal(s.count, 3);
    assert_string_equal(s.list[0], "bob:hunter2");
    assert_string_equal(s.list[1], "abc.def");
    assert_string_equal(s.list[2], "Bearer xyz");
    /* more secrets than any fixed table would hold */
    char url[4096] = "ws://h/ws?";
    for (int i = 0; i < 100; i++) {
        char item[32];
        snprintf(item, sizeof(item), "%sk%d=value%03d", i ? "&" : "", i, i);
        strcat(url, item);
    }
    assert_int_equal(ll_secrets_add_url(&s, url), 0);
    assert_int_equal(s.count, 103);
    assert_string_equal(s.list[102], "value099");
    ll_secrets_free(&s);
    assert_int_equal(s.count, 0);
    assert_null(s.list);
}

/* lifeline_redact_url into a buffer large enough, checking the length. */
static const char *shown(const char *url)
{
    static char out[256];
    size_t n = lifeline_redact_url(url, out, sizeof(out));
    assert_int_equal(n, strlen(out));
    assert_int_equal(lifeline_redact_url(url, NULL, 0), n);
    return out;
}

static void a_url_is_shown_with_every_secret_part_starred(void **state)
{
    (void)state;
    assert_string_equal(shown("ws://kiosk:pw@127.0.0.1:9/ws?store=S1&token=tok"),
                        "ws://***@127.0.0.1:9/ws?store=***&token=***");
    /* whatever their length, unlike secrets in text */
    assert_string_equal(shown("wss://u:p@h/ws?a=1&b&c=&d=4#x"), "wss://***@h/ws?a=***&***&c=&d=***#***");
    assert_string_equal(shown("https://discord.com/api/webhooks/42/TOKEN"),
                        "https://discord.com/api/webhooks/42/***");
    assert_string_equal(shown("http://h:8080/health"), "http://h:8080/health");
    assert_string_equal(shown("ws://h/ws?#"), "ws://h/ws?#");
    assert_string_equal(shown(NULL), "");
}

static void a_short_output_is_cut_like_snprintf(void **state)
{
    (void)state;
    const char *url = "ws://u:p@h/?t=secret";
    char out[12];
    memset(out, 'x', sizeof(out));
    size_t n = lifeline_redact_url(url, out, sizeof(out));
    assert_int_equal(n, strlen("ws://***@h/?t=***"));
    assert_string_equal(out, "ws://***@h/"); /* 11 bytes and the NUL */
    out[0] = 'x';
    assert_int_equal(lifeline_redact_url(url, out, 1), n);
    assert_string_equal(out, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_longest_secret_wins_at_each_position),
        cmocka_unit_test(every_occurrence_is_replaced),
        cmocka_unit_test(a_short_buffer_is_cut_and_terminated),
        cmocka_unit_test(url_secrets_are_userinfo_query_values_fragment_and_webhook_token),
        cmocka_unit_test(a_client_secret_set_keeps_what_is_long_enough),
        cmocka_unit_test(a_url_is_shown_with_every_secret_part_starred),
        cmocka_unit_test(a_short_output_is_cut_like_snprintf),
    };
    return cmocka_run_group_tests_name("redact", tests, NULL, NULL);
}
