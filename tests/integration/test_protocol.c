/* A server that breaks the WebSocket protocol (or HTTP's): a redirect, a
 * malformed status line, text that is not UTF-8, a frame libwebsockets
 * refuses, a bad close frame. The peer is peer.py in its raw modes, which
 * reports what the client sent back (the close code above all). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lws_config.h>

#include "harness.h"

/* libwebsockets fails a connection on a masked frame from the server from
 * 4.3.1 on; 4.1 unmasks it and delivers it as any other, and says nothing
 * through its API that lifeline could act on (see on_dropping() in
 * src/transport/ws.c). */
#define MASKED_FRAMES_CAUGHT (LWS_LIBRARY_VERSION_NUMBER >= 4003001)

/* Start peer.py in a raw mode with extra arguments, and configure a client
 * for it (f->cfg, f->url with a token in its query). */
static void start_raw(it_fix *f, const char *mode, const char *const *extra)
{
    f->proc = it_start_peer(mode, extra);
    assert_non_null(f->proc);
    snprintf(f->url, sizeof(f->url), "ws://127.0.0.1:%d/ws?token=query-s3cret",
             it_proc_port(f->proc));
    it_config(&f->cfg, &f->rec, f->url);
}

/* How many delivered messages contain needle. */
static int delivered_containing(it_rec *rec, const char *needle)
{
    int n = 0;
    pthread_mutex_lock(&rec->mu);
    for (size_t i = 0; i < rec->n_msg; i++)
        if (strstr(rec->msg[i].data, needle))
            n++;
    pthread_mutex_unlock(&rec->mu);
    return n;
}

/* ---- the handshake ------------------------------------------------------ */

static void a_redirect_is_refused_and_its_location_never_contacted(void **state)
{
    it_fix *f = *state;
    /* where the redirect points: a WebSocket server that would accept */
    f->proc2 = it_start_peer("echo", NULL);
    assert_non_null(f->proc2);
    char location[200];
    snprintf(location, sizeof(location), "ws://127.0.0.1:%d/elsewhere?token=redirect-s3cret",
             it_proc_port(f->proc2));
    const char *const extra[] = {"--location", location, NULL};
    start_raw(f, "raw_redirect", extra);
    static const char *const headers[] = {"Authorization: Bearer header-s3cret"};
    f->cfg.headers = headers;
    f->cfg.header_count = 1;
    it_fix_client(f);

    it_ev ev;
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_ERROR, IT_QUICK, &ev);
    IT_ASSERT(&f->rec, ev.error == LIFELINE_ERR_HTTP_STATUS, "error %s",
              lifeline_error_name(ev.error));
    assert_int_equal(ev.http_status, 302);
    it_log("reason: %s", ev.reason);
    assert_non_null(strstr(ev.reason, "302"));
    char shown[200];
    snprintf(shown, sizeof(shown), "redirect to ws://127.0.0.1:%d/elsewhere?token=*** not followed",
             it_proc_port(f->proc2));
    IT_ASSERT(&f->rec, strstr(ev.reason, shown) != NULL, "reason \"%s\"", ev.reason);
    assert_null(strstr(ev.reason, "s3cret"));
    lifeline_stats s;
    assert_int_equal(lifeline_client_stats(f->client, &s), LIFELINE_OK);
    assert_int_equal(s.last_error, LIFELINE_ERR_HTTP_STATUS);
    assert_int_equal(s.last_http_status, 302);

    /* permanent: no retry; and the other origin never saw a request */
    IT_ASSERT(&f->rec, it_no_state_within(&f->rec, LIFELINE_STATE_CONNECTING, 600),
              "a redirect was retried");
    assert_int_equal(it_count_events(&f->rec, IT_EV_RETRY), 0);
    assert_int_equal(it_proc_count_lines(f->proc, "\"request\""), 1);
    assert_int_equal(it_proc_count_lines(f->proc2, "\"request\""), 0);
}

