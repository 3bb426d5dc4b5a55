/* Connect, echo, stats and the upgrade request, against lifeline-server and
 * against the websockets library's server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void connects_echoes_text_and_closes_with_1000(void **state)
{
    it_fix *f = *state;
    it_fix_start(f, "echo", "echo-user");
    it_fix_client(f);

    it_ev ev;
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, &ev);
    assert_int_equal(ev.old_state, LIFELINE_STATE_CONNECTING);
    assert_int_equal(ev.error, LIFELINE_OK);
    assert_int_equal(ev.attempt, 0);
    assert_int_equal(lifeline_client_state(f->client), LIFELINE_STATE_CONNECTED);

    assert_int_equal(lifeline_client_send_text(f->client, "hello lifeline"), LIFELINE_OK);
    IT_ASSERT(&f->rec, it_wait_message(&f->rec, "hello lifeline", IT_QUICK), "no echo");

    /* JSON: the server wraps its echo, the peer echoes it unchanged; both
     * carry the data back */
    assert_int_equal(lifeline_client_send_text(f->client,
                                               "{\"type\":\"echo\",\"data\":\"json-echo-1\"}"),
                     LIFELINE_OK);
    IT_ASSERT(&f->rec, it_wait_message_containing(&f->rec, "json-echo-1", IT_QUICK, NULL, 0),
              "no echo of the JSON message");

    assert_int_equal(lifeline_client_stop(f->client, 2000), LIFELINE_OK);
    /* stop returns once closed */
    assert_int_equal(lifeline_client_state(f->client), LIFELINE_STATE_CLOSED);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CLOSED, IT_QUICK, &ev);
    assert_int_equal(ev.old_state, LIFELINE_STATE_CONNECTED);
    assert_int_equal(ev.error, LIFELINE_ERR_STOPPED);
    if (f->target->kind == IT_PEER)
        IT_ASSERT(&f->rec, it_proc_wait_line(f->proc, "\"code\":1000", IT_QUICK),
                  "the peer did not see a close with 1000");
    /* stopping again is fine */
    assert_int_equal(lifeline_client_stop(f->client, 2000), LIFELINE_OK);
}

static void echoes_binary_and_utf8_byte_for_byte(void **state)
{
    it_fix *f = *state;
    it_fix_start(f, "echo", "binary-user");
    it_fix_client(f);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);

    unsigned char bin[300];
    for (size_t i = 0; i < sizeof(bin); i++)
        bin[i] = (unsigned char)(i * 7); /* zeros and high bytes included */
    assert_int_equal(lifeline_client_send(f->client, bin, sizeof(bin), 1), LIFELINE_OK);
    IT_ASSERT(&f->rec, it_wait_message_bytes(&f->rec, bin, sizeof(bin), 1, IT_QUICK),
              "binary message not echoed byte for byte");

    const char *utf8 = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8d\x95";
    assert_int_equal(lifeline_client_send_text(f->client, utf8), LIFELINE_OK);
    IT_ASSERT(&f->rec, it_wait_message(&f->rec, utf8, IT_QUICK), "UTF-8 text not echoed");

    /* an empty text message is a message too */
    assert_int_equal(lifeline_client_send(f->client, "", 0, 0), LIFELINE_OK);
    IT_ASSERT(&f->rec, it_wait_message_bytes(&f->rec, "", 0, 0, IT_QUICK),
              "empty message not echoed");
}

static void reassembles_a_large_message_into_one_callback(void **state)
{
    it_fix *f = *state;
    it_fix_start(f, "echo", "large-user");
    it_fix_client(f);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);

    size_t n = 200 * 1024; /* far more than one libwebsockets read */
    char *big = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)('a' + i % 26);
    big[n] = '\0';
    assert_int_equal(lifeline_client_send(f->client, big, n, 0), LIFELINE_OK);
    int ok = it_wait_message_bytes(&f->rec, big, n, 0, IT_QUICK);
    free(big);
    IT_ASSERT(&f->rec, ok, "the 200 KiB message did not come back whole in one callback");
}

