/* The transport's reading of a failure into facts (src/transport/
 * classify.c): libwebsockets' texts, the status line, Retry-After. Their
 * judgement is the core's: test_failure.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "transport/classify.h"

static void retry_after_is_read_as_delta_seconds(void **state)
{
    (void)state;
    ll_failure f = ll_failure_http(503, "12");
    assert_int_equal(f.kind, LL_FAIL_HTTP_STATUS);
    assert_int_equal(f.http_status, 503);
    assert_int_equal(f.retry_after_ms, 12000);
    assert_int_equal(ll_failure_http(429, " 3 ").retry_after_ms, 3000);
    assert_int_equal(ll_failure_http(401, NULL).retry_after_ms, 0);
    assert_int_equal(ll_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), 0);
    assert_int_equal(ll_parse_retry_after("12x"), 0);
    assert_int_equal(ll_parse_retry_after(NULL), 0);
    assert_int_equal(ll_parse_retry_after("99999999999"), 86400000);
    /* a long number is no excuse for what follows it (it gave a day; found
     * by tests/fuzz/fuzz_classify) */
    assert_int_equal(ll_parse_retry_after("9999999x"), 0);
    assert_int_equal(ll_parse_retry_after("99999999999 \t"), 86400000);
}

/* Every text libwebsockets 4.1.6 gives CLIENT_CONNECTION_ERROR on a
 * WebSocket client (git grep -n 'lws_inform_client_conn_fail\|cce = '
 * v4.1.6 -- lib, mqtt's left out; the TLS ones from
 * lib/tls/openssl/openssl-client.c), and the fact it is read as. A
 * libwebsockets that words one differently fails here: read its new text
 * into the table in src/transport/classify.c. */