static void a_malformed_status_is_a_protocol_error_without_http_status(void **state)
{
    it_fix *f = *state;
    static const char *const lines[] = {
        "HTTP/1.1 999999999999 Huge", /* atoi(): -727379969 */
        "HTTP/1.1 -401 Negative",     /* atoi(): -401 */
        "HTTP/1.1 20 Short",
    };
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        it_log("status line \"%s\"", lines[i]);
        const char *const extra[] = {"--status-line", lines[i], NULL};
        start_raw(f, "raw_status", extra);
        f->cfg.max_attempts = 1;
        it_fix_client(f);
        it_ev ev;
        IT_ASSERT(&f->rec,
                  it_wait_state_in(&f->rec,
                                   IT_STATE_BIT(LIFELINE_STATE_DISCONNECTED) |
                                       IT_STATE_BIT(LIFELINE_STATE_SERVER_DOWN) |
                                       IT_STATE_BIT(LIFELINE_STATE_ERROR),
                                   IT_QUICK, &ev),
                  "the attempt did not fail");
        it_log("reason: %s", ev.reason);
        IT_ASSERT(&f->rec, ev.error == LIFELINE_ERR_PROTOCOL, "error %s, HTTP %d",
                  lifeline_error_name(ev.error), ev.http_status);
        assert_int_equal(ev.http_status, 0);
        assert_int_not_equal(ev.new_state, LIFELINE_STATE_ERROR); /* retried */
        assert_non_null(strstr(ev.reason, "malformed HTTP status"));
        lifeline_stats s;
        assert_int_equal(lifeline_client_stats(f->client, &s), LIFELINE_OK);
        assert_int_equal(s.last_http_status, 0);
        assert_int_equal(s.last_error, LIFELINE_ERR_PROTOCOL);
        it_fix_next_client(f);
    }
}

/* ---- frames ------------------------------------------------------------- */

static void text_that_is_not_utf8_closes_1007_and_delivers_nothing_of_it(void **state)
{
    it_fix *f = *state;
    start_raw(f, "raw_bad_utf8", NULL);
    it_fix_client(f);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);
    IT_ASSERT(&f->rec, it_wait_message(&f->rec, "before", IT_QUICK),
              "the valid message before it was not delivered");
    it_ev ev;
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_DISCONNECTED, IT_QUICK, &ev);
    it_log("reason: %s", ev.reason);
    IT_ASSERT(&f->rec, ev.error == LIFELINE_ERR_PROTOCOL, "lost with %s",
              lifeline_error_name(ev.error));
    IT_ASSERT(&f->rec, strstr(ev.reason, "UTF-8") != NULL, "reason \"%s\"", ev.reason);
    IT_ASSERT(&f->rec, it_proc_wait_line(f->proc, "\"code\":1007", IT_QUICK),
              "the peer did not get a close with 1007");
    /* nothing of the bad message, not even its valid first fragment */
    assert_int_equal(delivered_containing(&f->rec, "valid start"), 0);
    assert_int_equal(delivered_containing(&f->rec, "then more"), 0);
    /* and the client reconnects on its schedule */
    it_ev retry;
    IT_ASSERT(&f->rec, it_wait_event(&f->rec, IT_EV_RETRY, IT_QUICK, &retry), "no retry");
    assert_int_equal(retry.retry_attempt, 1);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTING, IT_QUICK, NULL);
}

/* The bytes after the bad text, read at once, are no frame libwebsockets
 * accepts: it closes before the WRITEABLE that was to send 1007. */
static void text_that_is_not_utf8_closes_1007_even_when_a_bad_frame_follows(void **state)
{
    it_fix *f = *state;
    const char *const extra[] = {"--then-bad-frame", NULL};
    start_raw(f, "raw_bad_utf8", extra);
    it_fix_client(f);
    it_ev ev;
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_DISCONNECTED, IT_QUICK, &ev);
    it_log("reason: %s", ev.reason);
    IT_ASSERT(&f->rec, strstr(ev.reason, "UTF-8") != NULL, "reason \"%s\"", ev.reason);
    IT_ASSERT(&f->rec, it_proc_wait_line(f->proc, "\"close_received\"", IT_QUICK),
              "no close frame: the connection was dropped");
    assert_int_equal(it_proc_count_lines(f->proc, "\"code\":1007"), 1);
    assert_int_equal(delivered_containing(&f->rec, "valid start"), 0);
}

static void echo_from_on_message(it_rec *rec, lifeline_client *c, const void *data, size_t len,
                                 int is_binary)
{
    (void)rec;
    lifeline_client_send(c, data, len, is_binary);
}

