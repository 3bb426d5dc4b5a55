/* Shutting down (issue 16): what the app sent just before stop or free is
 * written before the close frame, and stop waits for the server's answer
 * to the close, at most its timeout, and says whether it came; what it
 * could not write by then goes to on_dropped. The peer is peer.py in
 * raw_listen (answers the close), raw_no_close_reply (reads everything,
 * never answers the close) and raw_no_read (reads nothing until told)
 * modes, which report each message and the close the client sent. */
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

/* The queue is longer than what the socket's buffers take before the stop's
 * timeout: the peer reads nothing until the stop has returned. What was
 * written reaches it when it reads at last (the kernel still holds it
 * after the client has dropped the socket); every other message goes to
 * on_dropped as STOPPED, before on_state says closed. Nothing may be lost
 * without a word: dropped + received == sent, and the received ones are
 * the first, in order. (libwebsockets 4.1's lws_write() keeps what the
 * socket refuses of a frame in its own buffer and returns the whole
 * length: the message it holds part of when the socket is dropped counted
 * as sent, arrived truncated, and was never reported, until the transport
 * settled a write only once libwebsockets had sent all of it.) */
static void stop_with_more_queued_than_the_socket_takes_reports_the_rest_dropped(void **state)
{
    it_fix *f = *state;
    /* 12.5 MiB: more than loopback's socket buffers take while nobody
     * reads (tcp_wmem's 4 MiB at most on the sending side, the receiving
     * side's window, asyncio's 128 KiB) */
    enum { COUNT = 200, SIZE = 64 * 1024, WAIT_MS = 500 };
    start_raw(f, "raw_no_read");
    f->cfg.queue_max_messages = COUNT;
    f->cfg.queue_max_bytes = (size_t)COUNT * SIZE;
    /* a peer that does not read answers no ping: no heartbeat here, or the
     * ping timeout would end the connection before the stop */
    f->cfg.ping_interval_ms = 600000;
    f->cfg.ping_timeout_ms = 300000;
    it_fix_client(f);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);

    char *msg = malloc(SIZE);
    assert_non_null(msg);
    memset(msg, 'x', SIZE);
    for (int i = 0; i < COUNT; i++) {
        char head[16];
        int n = snprintf(head, sizeof(head), "order %03d ", i);
        memcpy(msg, head, (size_t)n); /* no NUL: the message is SIZE bytes */
        assert_int_equal(lifeline_client_send(f->client, msg, SIZE, 0), LIFELINE_OK);
    }
    free(msg);

    int64_t t0 = it_now_ms();
    assert_int_equal(lifeline_client_stop(f->client, WAIT_MS), LIFELINE_OK);
    int64_t took = it_now_ms() - t0;
    it_log("stop took %lld ms", (long long)took);
    /* the whole wait (less a tick of the loop's timer), and not much more */
    IT_ASSERT(&f->rec, took >= WAIT_MS - 50, "stop gave up after %lld ms", (long long)took);
    IT_ASSERT(&f->rec, took < WAIT_MS + it_scaled(1500), "stop took %lld ms", (long long)took);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CLOSED, IT_QUICK, NULL);
    lifeline_stats s = stats_of(f->client);
    assert_int_equal(s.state, LIFELINE_STATE_CLOSED);
    assert_int_equal(s.last_close_answered, 0);
    /* after the free no callback can come: closed must have been the last */
    assert_int_equal(lifeline_client_free(f->client), LIFELINE_OK);
    f->client = NULL;

    size_t n_ev = it_event_count(&f->rec), dropped = 0;
    it_ev last;
    assert_true(it_event_at(&f->rec, n_ev - 1, &last));
    IT_ASSERT(&f->rec, last.kind == IT_EV_STATE && last.new_state == LIFELINE_STATE_CLOSED,
              "closed is not the last event");
    assert_int_equal(it_count_states(&f->rec, LIFELINE_STATE_CLOSED), 1);
    for (size_t i = 0; i < n_ev; i++) {
        it_ev e;
        assert_true(it_event_at(&f->rec, i, &e));
        if (e.kind != IT_EV_DROPPED)
            continue;
        IT_ASSERT(&f->rec, e.drop_reason == LIFELINE_ERR_STOPPED && e.len == SIZE,
                  "event %zu: dropped %zu bytes for %s", i, e.len,
                  lifeline_error_name(e.drop_reason));
        dropped++;
    }

    /* now the peer reads what the kernel holds, to the end of the stream */
    IT_ASSERT(&f->rec, it_proc_tell(f->proc, "read"), "could not tell the peer to read");
    IT_ASSERT(&f->rec, it_proc_wait_line(f->proc, "\"reading\"", IT_QUICK),
              "the peer did not start reading");
    IT_ASSERT(&f->rec, it_proc_wait_line(f->proc, "\"eof\"", it_scaled(15000)),
              "the connection did not end at the peer");
    size_t received = it_proc_count_lines(f->proc, "\"event\":\"message\"");
    it_log("%d sent: %zu received, %zu dropped (stats: %llu sent, %llu dropped)", COUNT,
           received, dropped, (unsigned long long)s.messages_sent,
           (unsigned long long)s.messages_dropped);
    IT_ASSERT(&f->rec, dropped > 0,
              "the socket took all %d messages: the queue must be longer for this test",
              COUNT);
    IT_ASSERT(&f->rec, received > 0, "the peer received nothing");
    IT_ASSERT(&f->rec, received + dropped <= COUNT, "more received and dropped than sent");
    size_t lost = COUNT - received - dropped;
    IT_ASSERT(&f->rec, lost == 0,
              "%zu received + %zu dropped != %d sent: %zu lost without a word", received,
              dropped, COUNT, lost);
    assert_int_equal(s.messages_sent, received);
    assert_int_equal(s.messages_dropped, dropped);
    for (size_t i = 0; i < received; i++) {
        char needle[96];
        snprintf(needle, sizeof(needle), "\"n\":%zu,\"len\":%d,\"head\":\"order %03zu ", i,
                 SIZE, i);
        IT_ASSERT(&f->rec, it_proc_count_lines(f->proc, needle) == 1,
                  "order %zu did not arrive whole, once, in its place", i);
    }
    IT_ASSERT(&f->rec, it_proc_count_lines(f->proc, "\"close_received\"") == 0,
              "a close frame was written after a queue that was not");
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
        IT_TEST(stop_with_more_queued_than_the_socket_takes_reports_the_rest_dropped),
        IT_BOTH(stop_against_the_websockets_library_gets_its_answer),
    };
    return IT_RUN(tests);
}