static void every_libwebsockets_4_1_6_text_is_read_as_its_fact(void **state)
{
    (void)state;
    const struct { const char *text; ll_failure_kind kind; int http_status; } rows[] = {
        /* lib/roles/http/client/client-handshake.c */
        {"ipv6 lws_getaddrinfo46 failed", LL_FAIL_DNS, 0},
        {"Unable to connect", LL_FAIL_REFUSED, 0},
        {"proxy write failed", LL_FAIL_RESET, 0},
        {"first service failed", LL_FAIL_RESET, 0},
        {"socks msg too large", LL_FAIL_RESET, 0},
        {"waiting for event loop watcher to close", LL_FAIL_RESET, 0},
        /* lib/core-net/close.c, lib/core-net/wsi-timeout.c */
        {"closed before established", LL_FAIL_RESET, 0},
        {"Closed before conn", LL_FAIL_RESET, 0},
        {"Timed out waiting SSL", LL_FAIL_TLS_OTHER, 0},
        /* lib/core-net/socks5-client.c */
        {"socks write failed", LL_FAIL_RESET, 0},
        {"socks conn dead", LL_FAIL_RESET, 0},
        {"socks recv fail", LL_FAIL_RESET, 0},
        {"socks gen msg fail", LL_FAIL_RESET, 0},
        {"socks write fail", LL_FAIL_RESET, 0},
        {"socks reply fail", LL_FAIL_RESET, 0},
        {"socks connect fail", LL_FAIL_RESET, 0},
        /* lib/tls/openssl/openssl-client.c, through client-http.c's ebuf */
        {"server's cert didn't look good, X509_V_ERR = 18: error:00000012:lib(0)::reason(18)\n",
         LL_FAIL_TLS_VERIFY, 0},
        {"server's cert didn't look good, X509_V_ERR = 10: certificate has expired\n",
         LL_FAIL_TLS_VERIFY, 0},
        {"connect SSL err 1: error:0A000410:SSL routines::sslv3 alert handshake failure",
         LL_FAIL_TLS_OTHER, 0},
        {"connect SYSCALL 104", LL_FAIL_RESET, 0},
        {"connect unk 5", LL_FAIL_RESET, 0},
        /* lib/roles/http/client/client-http.c */
        {"bio_create failed", LL_FAIL_RESET, 0},
        {"tls restriction limit", LL_FAIL_TLS_OTHER, 0},
        {"error sending h2 preface", LL_FAIL_RESET, 0},
        {"proxy conn dead", LL_FAIL_RESET, 0},
        {"proxy read err", LL_FAIL_RESET, 0},
        {"proxy not h1", LL_FAIL_RESET, 0},
        {"Peer hung up", LL_FAIL_RESET, 0},
        {"read failed", LL_FAIL_RESET, 0},
        {"problems parsing header", LL_FAIL_RESET, 0},
        {"unknown", LL_FAIL_RESET, 0},
        {"no ads", LL_FAIL_RESET, 0},
        {"HS: URI missing", LL_FAIL_PROTOCOL, 0},
        {"HS: :status missing", LL_FAIL_PROTOCOL, 0},
        {"HS: Redirect code but no Location", LL_FAIL_PROTOCOL, 0},
        {"HS: user code rejected redirect", LL_FAIL_PROTOCOL, 0},
        {"HS: URI did not parse", LL_FAIL_PROTOCOL, 0},
        {"HS: Redirect attempted SSL downgrade", LL_FAIL_PROTOCOL, 0},
        {"HS: Redirect failed", LL_FAIL_PROTOCOL, 0},
        {"HS: disallowed by client filter", LL_FAIL_PROTOCOL, 0},
        {"HS: OOM", LL_FAIL_PROTOCOL, 0},
        {"HS: disallowed at ESTABLISHED", LL_FAIL_PROTOCOL, 0},
        /* lib/roles/ws/client-ws.c */
        {"HS: h2 / ws upgrade unsupported", LL_FAIL_PROTOCOL, 0},
        {"HS: ws upgrade unauthorized", LL_FAIL_HTTP_STATUS, 401},
        {"HS: ws upgrade response not 101", LL_FAIL_PROTOCOL, 0},
        {"HS: ACCEPT missing", LL_FAIL_PROTOCOL, 0},
        {"HS: UPGRADE missing", LL_FAIL_PROTOCOL, 0},
        {"HS: Upgrade to something other than websocket", LL_FAIL_PROTOCOL, 0},
        {"HS: UPGRADE malformed", LL_FAIL_PROTOCOL, 0},
        {"HS: PROTOCOL malformed", LL_FAIL_PROTOCOL, 0},
        {"HS: Cannot match protocol", LL_FAIL_PROTOCOL, 0},
        {"ws protocol no match", LL_FAIL_RESET, 0},
        {"HS: EXT: list too big", LL_FAIL_PROTOCOL, 0},
        {"HS: EXT: failed setting defaults", LL_FAIL_PROTOCOL, 0},
        {"HS: EXT: failed parsing defaults", LL_FAIL_PROTOCOL, 0},
        {"HS: EXT: failed parsing options", LL_FAIL_PROTOCOL, 0},
        {"HS: EXT: Rejects server options", LL_FAIL_PROTOCOL, 0},
        {"HS: EXT: unknown ext", LL_FAIL_PROTOCOL, 0},
        {"HS: Accept hash wrong", LL_FAIL_PROTOCOL, 0},
        {"HS: Rejected by filter cb", LL_FAIL_PROTOCOL, 0},
        {"HS: Rejected at CLIENT_ESTABLISHED", LL_FAIL_PROTOCOL, 0},
        /* none at all */
        {"", LL_FAIL_RESET, 0},
        {NULL, LL_FAIL_RESET, 0},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        ll_failure f = ll_failure_from_lws_text(rows[i].text);
        if (f.kind != rows[i].kind || f.http_status != rows[i].http_status)
            fail_msg("\"%s\": %s (HTTP %d), want %s (HTTP %d)",
                     rows[i].text ? rows[i].text : "NULL", ll_failure_kind_name(f.kind),
                     f.http_status, ll_failure_kind_name(rows[i].kind), rows[i].http_status);
    }
    /* the errno SSL_ERROR_SYSCALL saw */
    assert_int_equal(ll_failure_from_lws_text("connect SYSCALL 104").sys_errno, 104);
    assert_int_equal(ll_failure_from_lws_text("connect SYSCALL x").sys_errno, 0);
    /* a prefix, as lws starts it: not a word found anywhere */
    assert_int_equal(ll_failure_from_lws_text("the server's cert").kind, LL_FAIL_RESET);
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

static void a_refusal_s_body_becomes_a_short_clean_excerpt(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        size_t n;
        const char *want;
    } rows[] = {
        {"token expired", 64, "token expired"},
        {"  \r\n token \t\t expired \n", 64, "token expired"},
        {"<html><body><h1>403</h1><p>token expired</p></body></html>", 64, "403 token expired"},
        {"a\x01" "b\x7f\xc3\xa9", 64, "a?b???"},
        {"<unterminated tag and all", 64, ""},
        {"", 64, ""},
        {"<p></p>\n\n", 64, ""},
        {"0123456789", 11, "0123456789"},       /* fits exactly */
        {"0123456789A", 11, "0123456..."},      /* one more: cut */
        {"012345 789ABCDEF", 11, "012345..."},  /* no space before the dots */
        {"abc", 4, "abc"},                      /* fits in n - 1 */
        {"abcde", 4, "..."},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char out[64];
        memset(out, '#', sizeof(out));
        size_t k = ll_body_excerpt(rows[i].body, strlen(rows[i].body), out, rows[i].n);
        if (strcmp(out, rows[i].want) != 0 || k != strlen(rows[i].want))
            fail_msg("row %zu: \"%s\" (%zu), want \"%s\"", i, out, k, rows[i].want);
        if (k >= rows[i].n)
            fail_msg("row %zu: %zu bytes in %zu", i, k, rows[i].n);
    }
    /* len bytes only: a NUL inside is a control byte, nothing past len read */
    char out[16];
    assert_int_equal(ll_body_excerpt("ab\0cd", 5, out, sizeof(out)), 5);
    assert_string_equal(out, "ab?cd");
    assert_int_equal(ll_body_excerpt("abcdef", 3, out, sizeof(out)), 3);
    assert_string_equal(out, "abc");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(retry_after_is_read_as_delta_seconds),
        cmocka_unit_test(every_libwebsockets_4_1_6_text_is_read_as_its_fact),
        cmocka_unit_test(a_status_is_three_digits_from_100_to_599),
        cmocka_unit_test(a_refusal_s_body_becomes_a_short_clean_excerpt),
    };
    return cmocka_run_group_tests_name("classify", tests, NULL, NULL);
}
