/* The offline queue on real sockets: it survives a server restart in order,
 * with no loss and no duplicate; its limits and policies; what stop does
 * with it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* Messages "<prefix>-NNNN" among those recorded, in arrival order: fails on
 * any one missing, repeated or out of order. Returns how many. */
static int check_sequence(it_rec *rec, const char *prefix, int expected)
{
    size_t plen = strlen(prefix);
    int next = 0, bad = 0;
    pthread_mutex_lock(&rec->mu);
    for (size_t i = 0; i < rec->n_msg; i++) {
        const char *m = rec->msg[i].data;
        if (strncmp(m, prefix, plen) != 0 || m[plen] != '-')
            continue;
        int n = atoi(m + plen + 1);
        if (n != next) {
            it_log("%s: expected #%d, got #%d", prefix, next, n);
            bad++;
        }
        next = n + 1;
    }
    int count = next;
    pthread_mutex_unlock(&rec->mu);
    if (bad || count != expected)
        IT_FAIL(rec, "%s: %d out of order, last #%d of %d", prefix, bad, count - 1, expected);
    return count;
}

static void offline_queue_survives_a_restart_in_order_without_loss_or_duplicates(void **state)
{
    it_fix *f = *state;
    it_fix_start(f, "echo", "queue-user");
    it_fix_client(f);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);

    it_proc_kill(f->proc, SIGKILL);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_DISCONNECTED, IT_QUICK, NULL);
    enum { N = 500 };
    char msg[32];
    for (int i = 0; i < N; i++) {
        snprintf(msg, sizeof(msg), "q-%04d", i);
        assert_int_equal(lifeline_client_send_text(f->client, msg), LIFELINE_OK);
    }
    lifeline_stats s;
    assert_int_equal(lifeline_client_stats(f->client, &s), LIFELINE_OK);
    assert_int_equal(s.queued_messages, N);
    assert_int_equal(s.queued_bytes, N * 6);
    assert_int_equal(s.messages_sent, 0);

    assert_true(it_proc_restart(f->proc));
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, it_scaled(5000), NULL);
    /* a fence after the queue: once it is back, everything before it is */
    assert_int_equal(lifeline_client_send_text(f->client, "fence"), LIFELINE_OK);
    IT_ASSERT(&f->rec, it_wait_message(&f->rec, "fence", it_scaled(10000)), "fence not echoed");
    check_sequence(&f->rec, "q", N);
    assert_int_equal(lifeline_client_stats(f->client, &s), LIFELINE_OK);
    assert_int_equal(s.messages_sent, N + 1);
    assert_int_equal(s.queued_messages, 0);
    assert_int_equal(s.messages_dropped, 0);
    assert_int_equal(it_count_events(&f->rec, IT_EV_DROPPED), 0);
}

static void messages_sent_before_start_are_delivered_in_order_once_connected(void **state)
{
    it_fix *f = *state;
    it_fix_start(f, "echo", "early-user");
    assert_int_equal(lifeline_client_new(&f->cfg, &f->client), LIFELINE_OK);
    char msg[32];
    for (int i = 0; i < 50; i++) {
        snprintf(msg, sizeof(msg), "early-%04d", i);
        assert_int_equal(lifeline_client_send_text(f->client, msg), LIFELINE_OK);
    }
    assert_int_equal(lifeline_client_state(f->client), LIFELINE_STATE_IDLE);
    assert_int_equal(lifeline_client_start(f->client), LIFELINE_OK);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);
    assert_int_equal(lifeline_client_send_text(f->client, "fence"), LIFELINE_OK);
    IT_ASSERT(&f->rec, it_wait_message(&f->rec, "fence", IT_QUICK), "fence not echoed");
    check_sequence(&f->rec, "early", 50);
}

/* Dropped reports so far. */
static int dropped_at_least(it_rec *rec, void *arg)
{
    return rec->dropped >= *(uint64_t *)arg;
}