static void stats_count_messages_bytes_queue_and_reconnections(void **state)
{
    it_fix *f = *state;
    it_fix_start(f, "echo", "stats-user");
    it_fix_client(f);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);

    lifeline_stats s;
    assert_int_equal(lifeline_client_stats(f->client, &s), LIFELINE_OK);
    assert_int_equal(s.struct_size, sizeof(s));
    assert_int_equal(s.state, LIFELINE_STATE_CONNECTED);
    assert_int_equal(s.reconnections, 0);
    assert_int_equal(s.messages_sent, 0);
    assert_int_equal(s.bytes_sent, 0);

    /* ten messages of 10..19 bytes, each echoed */
    uint64_t sent_bytes = 0;
    char msg[64];
    for (int i = 0; i < 10; i++) {
        int len = 10 + i;
        memset(msg, 'a' + i, (size_t)len);
        msg[len] = '\0';
        assert_int_equal(lifeline_client_send_text(f->client, msg), LIFELINE_OK);
        sent_bytes += (uint64_t)len;
    }
    IT_ASSERT(&f->rec, it_wait_message(&f->rec, msg, IT_QUICK), "last echo missing");
    /* the first pong too, so the RTT figures are filled */
    IT_ASSERT(&f->rec, it_wait_event(&f->rec, IT_EV_PONG, IT_QUICK, NULL), "no pong");

    assert_int_equal(lifeline_client_stats(f->client, &s), LIFELINE_OK);
    assert_int_equal(s.messages_sent, 10);
    assert_int_equal(s.bytes_sent, sent_bytes);
    pthread_mutex_lock(&f->rec.mu);
    uint64_t got = f->rec.messages, got_bytes = f->rec.message_bytes;
    pthread_mutex_unlock(&f->rec.mu);
    /* received: exactly what on_message was given (every message counts) */
    assert_true(got >= 10);
    assert_int_equal(s.messages_received, got);
    assert_int_equal(s.bytes_received, got_bytes);
    if (f->target->kind == IT_PEER) { /* a pure echo: the same figures back */
        assert_int_equal(s.messages_received, 10);
        assert_int_equal(s.bytes_received, sent_bytes);
    }
    assert_int_equal(s.queued_messages, 0);
    assert_int_equal(s.queued_bytes, 0);
    assert_int_equal(s.messages_dropped, 0);
    assert_true(s.pongs >= 1);
    assert_true(s.since_last_pong_ms >= 0);
    assert_true(s.rtt_min_ms >= 0 && s.rtt_min_ms <= s.rtt_max_ms);
    assert_true(s.rtt_last_ms >= s.rtt_min_ms && s.rtt_last_ms <= s.rtt_max_ms);
    assert_int_equal(s.quality, LIFELINE_QUALITY_EXCELLENT);
    assert_int_equal(s.attempt, 0);
    assert_int_equal(s.retry_in_ms, 0);

    /* an outage: what is sent meanwhile is counted as queued */
    it_proc_kill(f->proc, SIGKILL);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_DISCONNECTED, IT_QUICK, NULL);
    assert_int_equal(lifeline_client_send_text(f->client, "offline-1"), LIFELINE_OK);
    assert_int_equal(lifeline_client_send_text(f->client, "offline-22"), LIFELINE_OK);
    assert_int_equal(lifeline_client_send(f->client, "\x01\x02\x03", 3, 1), LIFELINE_OK);
    assert_int_equal(lifeline_client_stats(f->client, &s), LIFELINE_OK);
    assert_true(s.state == LIFELINE_STATE_DISCONNECTED || s.state == LIFELINE_STATE_CONNECTING ||
                s.state == LIFELINE_STATE_SERVER_DOWN);
    assert_int_equal(s.queued_messages, 3);
    assert_int_equal(s.queued_bytes, 9 + 10 + 3);
    assert_int_equal(s.messages_sent, 10);
    assert_true(s.downtime_ms >= 0);
    assert_true(s.last_error != LIFELINE_OK);

    assert_true(it_proc_restart(f->proc));
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, it_scaled(5000), NULL);
    IT_ASSERT(&f->rec, it_wait_message(&f->rec, "offline-22", IT_QUICK),
              "queued message not delivered after the outage");
    IT_ASSERT(&f->rec, it_wait_message_bytes(&f->rec, "\x01\x02\x03", 3, 1, IT_QUICK),
              "queued binary message not delivered after the outage");
    assert_int_equal(lifeline_client_stats(f->client, &s), LIFELINE_OK);
    assert_int_equal(s.state, LIFELINE_STATE_CONNECTED);
    assert_int_equal(s.reconnections, 1);
    assert_int_equal(s.queued_messages, 0);
    assert_int_equal(s.queued_bytes, 0);
    assert_int_equal(s.messages_sent, 13);
    assert_int_equal(s.bytes_sent, sent_bytes + 22);
    assert_true(s.downtime_ms > 0);
    assert_int_equal(s.messages_dropped, 0);
}