static void a_frame_libwebsockets_refuses_is_closed_1002_after_what_was_sent(void **state)
{
    it_fix *f = *state;
    start_raw(f, "raw_bad_frame", NULL);
    f->rec.on_message_hook = echo_from_on_message;
    it_fix_client(f);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);
    it_ev ev;
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_DISCONNECTED, IT_QUICK, &ev);
    it_log("reason: %s", ev.reason);
    IT_ASSERT(&f->rec, ev.error == LIFELINE_ERR_PROTOCOL, "lost with %s",
              lifeline_error_name(ev.error));
    /* the message before the bad frame was delivered, and its echo, sent
     * from on_message, went out before the close frame with 1002 */
    assert_int_equal(delivered_containing(&f->rec, "hello"), 1);
    IT_ASSERT(&f->rec, it_proc_wait_line(f->proc, "\"text\":\"hello\"", IT_QUICK),
              "the echo did not go out before the close");
    IT_ASSERT(&f->rec, it_proc_wait_line(f->proc, "\"close_received\"", IT_QUICK),
              "no close frame: the connection was dropped");
    assert_int_equal(it_proc_count_lines(f->proc, "\"code\":1002"), 1);
    assert_int_equal(it_proc_count_lines(f->proc, "\"eof\""), 0);
}

__attribute__((unused)) static void a_masked_frame_from_the_server_closes_1002(void **state)
{
    it_fix *f = *state;
    start_raw(f, "raw_masked", NULL);
    it_fix_client(f);
    it_ev ev;
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_DISCONNECTED, IT_QUICK, &ev);
    it_log("reason: %s", ev.reason);
    IT_ASSERT(&f->rec, ev.error == LIFELINE_ERR_PROTOCOL, "lost with %s",
              lifeline_error_name(ev.error));
    IT_ASSERT(&f->rec, it_proc_wait_line(f->proc, "\"code\":1002", IT_QUICK),
              "the peer did not get a close with 1002");
    assert_int_equal(delivered_containing(&f->rec, "masked hello"), 0);
}

static void bad_close_frames_are_answered_1002_or_1007(void **state)
{
    it_fix *f = *state;
    static const struct {
        const char *payload; /* hex */
        int answer;
        int detected;        /* 0: libwebsockets 4.1 rewrote the code to 1002
                                before lifeline saw it */
    } rows[] = {
        {"03", 1002, 1},         /* 1 byte */
        {"1388", 1002, 1},       /* 5000 */
        {"ffff", 1002, 1},       /* 65535 */
        {"03e8ceba" "eda080", 1007, 1}, /* 1000, a reason with a surrogate */
        {"03ed", 1002, 0},       /* 1005 */
        {"03e7", 1002, 0},       /* 999 */
        {"0bb7", 1002, 0},       /* 2999 */
        {"0fa0" "627965", 4000, 1}, /* valid: echoed */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        it_log("close payload %s", rows[i].payload);
        const char *const extra[] = {"--close-payload", rows[i].payload, NULL};
        start_raw(f, "raw_bad_close", extra);
        it_fix_client(f);
        IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);
        it_ev ev;
        IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_DISCONNECTED, IT_QUICK, &ev);
        it_log("reason: %s", ev.reason);
        char code[32];
        snprintf(code, sizeof(code), "\"code\":%d", rows[i].answer);
        IT_ASSERT(&f->rec, it_proc_wait_line(f->proc, code, IT_QUICK),
                  "payload %s: the answer was not %d", rows[i].payload, rows[i].answer);
        if (rows[i].answer == 4000) {
            assert_int_equal(ev.error, LIFELINE_ERR_CLOSED_BY_PEER);
        } else if (rows[i].detected) {
            IT_ASSERT(&f->rec, ev.error == LIFELINE_ERR_PROTOCOL, "payload %s: lost with %s",
                      rows[i].payload, lifeline_error_name(ev.error));
            assert_non_null(strstr(ev.reason, "close frame"));
        }
        it_fix_next_client(f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        IT_TEST(a_redirect_is_refused_and_its_location_never_contacted),
        IT_TEST(a_malformed_status_is_a_protocol_error_without_http_status),
        IT_TEST(text_that_is_not_utf8_closes_1007_and_delivers_nothing_of_it),
        IT_TEST(text_that_is_not_utf8_closes_1007_even_when_a_bad_frame_follows),
        IT_TEST(a_frame_libwebsockets_refuses_is_closed_1002_after_what_was_sent),
        IT_TEST(bad_close_frames_are_answered_1002_or_1007),
#if MASKED_FRAMES_CAUGHT
        IT_TEST(a_masked_frame_from_the_server_closes_1002),
#endif
    };
#if !MASKED_FRAMES_CAUGHT
    printf("# a_masked_frame_from_the_server_closes_1002 is not run: libwebsockets %s "
           "delivers a masked frame from the server as any other (4.3.1 fails the "
           "connection)\n", LWS_LIBRARY_VERSION);
    fflush(stdout);
#endif
    return IT_RUN(tests);
}