static void a_full_queue_counts_bytes_as_well_as_messages(void **state)
{
    it_fix *f = *state;
    snprintf(f->url, sizeof(f->url), "ws://127.0.0.1:9/never-started");
    it_config(&f->cfg, &f->rec, f->url);
    f->cfg.queue_max_messages = 100;
    f->cfg.queue_max_bytes = 25;
    assert_int_equal(lifeline_client_new(&f->cfg, &f->client), LIFELINE_OK);
    assert_int_equal(lifeline_client_send_text(f->client, "1234567890"), LIFELINE_OK);
    assert_int_equal(lifeline_client_send_text(f->client, "1234567890"), LIFELINE_OK);
    assert_int_equal(lifeline_client_send_text(f->client, "123456"), LIFELINE_ERR_QUEUE_FULL);
    assert_int_equal(lifeline_client_send_text(f->client, "12345"), LIFELINE_OK);
    /* larger than the whole queue: refused whatever the policy */
    char big[40];
    memset(big, 'b', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(lifeline_client_send_text(f->client, big), LIFELINE_ERR_QUEUE_FULL);
    lifeline_stats s;
    assert_int_equal(lifeline_client_stats(f->client, &s), LIFELINE_OK);
    assert_int_equal(s.queued_messages, 3);
    assert_int_equal(s.queued_bytes, 25);
    assert_int_equal(s.messages_dropped, 0);
}

static void stop_reports_every_queued_message_as_dropped_with_stopped(void **state)
{
    it_fix *f = *state;
    snprintf(f->url, sizeof(f->url), "ws://127.0.0.1:9/never-started");
    it_config(&f->cfg, &f->rec, f->url);
    f->cfg.queue_max_messages = 5;
    assert_int_equal(lifeline_client_new(&f->cfg, &f->client), LIFELINE_OK);
    for (int i = 0; i < 5; i++)
        assert_int_equal(lifeline_client_send_text(f->client, "1234567890"), LIFELINE_OK);
    assert_int_equal(lifeline_client_send_text(f->client, "refused"), LIFELINE_ERR_QUEUE_FULL);

    assert_int_equal(lifeline_client_stop(f->client, 100), LIFELINE_OK);
    assert_int_equal(lifeline_client_state(f->client), LIFELINE_STATE_CLOSED);
    uint64_t five = 5;
    IT_ASSERT(&f->rec, it_wait_until(&f->rec, dropped_at_least, &five, IT_QUICK),
              "queued messages not reported at stop");
    size_t n = it_event_count(&f->rec);
    int dropped = 0;
    for (size_t i = 0; i < n; i++) {
        it_ev e;
        it_event_at(&f->rec, i, &e);
        if (e.kind != IT_EV_DROPPED)
            continue;
        dropped++;
        assert_int_equal(e.drop_reason, LIFELINE_ERR_STOPPED);
        assert_int_equal(e.len, 10); /* the refused one ("refused") never */
    }
    assert_int_equal(dropped, 5);
    lifeline_stats s;
    assert_int_equal(lifeline_client_stats(f->client, &s), LIFELINE_OK);
    assert_int_equal(s.messages_dropped, 5);
    assert_int_equal(s.queued_messages, 0);
    /* closed: sends are refused, and never reported */
    assert_int_equal(lifeline_client_send_text(f->client, "late"), LIFELINE_ERR_STOPPED);
    assert_int_equal(lifeline_client_reconnect_now(f->client), LIFELINE_ERR_STATE);
    assert_int_equal(lifeline_client_free(f->client), LIFELINE_OK);
    f->client = NULL;
    assert_int_equal(it_count_events(&f->rec, IT_EV_DROPPED), 5);
}

static void drop_oldest_reports_each_dropped_message_and_keeps_the_newest(void **state)
{
    it_fix *f = *state;
    it_fix_start(f, "echo", "drop-user");
    f->cfg.queue_policy = LIFELINE_QUEUE_DROP_OLDEST;
    f->cfg.queue_max_messages = 3;
    assert_int_equal(lifeline_client_new(&f->cfg, &f->client), LIFELINE_OK);
    char msg[32];
    for (int i = 0; i < 5; i++) {
        snprintf(msg, sizeof(msg), "d-%04d", i);
        assert_int_equal(lifeline_client_send_text(f->client, msg), LIFELINE_OK);
    }
    uint64_t two = 2;
    IT_ASSERT(&f->rec, it_wait_until(&f->rec, dropped_at_least, &two, IT_QUICK),
              "dropped messages not reported");
    size_t n = it_event_count(&f->rec);
    for (size_t i = 0; i < n; i++) {
        it_ev e;
        it_event_at(&f->rec, i, &e);
        if (e.kind == IT_EV_DROPPED)
            assert_int_equal(e.drop_reason, LIFELINE_ERR_QUEUE_FULL);
    }
    lifeline_stats s;
    assert_int_equal(lifeline_client_stats(f->client, &s), LIFELINE_OK);
    assert_int_equal(s.messages_dropped, 2);
    assert_int_equal(s.queued_messages, 3);

    assert_int_equal(lifeline_client_start(f->client), LIFELINE_OK);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);
    /* no fence here: with the queue still full it would drop one more (as
     * it should); the last one back means those before it are back */
    IT_ASSERT(&f->rec, it_wait_message(&f->rec, "d-0004", IT_QUICK), "d-0004 not echoed");
    /* the newest three, in order */
    pthread_mutex_lock(&f->rec.mu);
    int seen = 0, bad = 0;
    for (size_t i = 0; i < f->rec.n_msg; i++) {
        if (strncmp(f->rec.msg[i].data, "d-", 2) != 0)
            continue;
        if (atoi(f->rec.msg[i].data + 2) != 2 + seen) {
            it_log("echo #%d is %s", seen, f->rec.msg[i].data);
            bad++;
        }
        seen++;
    }
    pthread_mutex_unlock(&f->rec.mu);
    assert_int_equal(lifeline_client_stats(f->client, &s), LIFELINE_OK);
    it_log("after d-0004: %llu written, %llu dropped, %llu queued, %d of the 3 echoed",
           (unsigned long long)s.messages_sent, (unsigned long long)s.messages_dropped,
           (unsigned long long)s.queued_messages, seen);
    assert_int_equal(bad, 0);
    assert_int_equal(seen, 3);
    assert_int_equal(s.messages_sent, 3);
    assert_int_equal(s.messages_dropped, 2);
}

