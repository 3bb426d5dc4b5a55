/* Shutting down (issue 16): what the app sent just before stop or free is
 * written before the close frame, and stop waits for the server's answer
 * to the close, at most its timeout, and says whether it came. The peer is
 * peer.py in raw_listen (answers the close) and raw_no_close_reply (reads
 * everything, never answers the close) modes, which report each message
 * and the close the client sent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void start_raw(it_fix *f, const char *mode)
{
    f->proc = it_start_peer(mode, NULL);
    assert_non_null(f->proc);
    snprintf(f->url, sizeof(f->url), "ws://127.0.0.1:%d/ws", it_proc_port(f->proc));
    it_config(&f->cfg, &f->rec, f->url);
}

static lifeline_stats stats_of(lifeline_client *c)
{
    lifeline_stats s;
    assert_int_equal(lifeline_client_stats(c, &s), LIFELINE_OK);
    return s;
}

static void send_then_free_writes_the_messages_then_closes_1000(void **state)
{
    it_fix *f = *state;
    start_raw(f, "raw_listen");
    it_fix_client(f);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);
    assert_int_equal(lifeline_client_send_text(f->client, "order 1"), LIFELINE_OK);
    assert_int_equal(lifeline_client_send_text(f->client, "order 2"), LIFELINE_OK);
    assert_int_equal(lifeline_client_send_text(f->client, "...final order..."), LIFELINE_OK);
    assert_int_equal(lifeline_client_free(f->client), LIFELINE_OK);
    f->client = NULL;
    IT_ASSERT(&f->rec, it_proc_wait_line(f->proc, "\"text\":\"order 1\"", IT_QUICK),
              "order 1 was not written");
    IT_ASSERT(&f->rec, it_proc_wait_line(f->proc, "\"text\":\"order 2\"", IT_QUICK),
              "order 2 was not written");
    IT_ASSERT(&f->rec, it_proc_wait_line(f->proc, "\"text\":\"...final order...\"", IT_QUICK),
              "the final order was not written");
    IT_ASSERT(&f->rec, it_proc_wait_line(f->proc, "\"close_received\"", IT_QUICK),
              "no close frame after the messages");
    assert_int_equal(it_proc_count_lines(f->proc, "\"code\":1000"), 1);
    assert_int_equal(it_count_events(&f->rec, IT_EV_DROPPED), 0);
}

static void send_then_stop_writes_the_message_and_the_server_answers(void **state)
{
    it_fix *f = *state;
    start_raw(f, "raw_listen");
    it_fix_client(f);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);
    assert_int_equal(lifeline_client_send_text(f->client, "last"), LIFELINE_OK);
    int64_t t0 = it_now_ms();
    assert_int_equal(lifeline_client_stop(f->client, 3000), LIFELINE_OK);
    int64_t took = it_now_ms() - t0;
    it_log("stop took %lld ms", (long long)took);
    IT_ASSERT(&f->rec, took < 2500, "stop waited %lld ms for a server that answered",
              (long long)took);
    lifeline_stats s = stats_of(f->client);
    assert_int_equal(s.state, LIFELINE_STATE_CLOSED);
    assert_int_equal(s.last_close_answered, 1);
    assert_int_equal(s.messages_sent, 1);
    assert_int_equal(s.messages_dropped, 0);
    IT_ASSERT(&f->rec, it_proc_wait_line(f->proc, "\"text\":\"last\"", IT_QUICK),
              "the message was not written");
    IT_ASSERT(&f->rec, it_proc_wait_line(f->proc, "\"code\":1000", IT_QUICK),
              "no close 1000");
    assert_int_equal(it_count_events(&f->rec, IT_EV_DROPPED), 0);
}

static void stop_waits_for_a_close_answer_that_never_comes_then_says_so(void **state)
{
    it_fix *f = *state;
    start_raw(f, "raw_no_close_reply");
    it_fix_client(f);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);
    assert_int_equal(lifeline_client_send_text(f->client, "last"), LIFELINE_OK);
    enum { WAIT_MS = 1000 };
    int64_t t0 = it_now_ms();
    assert_int_equal(lifeline_client_stop(f->client, WAIT_MS), LIFELINE_OK);
    int64_t took = it_now_ms() - t0;
    it_log("stop took %lld ms", (long long)took);
    /* the whole wait (less a tick of the loop's timer), and not much more */
    IT_ASSERT(&f->rec, took >= WAIT_MS - 50, "stop dropped the socket after %lld ms",
              (long long)took);
    IT_ASSERT(&f->rec, took < WAIT_MS + it_scaled(1500), "stop took %lld ms", (long long)took);
    lifeline_stats s = stats_of(f->client);
    assert_int_equal(s.state, LIFELINE_STATE_CLOSED);
    assert_int_equal(s.last_close_answered, 0);
    assert_int_equal(s.messages_sent, 1);
    IT_ASSERT(&f->rec, it_proc_wait_line(f->proc, "\"text\":\"last\"", IT_QUICK),
              "the message was not written");
    IT_ASSERT(&f->rec, it_proc_wait_line(f->proc, "\"code\":1000", IT_QUICK),
              "no close 1000");
    IT_ASSERT(&f->rec, it_proc_wait_line(f->proc, "\"eof\"", IT_QUICK),
              "the client did not end the connection");
    assert_int_equal(it_count_events(&f->rec, IT_EV_DROPPED), 0);
}

static void stop_against_the_websockets_library_gets_its_answer(void **state)
{
    it_fix *f = *state;
    it_fix_start(f, "echo", "u1");
    it_fix_client(f);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);
    assert_int_equal(lifeline_client_send_text(f->client, "bye"), LIFELINE_OK);
    assert_int_equal(lifeline_client_stop(f->client, 3000), LIFELINE_OK);
    lifeline_stats s = stats_of(f->client);
    assert_int_equal(s.last_close_answered, 1);
    assert_int_equal(s.messages_sent, 1);
    assert_int_equal(it_count_events(&f->rec, IT_EV_DROPPED), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        IT_TEST(send_then_free_writes_the_messages_then_closes_1000),
        IT_TEST(send_then_stop_writes_the_message_and_the_server_answers),
        IT_TEST(stop_waits_for_a_close_answer_that_never_comes_then_says_so),
        IT_BOTH(stop_against_the_websockets_library_gets_its_answer),
    };
    return IT_RUN(tests);
}
