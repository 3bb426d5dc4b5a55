/* A connection's log lines: why it ended, the code reported, the peer's
 * address, and the fields of connection_opened and connection_closed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "server/connlog.h"

static void every_cause_has_its_reason_word(void **state)
{
    (void)state;
    assert_string_equal(srv_close_cause_name(SRV_CLOSE_HANGUP), "hangup");
    assert_string_equal(srv_close_cause_name(SRV_CLOSE_CLIENT), "client_close");
    assert_string_equal(srv_close_cause_name(SRV_CLOSE_PING_TIMEOUT), "ping_timeout");
    assert_string_equal(srv_close_cause_name(SRV_CLOSE_OVERSIZE), "oversize");
    assert_string_equal(srv_close_cause_name(SRV_CLOSE_PROTOCOL), "protocol_error");
    assert_string_equal(srv_close_cause_name(SRV_CLOSE_SLOW_READER), "slow_reader");
    assert_string_equal(srv_close_cause_name(SRV_CLOSE_SHUTDOWN), "server_shutdown");
    assert_string_equal(srv_close_cause_name(SRV_CLOSE_FAULT), "fault_mode");
    assert_string_equal(srv_close_cause_name(SRV_CLOSE_ERROR), "server_error");
    assert_string_equal(srv_close_cause_name(SRV_CLOSE_REPLACED), "session_replaced");
    assert_string_equal(srv_close_cause_name(SRV_CLOSE_RATE_LIMITED), "rate_limited");
    assert_string_equal(srv_close_cause_name((srv_close_cause)99), "unknown");
}

static void the_code_is_the_closers(void **state)
{
    (void)state;
    /* a close the client began: its code, 1005 when its frame had none */
    srv_conn_end e = {.cause = SRV_CLOSE_CLIENT, .client_code = 4000};
    assert_int_equal(srv_conn_end_code(&e), 4000);
    e.client_code = 0;
    assert_int_equal(srv_conn_end_code(&e), 1005);
    /* one the server began: its close frame's */
    srv_conn_end p = {.cause = SRV_CLOSE_PING_TIMEOUT, .server_code = 1001};
    assert_int_equal(srv_conn_end_code(&p), 1001);
    /* no close frame at all */
    srv_conn_end h = {.cause = SRV_CLOSE_HANGUP};
    assert_int_equal(srv_conn_end_code(&h), 1006);
}