static void queue_off_refuses_sends_while_offline_with_not_connected(void **state)
{
    it_fix *f = *state;
    it_fix_start(f, "echo", "off-user");
    f->cfg.queue_policy = LIFELINE_QUEUE_OFF;
    assert_int_equal(lifeline_client_new(&f->cfg, &f->client), LIFELINE_OK);
    assert_int_equal(lifeline_client_send_text(f->client, "too early"),
                     LIFELINE_ERR_NOT_CONNECTED);
    assert_int_equal(lifeline_client_start(f->client), LIFELINE_OK);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);
    assert_int_equal(lifeline_client_send_text(f->client, "on time"), LIFELINE_OK);
    IT_ASSERT(&f->rec, it_wait_message(&f->rec, "on time", IT_QUICK), "no echo");
    assert_int_equal(it_count_events(&f->rec, IT_EV_DROPPED), 0);
}

static void a_message_over_max_message_bytes_is_refused_and_never_reported(void **state)
{
    it_fix *f = *state;
    it_fix_start(f, "echo", "big-out-user");
    f->cfg.max_message_bytes = 1000;
    it_fix_client(f);
    IT_EXPECT_STATE(&f->rec, LIFELINE_STATE_CONNECTED, IT_QUICK, NULL);
    char buf[1001];
    memset(buf, 'm', sizeof(buf));
    assert_int_equal(lifeline_client_send(f->client, buf, 1001, 0), LIFELINE_ERR_MESSAGE_TOO_BIG);
    assert_int_equal(lifeline_client_send(f->client, buf, 1000, 1), LIFELINE_OK);
    IT_ASSERT(&f->rec, it_wait_message_bytes(&f->rec, buf, 1000, 1, IT_QUICK),
              "a message of exactly max_message_bytes did not make it");
    assert_int_equal(it_count_events(&f->rec, IT_EV_DROPPED), 0);
    assert_int_equal(lifeline_client_state(f->client), LIFELINE_STATE_CONNECTED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        IT_BOTH(offline_queue_survives_a_restart_in_order_without_loss_or_duplicates),
        IT_BOTH(messages_sent_before_start_are_delivered_in_order_once_connected),
        IT_TEST(a_full_queue_counts_bytes_as_well_as_messages),
        IT_TEST(stop_reports_every_queued_message_as_dropped_with_stopped),
        IT_PEER(drop_oldest_reports_each_dropped_message_and_keeps_the_newest),
        IT_PEER(queue_off_refuses_sends_while_offline_with_not_connected),
        IT_BOTH(a_message_over_max_message_bytes_is_refused_and_never_reported),
    };
    return IT_RUN(tests);
}
