/* The heartbeat on real sockets: pongs and the quality grade, a server that
 * stops answering, app_ping mode, and pings that come from the server.
 * it_config(): ping every 300 ms, timeout 150 ms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "harness.h"

static void pongs_measure_rtt_and_grade_loopback_excellent(void **state)
{
    it_fix *f = *state;
    it_fix_start(f, "echo", "pong-user");
    it_fix_client(f);
    it_ev open, pong, q;
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, &open);

    /* the first ping goes out at once: a pong within one RTT of opening */
    IT_ASSERT(&f->rec, it_wait_event(&f->rec, IT_EV_PONG, IT_QUICK, &pong), "no pong");
    IT_ASSERT(&f->rec, pong.at - open.at < it_scaled(100),
              "first pong %lld ms after opening", (long long)(pong.at - open.at));
    assert_true(pong.rtt_ms >= 0 && pong.rtt_ms < it_scaled(100));
    assert_int_equal(pong.quality, LIFELINE_QUALITY_EXCELLENT);
    IT_ASSERT(&f->rec, it_wait_event(&f->rec, IT_EV_QUALITY, IT_QUICK, &q), "no grade");
    assert_int_equal(q.quality, LIFELINE_QUALITY_EXCELLENT);

    /* then one every ping_interval_ms */
    int64_t prev = pong.at;
    for (int i = 0; i < 3; i++) {
        IT_ASSERT(&f->rec, it_wait_event(&f->rec, IT_EV_PONG, IT_QUICK, &pong), "no pong %d", i);
        int64_t gap = pong.at - prev;
        IT_ASSERT(&f->rec, gap >= 300 - 100 && gap <= 300 + it_scaled(100),
                  "pongs %lld ms apart, ping_interval_ms is 300", (long long)gap);
        prev = pong.at;
    }
    lifeline_stats s;
    assert_int_equal(lifeline_client_stats(f->client, &s), LIFELINE_OK);
    assert_true(s.pongs >= 4);
    assert_int_equal(s.ping_timeouts, 0);
    assert_int_equal(s.quality, LIFELINE_QUALITY_EXCELLENT);
    assert_true(s.rtt_smoothed_ms >= 0 && s.rtt_smoothed_ms < it_scaled(100));
    /* heartbeat traffic is not application traffic */
    assert_int_equal(s.messages_sent, 0);
    assert_int_equal(s.messages_received, 0);
    /* the grade held: no change after the first one */
    assert_int_equal(it_count_events(&f->rec, IT_EV_QUALITY), 1);
}

static void a_server_that_stops_answering_is_detected_within_interval_plus_timeout(void **state)
{
    it_fix *f = *state;
    it_fix_start(f, "silent", "silent-user");
    it_fix_client(f);
    it_ev open, lost;
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, &open);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_DISCONNECTED, it_scaled(3000), &lost);
    IT_ASSERT(&f->rec, lost.error == LIFELINE_ERR_PING_TIMEOUT, "lost with %s",
              lifeline_error_name(lost.error));
    int64_t took = lost.at - open.at;
    /* the first ping goes at opening: unanswered, it times out 150 ms on;
     * at worst the next one does, interval + timeout after opening */
    IT_ASSERT(&f->rec, took >= 150 - 2 && took <= 300 + 150 + it_scaled(50),
              "detected %lld ms after opening (limit %d)", (long long)took,
              300 + 150 + it_scaled(50));
    lifeline_stats s;
    assert_int_equal(lifeline_client_stats(f->client, &s), LIFELINE_OK);
    assert_true(s.ping_timeouts >= 1);
    /* and it is retried like any loss */
    it_ev retry;
    IT_ASSERT(&f->rec, it_wait_event(&f->rec, IT_EV_RETRY, IT_QUICK, &retry), "no retry");
    assert_int_equal(retry.retry_attempt, 1);
}