static void peers_read_as_address_and_port(void **state)
{
    (void)state;
    char out[SRV_PEER_LEN];
    struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(51234)};
    inet_pton(AF_INET, "192.0.2.7", &a4.sin_addr);
    assert_string_equal(srv_peer_format((struct sockaddr *)&a4, sizeof(a4), out),
                        "192.0.2.7:51234");
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(443)};
    inet_pton(AF_INET6, "2001:db8::7", &a6.sin6_addr);
    assert_string_equal(srv_peer_format((struct sockaddr *)&a6, sizeof(a6), out),
                        "[2001:db8::7]:443");
    /* an IPv4 client of a server on "::" */
    inet_pton(AF_INET6, "::ffff:127.0.0.1", &a6.sin6_addr);
    assert_string_equal(srv_peer_format((struct sockaddr *)&a6, sizeof(a6), out),
                        "127.0.0.1:443");
    /* the longest there is fits */
    inet_pton(AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", &a6.sin6_addr);
    a6.sin6_port = htons(65535);
    assert_string_equal(srv_peer_format((struct sockaddr *)&a6, sizeof(a6), out),
                        "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
    /* unknown: no address, a short one, another family */
    assert_string_equal(srv_peer_format(NULL, 0, out), "-");
    assert_string_equal(srv_peer_format((struct sockaddr *)&a4, 4, out), "-");
    struct sockaddr un = {.sa_family = AF_UNIX};
    assert_string_equal(srv_peer_format(&un, sizeof(un), out), "-");
}

/* fields as the JSON text of the object, then freed */
static void assert_fields(cJSON *f, const char *want)
{
    assert_non_null(f);
    char *text = cJSON_PrintUnformatted(f);
    assert_string_equal(text, want);
    cJSON_free(text);
    cJSON_Delete(f);
}

static void the_open_line_says_who_and_from_where(void **state)
{
    (void)state;
    srv_conn_who who = {.id = 7, .user = "till-3", .store = "shop 7", .peer = "127.0.0.1:5"};
    assert_fields(srv_connlog_opened(&who),
                  "{\"id\":7,\"user\":\"till-3\",\"store\":\"shop 7\",\"peer\":\"127.0.0.1:5\"}");
    srv_conn_who nobody = {.id = 8};
    assert_fields(srv_connlog_opened(&nobody), "{\"id\":8}");
}

static void the_close_line_says_how_and_after_how_long(void **state)
{
    (void)state;
    srv_conn_who who = {.id = 7, .user = "u", .store = "s", .peer = "127.0.0.1:5"};
    srv_conn_end client = {.cause = SRV_CLOSE_CLIENT, .client_code = 1000, .duration_ms = 5012};
    assert_fields(srv_connlog_closed(&who, &client),
                  "{\"id\":7,\"user\":\"u\",\"store\":\"s\",\"peer\":\"127.0.0.1:5\","
                  "\"code\":1000,\"reason\":\"client_close\",\"duration_ms\":5012}");
    /* the server's close frame's reason text is the detail */
    srv_conn_end ping = {.cause = SRV_CLOSE_PING_TIMEOUT, .server_code = 1001,
                         .detail = "ping timeout", .duration_ms = 40};
    assert_fields(srv_connlog_closed(&who, &ping),
                  "{\"id\":7,\"user\":\"u\",\"store\":\"s\",\"peer\":\"127.0.0.1:5\","
                  "\"code\":1001,\"reason\":\"ping_timeout\",\"detail\":\"ping timeout\","
                  "\"duration_ms\":40}");
    /* none without a close frame of the server's */
    srv_conn_end hangup = {.cause = SRV_CLOSE_HANGUP, .detail = "stale", .duration_ms = 3};
    srv_conn_who bare = {.id = 9};
    assert_fields(srv_connlog_closed(&bare, &hangup),
                  "{\"id\":9,\"code\":1006,\"reason\":\"hangup\",\"duration_ms\":3}");
}

static void paths_are_logged_as_one_word_of_ascii(void **state)
{
    (void)state;
    char out[SRV_LOG_PATH_LEN];
    const char plain[] = "/api/v1/users/till-3";
    assert_string_equal(srv_log_path(plain, strlen(plain), out), plain);
    /* space, quote, '=', '%', UTF-8, a control byte and NUL as %XX */
    const char odd[] = "/u/a b\"=%\xc3\xa9\x01\x00x";
    assert_string_equal(srv_log_path(odd, sizeof(odd) - 1, out),
                        "/u/a%20b%22%3D%25%C3%A9%01%00x");
    assert_string_equal(srv_log_path(NULL, 0, out), "");
    /* a long one is cut, whole %XX only, and says so */
    char longer[1000];
    memset(longer, 'a', sizeof(longer));
    srv_log_path(longer, sizeof(longer), out);
    assert_int_equal(strlen(out), SRV_LOG_PATH_LEN - 1);
    assert_string_equal(out + SRV_LOG_PATH_LEN - 4, "...");
    memset(longer, ' ', sizeof(longer));
    srv_log_path(longer, sizeof(longer), out);
    assert_true(strlen(out) < SRV_LOG_PATH_LEN);
    assert_string_equal(out + strlen(out) - 6, "%20...");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_cause_has_its_reason_word),
        cmocka_unit_test(the_code_is_the_closers),
        cmocka_unit_test(peers_read_as_address_and_port),
        cmocka_unit_test(the_open_line_says_who_and_from_where),
        cmocka_unit_test(the_close_line_says_how_and_after_how_long),
        cmocka_unit_test(paths_are_logged_as_one_word_of_ascii),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