/* Lower-case copy, for comparing header names. */
static void lower(char *s)
{
    for (; *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

static const char *forbidden_in_logs;
static int forbidden_seen;
static int log_lines;

static void scanning_log(lifeline_client *c, int level, const char *line, void *ud)
{
    (void)c;
    (void)level;
    (void)ud;
    __atomic_add_fetch(&log_lines, 1, __ATOMIC_SEQ_CST);
    if (forbidden_in_logs && strstr(line, forbidden_in_logs))
        __atomic_add_fetch(&forbidden_seen, 1, __ATOMIC_SEQ_CST);
}

static void custom_headers_origin_and_subprotocol_reach_the_server(void **state)
{
    it_fix *f = *state;
    it_fix_start(f, "headers", NULL);
    static const char *const headers[] = {
        "X-Lifeline-Test: kiosk-7",
        "Authorization: Bearer it-secret-token-42",
    };
    f->cfg.headers = headers;
    f->cfg.header_count = 2;
    f->cfg.origin = "https://kiosk.example";
    f->cfg.subprotocol = "lifeline.v1";
    /* every log line, at the most verbose level, is scanned for the token */
    f->cfg.on_log = scanning_log;
    f->cfg.log_level = LIFELINE_LOG_DEBUG;
    forbidden_in_logs = "it-secret-token-42";
    forbidden_seen = 0;
    log_lines = 0;
    it_fix_client(f);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);

    char seen[8192];
    IT_ASSERT(&f->rec,
              it_wait_message_containing(&f->rec, "\"headers\"", IT_QUICK, seen, sizeof(seen)),
              "the peer did not send the headers it saw");
    lower(seen);
    it_log("peer saw: %s", seen);
    char host[64];
    snprintf(host, sizeof(host), "[\"host\", \"127.0.0.1:%d\"]", it_proc_port(f->proc));
    const char *expected[] = {
        "[\"x-lifeline-test\", \"kiosk-7\"]",
        "[\"authorization\", \"bearer it-secret-token-42\"]",
        /* the Origin as given, not prefixed with "http://" */
        "[\"origin\", \"https://kiosk.example\"]",
        /* Host carries the port, which is not the default one (RFC 7230 5.4) */
        host,
        "\"subprotocol\": \"lifeline.v1\"",
        "\"path\": \"/ws\"",
    };
    int missing = 0;
    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++)
        if (!strstr(seen, expected[i])) {
            it_log("the peer did not see %s", expected[i]);
            missing++;
        }
    assert_int_equal(missing, 0);

    /* the connection works with the subprotocol agreed */
    assert_int_equal(lifeline_client_send_text(f->client, "after headers"), LIFELINE_OK);
    IT_ASSERT(&f->rec, it_wait_message(&f->rec, "after headers", IT_QUICK), "no echo");
    assert_int_equal(lifeline_client_stop(f->client, 2000), LIFELINE_OK);
    assert_int_equal(lifeline_client_free(f->client), LIFELINE_OK);
    f->client = NULL;
    it_log("%d log lines", log_lines);
    assert_true(log_lines > 0);
    /* "secrets already removed": a header value never reaches a log line */
    assert_int_equal(forbidden_seen, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        IT_BOTH(connects_echoes_text_and_closes_with_1000),
        IT_BOTH(echoes_binary_and_utf8_byte_for_byte),
        IT_BOTH(reassembles_a_large_message_into_one_callback),
        IT_BOTH(stats_count_messages_bytes_queue_and_reconnections),
        IT_PEER(custom_headers_origin_and_subprotocol_reach_the_server),
    };
    return IT_RUN(tests);
}