static void app_ping_mode_heartbeats_with_json_text_messages(void **state)
{
    it_fix *f = *state;
    it_fix_start(f, "app_ping", NULL);
    f->cfg.app_ping = 1;
    it_fix_client(f);
    it_ev open, pong;
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, &open);
    IT_ASSERT(&f->rec, it_proc_wait_line(f->proc, "\"app_ping\"", IT_QUICK),
              "the peer saw no {\"type\":\"ping\"} message");
    IT_ASSERT(&f->rec, it_wait_event(&f->rec, IT_EV_PONG, IT_QUICK, &pong),
              "the app pong was not matched");
    assert_true(pong.rtt_ms >= 0 && pong.rtt_ms < it_scaled(100));
    assert_int_equal(pong.quality, LIFELINE_QUALITY_EXCELLENT);
    /* a second round, on the interval */
    IT_ASSERT(&f->rec, it_proc_wait_line(f->proc, "\"app_ping\"", IT_QUICK), "no 2nd ping");
    IT_ASSERT(&f->rec, it_wait_event(&f->rec, IT_EV_PONG, IT_QUICK, &pong), "no 2nd pong");

    /* the heartbeat's pongs are not the app's messages; the app's are */
    assert_int_equal(lifeline_client_send_text(f->client, "app data"), LIFELINE_OK);
    IT_ASSERT(&f->rec, it_wait_message(&f->rec, "app data", IT_QUICK), "no echo");
    pthread_mutex_lock(&f->rec.mu);
    uint64_t delivered = f->rec.messages;
    pthread_mutex_unlock(&f->rec.mu);
    assert_int_equal(delivered, 1);
    lifeline_stats s;
    assert_int_equal(lifeline_client_stats(f->client, &s), LIFELINE_OK);
    assert_int_equal(s.ping_timeouts, 0);
    assert_true(s.pongs >= 2);
}

static void app_ping_without_app_pongs_times_out(void **state)
{
    it_fix *f = *state;
    /* the echo peer sends {"type":"ping",...} back unchanged: not a pong */
    it_fix_start(f, "echo", NULL);
    f->cfg.app_ping = 1;
    it_fix_client(f);
    it_ev open, lost;
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, &open);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_DISCONNECTED, it_scaled(3000), &lost);
    assert_int_equal(lost.error, LIFELINE_ERR_PING_TIMEOUT);
    IT_ASSERT(&f->rec, lost.at - open.at <= 300 + 150 + it_scaled(50),
              "detected %lld ms after opening", (long long)(lost.at - open.at));
    assert_int_equal(it_count_events(&f->rec, IT_EV_PONG), 0);
}

static void a_ping_from_the_server_gets_a_pong(void **state)
{
    it_fix *f = *state;
    it_fix_start(f, "ping_client", NULL);
    it_fix_client(f);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);
    IT_ASSERT(&f->rec, it_proc_wait_line(f->proc, "\"pong\"", it_scaled(8000)),
              "the peer reported nothing");
    assert_int_equal(it_proc_count_lines(f->proc, "\"ok\":true"), 1);
    assert_int_equal(lifeline_client_state(f->client), LIFELINE_STATE_CONNECTED);
}

static void the_server_s_own_pings_are_answered_and_it_keeps_the_client(void **state)
{
    it_fix *f = *state;
    it_require_server();
    static const char *const fast_pings[] = {"--ping-interval-ms", "100",
                                             "--ping-timeout-ms", "200", NULL};
    f->proc = it_start_server(fast_pings);
    assert_non_null(f->proc);
    it_url(f->url, sizeof(f->url), &it_server_target, f->proc, "server-ping-user");
    it_config(&f->cfg, &f->rec, f->url);
    /* the client's own pings are rare here: only the server's keep the
     * connection alive, so only answering them does */
    f->cfg.ping_interval_ms = 20000;
    f->cfg.ping_timeout_ms = 10000;
    it_fix_client(f);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);
    /* ten server ping intervals, five timeouts: still connected */
    IT_ASSERT(&f->rec, it_no_state_within(&f->rec, LIFELINE_STATE_DISCONNECTED, 1000),
              "the server dropped the client");
    assert_int_equal(lifeline_client_send_text(f->client, "still here"), LIFELINE_OK);
    IT_ASSERT(&f->rec, it_wait_message(&f->rec, "still here", IT_QUICK), "no echo");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        IT_BOTH(pongs_measure_rtt_and_grade_loopback_excellent),
        IT_BOTH(a_server_that_stops_answering_is_detected_within_interval_plus_timeout),
        IT_PEER(app_ping_mode_heartbeats_with_json_text_messages),
        IT_PEER(app_ping_without_app_pongs_times_out),
        IT_PEER(a_ping_from_the_server_gets_a_pong),
        IT_SERVER(the_server_s_own_pings_are_answered_and_it_keeps_the_client),
    };
    return IT_RUN(tests);
}
